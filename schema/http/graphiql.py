"""The GraphiQL page of development mode: the demo key filled in and saved example operations.

Never served in production (the router is built without an IDE there).
"""

import json

from schema.core.framework import graphiql_page

EXAMPLE_TREE = """# The demo organization's objective tree: company objectives and what aligns under them.
query ObjectiveTree {
  northStar { key name value { value change improving } }
  objectives(first: 10, filter: {topLevel: true}) {
    totalCount
    nodes {
      id title state progress status
      owner { __typename ... on Team { name } ... on Person { name } }
      children {
        weight
        child { title progress status keyResults { title progress status } }
      }
    }
  }
}
"""

EXAMPLE_KEY_RESULT = """# A key result with its latest check-ins and who made them.
query KeyResultWithCheckIns {
  keyResults(first: 1, filter: {measure: MANUAL}) {
    nodes {
      id title startValue targetValue currentValue progress status expectedProgress
      checkIns(first: 5) { observedAt value confidence note author { name } }
      commitments { title state dueOn owner { name } }
    }
  }
}
"""

EXAMPLE_MUTATION = """# Record a check-in: paste a key result's id from the other tab.
mutation RecordCheckIn($keyResultId: ID!) {
  checkInCreate(input: {keyResultId: $keyResultId, value: 42, confidence: 0.8, note: "From GraphiQL"}) {
    checkIn { id value observedAt keyResult { progress status } }
    userErrors { field code message }
  }
}
"""


def graphiql_html(api_key: str | None) -> str:
    """Strawberry's GraphiQL page with the key in every request and example tabs."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    headers_json = json.dumps(headers, indent=2)
    tabs = [
        {"query": EXAMPLE_TREE, "headers": headers_json},
        {"query": EXAMPLE_KEY_RESULT, "headers": headers_json},
        {
            "query": EXAMPLE_MUTATION,
            "variables": json.dumps({"keyResultId": "paste a KeyResult id"}, indent=2),
            "headers": headers_json,
        },
    ]
    # `</` cannot end the script element early once escaped.
    tabs_js = json.dumps(tabs).replace("</", "<\\/")
    return graphiql_page(json.dumps(headers), tabs_js, json.dumps(EXAMPLE_TREE))

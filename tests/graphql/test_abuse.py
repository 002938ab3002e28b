"""Documents built to make the server work: each is refused with a coded error before any
validation rule or resolver runs, whatever it would cost to walk.

Each document also carries something validation would report (a field no type has), and a
mutation that would write: a refusal that names only the limit, with nothing written,
shows that validation and execution never ran.
"""

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Organization, Person
from tests.graphql.conftest import Gql

CREATE = 'personCreate(input: {name: "Should not exist"}) { person { id } }'
NOT_VALID = "notAField"


async def people_count(session: AsyncSession, org: Organization) -> int:
    result = await session.execute(select(func.count()).where(Person.org_id == org.id))
    return int(result.scalar_one())


def refused_with(body: dict[str, Any]) -> str:
    """The one error's code; the operation produced no data."""
    assert body.get("data") is None, body
    [error] = body["errors"]
    code: str = error["extensions"]["code"]
    return code


def fragment_bomb(levels: int) -> str:
    """F0 spreads F1 twice, F1 spreads F2 twice...: 2^levels fields once expanded."""
    fragments = " ".join(
        f"fragment F{level} on Mutation {{ ...F{level + 1} ...F{level + 1} }}"
        for level in range(levels)
    )
    return (
        f"mutation {{ {CREATE} ...F0 {NOT_VALID} }} {fragments}"
        f" fragment F{levels} on Mutation {{ __typename }}"
    )


def aliases_through_fragments() -> str:
    """Ten aliases in one fragment, spread by another four times: 40 aliases."""
    aliased = " ".join(f"a{index}: __typename" for index in range(10))
    return (
        f"mutation {{ {CREATE} ...Twice {NOT_VALID} }}"
        " fragment Twice on Mutation { ...Ten ...Ten ...Ten ...Ten }"
        f" fragment Ten on Mutation {{ {aliased} }}"
    )


def depth_through_fragments() -> str:
    """Each fragment adds two levels and spreads the next: 2 + 2 × 6 levels."""
    chain = " ".join(
        f"fragment D{level} on Person {{ teams {{ members {{ ...D{level + 1} }} }} }}"
        for level in range(6)
    )
    return (
        f'mutation {{ personCreate(input: {{name: "x"}}) {{ person {{ ...D0 }} }} {NOT_VALID} }}'
        f" {chain} fragment D6 on Person {{ id }}"
    )


def nesting_through_a_fragment_chain(fragments: int = 70, levels: int = 6) -> str:
    """Each fragment nests six levels and spreads the next: a walk that recursed from one
    fragment into another would go 420 levels deep."""
    chain = []
    for index in range(fragments):
        inner = f"...N{index + 1}"
        for _ in range(levels):
            inner = f"a {{ {inner} }}"
        chain.append(f"fragment N{index} on Mutation {{ {inner} }}")
    return (
        f"mutation {{ {CREATE} ...N0 {NOT_VALID} }} {' '.join(chain)}"
        f" fragment N{fragments} on Mutation {{ __typename }}"
    )


ABUSE = [
    pytest.param(fragment_bomb(21), "MAX_FIELDS_EXCEEDED", id="fragment-bomb-2^21"),
    pytest.param(fragment_bomb(30), "MAX_FIELDS_EXCEEDED", id="fragment-bomb-2^30"),
    pytest.param(
        "mutation { " + CREATE + " " + " ".join(["__typename"] * 497) + f" {NOT_VALID} }}",
        "MAX_FIELDS_EXCEEDED",
        id="field-duplication",
    ),
    pytest.param(aliases_through_fragments(), "MAX_ALIASES_EXCEEDED", id="aliases-via-fragments"),
    pytest.param(depth_through_fragments(), "MAX_DEPTH_EXCEEDED", id="depth-via-fragments"),
    pytest.param(
        "mutation { " + CREATE + " " + "a { " * 70 + "b" + " }" * 70 + " }",
        "MAX_DEPTH_EXCEEDED",
        id="nesting-past-the-walk",
    ),
    pytest.param(
        nesting_through_a_fragment_chain(), "MAX_DEPTH_EXCEEDED", id="nesting-via-fragment-chain"
    ),
    pytest.param(
        f"mutation {{ {CREATE} {NOT_VALID} " + "...S " * 101 + "} fragment S on Mutation { id }",
        "MAX_FRAGMENT_SPREADS_EXCEEDED",
        id="fragment-spreads",
    ),
    pytest.param(
        f"mutation {{ {CREATE} ...A {NOT_VALID} }}"
        " fragment A on Mutation { ...B } fragment B on Mutation { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
        id="fragment-cycle",
    ),
    pytest.param(
        f"mutation {{ {CREATE} {NOT_VALID} }} query {{ metrics(first: 100) {{ nodes {{"
        ' series(start: "2020-01-01T00:00:00Z", end: "2026-01-01T00:00:00Z", interval: HOUR)'
        " { bucketStart value } } } }",
        "GRAPHQL_VALIDATION_FAILED",
        id="two-operations-without-a-name",
    ),
]


@pytest.mark.parametrize(("document", "code"), ABUSE)
async def test_an_abusive_document_is_refused_before_validation_and_writes_nothing(
    gql: Gql, session: AsyncSession, org: Organization, document: str, code: str
) -> None:
    # when the document is sent
    body = await gql(document)

    # then it is refused for its limit alone (validation never reported the unknown field)
    assert refused_with(body) == code
    assert NOT_VALID not in body["errors"][0]["message"]
    # and nothing ran
    assert await people_count(session, org) == 0


async def test_a_series_over_many_buckets_counts_each_bucket_against_the_budget(
    gql: Gql,
) -> None:
    # given 100 metrics' hourly series over six years: 100 × (1,000 buckets, the cap, + 2)
    series = (
        '{{ metrics(first: 100) {{ nodes {{ series(start: "2020-01-01T00:00:00Z",'
        ' end: "{end}", interval: {interval}) {{ bucketStart value }} }} }} }}'
    )

    # when it is asked for
    body = await gql(series.format(end="2026-01-01T00:00:00Z", interval="HOUR"))

    # then it is over the node budget, not estimated as ten items a list
    assert refused_with(body) == "NODE_BUDGET_EXCEEDED"
    assert "100200 objects" in body["errors"][0]["message"]
    # and a month by day (32 buckets a metric) is within it
    fine = await gql(series.format(end="2020-02-01T00:00:00Z", interval="DAY"))
    assert "errors" not in fine, fine


async def test_a_ten_megabyte_document_is_refused_before_it_is_parsed(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a document of almost 10 MB (the request limit) that would not even parse
    document = f"mutation {{ {CREATE} }} #" + "x" * (10_000_000 - 200) + "\n {{{"

    # when it is sent
    body = await gql(document)

    # then its size is refused, not its syntax, and nothing ran
    assert refused_with(body) == "MAX_DOCUMENT_SIZE_EXCEEDED"
    assert await people_count(session, org) == 0


async def test_an_unknown_fragment_is_a_coded_validation_error(gql: Gql) -> None:
    body = await gql("{ ...Nope }")

    assert refused_with(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "Nope" in body["errors"][0]["message"]


async def test_the_introspection_query_of_graphiql_is_within_every_limit(gql: Gql) -> None:
    from graphql import get_introspection_query

    body = await gql(get_introspection_query(descriptions=True))

    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"

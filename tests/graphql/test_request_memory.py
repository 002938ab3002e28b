"""What a GraphQL request loaded is freed when the request ends, by reference counting."""

import gc

import httpx
from graphql import GraphQLObjectType
from sqlalchemy.ext.asyncio import AsyncSession

from schema.schema import schema
from service.rollups.types import KeyResultProgress
from tests import factories
from tests.graphql.conftest import post
from tests.graphql.test_n_plus_one import build_tree

NESTED_READ = """
{
  objectives(first: 100, filter: {topLevel: true}) {
    nodes {
      id title
      children { weight child { id title keyResults { id title progress } } }
    }
  }
}
"""


def loaded_objects() -> int:
    """Live loader records and key-result roll-ups (tracked by the collector until freed)."""
    return sum(
        1
        for o in gc.get_objects()
        if isinstance(o, KeyResultProgress)
        or (isinstance(o, tuple) and type(o).__module__ == "schema.core.loaders")
    )


async def test_a_nested_read_leaves_nothing_for_the_cyclic_collector(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    # given a tree of 20 objectives with key results
    org = await factories.create_org(session)
    await build_tree(session, org, roots=2, children=3, grandchildren=2)
    gql = post(client, await factories.create_api_key(session, org, ("read",)))
    assert "errors" not in await gql(NESTED_READ)  # warm-up

    # when the tree is read with the cyclic collector off
    gc.collect()
    before = loaded_objects()
    gc.disable()
    try:
        body = await gql(NESTED_READ)
        after = loaded_objects()
    finally:
        gc.enable()

    # then it answered, and its rows and roll-ups are gone already (graphql-core's execution
    # context, in a reference cycle, holds the request's context: the loaders are dropped)
    assert "errors" not in body, body
    nodes = body["data"]["objectives"]["nodes"]
    assert len(nodes) == 2 and len(nodes[0]["children"][0]["child"]["keyResults"]) == 2
    assert after == before


def test_fields_without_a_resolver_are_read_by_graphql_core_directly() -> None:
    # given the schema (a Strawberry upgrade that renames its plain-field resolver would
    # silently put the ~3 extra calls per field back: this says so instead)
    def resolver(type_name: str, field: str) -> str:
        graphql_type = schema._schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType)
        return getattr(graphql_type.fields[field].resolve, "__qualname__", "")

    # then plain fields (named as in Python or not) read the attribute, resolvers stay
    plain = [("Objective", "title"), ("Objective", "createdAt"), ("Alignment", "child")]
    plain += [("KeyResult", "id"), ("KeyResult", "weight"), ("Objective", "state")]
    for type_name, field in plain:
        assert resolver(type_name, field).startswith("_attribute"), (type_name, field)
    assert not resolver("Objective", "children").startswith("_attribute")
    # and a key result's numbers are called past Strawberry's wrapper too
    assert resolver("KeyResult", "progress").startswith("_direct")

"""The `/graphql` route: context with the request's session and principal, GraphiQL on GET."""

from fastapi import Request
from strawberry.fastapi import GraphQLRouter

from schema.context import Context
from schema.schema import schema
from service.auth.dependencies import OptionalPrincipalDep, SessionDep, unauthorized
from service.settings import Settings


def is_graphiql_page(request: Request) -> bool:
    """A browser asking for the GraphiQL page itself, which needs no key."""
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


def graphql_router(settings: Settings) -> GraphQLRouter[Context, None]:
    async def context(
        request: Request, session: SessionDep, principal: OptionalPrincipalDep
    ) -> Context | None:
        if principal is None:
            if is_graphiql_page(request):
                return None
            raise unauthorized()
        return Context(session=session, principal=principal, settings=settings)

    return GraphQLRouter(schema, context_getter=context, graphql_ide="graphiql")

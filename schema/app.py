"""The `/graphql` route: context with the request's session and principal, GraphiQL on GET."""

from fastapi import Request
from fastapi.responses import HTMLResponse
from strawberry.fastapi import GraphQLRouter

from schema.context import Context
from schema.graphiql import graphiql_html
from schema.schema import build_schema
from service.auth.dependencies import OptionalPrincipalDep, SessionDep, unauthorized
from service.settings import Settings


def is_graphiql_page(request: Request) -> bool:
    """A browser asking for the GraphiQL page itself, which needs no key."""
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


def development_key(settings: Settings) -> str | None:
    """The demo key GraphiQL is served with in development; None if there is none."""
    if settings.is_production:
        return None
    try:
        from service.demo import read_demo_key
    except ImportError:
        return None
    return read_demo_key(settings)


class LodestarGraphQLRouter(GraphQLRouter[Context, None]):
    def __init__(self, settings: Settings, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.settings = settings

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_html(development_key(self.settings)))


def graphql_router(settings: Settings) -> GraphQLRouter[Context, None]:
    async def context(
        request: Request, session: SessionDep, principal: OptionalPrincipalDep
    ) -> Context | None:
        if principal is None:
            if is_graphiql_page(request) and not settings.is_production:
                return None
            raise unauthorized()
        return Context(session=session, principal=principal, settings=settings)

    return LodestarGraphQLRouter(
        settings,
        schema=build_schema(settings),
        context_getter=context,
        graphql_ide=None if settings.is_production else "graphiql",
    )

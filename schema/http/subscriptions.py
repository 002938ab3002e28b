"""The websocket side of `/graphql` (`graphql-transport-ws`): authenticated on connect."""

from fastapi import WebSocket
from fastapi.routing import APIWebSocketRoute
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from schema.schema import build_schema
from schema.subscriptions import EventLoads, SubscriptionContext
from service.auth.service import authenticate
from service.models import Scope
from service.settings import Settings


class SubscriptionRouter(GraphQLRouter[SubscriptionContext, None]):
    """Serves only the websocket side of `/graphql`; the HTTP side stays with the main router."""

    async def on_ws_connect(self, context: SubscriptionContext) -> None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization") or params.get("authorization") or ""
        scheme, _, token = str(header).partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ConnectionRejectionError({"message": "a valid API key is required"})
        async with context.sessions() as session:
            principal = await authenticate(session, token.strip())
        if principal is None or not principal.has(Scope.read):
            raise ConnectionRejectionError({"message": "a valid API key with `read` is required"})
        context.principal = principal


def subscription_router(settings: Settings) -> GraphQLRouter[SubscriptionContext, None]:
    """The `graphql-transport-ws` endpoint; include it before the HTTP GraphQL router."""
    loads: dict[int, EventLoads] = {}  # one per app (sessionmaker), built on first use

    async def context(websocket: WebSocket) -> SubscriptionContext:
        state = websocket.app.state
        shared = loads.setdefault(id(state.sessions), EventLoads(state.sessions))
        return SubscriptionContext(
            settings=settings,
            sessions=state.sessions,
            listener=getattr(state, "listener", None),
            loads=shared,
        )

    router = SubscriptionRouter(
        build_schema(settings),
        context_getter=context,
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    router.routes = [route for route in router.routes if isinstance(route, APIWebSocketRoute)]
    return router

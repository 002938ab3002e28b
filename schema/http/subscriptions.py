"""The websocket side of `/graphql` (`graphql-transport-ws`): authenticated on connect."""

import asyncio
import logging
from typing import Any

from fastapi import WebSocket
from fastapi.routing import APIWebSocketRoute
from starlette.websockets import WebSocketState
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from schema.schema import build_schema
from schema.subscriptions import EventLoads, SubscriptionContext
from service.auth import repository as auth_repository
from service.auth.service import authenticate
from service.models import Scope
from service.settings import Settings

log = logging.getLogger("lodestar.graphql")


async def close_when_revoked(context: SubscriptionContext, websocket: WebSocket) -> None:
    """Close the connection with 4403 once its API key is revoked (checked every
    `subscription_key_check_seconds`), as a new connection with that key would be refused."""
    principal = context.principal
    assert principal is not None
    every = context.settings.subscription_key_check_seconds
    while websocket.application_state is WebSocketState.CONNECTED:
        await asyncio.sleep(every)
        try:
            async with context.sessions() as session:
                active = await auth_repository.is_active(
                    session, principal.org_id, principal.api_key_id
                )
        except Exception:  # the database away for a moment: check again next time
            log.warning("could not check a subscriber's API key", exc_info=True)
            continue
        if not active and websocket.application_state is WebSocketState.CONNECTED:
            await websocket.close(code=4403, reason="API key revoked")
            return


class SubscriptionRouter(GraphQLRouter[SubscriptionContext, None]):
    """Serves only the websocket side of `/graphql`; the HTTP side stays with the main router."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watches: set[asyncio.Task[None]] = set()  # held until done

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
        if context.websocket is not None:
            watch = asyncio.create_task(close_when_revoked(context, context.websocket))
            self._watches.add(watch)
            watch.add_done_callback(self._watches.discard)


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
            websocket=websocket,
        )

    router = SubscriptionRouter(
        build_schema(settings),
        context_getter=context,
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    router.routes = [route for route in router.routes if isinstance(route, APIWebSocketRoute)]
    return router

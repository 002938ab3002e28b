"""The `/graphql` route: context with the request's session and principal, GraphiQL on GET.

Batches (a JSON array of operations) share the request's context, hence its session and
single transaction: their operations run one after another, in order, so each sees what
the earlier ones wrote, and each mutation field still runs in its own savepoint (userErrors
roll back that field only). Every per-operation limit applies to each operation; the node
budget is for the whole request. A batch over `graphql_max_batch` operations is refused as
a whole, before anything runs, with a coded JSON error.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from schema.core.context import Context
from schema.core.errors import ErrorCodes
from schema.core.framework import HookedGraphQLRouter
from schema.core.limits import document_refusal, refused
from schema.http.graphiql import graphiql_html
from schema.schema import build_schema
from service.auth.dependencies import OptionalPrincipalDep, SessionDep, unauthorized
from service.demo_key import read_demo_key
from service.loopback import is_loopback
from service.ratelimit import enforce_batch
from service.settings import Settings


def is_graphiql_page(request: Request) -> bool:
    """A browser asking for the GraphiQL page itself, which needs no key."""
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


async def transaction_aborted(session: AsyncSession) -> bool:
    """Whether a failed statement left the transaction unusable (one probe statement)."""
    try:
        await session.execute(text("SELECT 1"))
    except DBAPIError:
        return True
    return False


def batch_refused(message: str, code: str, *, status_code: int = 400) -> Response:
    """The answer to a request (or a batch) refused as a whole before any operation runs."""
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status_code,
    )


class LodestarGraphQLRouter(HookedGraphQLRouter[Context]):
    def __init__(self, settings: Settings, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.settings = settings

    def encode_json(self, data: object) -> str | bytes:
        """orjson (a nested read answers with hundreds of kilobytes); the standard encoder for
        what orjson refuses: integers past 64 bits, lone surrogates echoed in an error."""
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return super().encode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        """A body nested past Python's recursion limit is malformed JSON (a 400), not a crash."""
        try:
            return super().decode_json(data)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        # The demo key is written into the page only for a browser on this machine.
        local = request.client is not None and is_loopback(request.client.host)
        return HTMLResponse(graphiql_html(read_demo_key(self.settings) if local else None))

    def check_batch(self, operations: list[Any]) -> Response | None:
        # Called with the parsed JSON array, before any operation is parsed or run.
        limit = self.settings.graphql_max_batch
        if len(operations) > limit:
            return batch_refused(
                f"a batch may hold at most {limit} operations, got {len(operations)}",
                ErrorCodes.MAX_BATCH_EXCEEDED,
            )
        if not operations:
            return batch_refused(
                "a batch needs at least one operation", ErrorCodes.GRAPHQL_PARSE_FAILED
            )
        if not all(isinstance(item, dict) for item in operations):
            return batch_refused(
                "each operation of a batch must be a JSON object with a `query`",
                ErrorCodes.GRAPHQL_PARSE_FAILED,
            )
        return None

    def transport_refusal(self, status_code: int, reason: str) -> Response:
        code = (
            ErrorCodes.OPERATION_NOT_ALLOWED if "not allowed" in reason else ErrorCodes.BAD_REQUEST
        )
        return batch_refused(reason, code, status_code=status_code)

    def refuse_operation(self, data: GraphQLRequestData) -> ExecutionResult | None:
        refusal = document_refusal(data.query, self.settings)
        if refusal is None:
            return None
        return ExecutionResult(data=None, errors=[refused(refusal)])

    def request_done(self, context: object) -> None:
        if isinstance(context, Context):
            context.release()

    async def execute_batch(
        self,
        request: Request,
        context: Context,
        operations: list[GraphQLRequestData],
        execute: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
    ) -> list[ExecutionResult]:
        # One rate-limit token per operation: batching is no way around the limit.
        enforce_batch(request, context.principal.api_key_id, len(operations))
        # In order, not concurrently: one session, and later operations see earlier writes.
        context.node_budget_spent = 0
        results = []
        for data in operations:
            savepoint = await context.session.begin_nested()
            result = await execute(data)
            results.append(await self._close_operation(context, savepoint, result))
        return results

    async def _close_operation(
        self, context: Context, savepoint: AsyncSessionTransaction, result: ExecutionResult
    ) -> ExecutionResult:
        """Keep what the operation wrote, unless a database error of a query resolver (outside
        any mutation's savepoint) aborted the transaction: then undo that operation alone and
        report it as failed (its errors are already masked), so the rest of the batch stands."""
        if result.errors and await transaction_aborted(context.session):
            await savepoint.rollback()
            context.forget_loaded()
            return ExecutionResult(data=None, errors=result.errors, extensions=result.extensions)
        await savepoint.commit()
        return result


def graphql_router(settings: Settings) -> GraphQLRouter[Context, None]:
    async def context(
        request: Request, session: SessionDep, principal: OptionalPrincipalDep
    ) -> Context | None:
        if principal is None:
            if is_graphiql_page(request) and not settings.is_production:
                return None
            raise unauthorized()
        return Context(session=session, principal=principal, settings=settings)

    router = LodestarGraphQLRouter(
        settings,
        schema=build_schema(settings),
        context_getter=context,
        graphql_ide=None if settings.is_production else "graphiql",
    )

    async def options() -> Response:
        """What /graphql answers to (the websocket side is a separate route)."""
        return Response(status_code=204, headers={"Allow": "GET, POST, OPTIONS"})

    router.add_api_route("", options, methods=["OPTIONS"], include_in_schema=False)
    return router

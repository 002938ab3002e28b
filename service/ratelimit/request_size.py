"""Refuses request bodies larger than `max_request_bytes` with 413, before they are buffered.

Two checks: a declared `Content-Length` over the limit is answered at once without reading
the body; a body without one (chunked) is counted as it streams in, and the first chunk past
the limit aborts the request. Whatever the application was doing then is discarded and the
client gets the 413 problem (unless a response had already started, which no route does
before reading its body).
"""

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import problem


class RequestTooLarge(Exception):
    """Raised from `receive` when the streamed body passes the limit."""


def too_large_response(max_bytes: int) -> JSONResponse:
    return problem(413, f"the request body exceeds the limit of {max_bytes} bytes")


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects a malformed header itself
    return None


class RequestSizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None and length > self.max_bytes:
            await too_large_response(self.max_bytes)(scope, receive, send)
            return

        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise RequestTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded and not response_started:
                return  # the application's answer to a truncated body is replaced by the 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await too_large_response(self.max_bytes)(scope, receive, send)

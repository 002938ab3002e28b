"""A real HTTP webhook receiver on loopback (uvicorn on a free port) that verifies signatures
with the receiver-side code of the `standardwebhooks` package, as a customer would."""

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

ATTEMPT_HEADER = "lodestar-attempt"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: dict[str, Any] | None = None

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def attempt(self) -> int:
        return int(self.headers[ATTEMPT_HEADER])


Responder = Callable[[Received], Awaitable[int]]


async def always_ok(_received: Received) -> int:
    return 200


@dataclass
class Receiver:
    secret: str | None = None
    respond: Responder = always_ok
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def verify(self, received: Received) -> None:
        if self.secret is None:
            return
        try:
            received.verified = Webhook(self.secret).verify(received.body, received.headers)
        except WebhookVerificationError:
            received.verified = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the sender died mid-request: nothing was received, as for any server
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        received = Received(headers=headers, body=b"".join(chunks))
        self.verify(received)
        self.requests.append(received)
        self.arrived.set()
        status = await self.respond(received)
        reply = json.dumps({"ok": status < 300}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": reply})

    def ids(self) -> set[str]:
        return {received.webhook_id for received in self.requests}

    def sends_per_attempt(self) -> Counter[tuple[str, int]]:
        return Counter((received.webhook_id, received.attempt) for received in self.requests)

    async def wait_for(self, predicate: Callable[[], bool], limit: float = 10.0) -> None:
        async with asyncio.timeout(limit):
            while not predicate():
                self.arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), 0.05)


@contextlib.asynccontextmanager
async def running_receiver(receiver: Receiver) -> AsyncIterator[Receiver]:
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110  # uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield receiver
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task

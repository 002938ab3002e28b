"""Webhook deliveries: claim due deliveries (`FOR UPDATE SKIP LOCKED`, leased for
`webhook_lease_seconds`), send them signed per Standard Webhooks, and record each attempt
only if the row still carries its attempt number (a fencing token); failures are retried
with capped exponential backoff and full jitter until the retry window ends, and an endpoint
that failed everything for that long is disabled. None of the three steps holds a
transaction while waiting on the network. Why:
docs/decisions/0009-webhook-delivery-claims-leases-and-secret-rotation.md.
"""

import asyncio
import json
import logging
import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from service.db import unit_of_work
from service.settings import Settings
from service.webhooks.addresses import Resolver, resolve, send_target

log = logging.getLogger("lodestar.webhooks")

EXCERPT_BYTES = 1024
USER_AGENT = "Lodestar-Webhooks/0.1"
ATTEMPT_HEADER = "lodestar-attempt"


_CLAIM = text(
    """
    WITH due AS (
        SELECT delivery.id
        FROM deliveries AS delivery
        JOIN webhook_endpoints AS endpoint
          ON endpoint.org_id = delivery.org_id AND endpoint.id = delivery.endpoint_id
        WHERE delivery.status = 'pending'
          AND delivery.next_attempt_at <= now()
          AND endpoint.enabled
        ORDER BY delivery.next_attempt_at
        LIMIT :limit
        FOR UPDATE OF delivery SKIP LOCKED
    ), claimed AS (
        UPDATE deliveries AS delivery
        SET attempts = delivery.attempts + 1,
            last_attempt_at = now(),
            next_attempt_at = now() + make_interval(secs => :lease)
        FROM due
        WHERE delivery.id = due.id
        RETURNING delivery.id, delivery.org_id, delivery.endpoint_id, delivery.event_id,
                  delivery.attempts, delivery.created_at
    )
    SELECT claimed.id, claimed.org_id, claimed.endpoint_id, claimed.event_id, claimed.attempts,
           claimed.created_at, endpoint.url, endpoint.secret,
           CASE WHEN endpoint.previous_secret_expires_at > now() THEN endpoint.previous_secret
           END AS previous_secret,
           event.type, event.payload, event.created_at AS event_created_at
    FROM claimed
    JOIN webhook_endpoints AS endpoint
      ON endpoint.org_id = claimed.org_id AND endpoint.id = claimed.endpoint_id
    JOIN events AS event ON event.org_id = claimed.org_id AND event.id = claimed.event_id
    """
)

_NEXT_DUE = text(
    """
    SELECT EXTRACT(EPOCH FROM min(delivery.next_attempt_at) - clock_timestamp())
    FROM deliveries AS delivery
    JOIN webhook_endpoints AS endpoint
      ON endpoint.org_id = delivery.org_id AND endpoint.id = delivery.endpoint_id
    WHERE delivery.status = 'pending' AND endpoint.enabled
    """
)

# Recording an outcome is one statement (one round trip inside its transaction): the
# attempt row, the delivery's new state (only while it still carries our attempt number)
# and the endpoint's failure streak.
_ATTEMPT = """
    attempt AS (
        INSERT INTO delivery_attempts
            (id, org_id, delivery_id, status_code, latency_ms, error, response_excerpt)
        VALUES (:id, :org_id, :delivery_id, :status_code, :latency_ms, :error, :excerpt)
    )"""
_OURS = "org_id = :org_id AND id = :delivery_id AND attempts = :attempt AND status = 'pending'"

_RECORD_SUCCESS = text(
    f"""
    WITH {_ATTEMPT},
    done AS (UPDATE deliveries SET status = 'succeeded' WHERE {_OURS})
    UPDATE webhook_endpoints SET consecutive_failures = 0
    WHERE org_id = :org_id AND id = :endpoint_id
    """
)

_RECORD_RETRY = text(
    f"""
    WITH {_ATTEMPT},
    retry AS (UPDATE deliveries SET next_attempt_at = :next_attempt_at WHERE {_OURS})
    UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1
    WHERE org_id = :org_id AND id = :endpoint_id
    """
)

# The last failure of a delivery also disables its endpoint when nothing sent to that
# endpoint has succeeded within the retry window (24 h of failures).
_RECORD_FAILURE = text(
    f"""
    WITH {_ATTEMPT},
    failed AS (UPDATE deliveries SET status = 'failed' WHERE {_OURS} RETURNING id),
    failing AS (
        SELECT EXISTS (SELECT 1 FROM failed) AND NOT EXISTS (
            SELECT 1 FROM delivery_attempts AS attempt
            JOIN deliveries AS delivery
              ON delivery.org_id = attempt.org_id AND delivery.id = attempt.delivery_id
            WHERE delivery.org_id = :org_id AND delivery.endpoint_id = :endpoint_id
              AND attempt.status_code BETWEEN 200 AND 299
              AND attempt.created_at >= now() - make_interval(secs => :window)
        ) AS disable
    )
    UPDATE webhook_endpoints AS endpoint
    SET consecutive_failures = endpoint.consecutive_failures + 1,
        enabled = endpoint.enabled AND NOT failing.disable,
        disabled_at = CASE WHEN endpoint.enabled AND failing.disable THEN now()
                           ELSE endpoint.disabled_at END
    FROM failing
    WHERE endpoint.org_id = :org_id AND endpoint.id = :endpoint_id
    RETURNING failing.disable
    """
)


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this worker holds the lease on, with what it needs to send it."""

    id: uuid.UUID
    org_id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    attempt: int
    created_at: datetime
    url: str
    secret: str
    previous_secret: str | None  # during a rotation's overlap: also signed with it
    event_type: str
    payload: dict[str, Any]
    event_created_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body(claim: Claim) -> str:
    """The Standard Webhooks body; identical on every attempt of one delivery."""
    envelope = {
        "type": claim.event_type,
        "timestamp": claim.event_created_at.astimezone(UTC).isoformat(),
        "data": claim.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


def signed_headers(claim: Claim, content: str, now: datetime) -> dict[str, str]:
    msg_id = str(claim.event_id)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(msg_id, now, content)
            for secret in (claim.secret, claim.previous_secret)
            if secret is not None
        ),
        ATTEMPT_HEADER: str(claim.attempt),
    }


def backoff_seconds(attempt: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Full jitter: uniform over [0, min(cap, base · 2^(attempt-1))]."""
    ceiling = min(
        settings.webhook_backoff_cap_seconds,
        settings.webhook_backoff_base_seconds * 2 ** min(attempt - 1, 40),
    )
    return (rng or random).uniform(0, ceiling)


async def _excerpt(response: httpx.Response) -> str:
    collected = b""
    async for chunk in response.aiter_bytes():
        collected += chunk
        if len(collected) >= EXCERPT_BYTES:
            break
    return collected[:EXCERPT_BYTES].decode("utf-8", errors="ignore")


class Deliverer:
    """Claims, sends and records deliveries; run one or many per database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        client: httpx.AsyncClient | None = None,
        resolver: Resolver = resolve,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self._client = client
        self.resolver = resolver
        self._owns_client = False

    async def run_once(self) -> int:
        """Claim one batch and deliver it; the number of deliveries claimed."""
        claims = await self.claim()
        if claims:
            await asyncio.gather(*(self.deliver(claim) for claim in claims))
        return len(claims)

    async def claim(self, limit: int | None = None) -> list[Claim]:
        async with unit_of_work(self.sessions) as session:
            result = await session.execute(
                _CLAIM,
                {
                    "limit": limit or self.settings.worker_batch_size,
                    "lease": self.settings.webhook_lease_seconds,
                },
            )
            return [Claim(*row) for row in result.all()]

    async def deliver(self, claim: Claim) -> Outcome:
        outcome = await self.send(claim)
        await self.record(claim, outcome)
        return outcome

    async def send(self, claim: Claim) -> Outcome:
        if self._client is None:
            # httpx's own 5-second default would cut a send short of the setting.
            self._client = httpx.AsyncClient(
                follow_redirects=False, timeout=self.settings.webhook_timeout_seconds
            )
            self._owns_client = True
        client = self._client
        content = body(claim)
        started = time.perf_counter()
        status_code: int | None = None
        excerpt: str | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                target = await send_target(
                    claim.url, production=self.settings.is_production, resolver=self.resolver
                )
                headers = signed_headers(claim, content, datetime.now(UTC)) | target.headers
                async with client.stream(
                    "POST",
                    target.url,
                    content=content.encode(),
                    headers=headers,
                    extensions=target.extensions,
                ) as response:
                    status_code = response.status_code
                    excerpt = await _excerpt(response)
        except TimeoutError:
            error = f"timed out after {self.settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # e.g. the URL no longer passes the address check
            error = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
        latency_ms = round((time.perf_counter() - started) * 1000)
        return Outcome(status_code, latency_ms, error[:500] if error else None, excerpt)

    async def record(self, claim: Claim, outcome: Outcome) -> None:
        params: dict[str, Any] = {
            "id": uuid.uuid4(),
            "org_id": claim.org_id,
            "delivery_id": claim.id,
            "endpoint_id": claim.endpoint_id,
            "attempt": claim.attempt,
            "status_code": outcome.status_code,
            "latency_ms": outcome.latency_ms,
            "error": outcome.error,
            "excerpt": outcome.excerpt,
        }
        async with unit_of_work(self.sessions) as session:
            if outcome.ok:
                await session.execute(_RECORD_SUCCESS, params)
                return
            now = datetime.now(UTC)
            window = self.settings.webhook_retry_window_seconds
            deadline = claim.created_at + timedelta(seconds=window)
            if now < deadline:
                delay = timedelta(seconds=backoff_seconds(claim.attempt, self.settings))
                params["next_attempt_at"] = min(now + delay, deadline)
                await session.execute(_RECORD_RETRY, params)
                return
            result = await session.execute(_RECORD_FAILURE, {**params, "window": window})
            if result.scalar_one_or_none() is True:
                log.warning("webhook endpoint %s disabled after 24 h of failures", claim.url)

    async def next_due(self) -> float | None:
        """Seconds until the earliest pending delivery of an enabled endpoint is due."""
        async with self.sessions() as session:
            due_in = (await session.execute(_NEXT_DUE)).scalar_one_or_none()
        return None if due_in is None else float(due_in)

    async def aclose(self) -> None:
        """Close the HTTP client if this worker created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

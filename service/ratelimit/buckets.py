"""Token buckets keyed by API key id, and the check that answers 429 with `Retry-After`."""

import math
import time
import uuid
from collections.abc import Callable, Hashable

from fastapi import HTTPException, Request, status

from service.observability import RATE_LIMITED
from service.settings import Settings


class TokenBuckets:
    """One bucket per key: `burst` tokens, refilled at `rate` per second, one per request.

    Single-threaded by design (the event loop): `take` has no await, so it is atomic.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._prune_at = max_keys
        self.max_keys = max_keys
        self._buckets: dict[Hashable, tuple[float, float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> "TokenBuckets":
        replicas = settings.rate_limit_replicas
        return cls(
            settings.rate_limit_per_second / replicas,
            max(1.0, settings.rate_limit_burst / replicas),
        )

    def take(self, key: Hashable, cost: float = 1.0) -> float:
        """Spend `cost` tokens (≤ burst): 0.0 when admitted, otherwise the seconds until
        enough are available."""
        now = self.clock()
        tokens, updated = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            if len(self._buckets) > self._prune_at:
                self._forget_full(now)
                # Many keys genuinely busy: prune again only once their number doubles.
                self._prune_at = max(self.max_keys, 2 * len(self._buckets))
            return 0.0
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is indistinguishable from a new one: drop it.
        for key, (tokens, updated) in list(self._buckets.items()):
            if tokens + (now - updated) * self.rate >= self.burst:
                del self._buckets[key]


def retry_after_seconds(wait: float) -> int:
    """`Retry-After` is whole seconds; never 0, which clients read as "retry at once"."""
    return max(1, math.ceil(wait))


def enforce(request: Request, api_key_id: uuid.UUID, cost: float = 1.0) -> None:
    """Spend `cost` tokens of the caller's key (one per request), or refuse with 429."""
    buckets: TokenBuckets = request.app.state.rate_limiter
    wait = buckets.take(api_key_id, cost)
    if wait > 0:
        RATE_LIMITED.inc()
        seconds = retry_after_seconds(wait)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"rate limit of this API key exceeded; retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


def enforce_batch(request: Request, api_key_id: uuid.UUID, operations: int) -> None:
    """A GraphQL batch costs one token per operation, at most a full bucket (so every batch
    can pass once the bucket has refilled). Authentication already spent the first token."""
    buckets: TokenBuckets = request.app.state.rate_limiter
    extra = min(float(operations), buckets.burst) - 1.0
    if extra > 0:
        enforce(request, api_key_id, extra)

"""Per-key rate limits (token buckets) and the request size guard.

The token buckets live in each process's memory: each replica enforces
`rate_limit_per_second / rate_limit_replicas` with a burst of `rate_limit_burst /
rate_limit_replicas`, since a bucket shared in PostgreSQL would cost a commit per request and
a bucket is soft state (docs/decisions/0010-rate-limit-buckets-in-process-memory.md).

Requests are limited per API key id, after authentication (a FastAPI dependency, so `/v1` and
`/graphql` both pass through it); requests without a valid key are not limited by key. A
GraphQL batch costs one token per operation (at most a full bucket).
The request size guard is an ASGI middleware in front of everything (see `request_size`).
"""

from service.ratelimit.buckets import TokenBuckets, enforce, enforce_batch, retry_after_seconds
from service.ratelimit.request_size import RequestSizeLimitMiddleware

__all__ = [
    "RequestSizeLimitMiddleware",
    "TokenBuckets",
    "enforce",
    "enforce_batch",
    "retry_after_seconds",
]

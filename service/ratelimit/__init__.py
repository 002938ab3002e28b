"""Per-key rate limits (token buckets) and the request size guard.

Decision: the token buckets live in each process's memory, and each replica enforces
`rate_limit_per_second / rate_limit_replicas` with a burst of `rate_limit_burst /
rate_limit_replicas`. A bucket shared in PostgreSQL (`INSERT ... ON CONFLICT DO UPDATE ...
RETURNING` on one row per key) would make the limit exact across replicas, but it costs a
write, a WAL record and a commit on a separate connection for *every* request, and requests of
one busy key queue on that key's row lock. bench/ratelimit_postgres.py measured (loopback, 2
shared cores): 1.8-7 ms p50 per request for the logged row (fsync per commit), and 250-900
requests/s with a p99 of 0.2-0.7 s for one key from 32 clients; 0.15 ms p50 and ~3-4.5k/s
for an UNLOGGED table (which loses the buckets on a crash anyway); ~1-2 µs in memory. A
bucket is soft state: losing it on restart only refills it, so keeping it per process does not
break the rule that the app is stateless (nothing a client relies on is lost). The price is
precision: with N replicas and a balancer that spreads one key's requests evenly the limit is
the configured one; a client pinned to one replica (one keep-alive connection) gets 1/N of it.

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

"""`api_keys.last_used_at` without a write per request.

Each process remembers, per key, the latest time it authenticated a request, and writes all of
them with one `UPDATE` every `key_usage_flush_seconds` (and once more at shutdown). The update
only moves `last_used_at` forward, so replicas flushing in any order agree. A crash loses at
most one interval of "last used" times, which is the accepted price of not writing on every
request. Authentication itself still reads the key row on every request, so revocation is
effective on the next request.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db import unit_of_work

log = logging.getLogger("lodestar.auth.usage")

# One statement for the whole buffer; `org_id` is part of the join so the statement stays
# tenant-filtered (and routable when the schema is distributed by org_id).
FLUSH_SQL = text(
    """
    UPDATE api_keys AS k SET last_used_at = u.used_at
    FROM unnest(CAST(:org_ids AS uuid[]), CAST(:ids AS uuid[]), CAST(:used AS timestamptz[]))
        AS u(org_id, id, used_at)
    WHERE k.org_id = u.org_id AND k.id = u.id
      AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at)
    """
)


class KeyUsage:
    """The per-process buffer of (org_id, key id) -> latest use."""

    def __init__(self) -> None:
        self._pending: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def touch(self, org_id: uuid.UUID, key_id: uuid.UUID, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        current = self._pending.get((org_id, key_id))
        if current is None or current < at:
            self._pending[(org_id, key_id)] = at

    async def flush(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """Write the buffer with one UPDATE; returns how many keys were written."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            async with unit_of_work(sessions) as session:
                await session.execute(
                    FLUSH_SQL,
                    {
                        "org_ids": [org_id for org_id, _ in batch],
                        "ids": [key_id for _, key_id in batch],
                        "used": list(batch.values()),
                    },
                )
        except BaseException:
            for (org_id, key_id), at in batch.items():  # keep them for the next flush
                self.touch(org_id, key_id, at)
            raise
        return len(batch)

    @contextlib.asynccontextmanager
    async def flushing(
        self, sessions: async_sessionmaker[AsyncSession], interval_seconds: float
    ) -> AsyncIterator[None]:
        """Flush every `interval_seconds` while the block runs, and once when it ends."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(interval_seconds)
                try:
                    await self.flush(sessions)
                except Exception:
                    log.exception("could not record API key usage; will retry")

        task = asyncio.create_task(loop(), name="lodestar-key-usage-flush")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                await self.flush(sessions)
            except Exception:
                log.exception("could not record API key usage at shutdown")

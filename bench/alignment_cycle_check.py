"""What the acyclic check of `service.objectives.service.align` costs as the graph grows.

    python bench/alignment_cycle_check.py postgresql://postgres@127.0.0.1:5432/postgres

Creates (and drops) a scratch database migrated to head. For each size N it builds, in one
organization, a chain of N objectives (each aligned under the next) plus a wide layer
(N objectives under the chain's bottom), runs ANALYZE (as autovacuum would), then times
inside a rolled-back transaction:
- `align` refused as a cycle: the chain's top under one of the leaves, so the recursive
  CTE walks up through every ancestor of the leaf (the worst case: N + 1 levels);
- `align` accepted under a deep parent: a fresh objective under a leaf (same walk, no hit);
- `align` accepted under the top (the walk up from the top is empty: the usual case of
  aligning a team objective under a company objective);
- re-`align` with a new weight (no walk: the edge exists).
Each figure is the whole service call (advisory lock, loads, CTE, insert, event).
"""

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from service.db import async_url
from service.errors import CycleDetected
from service.migrations import upgrade_to_head
from service.models import Alignment, Cycle, Objective, Organization, Team
from service.objectives import service
from tests.database import create_database, drop_database

SIZES = (100, 1_000, 10_000)
REPEATS = 30


async def build(session: AsyncSession, size: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    org_id, team_id, cycle_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await session.execute(insert(Organization).values(id=org_id, name="bench"))
    await session.execute(insert(Team).values(id=team_id, org_id=org_id, name="t"))
    await session.execute(
        insert(Cycle).values(
            id=cycle_id,
            org_id=org_id,
            name="c",
            starts_on=date(2027, 1, 1),
            ends_on=date(2027, 3, 31),
        )
    )
    ids = [uuid.uuid4() for _ in range(2 * size + 1)]
    await session.execute(
        insert(Objective),
        [
            {
                "id": id,
                "org_id": org_id,
                "title": f"o{n}",
                "cycle_id": cycle_id,
                "owner_team_id": team_id,
            }
            for n, id in enumerate(ids)
        ],
    )
    chain = ids[:size]
    edges = [
        {"org_id": org_id, "child_objective_id": child, "parent_objective_id": parent}
        for child, parent in zip(chain[1:], chain[:-1], strict=True)
    ]
    edges += [
        {"org_id": org_id, "child_objective_id": leaf, "parent_objective_id": chain[-1]}
        for leaf in ids[size : 2 * size]
    ]
    await session.execute(insert(Alignment), edges)
    return org_id, ids


async def timed(
    sessions: async_sessionmaker[AsyncSession], call: Callable[[AsyncSession], Awaitable[None]]
) -> list[float]:
    latencies = []
    for _ in range(REPEATS):
        async with sessions() as session:
            started = time.perf_counter()
            await call(session)
            latencies.append(time.perf_counter() - started)
            await session.rollback()
    return latencies


def report(name: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    print(
        f"  {name:<34} median {statistics.median(ordered) * 1e3:7.2f} ms"
        f"   max {ordered[-1] * 1e3:7.2f} ms"
    )


async def measure(
    sessions: async_sessionmaker[AsyncSession], org_id: uuid.UUID, ids: list[uuid.UUID], size: int
) -> None:
    top, leaf, spare = ids[0], ids[size], ids[-1]

    async def cycle(session: AsyncSession) -> None:
        try:
            await service.align(session, org_id, top, leaf)
        except CycleDetected:
            return
        raise AssertionError("expected a cycle")

    async def accepted_deep(session: AsyncSession) -> None:
        await service.align(session, org_id, spare, leaf)

    async def accepted(session: AsyncSession) -> None:
        await service.align(session, org_id, spare, top)

    async def reweight(session: AsyncSession) -> None:
        await service.align(session, org_id, ids[1], top, weight=2)

    report("refused cycle (walks N + 1 up)", await timed(sessions, cycle))
    report("accepted under a leaf (walks N + 1)", await timed(sessions, accepted_deep))
    report("accepted under the top (walks 0)", await timed(sessions, accepted))
    report("re-weight existing", await timed(sessions, reweight))


async def main(admin_url: str) -> None:
    url = await create_database(admin_url)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        engine = create_async_engine(async_url(url))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        for size in SIZES:
            async with sessions() as session:
                org_id, ids = await build(session, size)
                await session.commit()
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE alignments"))
                await conn.commit()
            print(f"chain of {size} + {size} leaves ({2 * size - 1} alignments)")
            await measure(sessions, org_id, ids, size)
        await engine.dispose()
    finally:
        await drop_database(admin_url, url)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

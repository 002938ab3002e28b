"""The recheck's kept window reads (`service.statuses.window_cache`): after every recheck each
kept row holds exactly what a whole read of its window gives, whether the recheck extended it
with the points written since or read the window whole, and whole reads happen only where
the module says (a kept row read whole keeps its `read_at`; one extended keeps it too)."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db import unit_of_work
from service.models import KeyResult, Metric, Objective, Organization, WindowAggregate
from service.points.service import ingest
from service.rollups.repository import window_values
from service.statuses import tracker, window_cache
from service.statuses.recheck import announce_ingested, claim
from tests import factories
from tests.events.test_recheck import (
    YESTERDAY,
    committed_batch,
    committed_revenue_key_result,
    points,
    queued,
)
from tests.events.test_status_changes import running_cycle, status_changes
from tests.real_transactions import committed_org, wait_for_lock_waiters

_WHOLE = text(
    """
    SELECT count(*), sum(value), min(value), max(value) FROM points
    WHERE org_id = :org AND metric_id = :metric AND ts >= :a AND ts < :b
    """
)


@pytest.fixture(autouse=True)
def extend_every_kept_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """These windows are small: keep them, and extend them however many points a batch adds,
    unless a test says otherwise (`KEEP_FROM`, `KEPT_FACTOR`)."""
    monkeypatch.setattr(window_cache, "KEEP_FROM", 0)
    monkeypatch.setattr(window_cache, "KEPT_FACTOR", 0)


async def kept_rows(session: AsyncSession, org: Organization) -> list[WindowAggregate]:
    rows = await session.scalars(
        select(WindowAggregate)
        .where(WindowAggregate.org_id == org.id)
        .order_by(WindowAggregate.metric_id, WindowAggregate.starts_at)
    )
    return list(rows)


def held(aggregation: str, count: int, total: Any, low: Any, high: Any) -> tuple[Any, ...]:
    """What a kept row of this aggregation holds of a whole read: the count and its
    metric's aggregate (the sum for `sum` and `avg`)."""
    return (
        count,
        total if aggregation in ("sum", "avg") else None,
        low if aggregation == "min" else None,
        high if aggregation == "max" else None,
    )


async def assert_exact(sessions: async_sessionmaker[AsyncSession], org: Organization) -> list[Any]:
    """Every kept row of the organization equals a whole read of [starts_at, through) now;
    returns each row's (count, sum, read_at)."""
    async with sessions() as check:
        rows = await kept_rows(check, org)
        for row in rows:
            whole = (
                await check.execute(
                    _WHOLE,
                    {"org": org.id, "metric": row.metric_id, "a": row.starts_at, "b": row.through},
                )
            ).one()
            assert (row.count, row.sum, row.min, row.max) == held(row.aggregation, *whole)
        return [(row.count, row.sum, row.read_at) for row in rows]


async def kept_window(
    sessions: async_sessionmaker[AsyncSession], org: Organization, values: list[float]
) -> datetime:
    """A key result on `revenue` whose window was rechecked after a batch of `values` (a
    kept row, exact): when the row was read whole."""
    await committed_revenue_key_result(sessions, org)
    await committed_batch(sessions, org, values)
    await recheck(sessions)
    ((_, _, read_at),) = await assert_exact(sessions, org)
    return cast(datetime, read_at)


async def recheck(sessions: async_sessionmaker[AsyncSession], **options: Any) -> tuple[int, int]:
    async with unit_of_work(sessions) as run:
        return tuple(await announce_ingested(run, **options))  # type: ignore[return-value]


async def test_insert_only_batches_extend_the_kept_window_without_reading_it_whole(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a key result on a sum metric whose first batch was rechecked: a kept row
        key_result = await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [5.0, 5.5, 4.5], YESTERDAY)
        await recheck(sessions)
        ((count, total, first_read),) = await assert_exact(sessions, org)
        assert (count, total) == (3, 15.0)

        # when two more batches are committed (one within the span already read, one after
        # it) and rechecked, then two more, each rechecked
        await committed_batch(sessions, org, [10.0] * 2, YESTERDAY - timedelta(hours=5))
        await committed_batch(sessions, org, [7.25], YESTERDAY + timedelta(hours=1))
        await recheck(sessions)
        after_two = await assert_exact(sessions, org)
        await committed_batch(sessions, org, [40.0, 0.5], YESTERDAY + timedelta(hours=2))
        await recheck(sessions)
        after_four = await assert_exact(sessions, org)

        # then each recheck added the new points to the kept row, which a whole read
        # confirms, without reading the window whole (read_at is the first read's), and the
        # statuses followed (off track at 15 of 100 halfway through the cycle, on track at
        # 82.75)
        assert after_two == [(6, 42.25, first_read)]
        assert after_four == [(8, 82.75, first_read)]
        async with sessions() as check:
            changes = await status_changes(check, org)
        assert changes[0][:2] == (key_result.id, "no_data")
        assert changes[-1][2] == "on_track"


async def test_a_batch_that_updates_points_makes_the_recheck_read_the_window_whole(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept row of five points
        first_read = await kept_window(sessions, org, [10.0] * 5)

        # when a batch replaces two of them (and adds one) and is rechecked
        await committed_batch(sessions, org, [1.0, 2.0] + [10.0] * 3 + [3.0])
        await recheck(sessions)

        # then the window was read whole: an update cannot be added to a kept sum
        ((count, total, read_at),) = await assert_exact(sessions, org)
        assert (count, total) == (6, 36.0)
        assert read_at > first_read


async def test_batches_announced_without_a_recheck_are_added_from_their_put_back_row(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept row, then batches announced by runs that did not recheck (their
        # merged spans and transactions put back), one more queued after them
        first_read = await kept_window(sessions, org, [1.0] * 4)
        for hour in (1, 2):
            await committed_batch(sessions, org, [2.0] * 3, YESTERDAY + timedelta(hours=hour))
            assert await recheck(sessions, recheck=False) == (1, 0)
        await committed_batch(sessions, org, [3.0], YESTERDAY + timedelta(hours=3))
        async with sessions() as check:
            put_back = [row for row in await queued(check, org) if row.announced]
            assert len(put_back) == 2 and all(len(row.xids or []) == 1 for row in put_back)

        # when the next run rechecks
        await recheck(sessions)

        # then the kept row holds every point, added without a whole read
        assert await assert_exact(sessions, org) == [(11, 19.0, first_read)]


async def test_a_batch_committed_while_a_recheck_waits_is_counted_once(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept row and two committed batches
        first_read = await kept_window(sessions, org, [1.0] * 2)
        await committed_batch(sessions, org, [2.0], YESTERDAY + timedelta(hours=1))
        await committed_batch(sessions, org, [4.0], YESTERDAY + timedelta(hours=2))

        # when one worker claims the first batch and holds the organization's recheck, a
        # second claims the other and waits, and a third batch commits before it goes on
        async with sessions() as first, sessions() as second:
            assert (await announce_ingested(first, limit=1)).claimed == 1
            waiting = asyncio.create_task(announce_ingested(second, limit=1))
            await wait_for_lock_waiters(engine, waiting)
            await committed_batch(sessions, org, [8.0], YESTERDAY + timedelta(hours=3))
            await first.commit()
            assert (await waiting).claimed == 1
            await second.commit()
        # the second's read saw the third batch, still queued: exact at its snapshot
        assert await assert_exact(sessions, org) == [(5, 16.0, first_read)]

        # then the recheck that claims the third batch does not add it again
        assert (await recheck(sessions))[0] == 1
        assert await assert_exact(sessions, org) == [(5, 16.0, first_read)]
        async with sessions() as check:
            assert await queued(check, org) == []


async def test_points_ahead_of_the_kept_window_are_added_as_time_passes(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept row read at t, and a batch with points before t and after it
        await committed_revenue_key_result(sessions, org)
        t = datetime.now(UTC)
        await committed_batch(sessions, org, [1.0] * 3, t - timedelta(minutes=10))
        await recheck(sessions, as_of=t)
        ((_, _, first_read),) = await assert_exact(sessions, org)
        await committed_batch(sessions, org, [2.0] * 4, t - timedelta(minutes=2))

        # when rechecks run at t + 1 min and then t + 3 min (the kept row grows with them)
        await recheck(sessions, as_of=t + timedelta(minutes=1))
        at_one = await assert_exact(sessions, org)
        await committed_batch(sessions, org, [100.0], t + timedelta(minutes=2, seconds=30))
        await recheck(sessions, as_of=t + timedelta(minutes=3))
        at_three = await assert_exact(sessions, org)

        # then each holds the points before its instant, added without a whole read
        assert at_one == [(3 + 3, 3.0 + 6.0, first_read)]
        assert at_three == [(3 + 4 + 1, 3.0 + 8.0 + 100.0, first_read)]
        async with sessions() as check:
            (row,) = await kept_rows(check, org)
            assert row.through == t + timedelta(minutes=3)

        # and a recheck at an earlier instant reads the window whole
        await committed_batch(sessions, org, [5.0], t - timedelta(hours=1))
        await recheck(sessions, as_of=t)
        ((count, total, read_at),) = await assert_exact(sessions, org)
        assert (count, total) == (3 + 2 + 1, 3.0 + 4.0 + 5.0) and read_at > first_read


async def test_a_kept_row_whose_batches_another_recheck_consumed_is_dropped(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept row of a key result whose objective is then set to draft (not
        # rechecked), and a batch rechecked meanwhile
        key_result = await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [1.0] * 2)
        await recheck(sessions)
        await set_objective_state(sessions, key_result, "draft")
        await committed_batch(sessions, org, [2.0], YESTERDAY + timedelta(hours=1))
        await recheck(sessions)

        # then that recheck dropped the kept row: it no longer knows what the row lacks
        async with sessions() as check:
            assert await kept_rows(check, org) == []

        # and once the objective is active again, the next recheck reads it whole
        await set_objective_state(sessions, key_result, "active")
        await committed_batch(sessions, org, [4.0], YESTERDAY + timedelta(hours=2))
        await recheck(sessions)
        assert [row[:2] for row in await assert_exact(sessions, org)] == [(4, 8.0)]


async def set_objective_state(
    sessions: async_sessionmaker[AsyncSession], key_result: KeyResult, state: str
) -> None:
    async with unit_of_work(sessions) as edit:
        await edit.execute(
            update(Objective).where(Objective.id == key_result.objective_id).values(state=state)
        )


async def test_last_metrics_keep_nothing_and_a_metric_that_was_last_is_read_whole(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept sum window
        await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [1.0] * 2)
        await recheck(sessions)

        # when the metric's aggregation becomes `last` and a batch is rechecked
        await set_aggregation(sessions, org, "last")
        await committed_batch(sessions, org, [3.0], YESTERDAY + timedelta(hours=1))
        await recheck(sessions)

        # then nothing is kept for it (the `last` of a window is read whole every time)
        async with sessions() as check:
            assert await kept_rows(check, org) == []

        # and back to sum, the window is read whole again, exactly
        await set_aggregation(sessions, org, "sum")
        await committed_batch(sessions, org, [5.0], YESTERDAY + timedelta(hours=2))
        await recheck(sessions)
        assert [row[:2] for row in await assert_exact(sessions, org)] == [(4, 10.0)]


async def set_aggregation(
    sessions: async_sessionmaker[AsyncSession], org: Organization, aggregation: str
) -> None:
    async with unit_of_work(sessions) as edit:
        await edit.execute(
            update(Metric)
            .where(Metric.org_id == org.id, Metric.key == "revenue")
            .values(aggregation=aggregation)
        )


async def test_a_deleted_metric_takes_its_kept_rows_with_it(engine: AsyncEngine) -> None:
    async with committed_org(engine) as (sessions, org):
        await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [1.0] * 2)
        await recheck(sessions)
        async with unit_of_work(sessions) as edit:
            await edit.execute(text("DELETE FROM key_results WHERE org_id = :org"), {"org": org.id})
            await edit.execute(text("DELETE FROM metrics WHERE org_id = :org"), {"org": org.id})
        async with sessions() as check:
            assert await kept_rows(check, org) == []


@pytest.mark.parametrize("aggregation", ["sum", "avg", "min", "max", "count", "last"])
async def test_every_aggregation_gives_the_engines_value(
    engine: AsyncEngine, aggregation: str
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given key results on one metric of this aggregation in a running and an ended cycle
        async with unit_of_work(sessions) as setup:
            metric = await factories.create_metric(
                setup, org, key="revenue", aggregation=aggregation
            )
            running = await running_cycle(setup, org)
            ended = await factories.create_cycle(
                setup,
                org,
                starts_on=running.starts_on - timedelta(days=90),
                ends_on=running.starts_on - timedelta(days=1),
            )
            for cycle in (running, ended):
                objective = await factories.create_objective(setup, org, cycle)
                await factories.create_key_result(
                    setup, objective, measure="metric", metric_id=metric.id, target_value=50.0
                )
        start = datetime.combine(running.starts_on, datetime.min.time(), UTC)
        reads = []
        for number, batch in enumerate(([3.0, -1.5, 8.0], [0.25, 12.0], [-7.0, 4.0, 2.5])):
            # when batches with points in both cycles and before them are committed, each
            # claimed and its windows read (kept rows extended after the first)
            async with unit_of_work(sessions) as write:
                await ingest(
                    write,
                    org.id,
                    points("revenue", batch, start + timedelta(days=number, hours=3))
                    + points("revenue", batch, start - timedelta(days=30 - number))
                    + points("revenue", [9.0], start - timedelta(days=400 - number)),
                )
            async with unit_of_work(sessions) as run:
                t = datetime.now(UTC)
                written = (await claim(run, limit=10))[org.id].written
                _, key_results = await tracker.metric_key_results(run, org.id, written.spans, t)
                windows = [(kr.window, kr.cycle[1]) for kr in key_results]
                values = await window_cache.window_values(run, org.id, windows, written)

                # then they are the engine's, read whole in the same transaction
                assert len(values) == 2
                assert values == await window_values(run, org.id, [w for w, _ in windows])
            reads.append(await assert_exact(sessions, org))

        # and kept rows (none for `last`) were read whole only the first time
        if aggregation == "last":
            assert reads == [[], [], []]
        else:
            assert len({read_at for read in reads for _, _, read_at in read}) == 1
            assert [len(read) for read in reads] == [2, 2, 2]


async def test_one_transaction_that_ingests_after_its_recheck_is_read_whole(
    session: AsyncSession,
) -> None:
    # given a recheck and batches in one transaction (the kept row's own transaction
    # writes points after reading: its snapshot cannot tell them apart)
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    metric = await factories.create_metric(session, org, key="revenue", aggregation="sum")
    objective = await factories.create_objective(session, org, cycle)
    await factories.create_key_result(
        session, objective, measure="metric", metric_id=metric.id, target_value=100.0
    )
    for hour, values in enumerate(([1.0] * 3, [2.0] * 2, [4.0])):
        await ingest(session, org.id, points("revenue", values, YESTERDAY + timedelta(hours=hour)))
        await announce_ingested(session)

        # then the kept row is exact every time
        (row,) = await kept_rows(session, org)
        await session.refresh(row)
        whole = (
            await session.execute(
                _WHOLE,
                {"org": org.id, "metric": metric.id, "a": row.starts_at, "b": row.through},
            )
        ).one()
        assert (row.count, row.sum, row.min, row.max) == held(row.aggregation, *whole)
    assert (row.count, row.sum) == (6, 11.0)


async def test_a_backlog_is_read_whole(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept row and more batches queued than a recheck adds from
        first_read = await kept_window(sessions, org, [1.0])
        monkeypatch.setattr(window_cache, "MAX_QUEUED", 1)
        for hour in (1, 2, 3):
            await committed_batch(sessions, org, [2.0], YESTERDAY + timedelta(hours=hour))

        # when a run claims one of them
        await recheck(sessions, limit=1)

        # then it read the window whole (two left queued: more than it adds from)
        ((count, _, read_at),) = await assert_exact(sessions, org)
        assert count == 4 and read_at > first_read


async def test_a_batch_queues_the_transaction_its_points_carry(engine: AsyncEngine) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a metric
        await committed_revenue_key_result(sessions, org)

        # when a batch is ingested the way the endpoint does (its own transaction)
        await committed_batch(sessions, org, [1.0, 2.0, 3.0])

        # then its queue row names the transaction in its points' xmin (the low 32 bits of
        # the xid8): the kept windows tell new points by it, so ingestion must not write in
        # a savepoint (whose points would carry a subtransaction's id)
        async with sessions() as check:
            (row,) = await queued(check, org)
            xmins = await check.scalars(
                text(
                    "SELECT DISTINCT CAST(CAST(xmin AS text) AS bigint) FROM points"
                    " WHERE org_id = :org"
                ),
                {"org": org.id},
            )
            assert [xid % 2**32 for xid in row.xids or []] == list(xmins)


async def test_a_window_small_against_the_points_written_since_is_read_whole(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(window_cache, "KEPT_FACTOR", 2)
    async with committed_org(engine) as (sessions, org):
        # given a kept window of 4 points
        first_read = await kept_window(sessions, org, [1.0] * 4)

        # when a batch of 2 points is rechecked, then one of 4 (more than a half of the 6)
        await committed_batch(sessions, org, [2.0] * 2, YESTERDAY + timedelta(hours=1))
        await recheck(sessions)
        ((_, _, after_two),) = await assert_exact(sessions, org)
        await committed_batch(sessions, org, [3.0] * 4, YESTERDAY + timedelta(hours=2))
        await recheck(sessions)
        ((count, total, after_four),) = await assert_exact(sessions, org)

        # then the first was added to the kept row, the second read whole
        assert after_two == first_read
        assert (count, total, after_four > first_read) == (10, 20.0, True)


async def test_a_batch_written_in_a_savepoint_names_no_transaction_and_is_read_whole(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept window
        first_read = await kept_window(sessions, org, [1.0] * 2)

        # when a batch is written inside a savepoint (its points carry a subtransaction's
        # id, which no snapshot lists) and rechecked
        async with unit_of_work(sessions) as batch, batch.begin_nested():
            await ingest(batch, org.id, points("revenue", [5.0], YESTERDAY + timedelta(hours=1)))
        async with sessions() as check:
            (row,) = await queued(check, org)
            assert row.xids is None
        await recheck(sessions)

        # then the window was read whole, and holds the point
        ((count, total, read_at),) = await assert_exact(sessions, org)
        assert (count, total) == (3, 7.0) and read_at > first_read


async def test_a_batch_open_while_the_window_is_kept_is_added_once_it_commits(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a batch written but not committed while a recheck keeps the window (its
        # transaction is in the kept snapshot's in-progress list)
        await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [1.0] * 2)
        async with sessions() as open_batch:
            await ingest(
                open_batch, org.id, points("revenue", [4.0], YESTERDAY + timedelta(hours=1))
            )
            await recheck(sessions)
            ((count, _, first_read),) = await assert_exact(sessions, org)
            assert count == 2

            # when it commits, then another batch does, and a recheck runs
            await open_batch.commit()
        await committed_batch(sessions, org, [8.0], YESTERDAY + timedelta(hours=2))
        await recheck(sessions)

        # then both are added, without a whole read
        assert await assert_exact(sessions, org) == [(4, 14.0, first_read)]


async def test_rows_queued_before_revision_0011_make_their_metrics_read_whole(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept window, and a batch whose queue row names no transaction (as rows
        # written by code before revision 0011)
        first_read = await kept_window(sessions, org, [1.0] * 2)
        await committed_batch(sessions, org, [2.0], YESTERDAY + timedelta(hours=1))
        async with unit_of_work(sessions) as edit:
            await edit.execute(
                text("UPDATE status_rechecks SET xids = NULL WHERE org_id = :org"),
                {"org": org.id},
            )

        # when it is announced without a recheck (put back), then rechecked
        await recheck(sessions, recheck=False)
        await recheck(sessions)

        # then the window was read whole
        ((count, total, read_at),) = await assert_exact(sessions, org)
        assert (count, total) == (3, 4.0) and read_at > first_read


async def test_a_window_of_fewer_points_than_keep_from_is_not_kept(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(window_cache, "KEEP_FROM", 3)
    async with committed_org(engine) as (sessions, org):
        # given a key result whose window gets 2 points, then 2 more
        await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [1.0] * 2)
        await recheck(sessions)
        async with sessions() as check:
            kept_of_two = await kept_rows(check, org)
        await committed_batch(sessions, org, [2.0] * 2, YESTERDAY + timedelta(hours=1))
        await recheck(sessions)

        # then nothing was kept of 2 points, and 4 are kept
        assert kept_of_two == []
        assert [row[:2] for row in await assert_exact(sessions, org)] == [(4, 6.0)]


async def test_a_metric_whose_aggregation_changed_is_read_whole(engine: AsyncEngine) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a kept sum window
        first_read = await kept_window(sessions, org, [1.0, 6.0])

        # when the metric becomes a `max` and a batch is rechecked
        await set_aggregation(sessions, org, "max")
        await committed_batch(sessions, org, [3.0], YESTERDAY + timedelta(hours=1))
        await recheck(sessions)

        # then the window was read whole, and its row keeps the maximum
        async with sessions() as check:
            (row,) = await kept_rows(check, org)
        assert (row.aggregation, row.count, row.sum, row.max) == ("max", 3, None, 6.0)
        assert row.read_at > first_read
        await assert_exact(sessions, org)

"""The worker's status recheck (`service.statuses.recheck`): status changes caused by ingested
points are announced after the batch commits, coalescing batches, once, in one chain with
the changes writers announce. Rechecks are called directly (the worker's loop only times
them)."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db import unit_of_work
from service.errors import DomainError
from service.events.catalog import EventType
from service.key_results import service as key_results
from service.key_results.schemas import KeyResultUpdate
from service.models import (
    Cycle,
    Event,
    KeyResult,
    KeyResultStatus,
    Metric,
    Organization,
    StatusRecheck,
)
from service.points.service import ingest
from service.settings import Settings
from service.statuses import tracker
from service.statuses.recheck import Claimed, IngestedMetric, announce_ingested, claim
from service.statuses.window_cache import Written
from service.worker import loop as worker_module
from service.worker.loop import Worker
from tests import factories
from tests.conftest import StatementCounter
from tests.events.test_status_changes import running_cycle, status_changes
from tests.real_transactions import committed_org, wait_for_lock_waiters

YESTERDAY = datetime.now(UTC) - timedelta(days=1)


def points(key: str, values: list[float], start: datetime = YESTERDAY) -> list[dict[str, Any]]:
    return [
        {"metric": key, "ts": (start + timedelta(minutes=i)).isoformat(), "value": value}
        for i, value in enumerate(values)
    ]


async def metric_key_result(
    session: AsyncSession,
    org: Organization,
    cycle: Cycle,
    metric: Metric,
    *,
    target: float = 100.0,
    objective_state: str = "active",
    observed: bool = True,
) -> KeyResult:
    """An increase key result from 0 to `target` on `metric` (pace about 0.5), with its
    first status stored as `key_results.create_key_result` stores it (unless not
    `observed`: a key result loaded without the service, e.g. before the migration)."""
    objective = await factories.create_objective(session, org, cycle, state=objective_state)
    key_result = await factories.create_key_result(
        session, objective, measure="metric", metric_id=metric.id, target_value=target
    )
    if observed:
        await tracker.observe(session, org.id, [key_result.id])
    return key_result


async def revenue_key_result(
    session: AsyncSession, org: Organization, *, observed: bool = True
) -> KeyResult:
    """A `revenue` (sum) metric and a key result on it (`metric_key_result`) in a running
    cycle."""
    cycle = await running_cycle(session, org)
    metric = await factories.create_metric(session, org, key="revenue", aggregation="sum")
    return await metric_key_result(session, org, cycle, metric, observed=observed)


async def committed_revenue_key_result(
    sessions: async_sessionmaker[AsyncSession], org: Organization, *, observed: bool = True
) -> KeyResult:
    """`revenue_key_result`, committed."""
    async with unit_of_work(sessions) as setup:
        return await revenue_key_result(setup, org, observed=observed)


async def committed_batch(
    sessions: async_sessionmaker[AsyncSession],
    org: Organization,
    values: list[float],
    start: datetime = YESTERDAY,
) -> None:
    async with unit_of_work(sessions) as batch:
        await ingest(batch, org.id, points("revenue", values, start))


async def queued(session: AsyncSession, org: Organization) -> list[StatusRecheck]:
    rows = await session.scalars(
        select(StatusRecheck).where(StatusRecheck.org_id == org.id).order_by(StatusRecheck.id)
    )
    return list(rows)


async def stored(session: AsyncSession, key_result: KeyResult) -> str | None:
    return await session.scalar(
        select(KeyResultStatus.status).where(
            KeyResultStatus.org_id == key_result.org_id,
            KeyResultStatus.key_result_id == key_result.id,
        )
    )


async def test_a_batch_that_moves_a_key_result_is_announced_by_the_next_recheck(
    session: AsyncSession,
) -> None:
    # given a key result without data on a sum metric
    org = await factories.create_org(session)
    key_result = await revenue_key_result(session, org)

    # when a batch brings it to half its target (on pace)
    await ingest(session, org.id, points("revenue", [10.0] * 5))
    announced_by_ingestion = await status_changes(session, org)
    rechecked = await announce_ingested(session)

    # then ingestion announced nothing itself; the recheck announced the move once
    assert announced_by_ingestion == []
    assert rechecked == (1, 1)
    assert await status_changes(session, org) == [(key_result.id, "no_data", "on_track")]
    [event] = await session.scalars(
        select(Event).where(
            Event.org_id == org.id, Event.type == EventType.KEY_RESULT_STATUS_CHANGED
        )
    )
    assert event.payload["cause"] == "ingest"
    assert event.payload["objective_id"] == str(key_result.objective_id)
    assert event.payload["progress"] == pytest.approx(0.5)
    assert set(event.payload) == {
        "key_result_id",
        "objective_id",
        "before",
        "after",
        "progress",
        "expected_progress",
        "cause",
        "as_of",
    }
    assert await stored(session, key_result) == "on_track"
    assert await queued(session, org) == []
    assert await announce_ingested(session) == (0, 0)


async def test_batches_before_one_recheck_announce_only_their_net_change(
    session: AsyncSession,
) -> None:
    # given a key result on a sum metric and one on a `last` metric that is on track
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    total = await factories.create_metric(session, org, key="total", aggregation="sum")
    latest = await factories.create_metric(session, org, key="latest", aggregation="last")
    summed = await metric_key_result(session, org, cycle, total)
    last = await metric_key_result(session, org, cycle, latest)
    await ingest(session, org.id, points("latest", [50.0], YESTERDAY - timedelta(hours=2)))
    await announce_ingested(session)
    seq = max(await session.scalars(select(Event.seq).where(Event.org_id == org.id)))

    # when two batches arrive before the next recheck: the sum goes to 50 then 100 (on
    # track, then done); the last value goes to 100 (done) and back to 50 (on track)
    await ingest(
        session,
        org.id,
        points("total", [10.0] * 5) + points("latest", [100.0], YESTERDAY - timedelta(hours=1)),
    )
    await ingest(
        session,
        org.id,
        points("total", [10.0] * 5, YESTERDAY + timedelta(hours=1)) + points("latest", [50.0]),
    )
    rechecked = await announce_ingested(session)

    # then one recheck coalesced both batches: the sum's net move, nothing for the other
    assert rechecked == (2, 1)
    assert await status_changes(session, org, seq) == [(summed.id, "no_data", "done")]
    assert (await stored(session, summed), await stored(session, last)) == ("done", "on_track")


async def test_the_queue_row_is_written_with_the_points_and_only_with_them(
    session: AsyncSession,
) -> None:
    # given two metrics
    org = await factories.create_org(session)
    a = await factories.create_metric(session, org, key="a", aggregation="sum")
    b = await factories.create_metric(session, org, key="b", aggregation="sum")
    batch = points("a", [1.0, 2.0, 3.0]) + points("b", [4.0], YESTERDAY + timedelta(hours=1))

    # when a batch with a bad point is refused, a good one is stored, then sent again
    with pytest.raises(DomainError):
        await ingest(session, org.id, [*batch, {"metric": "a", "ts": "not a time", "value": 1}])
    refused = await queued(session, org)
    await ingest(session, org.id, batch)
    accepted = await queued(session, org)
    await ingest(session, org.id, batch)  # nothing written: nothing to recheck

    # then only the stored batch queued a row, with each metric's span
    assert refused == []
    [row] = accepted
    spans = {
        metric_id: (first, last)
        for metric_id, first, last in zip(row.metric_ids, row.first_ts, row.last_ts, strict=True)
    }
    assert spans == {
        a.id: (YESTERDAY, YESTERDAY + timedelta(minutes=2)),
        b.id: (YESTERDAY + timedelta(hours=1), YESTERDAY + timedelta(hours=1)),
    }
    assert await queued(session, org) == accepted


async def test_key_results_of_draft_and_archived_objectives_are_not_announced(
    session: AsyncSession,
) -> None:
    # given key results on one metric under a draft and an archived objective
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    metric = await factories.create_metric(session, org, key="revenue", aggregation="sum")
    ignored = [
        await metric_key_result(session, org, cycle, metric, objective_state=state)
        for state in ("draft", "archived")
    ]

    # when a batch would move them
    await ingest(session, org.id, points("revenue", [10.0] * 5))
    rechecked = await announce_ingested(session)

    # then nothing is announced and their stored statuses stay as they were
    assert rechecked == (1, 0)
    assert await status_changes(session, org) == []
    assert [await stored(session, kr) for kr in ignored] == ["no_data", "no_data"]


async def test_a_key_result_first_seen_by_a_recheck_is_stored_silently(
    session: AsyncSession,
) -> None:
    # given a key result whose status was never stored (loaded without the service)
    org = await factories.create_org(session)
    key_result = await revenue_key_result(session, org, observed=False)

    # when a batch moves it, then another one
    await ingest(session, org.id, points("revenue", [10.0] * 5))
    first = await announce_ingested(session)
    stored_first = await stored(session, key_result)
    await ingest(session, org.id, points("revenue", [10.0] * 5, YESTERDAY + timedelta(hours=1)))
    await announce_ingested(session)

    # then the first sight is stored without an event (nothing says what it was before),
    # and the next move is announced from it
    assert first == (1, 0)
    assert stored_first == "on_track"
    assert await status_changes(session, org) == [(key_result.id, "on_track", "done")]


async def test_a_writer_after_an_unprocessed_batch_continues_the_chain(
    session: AsyncSession,
) -> None:
    # given a key result without data, and a batch that puts it on track, not yet rechecked
    org = await factories.create_org(session)
    key_result = await revenue_key_result(session, org)
    await ingest(session, org.id, points("revenue", [10.0] * 5))

    # when an edit raises its target (off track now), then the recheck runs
    await key_results.update_key_result(
        session, org.id, key_result.id, KeyResultUpdate(target_value=1000.0)
    )
    rechecked = await announce_ingested(session)

    # then the edit announced the move from the last announced status (not from the
    # unannounced on_track its snapshot saw), and the recheck found nothing left to say
    assert await status_changes(session, org) == [(key_result.id, "no_data", "off_track")]
    assert rechecked == (1, 0)
    assert await stored(session, key_result) == "off_track"


async def points_ingested(session: AsyncSession, org: Organization) -> int:
    """How many `metric.points_ingested` events the organization has."""
    result = await session.scalars(
        select(Event.id).where(Event.org_id == org.id, Event.type == "metric.points_ingested")
    )
    return len(result.all())


async def test_a_recheck_that_fails_leaves_the_batches_queued(engine: AsyncEngine) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a committed batch that moves a key result
        key_result = await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [10.0] * 5)

        # when a recheck fails after announcing (its transaction rolls back)
        with pytest.raises(RuntimeError):
            async with unit_of_work(sessions) as failing:
                assert await announce_ingested(failing) == (1, 1)
                raise RuntimeError("the worker died")
        async with sessions() as check:
            left = len(await queued(check, org))
            events_after_failure = await status_changes(check, org)
            ingested_after_failure = await points_ingested(check, org)

        # then the batch is still queued and nothing was announced; the next recheck
        # announces the batch and the change, once
        async with unit_of_work(sessions) as later:
            assert await announce_ingested(later) == (1, 1)
        assert (left, events_after_failure, ingested_after_failure) == (1, [], 0)
        async with sessions() as check:
            assert await status_changes(check, org) == [(key_result.id, "no_data", "on_track")]
            assert await points_ingested(check, org) == 1
            assert await queued(check, org) == []


async def test_concurrent_rechecks_announce_a_change_once(engine: AsyncEngine) -> None:
    async with committed_org(engine) as (sessions, org):
        # given two committed batches that move one key result (the first puts it on
        # track, the second keeps it there)
        key_result = await committed_revenue_key_result(sessions, org)
        for hour in (0, 1):
            await committed_batch(sessions, org, [5.0] * 5, YESTERDAY + timedelta(hours=hour))

        # when two workers each claim one batch: the first announces and has not committed
        # yet when the second reaches the same organization
        async with sessions() as first, sessions() as second:
            assert await announce_ingested(first, limit=1) == (1, 1)
            other = asyncio.create_task(announce_ingested(second, limit=1))
            await wait_for_lock_waiters(engine, other)
            await first.commit()
            second_result = await other
            await second.commit()

        # then the second compared with what the first announced: one event in all
        assert second_result == (1, 0)
        async with sessions() as check:
            assert await status_changes(check, org) == [(key_result.id, "no_data", "on_track")]
            assert await queued(check, org) == []


async def test_a_writer_waits_for_a_recheck_announcing_the_same_key_result(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a committed batch that puts a key result on track
        key_result = await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [10.0] * 5)

        # when the recheck announces it (not committed yet) while an edit raises the target
        async with sessions() as recheck, sessions() as writer:
            assert await announce_ingested(recheck) == (1, 1)
            edit = asyncio.create_task(
                key_results.update_key_result(
                    writer, org.id, key_result.id, KeyResultUpdate(target_value=1000.0)
                )
            )
            await wait_for_lock_waiters(engine, edit)
            await recheck.commit()
            await edit
            await writer.commit()

        # then the edit announced from the recheck's status: one chain
        async with sessions() as check:
            assert await status_changes(check, org) == [
                (key_result.id, "no_data", "on_track"),
                (key_result.id, "on_track", "off_track"),
            ]


async def test_a_recheck_waits_for_a_writer_announcing_the_same_key_result(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a committed batch that puts a key result on track, not yet rechecked
        key_result = await committed_revenue_key_result(sessions, org)
        await committed_batch(sessions, org, [10.0] * 5)

        # when an edit raising the target has announced (not committed yet) as the recheck runs
        async with sessions() as writer, sessions() as recheck:
            await key_results.update_key_result(
                writer, org.id, key_result.id, KeyResultUpdate(target_value=1000.0)
            )
            rechecking = asyncio.create_task(announce_ingested(recheck))
            await wait_for_lock_waiters(engine, rechecking)
            await writer.commit()
            rechecked = await rechecking
            await recheck.commit()

        # then the recheck computed with the committed edit and compared with its status:
        # nothing left to announce, and the stored status is the edit's
        assert rechecked == (1, 0)
        async with sessions() as check:
            assert await status_changes(check, org) == [(key_result.id, "no_data", "off_track")]
            assert await stored(check, key_result) == "off_track"


async def test_a_first_observation_does_not_deadlock_with_an_edit_of_the_key_result(
    engine: AsyncEngine,
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a key result whose status was never stored, and a committed batch moving it
        key_result = await committed_revenue_key_result(sessions, org, observed=False)
        await committed_batch(sessions, org, [10.0] * 5)

        # when an edit has locked the key result (its first step) as the recheck stores the
        # first observation (whose foreign key check needs a key share lock on that row),
        # then the edit announces (inserting the same stored row)
        async with sessions() as writer, sessions() as recheck:
            await key_results.get_key_result(writer, org.id, key_result.id, for_update=True)
            rechecking = asyncio.create_task(announce_ingested(recheck))
            await wait_for_lock_waiters(engine, rechecking)
            editing = asyncio.create_task(
                key_results.update_key_result(
                    writer, org.id, key_result.id, KeyResultUpdate(target_value=1000.0)
                )
            )
            await wait_for_lock_waiters(engine, editing)
            rechecked = await rechecking
            await recheck.commit()
            await editing
            await writer.commit()

        # then neither waited for the other in a cycle: the recheck stored what it saw
        # silently, and the edit announced its move from there
        assert rechecked == (1, 0)
        async with sessions() as check:
            assert await status_changes(check, org) == [(key_result.id, "on_track", "off_track")]


async def recheck_statements(
    session: AsyncSession, statements: StatementCounter, key_results: int
) -> tuple[int, int, int]:
    """Statements of ingesting one batch that moves `key_results` key results, of rechecking
    it, and the status events the recheck wrote."""
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    metric = await factories.create_metric(session, org, key="revenue", aggregation="sum")
    for _ in range(key_results):
        await metric_key_result(session, org, cycle, metric)
    statements.reset()
    await ingest(session, org.id, points("revenue", [1.0] * 100))
    ingestion = statements.count
    statements.reset()
    _, announced = await announce_ingested(session)
    return ingestion, statements.count, announced


async def test_recheck_statements_do_not_grow_with_the_key_results_it_moves(
    session: AsyncSession, statements: StatementCounter
) -> None:
    # given metrics with 1 and with 30 key results measured on them
    # when a batch moves every one of them, and the recheck runs
    one = await recheck_statements(session, statements, 1)
    many = await recheck_statements(session, statements, 30)

    # then the same number of statements ingested and rechecked, announcing 1 and 30 moves
    assert (one[2], many[2]) == (1, 30)
    assert many[:2] == one[:2], statements.statements


async def test_the_worker_rechecks_every_queued_batch_in_transactions_of_a_limit(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given three committed batches that together take a key result to its target
        key_result = await committed_revenue_key_result(sessions, org)
        for hour in (0, 1, 2):
            await committed_batch(sessions, org, [10.0] * 5, YESTERDAY + timedelta(hours=hour))

        # when the worker's recheck step runs, claiming one batch per transaction
        monkeypatch.setattr(worker_module, "RECHECK_LIMIT", 1)
        worker = Worker(sessions, Settings(database_url=None), sweep=False)
        emitted = await worker.announce_once()

        # then it drained the queue; the first transaction already read every committed
        # point (statuses are computed now, not per batch): one net move, nothing after it
        assert emitted == 1
        async with sessions() as check:
            assert await queued(check, org) == []
            assert await status_changes(check, org) == [(key_result.id, "no_data", "done")]
            assert await points_ingested(check, org) == 3  # one per transaction


async def test_a_run_without_recheck_announces_the_batches_and_leaves_their_spans_queued(
    session: AsyncSession,
) -> None:
    # given a batch that moves a key result
    org = await factories.create_org(session)
    key_result = await revenue_key_result(session, org)
    await ingest(session, org.id, points("revenue", [10.0] * 5))
    (batch,) = await queued(session, org)
    batch.created_at = batch_queued_at = datetime.now(UTC) - timedelta(minutes=3)
    batch_xids = batch.xids
    await session.flush()

    # when a run announces it without rechecking statuses
    assert await announce_ingested(session, recheck=False) == (1, 0)

    # then the batch is announced, no status change yet, and one announced row holds its
    # span, counts and transaction for the recheck
    assert await points_ingested(session, org) == 1
    assert await status_changes(session, org) == []
    (row,) = await queued(session, org)
    assert row.announced and len(row.metric_ids) == 1
    assert row.xids == (batch_xids or [])  # (none here: the test's session is a savepoint)
    assert row.created_at == batch_queued_at  # the lag gauge keeps counting from the batch

    # and the next run rechecks it without announcing the batch again
    assert await announce_ingested(session) == (1, 1)
    assert await status_changes(session, org) == [(key_result.id, "no_data", "on_track")]
    assert await points_ingested(session, org) == 1
    assert await queued(session, org) == []


async def test_a_drain_without_recheck_ends_however_many_organizations_it_puts_back(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given batches of three organizations, claimed two rows per transaction
    orgs = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(3):
            sessions, org = await stack.enter_async_context(committed_org(engine))
            await committed_revenue_key_result(sessions, org)
            await committed_batch(sessions, org, [10.0] * 5)
            orgs.append(org)
        monkeypatch.setattr(worker_module, "RECHECK_LIMIT", 2)
        worker = Worker(sessions, Settings(database_url=None), sweep=False)

        # when the worker announces without rechecking (it used to claim the rows it put
        # back, one per organization, forever)
        changes = await asyncio.wait_for(worker.announce_once(recheck=False), 10)

        # then each batch is announced once and waits, announced, for the recheck
        assert changes == 0
        async with sessions() as check:
            for org in orgs:
                assert await points_ingested(check, org) == 1
                assert [row.announced for row in await queued(check, org)] == [True]


async def test_a_claim_counts_the_rows_of_metrics_deleted_since(session: AsyncSession) -> None:
    # given a queued batch whose only metric is gone
    org = await factories.create_org(session)
    gone = await factories.create_metric(session, org, key="gone")
    now = datetime.now(UTC)
    session.add(
        StatusRecheck(
            org_id=org.id,
            metric_ids=[gone.id],
            first_ts=[now],
            last_ts=[now],
            inserted=[1],
            updated=[0],
            announced=False,
        )
    )
    await session.flush()
    await session.delete(gone)
    await session.flush()

    # when a run claims it, then it is counted (a drain loop must not stop early), announced
    # as nothing and gone from the queue
    assert await announce_ingested(session) == (1, 0)
    assert await points_ingested(session, org) == 0
    assert await queued(session, org) == []


def test_the_worker_announces_every_interval_and_rechecks_at_most_its_share() -> None:
    # given the cadence of a 1 s interval, runs taking 1 s when they recheck and none when
    # they do not, each sleep ending 1 ms early
    cadence = worker_module.RecheckCadence(1.0)
    now, runs = 0.0, []

    # when the loop runs twelve times
    for _ in range(12):
        recheck = cadence.due(now)
        runs.append((round(now, 3), recheck))
        took = 1.0 if recheck else 0.0
        now += took + max(0.0, cadence.ran(now, took, rechecked=recheck) - 0.001)

    # then it announces every second and, after a recheck of 1 s, rechecks again about 9 s
    # later (a run starting within the slack of its time rechecks)
    assert [t for t, _ in runs] == [
        0.0,
        1.0,
        1.999,
        2.998,
        3.997,
        4.996,
        5.995,
        6.994,
        7.993,
        8.992,
        9.991,
        10.991,
    ]
    assert [recheck for _, recheck in runs] == [True] + [False] * 9 + [True, False]


@pytest.mark.parametrize(
    ("duration", "interval", "pause"),
    [
        (0.1, 1.0, 0.9),  # a quick run: the rest of the interval
        (0.0, 1.0, 1.0),
        (0.5, 1.0, 4.5),  # a long run: rest 9x as long, at most a tenth of the time rechecking
        (3.0, 1.0, 27.0),
        (2.0, 30.0, 28.0),  # a long interval still rules when the run is short enough
    ],
)
def test_the_recheck_loop_rests_longer_after_a_long_run(
    duration: float, interval: float, pause: float
) -> None:
    assert worker_module.recheck_pause(duration, interval) == pytest.approx(pause)
    busy = duration / (duration + worker_module.recheck_pause(duration, interval))
    assert busy <= worker_module.RECHECK_MAX_SHARE or duration + pause == pytest.approx(interval)


async def test_a_claim_merges_the_spans_and_counts_of_its_batches_per_organization_and_metric(
    session: AsyncSession,
) -> None:
    # given four queued rows of two organizations: two batches writing the same metric, a
    # row already announced (merged spans put back by a run that did not recheck), and a
    # batch of another organization queued before revision 0011 (no transaction ids)
    first, second = await factories.create_org(session), await factories.create_org(session)
    revenue = await factories.create_metric(session, first, key="revenue")
    signups = await factories.create_metric(session, first, key="signups")
    visits = await factories.create_metric(session, first, key="visits")
    churn = await factories.create_metric(session, second, key="churn")
    t = datetime(2026, 3, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    session.add_all(
        [
            StatusRecheck(
                org_id=first.id,
                metric_ids=[signups.id, revenue.id],
                first_ts=[t + hour, t],
                last_ts=[t + hour, t + 2 * hour],
                inserted=[1, 3],
                updated=[0, 1],
                xids=[12],
                announced=False,
            ),
            StatusRecheck(
                org_id=first.id,
                metric_ids=[revenue.id],
                first_ts=[t - hour],
                last_ts=[t + hour],
                inserted=[2],
                updated=[5],
                xids=[11],
                announced=False,
            ),
            StatusRecheck(
                org_id=first.id,
                metric_ids=[revenue.id, visits.id],
                first_ts=[t - 5 * hour, t],
                last_ts=[t - 4 * hour, t],
                inserted=[0, 0],
                updated=[0, 0],
                xids=[10, 12],
                announced=True,
            ),
            StatusRecheck(
                org_id=second.id,
                metric_ids=[churn.id],
                first_ts=[t],
                last_ts=[t],
                inserted=[1],
                updated=[0],
                announced=False,
            ),
        ]
    )
    await session.flush()

    # when one claim takes them all
    queued_since = {
        org.id: min(row.created_at for row in await queued(session, org)) for org in (first, second)
    }
    claimed = await claim(session, limit=10)

    # then per organization: the rows, the batches not announced yet with each metric they
    # wrote (in key order, from its earliest to its latest written point, counts summed),
    # and for the recheck every claimed metric's span and updated points, the announced
    # row's included, and the rows' transactions (unknown ones leave the updates unknown);
    # the queue is empty
    assert claimed == {
        first.id: Claimed(
            3,
            2,
            queued_since[first.id],
            [
                IngestedMetric(revenue.id, "revenue", t - hour, t + 2 * hour, 5, 6),
                IngestedMetric(signups.id, "signups", t + hour, t + hour, 1, 0),
            ],
            Written(
                {
                    revenue.id: (t - 5 * hour, t + 2 * hour),
                    signups.id: (t + hour, t + hour),
                    visits.id: (t, t),
                },
                {revenue.id: 5, signups.id: 1, visits.id: 0},
                {revenue.id: 6, signups.id: 0, visits.id: 0},
                [10, 11, 12],
            ),
        ),
        second.id: Claimed(
            1,
            1,
            queued_since[second.id],
            [IngestedMetric(churn.id, "churn", t, t, 1, 0)],
            Written({churn.id: (t, t)}, {churn.id: None}, {churn.id: None}, []),
        ),
    }
    assert await queued(session, first) == [] and await queued(session, second) == []

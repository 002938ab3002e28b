"""The metrics service: keys, the single North Star, archiving and the acyclic metric tree."""

import asyncio
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.errors import Conflict, CycleDetected, ErrorCode, Invalid, NotFound
from service.metrics import service
from service.metrics.schemas import MetricCreate, MetricEdgeCreate, MetricEdgeUpdate, MetricUpdate
from service.models import Event, MetricEdge
from tests.factories import create_metric, create_metric_edge, create_org
from tests.real_transactions import committed_org, wait_for_lock_waiters


async def event_types(session: AsyncSession, org_id: uuid.UUID) -> list[str]:
    result = await session.execute(
        select(Event.type).where(Event.org_id == org_id).order_by(Event.seq)
    )
    return list(result.scalars())


async def test_create_refuses_a_duplicate_key(session: AsyncSession) -> None:
    org = await create_org(session)
    await service.create_metric(session, org.id, MetricCreate(key="revenue", name="Revenue"))

    with pytest.raises(Conflict) as caught:
        await service.create_metric(session, org.id, MetricCreate(key="revenue", name="Again"))

    assert (caught.value.code, caught.value.field) == (ErrorCode.DUPLICATE, "key")


async def test_the_same_key_in_two_organizations_is_two_metrics(session: AsyncSession) -> None:
    first = await create_org(session)
    second = await create_org(session)

    a = await service.create_metric(session, first.id, MetricCreate(key="revenue", name="A"))
    b = await service.create_metric(session, second.id, MetricCreate(key="revenue", name="B"))

    assert a.id != b.id
    assert (await service.get_metric_by_key(session, second.id, "revenue")).name == "B"


async def test_moving_the_north_star_needs_unsetting_the_old_one_first(
    session: AsyncSession,
) -> None:
    # given
    org = await create_org(session)
    old = await create_metric(session, org, is_north_star=True)
    new = await create_metric(session, org)

    # when / then
    with pytest.raises(Conflict):
        await service.update_metric(session, org.id, new.id, MetricUpdate(is_north_star=True))
    await service.update_metric(session, org.id, old.id, MetricUpdate(is_north_star=False))
    await service.update_metric(session, org.id, new.id, MetricUpdate(is_north_star=True))
    assert (await service.get_north_star(session, org.id)) == new


async def test_update_changes_only_given_fields_and_refuses_null_for_required_ones(
    session: AsyncSession,
) -> None:
    org = await create_org(session)
    metric = await create_metric(
        session, org, name="Revenue", unit="EUR", observation_window_days=7
    )

    await service.update_metric(
        session, org.id, metric.id, MetricUpdate(unit="USD", observation_window_days=None)
    )
    with pytest.raises(Invalid) as caught:
        await service.update_metric(session, org.id, metric.id, MetricUpdate(name=None))

    assert (metric.name, metric.unit, metric.observation_window_days) == ("Revenue", "USD", None)
    assert caught.value.field == "name"


async def test_archive_keeps_the_metric_and_refuses_the_north_star(session: AsyncSession) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org)
    star = await create_metric(session, org, is_north_star=True)

    archived = await service.archive_metric(session, org.id, metric.id)
    with pytest.raises(Invalid) as caught:
        await service.archive_metric(session, org.id, star.id)
    restored = await service.restore_metric(session, org.id, metric.id)

    assert archived.id == metric.id
    assert restored.archived_at is None
    assert caught.value.code is ErrorCode.INVALID_STATE
    assert await event_types(session, org.id) == ["metric.archived", "metric.restored"]


async def test_another_organizations_metric_is_not_found(session: AsyncSession) -> None:
    org = await create_org(session)
    other = await create_org(session)
    theirs = await create_metric(session, other)

    with pytest.raises(NotFound):
        await service.get_metric(session, org.id, theirs.id)
    with pytest.raises(NotFound):
        await service.update_metric(session, org.id, theirs.id, MetricUpdate(name="x"))
    with pytest.raises(NotFound):
        await service.archive_metric(session, org.id, theirs.id)


async def test_edges_build_a_tree_and_emit_events(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    star = await create_metric(session, org)
    child = await create_metric(session, org)

    # when
    edge = await service.create_metric_edge(
        session,
        org.id,
        MetricEdgeCreate(
            child_metric_id=child.id, parent_metric_id=star.id, relation="component", weight=0
        ),
    )
    await service.update_metric_edge(session, org.id, edge.id, MetricEdgeUpdate(weight=2.5))
    listed = list(await session.scalars(select(MetricEdge).where(MetricEdge.org_id == org.id)))
    await service.delete_metric_edge(session, org.id, edge.id)

    # then
    assert [(e.child_metric_id, e.parent_metric_id, e.relation, e.weight) for e in listed] == [
        (child.id, star.id, "component", 2.5)
    ]
    assert await session.scalar(select(MetricEdge.id).where(MetricEdge.org_id == org.id)) is None
    assert await event_types(session, org.id) == [
        "metric_edge.created",
        "metric_edge.updated",
        "metric_edge.deleted",
    ]


async def test_an_edge_that_closes_a_cycle_is_refused(session: AsyncSession) -> None:
    # given a → b → c
    org = await create_org(session)
    a = await create_metric(session, org)
    b = await create_metric(session, org)
    c = await create_metric(session, org)
    await create_metric_edge(session, a, b)
    await create_metric_edge(session, b, c)

    # when / then: c → a closes a → b → c → a; a → a is a cycle of one
    with pytest.raises(CycleDetected):
        await service.create_metric_edge(
            session, org.id, MetricEdgeCreate(child_metric_id=c.id, parent_metric_id=a.id)
        )
    with pytest.raises(CycleDetected):
        await service.create_metric_edge(
            session, org.id, MetricEdgeCreate(child_metric_id=a.id, parent_metric_id=a.id)
        )
    # a shortcut a → c keeps it acyclic and is allowed; the same edge twice is not
    await service.create_metric_edge(
        session, org.id, MetricEdgeCreate(child_metric_id=a.id, parent_metric_id=c.id)
    )
    with pytest.raises(Conflict):
        await service.create_metric_edge(
            session, org.id, MetricEdgeCreate(child_metric_id=a.id, parent_metric_id=c.id)
        )
    edges = await session.execute(select(MetricEdge).where(MetricEdge.org_id == org.id))
    assert len(edges.scalars().all()) == 3


async def test_edges_to_another_organizations_metric_are_not_found(session: AsyncSession) -> None:
    org = await create_org(session)
    mine = await create_metric(session, org)
    theirs = await create_metric(session, await create_org(session))

    with pytest.raises(NotFound):
        await service.create_metric_edge(
            session, org.id, MetricEdgeCreate(child_metric_id=mine.id, parent_metric_id=theirs.id)
        )


def test_edge_weight_must_be_finite_and_not_negative() -> None:
    for weight in (-1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            MetricEdgeCreate(
                child_metric_id=uuid.uuid4(), parent_metric_id=uuid.uuid4(), weight=weight
            )


async def test_two_concurrent_edges_cannot_close_a_cycle_together(engine: AsyncEngine) -> None:
    # given two metrics, and a transaction that has added a → b but not committed yet
    async with committed_org(engine) as (sessions, org):
        async with sessions() as setup:
            a = await create_metric(setup, org)
            b = await create_metric(setup, org)
            await setup.commit()

        async def add_reverse_edge() -> str:
            async with sessions() as session:
                try:
                    await service.create_metric_edge(
                        session,
                        org.id,
                        MetricEdgeCreate(child_metric_id=b.id, parent_metric_id=a.id),
                    )
                except CycleDetected:
                    return "cycle"
                await session.commit()
                return "created"

        async with sessions() as first:
            await service.create_metric_edge(
                session=first,
                org_id=org.id,
                data=MetricEdgeCreate(child_metric_id=a.id, parent_metric_id=b.id),
            )
            # when b → a is attempted meanwhile: it waits for the organization's graph lock
            second = asyncio.create_task(add_reverse_edge())
            await wait_for_lock_waiters(engine, second)
            await first.commit()
        outcome = await second

        # then it saw a → b once it got the lock, and refused to close the cycle
        assert outcome == "cycle"
        async with sessions() as check:
            edges = await check.execute(select(MetricEdge).where(MetricEdge.org_id == org.id))
            assert [(e.child_metric_id, e.parent_metric_id) for e in edges.scalars()] == [
                (a.id, b.id)
            ]

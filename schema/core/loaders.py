"""Per-request dataloaders, one per relationship, named `XByYLoader`.

Each batches every key asked for in one tick into one `IN` query filtered by the caller's
organization, so a GraphQL request runs a number of statements that grows with the query's
depth, never with the number of rows.

The loaders of tables hand out records of the model's columns (named tuples, read by
attribute like the entity and typed as it), not ORM entities: a nested read loads a thousand
and more, and a record skips the identity map and the instance state. Nothing here writes.
"""

import asyncio
import functools
import uuid
from collections import defaultdict, namedtuple
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, inspect, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from strawberry.dataloader import DataLoader

from service.models import (
    Alignment,
    ApiKey,
    CheckIn,
    Commitment,
    CommitmentKeyResult,
    Cycle,
    Delivery,
    KeyResult,
    Metric,
    MetricEdge,
    Objective,
    ObjectiveMetric,
    Person,
    Team,
    TeamMember,
    WebhookEndpoint,
)
from service.rollups import repository as rollup_repository
from service.rollups import service as rollup_service
from service.rollups import types as rollup_types
from service.rollups.types import KeyResultProgress, KeyResultRollup, ObjectiveRollup

M = TypeVar("M")
K = TypeVar("K")
V = TypeVar("V")


class Database:
    """The request's session behind a lock: resolvers run concurrently, a session may not."""

    def __init__(self, session: AsyncSession, org_id: uuid.UUID) -> None:
        self.session = session
        self.org_id = org_id
        self.lock = asyncio.Lock()

    async def rows(self, statement: Select[Any], record: Callable[[Any], M]) -> list[M]:
        """The statement's rows, each made into `record(row)`."""
        async with self.lock:
            result = await self.session.execute(statement)
            return [record(row) for row in result]

    async def scalars(self, statement: Select[Any]) -> Sequence[Any]:
        async with self.lock:
            rows: Sequence[Any] = (await self.session.execute(statement)).scalars().all()
            return rows

    async def scalar(self, statement: Select[Any]) -> Any:
        async with self.lock:
            return (await self.session.execute(statement)).scalar_one()

    async def run(self, call: Callable[[AsyncSession], Awaitable[M]]) -> M:
        """Run a service function on the session, alone."""
        async with self.lock:
            return await call(self.session)


class SettledLoader(Generic[K, V]):
    """A loader that waits for the request to settle before loading, so every key asked for
    anywhere in the request lands in one batch.

    Strawberry's DataLoader dispatches on the next tick, so fields at different depths of a
    query (or siblings whose parents arrived in different batches) each pay one call.
    Roll-ups cost a fixed number of statements and a snapshot per call whatever the number
    of keys, so this loader holds its batch until the request's session is idle and the
    event loop has run `QUIET_TICKS` iterations without a new key: by then every resolver
    that could still ask has asked. Results are cached for the request, like DataLoader's.
    """

    QUIET_TICKS = 8

    def __init__(self, db: Database, load_fn: Callable[[list[K]], Awaitable[Sequence[V]]]) -> None:
        self._db = db
        self._load_fn = load_fn
        self._cache: dict[K, asyncio.Future[V]] = {}
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._task: asyncio.Task[None] | None = None

    def load(self, key: K) -> Awaitable[V]:
        future = self._cache.get(key)
        if future is not None:
            return future
        loop = asyncio.get_running_loop()
        future = self._cache[key] = self._pending[key] = loop.create_future()
        if self._task is None:
            self._task = loop.create_task(self._dispatch())
        return future

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        return list(await asyncio.gather(*map(self.load, keys)))

    def peek(self, key: K) -> tuple[bool, V | None]:
        """(True, value) when `key` is already loaded, else (False, None): lets a resolver
        answer synchronously from the request's cache instead of awaiting a future."""
        future = self._cache.get(key)
        if future is None or not future.done() or future.cancelled():
            return False, None
        if future.exception() is not None:
            return False, None
        return True, future.result()

    async def _settle(self) -> None:
        quiet = 0
        seen = len(self._pending)
        while quiet < self.QUIET_TICKS:
            if self._db.lock.locked():
                async with self._db.lock:  # wait for the statement in flight
                    pass
                quiet = 0
            else:
                await asyncio.sleep(0)
                quiet += 1
            if len(self._pending) != seen:
                seen, quiet = len(self._pending), 0

    async def _dispatch(self) -> None:
        await self._settle()
        batch, self._pending, self._task = self._pending, {}, None
        keys = list(batch)
        try:
            values = await self._load_fn(keys)
        except Exception as error:  # every waiter sees the failure, as with DataLoader
            for future in batch.values():
                if not future.done():
                    future.set_exception(error)
            for key in keys:
                self._cache.pop(key, None)
            return
        for key, value in zip(keys, values, strict=True):
            future = batch[key]
            if not future.done():
                future.set_result(value)


@functools.cache
def _columns(model: Any) -> tuple[InstrumentedAttribute[Any], ...]:
    """Every column of `model`, to select as a row read by attribute like the entity (built
    once per model: loaders are made for every request)."""
    return tuple(getattr(model, column.key) for column in inspect(model).mapper.column_attrs)


@functools.cache
def _record(model: Any, *leading: str) -> Callable[[Any], Any]:
    """Makes a selected row of `leading` labels then `model`'s columns into a named tuple.

    A SQLAlchemy `Row` read by attribute is far slower than a named tuple (its
    `__getattribute__` first asks the class, which raises and swallows an AttributeError):
    docs/decisions/0016-graphql-reads-through-record-loaders.md."""
    names = [*leading, *(column.key for column in _columns(model))]
    record: Any = namedtuple(f"{model.__name__}Record", names)  # type: ignore[misc]
    make: Callable[[Any], Any] = record._make
    return make


def _by_id(db: Database, model: Any) -> DataLoader[uuid.UUID, Any]:
    columns = _columns(model)
    record = _record(model)

    async def load(keys: list[uuid.UUID]) -> list[Any]:
        rows = await db.rows(
            select(*columns).where(model.org_id == db.org_id, model.id.in_(keys)), record
        )
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _many_by(
    db: Database,
    model: Any,
    column: InstrumentedAttribute[Any],
    *order: Any,
    where: Sequence[Any] = (),
) -> DataLoader[uuid.UUID, list[Any]]:
    columns = _columns(model)
    record = _record(model)

    async def load(keys: list[uuid.UUID]) -> list[list[Any]]:
        rows = await db.rows(
            select(*columns)
            .where(model.org_id == db.org_id, column.in_(keys), *where)
            .order_by(*order),
            record,
        )
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, column.key)].append(row)
        return [grouped.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def _linked_by(
    db: Database,
    target: Any,
    link: Any,
    link_from: InstrumentedAttribute[uuid.UUID],
    link_to: InstrumentedAttribute[uuid.UUID],
    *order: Any,
) -> DataLoader[uuid.UUID, list[Any]]:
    """Rows of `target` reached through the many-to-many table `link`."""

    columns = _columns(target)
    record = _record(target, "link_key")

    async def load(keys: list[uuid.UUID]) -> list[list[Any]]:
        rows = await db.rows(
            select(link_from.label("link_key"), *columns)
            .join(target, (target.org_id == link.org_id) & (target.id == link_to))
            .where(link.org_id == db.org_id, link_from.in_(keys))
            .order_by(*order),
            record,
        )
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row.link_key].append(row)
        return [grouped.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


_ALIGNMENT_COLUMNS = len(_columns(Alignment))


def _alignment_and_objective(row: Any) -> tuple[Any, Any]:
    """A row of the alignment's columns then the objective's, as two records."""
    return (
        _record(Alignment)(row[:_ALIGNMENT_COLUMNS]),
        _record(Objective)(row[_ALIGNMENT_COLUMNS:]),
    )


def _alignments_by(
    db: Database, key: InstrumentedAttribute[uuid.UUID], other: InstrumentedAttribute[uuid.UUID]
) -> DataLoader[uuid.UUID, list[tuple[Alignment, Objective]]]:
    """Alignments by the objective at one end (`key`), oldest first, each with the objective
    at its other end (`other`) read by the same statement: a tree of objectives costs one
    statement per level."""

    # The objective by its key, one index lookup per alignment (LIMIT 1 keeps the lateral a
    # lookup): joined plainly, the planner hashed every objective of the organization
    # (decision record 0016).
    other_objective = (
        select(*_columns(Objective))
        .where(Objective.org_id == Alignment.org_id, Objective.id == other)
        .limit(1)
        .lateral("objective")
    )

    async def load(keys: list[uuid.UUID]) -> list[list[tuple[Alignment, Objective]]]:
        rows = await db.rows(
            select(*_columns(Alignment), *other_objective.c)
            .select_from(Alignment)
            .join(other_objective, true())
            .where(Alignment.org_id == db.org_id, key.in_(keys))
            .order_by(Alignment.created_at),
            _alignment_and_objective,
        )
        grouped: dict[uuid.UUID, list[tuple[Alignment, Objective]]] = defaultdict(list)
        for alignment, objective in rows:
            grouped[getattr(alignment, key.key)].append((alignment, objective))
        return [grouped.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def _check_ins_newest_first(db: Database) -> DataLoader[tuple[uuid.UUID, int], list[CheckIn]]:
    """Key (key result id, how many): the newest check-ins of each key result."""

    async def load(keys: list[tuple[uuid.UUID, int]]) -> list[list[CheckIn]]:
        limit = max(count for _, count in keys)
        rank = (
            func.row_number()
            .over(
                partition_by=CheckIn.key_result_id,
                order_by=(
                    CheckIn.observed_at.desc(),
                    CheckIn.recorded_at.desc(),
                    CheckIn.id.desc(),
                ),
            )
            .label("rank")
        )
        ranked = (
            select(CheckIn, rank)
            .where(
                CheckIn.org_id == db.org_id,
                CheckIn.key_result_id.in_({key for key, _ in keys}),
            )
            .subquery()
        )
        check_in = aliased(CheckIn, ranked)
        rows = await db.rows(
            select(*(getattr(check_in, column.key) for column in _columns(CheckIn)))
            .where(ranked.c.rank <= limit)
            .order_by(ranked.c.key_result_id, ranked.c.rank),
            _record(CheckIn),
        )
        grouped: dict[uuid.UUID, list[CheckIn]] = defaultdict(list)
        for row in rows:
            grouped[row.key_result_id].append(row)
        return [grouped.get(key, [])[:count] for key, count in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Every relationship of the graph, loaded in batches for one request. Each loader is
    made on first use: a request uses a few, and making all 35 with their SQL expressions
    for every request cost CPU on every GraphQL request (decision record 0016)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @functools.cached_property
    def person_by_id(self) -> DataLoader[uuid.UUID, Person | None]:
        return _by_id(self._db, Person)

    @functools.cached_property
    def team_by_id(self) -> DataLoader[uuid.UUID, Team | None]:
        return _by_id(self._db, Team)

    @functools.cached_property
    def cycle_by_id(self) -> DataLoader[uuid.UUID, Cycle | None]:
        return _by_id(self._db, Cycle)

    @functools.cached_property
    def metric_by_id(self) -> DataLoader[uuid.UUID, Metric | None]:
        return _by_id(self._db, Metric)

    @functools.cached_property
    def metric_edge_by_id(self) -> DataLoader[uuid.UUID, MetricEdge | None]:
        return _by_id(self._db, MetricEdge)

    @functools.cached_property
    def objective_by_id(self) -> DataLoader[uuid.UUID, Objective | None]:
        return _by_id(self._db, Objective)

    @functools.cached_property
    def key_result_by_id(self) -> DataLoader[uuid.UUID, KeyResult | None]:
        return _by_id(self._db, KeyResult)

    @functools.cached_property
    def check_in_by_id(self) -> DataLoader[uuid.UUID, CheckIn | None]:
        return _by_id(self._db, CheckIn)

    @functools.cached_property
    def commitment_by_id(self) -> DataLoader[uuid.UUID, Commitment | None]:
        return _by_id(self._db, Commitment)

    @functools.cached_property
    def api_key_by_id(self) -> DataLoader[uuid.UUID, ApiKey | None]:
        return _by_id(self._db, ApiKey)

    @functools.cached_property
    def webhook_endpoint_by_id(self) -> DataLoader[uuid.UUID, WebhookEndpoint | None]:
        return _by_id(self._db, WebhookEndpoint)

    @functools.cached_property
    def delivery_by_id(self) -> DataLoader[uuid.UUID, Delivery | None]:
        return _by_id(self._db, Delivery)

    @functools.cached_property
    def teams_by_parent_team(self) -> DataLoader[uuid.UUID, list[Team]]:
        return _many_by(self._db, Team, Team.parent_team_id, Team.name, Team.id)

    @functools.cached_property
    def members_by_team(self) -> DataLoader[uuid.UUID, list[Person]]:
        return _linked_by(
            self._db, Person, TeamMember, TeamMember.team_id, TeamMember.person_id, Person.name
        )

    @functools.cached_property
    def teams_by_person(self) -> DataLoader[uuid.UUID, list[Team]]:
        return _linked_by(
            self._db, Team, TeamMember, TeamMember.person_id, TeamMember.team_id, Team.name
        )

    @functools.cached_property
    def cycles_by_parent_cycle(self) -> DataLoader[uuid.UUID, list[Cycle]]:
        return _many_by(self._db, Cycle, Cycle.parent_cycle_id, Cycle.starts_on, Cycle.id)

    @functools.cached_property
    def driver_edges_by_metric(self) -> DataLoader[uuid.UUID, list[MetricEdge]]:
        return _many_by(
            self._db, MetricEdge, MetricEdge.parent_metric_id, MetricEdge.created_at, MetricEdge.id
        )

    @functools.cached_property
    def parent_edges_by_metric(self) -> DataLoader[uuid.UUID, list[MetricEdge]]:
        return _many_by(
            self._db, MetricEdge, MetricEdge.child_metric_id, MetricEdge.created_at, MetricEdge.id
        )

    @functools.cached_property
    def metrics_by_objective(self) -> DataLoader[uuid.UUID, list[Metric]]:
        return _linked_by(
            self._db,
            Metric,
            ObjectiveMetric,
            ObjectiveMetric.objective_id,
            ObjectiveMetric.metric_id,
            Metric.key,
        )

    @functools.cached_property
    def objectives_by_metric(self) -> DataLoader[uuid.UUID, list[Objective]]:
        return _linked_by(
            self._db,
            Objective,
            ObjectiveMetric,
            ObjectiveMetric.metric_id,
            ObjectiveMetric.objective_id,
            Objective.created_at,
        )

    @functools.cached_property
    def parent_alignments_by_objective(
        self,
    ) -> DataLoader[uuid.UUID, list[tuple[Alignment, Objective]]]:
        return _alignments_by(self._db, Alignment.child_objective_id, Alignment.parent_objective_id)

    @functools.cached_property
    def child_alignments_by_objective(
        self,
    ) -> DataLoader[uuid.UUID, list[tuple[Alignment, Objective]]]:
        return _alignments_by(self._db, Alignment.parent_objective_id, Alignment.child_objective_id)

    @functools.cached_property
    def key_results_by_objective(self) -> DataLoader[uuid.UUID, list[KeyResult]]:
        return _many_by(
            self._db, KeyResult, KeyResult.objective_id, KeyResult.created_at, KeyResult.id
        )

    @functools.cached_property
    def key_results_by_metric(self) -> DataLoader[uuid.UUID, list[KeyResult]]:
        return _many_by(
            self._db, KeyResult, KeyResult.metric_id, KeyResult.created_at, KeyResult.id
        )

    @functools.cached_property
    def check_ins_by_key_result(self) -> DataLoader[tuple[uuid.UUID, int], list[CheckIn]]:
        return _check_ins_newest_first(self._db)

    @functools.cached_property
    def commitments_by_key_result(self) -> DataLoader[uuid.UUID, list[Commitment]]:
        return _linked_by(
            self._db,
            Commitment,
            CommitmentKeyResult,
            CommitmentKeyResult.key_result_id,
            CommitmentKeyResult.commitment_id,
            Commitment.due_on,
        )

    @functools.cached_property
    def key_results_by_commitment(self) -> DataLoader[uuid.UUID, list[KeyResult]]:
        return _linked_by(
            self._db,
            KeyResult,
            CommitmentKeyResult,
            CommitmentKeyResult.commitment_id,
            CommitmentKeyResult.key_result_id,
            KeyResult.created_at,
        )

    @functools.cached_property
    def commitments_by_owner(self) -> DataLoader[uuid.UUID, list[Commitment]]:
        return _many_by(
            self._db, Commitment, Commitment.owner_person_id, Commitment.due_on, Commitment.id
        )

    @functools.cached_property
    def objectives_by_owner_team(self) -> DataLoader[uuid.UUID, list[Objective]]:
        return _many_by(
            self._db,
            Objective,
            Objective.owner_team_id,
            Objective.created_at,
            Objective.id,
            where=[Objective.state != "archived"],
        )

    @functools.cached_property
    def objectives_by_owner_person(self) -> DataLoader[uuid.UUID, list[Objective]]:
        return _many_by(
            self._db,
            Objective,
            Objective.owner_person_id,
            Objective.created_at,
            Objective.id,
            where=[Objective.state != "archived"],
        )

    @functools.cached_property
    def objectives_by_cycle(self) -> DataLoader[uuid.UUID, list[Objective]]:
        return _many_by(
            self._db,
            Objective,
            Objective.cycle_id,
            Objective.created_at,
            Objective.id,
            where=[Objective.state != "archived"],
        )

    @functools.cached_property
    def key_result_rollup_by_id(
        self,
    ) -> SettledLoader[tuple[uuid.UUID, datetime], KeyResultRollup | None]:

        return key_result_rollup_loader(self._db)

    @functools.cached_property
    def key_result_progress_by_id(
        self,
    ) -> SettledLoader[tuple[uuid.UUID, datetime], KeyResultProgress | None]:

        return key_result_progress_loader(self._db)

    @functools.cached_property
    def objective_rollup_by_id(
        self,
    ) -> SettledLoader[tuple[uuid.UUID, datetime], ObjectiveRollup | None]:

        return objective_rollup_loader(self._db)

    @functools.cached_property
    def metric_window_value(self) -> DataLoader[tuple[uuid.UUID, datetime, datetime], float | None]:

        return metric_window_value_loader(self._db)


RollupKey = tuple[uuid.UUID, datetime]
WindowKey = tuple[uuid.UUID, datetime, datetime]


def key_result_rollup_loader(
    db: Database,
) -> SettledLoader[RollupKey, rollup_types.KeyResultRollup | None]:
    async def load(keys: list[RollupKey]) -> list[rollup_types.KeyResultRollup | None]:
        return await _batched(db, keys, rollup_service.key_result_rollups)

    return SettledLoader(db, load)


def key_result_progress_loader(
    db: Database,
) -> SettledLoader[RollupKey, rollup_types.KeyResultProgress | None]:
    async def load(keys: list[RollupKey]) -> list[rollup_types.KeyResultProgress | None]:
        return await _batched(db, keys, rollup_service.key_result_progresses)

    return SettledLoader(db, load)


def objective_rollup_loader(
    db: Database,
) -> SettledLoader[RollupKey, rollup_types.ObjectiveRollup | None]:
    async def load(keys: list[RollupKey]) -> list[rollup_types.ObjectiveRollup | None]:
        return await _batched(db, keys, rollup_service.objective_rollups)

    return SettledLoader(db, load)


def metric_window_value_loader(db: Database) -> DataLoader[WindowKey, float | None]:
    """Key (metric id, start, end): the metric's aggregate over [start, end), every window
    asked for in one tick read by one statement."""

    async def load(keys: list[WindowKey]) -> list[float | None]:
        async def call(session: AsyncSession) -> dict[WindowKey, float | None]:
            return await rollup_repository.window_values(session, db.org_id, keys)

        values = await db.run(call)
        return [values.get(key) for key in keys]

    return DataLoader(load_fn=load)


async def _batched(db: Database, keys: list[RollupKey], batch: Any) -> list[Any]:
    """One engine call per distinct instant among `keys`."""
    by_instant: dict[datetime, list[uuid.UUID]] = defaultdict(list)
    for id, as_of in keys:
        by_instant[as_of].append(id)
    found: dict[RollupKey, Any] = {}
    org_id = db.org_id
    for as_of, ids in by_instant.items():

        async def call(
            session: AsyncSession, ids: list[uuid.UUID] = ids, as_of: datetime = as_of
        ) -> Any:
            return await batch(session, org_id, ids, as_of=as_of)

        results = await db.run(call)
        for id, result in results.items():
            found[(id, as_of)] = result
    return [found.get(key) for key in keys]


def create_loaders(db: Database) -> Loaders:
    return Loaders(db)

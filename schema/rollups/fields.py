"""The one place roll-up fields are computed: every roll-up field of the schema calls here.

Everything is delegated to the roll-up engine (service/rollups). Objective and key-result
roll-ups go through per-request dataloaders keyed by (id, asOf) that call the engine's
batch functions, so a page of objectives asking for `progress`, `status` and `breakdown`
costs one engine call per distinct `asOf`, not one per object and field. A missing `asOf`
means the instant the request started, the same for every field of the request.

Key results' number fields (value, attainment, progress, status, expected progress) use
the engine's lighter `key_result_progresses` (no confidence, no delivery); `delivery` and
`rollup(id:)` use the full `key_result_rollups`. A list of key results
(`Objective.keyResults`) prefetches the numbers its selection asks for before it returns,
so those fields answer synchronously instead of awaiting one future each.
"""

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.enum_values import raw
from schema.core.errors import ApiError, ErrorCodes
from schema.core.framework import SelectedField
from schema.core.relay import to_global_id
from schema.rollups.types import (
    AlignmentPath,
    BandCount,
    BreakdownItem,
    Delivery,
    Interval,
    MetricComponents,
    MetricValue,
    Rollup,
    RollupHistoryPoint,
    ScoreBand,
    SeriesPoint,
    Status,
    StatusCount,
    Window,
    WindowInput,
)
from service.errors import Invalid, NotFound
from service.rollups import metrics as metric_rollups
from service.rollups import paths
from service.rollups import service as rollups
from service.rollups import types as rollup

NODE_TYPE_NAMES = {
    rollup.NodeKind.commitment: "Commitment",
    rollup.NodeKind.key_result: "KeyResult",
    rollup.NodeKind.objective: "Objective",
    rollup.NodeKind.metric: "Metric",
}


def _instant(info: Info[Any, Any], as_of: datetime | None) -> datetime:
    if as_of is None:
        return info.context.now  # type: ignore[no-any-return]
    if as_of.tzinfo is None:
        raise ApiError("asOf needs a time zone (e.g. `Z`)", ErrorCodes.BAD_USER_INPUT)
    return as_of


async def key_result_rollup(
    info: Info[Any, Any], id: uuid.UUID, as_of: datetime | None
) -> rollup.KeyResultRollup | None:
    loader = info.context.loaders.key_result_rollup_by_id
    result: rollup.KeyResultRollup | None = await loader.load((id, _instant(info, as_of)))
    return result


T = TypeVar("T")


def key_result_number(
    info: Info[Any, Any],
    id: uuid.UUID,
    as_of: datetime | None,
    pick: Callable[[rollup.KeyResultProgress], T],
) -> T | Awaitable[T | None] | None:
    """One number of a key result's progress roll-up (value, attainment, progress, status,
    expected progress). Answered synchronously when the request already holds it (see
    `prefetch_key_results`), so a list of key results does not await one future per field
    per key result; otherwise an awaitable through the request's batching loader."""
    loader = info.context.loaders.key_result_progress_by_id
    key = (id, _instant(info, as_of))
    found, result = loader.peek(key)
    if found:
        return None if result is None else pick(result)
    return _picked(loader.load(key), pick)


async def _picked(
    pending: Awaitable[rollup.KeyResultProgress | None],
    pick: Callable[[rollup.KeyResultProgress], T],
) -> T | None:
    result = await pending
    return None if result is None else pick(result)


# The fields of `KeyResult` served by `key_result_number`, by GraphQL name.
KEY_RESULT_NUMBER_FIELDS = frozenset(
    {"currentValue", "attainment", "progress", "status", "expectedProgress"}
)


def _requested_instants(info: Info[Any, Any], fields: frozenset[str]) -> set[datetime]:
    """The instants (`asOf`, default the request's instant) at which the objects being
    resolved are asked for any of `fields`. An `asOf` that cannot be read here is left out:
    that field then loads on its own (and reports its own error).

    The answer depends only on the operation, its variables and where the field sits in it
    (response keys and runtime types from the root), so it is worked out once per place: a
    nested read asks it from hundreds of key-result lists at the same place."""
    place: list[Any] = [fields]
    path: Any = info.path
    while path is not None:
        if isinstance(path.key, str):
            place.append((path.key, path.typename))
        path = path.prev
    key = (id(info.operation), id(info.variable_values), tuple(place))
    cache = info.context.requested_instants
    found = cache.get(key)
    # An entry keeps its operation and variables alive, so their ids are not reused while it
    # is there: a hit is the same operation and variables.
    if found is not None:
        known: set[datetime] = found[2]
        return known
    instants = _instants_in_selection(info, fields)
    cache[key] = (info.operation, info.variable_values, instants)
    return instants


def _instants_in_selection(info: Info[Any, Any], fields: frozenset[str]) -> set[datetime]:
    instants: set[datetime] = set()
    stack: list[Any] = []
    for field in info.selected_fields:
        stack.extend(field.selections)
    while stack:
        selection = stack.pop()
        if not isinstance(selection, SelectedField):  # a fragment: look inside
            stack.extend(selection.selections)
            continue
        if selection.name not in fields:
            continue
        as_of = selection.arguments.get("asOf")
        if isinstance(as_of, str):
            try:
                as_of = datetime.fromisoformat(as_of)
            except ValueError:
                continue
        if as_of is None:
            instants.add(info.context.now)
        elif isinstance(as_of, datetime) and as_of.tzinfo is not None:
            instants.add(as_of)
    return instants


async def prefetch_key_results(info: Info[Any, Any], ids: Sequence[uuid.UUID]) -> None:
    """Load the progress roll-ups of the key results a list field returns, for every
    instant its selection asks for, before the list is returned: their number fields then
    answer synchronously (one batch for every list of the request, as before)."""
    if not ids:
        return
    instants = _requested_instants(info, KEY_RESULT_NUMBER_FIELDS)
    if not instants:
        return
    loader = info.context.loaders.key_result_progress_by_id
    # Awaited in turn rather than gathered: they settle together (one batch of the settled
    # loader), and awaiting a settled future neither waits nor adds a callback.
    for pending in [loader.load((id, instant)) for instant in instants for id in ids]:
        # A failure is left to the fields: they load again and report it themselves.
        with contextlib.suppress(Exception):
            await pending


async def objective_rollup(
    info: Info[Any, Any], id: uuid.UUID, as_of: datetime | None
) -> rollup.ObjectiveRollup | None:
    loader = info.context.loaders.objective_rollup_by_id
    result: rollup.ObjectiveRollup | None = await loader.load((id, _instant(info, as_of)))
    return result


def _dimensions(dimensions: Any) -> dict[str, str] | None:
    if dimensions is None:
        return None
    if not isinstance(dimensions, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in dimensions.items()
    ):
        raise Invalid("dimensions must be an object of strings", field="dimensions")
    return dimensions


async def metric_value(
    info: Info[Any, Any],
    id: uuid.UUID,
    direction: str,
    observation_window_days: int | None,
    window: WindowInput | None,
    dimensions: Any,
    as_of: datetime | None,
) -> MetricValue | None:
    """A metric's value over a window and the window before. Without dimensions, through the
    request's window loader: a tree of metrics costs one statement per level, not per metric.
    """
    ctx = info.context
    dims = _dimensions(dimensions)
    if dims is not None:
        return await _metric_value_with_dimensions(info, id, window, dims)
    if window is not None:
        bounds = rollup.Window(window.start, window.end)
        if bounds.start.tzinfo is None or bounds.end.tzinfo is None:
            raise Invalid("window bounds need a time zone", field="window")
        if bounds.end <= bounds.start:
            raise Invalid("a window must end after it starts", field="window")
    else:
        instant = _instant(info, as_of)
        length = (
            timedelta(days=observation_window_days)
            if observation_window_days
            else metric_rollups.DEFAULT_OBSERVATION_WINDOW
        )
        bounds = rollup.Window(instant - length, instant)
    previous = metric_rollups.previous_window(bounds)
    value, previous_value = await ctx.loaders.metric_window_value.load_many(
        [(id, bounds.start, bounds.end), (id, previous.start, previous.end)]
    )
    change = None if value is None or previous_value is None else value - previous_value
    return MetricValue(
        window=Window(start=bounds.start, end=bounds.end),
        value=value,
        previous_window=Window(start=previous.start, end=previous.end),
        previous_value=previous_value,
        change=change,
        improving=metric_rollups.improving(direction, change),
    )


async def _metric_value_with_dimensions(
    info: Info[Any, Any], id: uuid.UUID, window: WindowInput | None, dims: dict[str, str]
) -> MetricValue | None:
    ctx = info.context
    org_id = ctx.principal.org_id
    if window is None:
        raise Invalid("dimensions need an explicit window", field="dimensions")

    async def call(session: AsyncSession) -> rollup.MetricValue:
        return await metric_rollups.metric_value(
            session, org_id, id, rollup.Window(window.start, window.end), dimensions=dims
        )

    try:
        return MetricValue.from_result(await ctx.db.run(call))
    except NotFound:
        return None


async def metric_series(
    info: Info[Any, Any],
    id: uuid.UUID,
    start: datetime,
    end: datetime,
    interval: Interval,
    dimensions: Any,
) -> list[SeriesPoint]:
    ctx = info.context
    org_id = ctx.principal.org_id
    dims = _dimensions(dimensions)

    async def call(session: AsyncSession) -> list[rollup.SeriesPoint]:
        return await metric_rollups.metric_series(
            session,
            org_id,
            id,
            rollup.Window(start, end),
            rollup.Interval(raw(interval)),
            dimensions=dims,
        )

    try:
        points = await ctx.db.run(call)
    except NotFound:
        return []
    return [SeriesPoint(bucket_start=point.bucket_start, value=point.value) for point in points]


async def aligned_to_north_star(info: Info[Any, Any], type_name: str, id: uuid.UUID) -> bool:
    ctx = info.context
    org_id = ctx.principal.org_id

    async def call(session: AsyncSession) -> bool:
        return await paths.aligned_to_north_star(session, org_id, id)

    try:
        return bool(await ctx.db.run(call))
    except NotFound:
        return False


async def alignment_paths(
    info: Info[Any, Any], type_name: str, id: uuid.UUID
) -> list[AlignmentPath]:
    ctx = info.context
    org_id = ctx.principal.org_id

    async def call(session: AsyncSession) -> list[rollup.AlignmentPath]:
        return await paths.alignment_paths(session, org_id, id)

    if type_name not in NODE_TYPE_NAMES.values():
        return []
    try:
        found = await ctx.db.run(call)
    except NotFound:
        return []
    return [
        AlignmentPath(
            node_ids=[to_global_id(NODE_TYPE_NAMES[node.kind], node.id) for node in path.nodes]
        )
        for path in found
    ]


def _counts(values: dict[rollup.Status, int]) -> list[StatusCount]:
    return [StatusCount(status=Status(key.value), count=count) for key, count in values.items()]


def _bands(values: dict[rollup.ScoreBand, int]) -> list[BandCount]:
    return [BandCount(band=ScoreBand(key.value), count=count) for key, count in values.items()]


def _rollup_from(subject: str, result: Any) -> Rollup:
    """The GraphQL shape of any of the engine's key-result, objective, team or cycle roll-ups."""
    is_cycle = isinstance(result, rollup.CycleRollup)
    breakdown = getattr(result, "breakdown", ())
    return Rollup(
        subject_id=strawberry.ID(subject),
        as_of=result.as_of,
        progress=result.progress,
        status=Status(result.status.value),
        expected_progress=result.expected_progress,
        breakdown=[BreakdownItem.from_result(item) for item in breakdown],
        delivery=Delivery.from_result(result.delivery),
        objectives_by_status=_counts(result.objectives_by_status) if is_cycle else [],
        key_results_by_status=_counts(result.key_results_by_status) if is_cycle else [],
        objectives_by_band=_bands(result.objectives_by_band) if is_cycle else [],
        key_results_by_band=_bands(result.key_results_by_band) if is_cycle else [],
    )


ROLLUP_TYPES = ("Objective", "KeyResult", "Team", "Cycle")


def _check_team_cycle(type_name: str, cycle_id: uuid.UUID | None) -> None:
    if type_name == "Team" and cycle_id is None:
        raise ApiError("a team's roll-up needs a `cycle`", ErrorCodes.BAD_USER_INPUT)


async def rollup_of(
    info: Info[Any, Any],
    type_name: str,
    id: uuid.UUID,
    as_of: datetime | None,
    *,
    cycle_id: uuid.UUID | None = None,
    include_subteams: bool = False,
) -> Rollup | None:
    """`rollup(id:)`: an objective, key result, team (in a cycle) or cycle; null if unknown."""
    if type_name not in ROLLUP_TYPES:
        return None
    _check_team_cycle(type_name, cycle_id)
    ctx = info.context
    org_id = ctx.principal.org_id
    instant = _instant(info, as_of)
    result: Any
    if type_name == "KeyResult":
        result = await key_result_rollup(info, id, instant)
    elif type_name == "Objective":
        result = await objective_rollup(info, id, instant)
    else:

        async def call(session: AsyncSession) -> Any:
            if type_name == "Team":
                assert cycle_id is not None
                return await rollups.team_rollup(
                    session, org_id, id, cycle_id, include_subteams=include_subteams, as_of=instant
                )
            return await rollups.cycle_rollup(session, org_id, id, as_of=instant)

        try:
            result = await ctx.db.run(call)
        except NotFound:
            result = None
    return None if result is None else _rollup_from(to_global_id(type_name, id), result)


async def rollup_history(
    info: Info[Any, Any],
    type_name: str,
    id: uuid.UUID,
    start: datetime,
    end: datetime,
    interval: Interval,
    *,
    cycle_id: uuid.UUID | None = None,
    include_subteams: bool = False,
) -> list[RollupHistoryPoint]:
    """The roll-up as of the end of each bucket of [start, end]; empty if the ID is unknown."""
    if type_name not in ROLLUP_TYPES:
        return []
    _check_team_cycle(type_name, cycle_id)
    org_id = info.context.principal.org_id
    bucket = rollup.Interval(raw(interval))

    async def call(session: AsyncSession) -> list[Any]:
        if type_name == "KeyResult":
            return await rollups.key_result_history(
                session, org_id, id, start=start, end=end, interval=bucket
            )
        if type_name == "Objective":
            return await rollups.objective_history(
                session, org_id, id, start=start, end=end, interval=bucket
            )
        if type_name == "Team":
            assert cycle_id is not None
            return await rollups.team_history(
                session,
                org_id,
                id,
                cycle_id,
                include_subteams=include_subteams,
                start=start,
                end=end,
                interval=bucket,
            )
        return await rollups.cycle_history(
            session, org_id, id, start=start, end=end, interval=bucket
        )

    try:
        points = await info.context.db.run(call)
    except NotFound:
        return []
    subject = to_global_id(type_name, id)
    return [
        RollupHistoryPoint(
            bucket_start=point.bucket_start, rollup=_rollup_from(subject, point.rollup)
        )
        for point in points
    ]


async def metric_components(
    info: Info[Any, Any], id: uuid.UUID, window: WindowInput | None, as_of: datetime | None
) -> MetricComponents | None:
    """Components of a metric over a window (default: its observation window as of asOf)."""
    ctx = info.context
    org_id = ctx.principal.org_id
    instant = _instant(info, as_of)

    async def call(session: AsyncSession) -> rollup.MetricComponents:
        if window is not None:
            bounds = rollup.Window(window.start, window.end)
        else:
            bounds = (
                await metric_rollups.metric_rollup(session, org_id, id, as_of=instant)
            ).value.window
        return await metric_rollups.metric_components(session, org_id, id, bounds)

    try:
        return MetricComponents.from_result(await ctx.db.run(call))
    except NotFound:
        return None


def status_filter(
    info: Info[Any, Any],
    type_name: str,
    statuses: Sequence[Status] | None,
    as_of: datetime | None,
) -> Callable[[list[uuid.UUID]], Awaitable[list[uuid.UUID]]] | None:
    """A list's `status` filter as the ids to keep among its candidates; None without one."""
    if not statuses:
        return None
    wanted = list(statuses)

    async def keep(ids: list[uuid.UUID]) -> list[uuid.UUID]:
        return await with_status(info, type_name, ids, wanted, as_of)

    return keep


async def with_status(
    info: Info[Any, Any],
    type_name: str,
    ids: Sequence[uuid.UUID],
    statuses: Sequence[Status],
    as_of: datetime | None,
) -> list[uuid.UUID]:
    """The objectives or key results among `ids` whose status (as of an instant) is wanted.

    One batched engine call over all candidates; the results stay in the request's loader,
    so the `status` fields of the page that follows cost nothing more.
    """
    instant = _instant(info, as_of)
    loaders = info.context.loaders
    loader: Any = (
        loaders.objective_rollup_by_id
        if type_name == "Objective"
        else loaders.key_result_progress_by_id
    )
    results = await loader.load_many([(id, instant) for id in ids])
    wanted = {raw(status) for status in statuses}
    return [
        id
        for id, result in zip(ids, results, strict=True)
        if result is not None and result.status.value in wanted
    ]

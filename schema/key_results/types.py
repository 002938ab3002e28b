import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import member_of
from schema.core.relay import Node
from schema.metrics.types import Metric
from schema.people.types import Person
from schema.rollups import fields as rollup_fields
from schema.rollups.types import Delivery, Status, status
from service.models import CheckIn as CheckInModel
from service.models import KeyResult as KeyResultModel
from service.rollups.types import KeyResultProgress

if TYPE_CHECKING:
    from schema.commitments.types import Commitment
    from schema.objectives.types import Objective


@strawberry.enum(description="Where a key result's current value comes from.")
class Measure(Enum):
    METRIC = strawberry.enum_value("metric", description="Aggregate of a metric over the cycle.")
    MANUAL = strawberry.enum_value("manual", description="Value of the latest check-in.")
    MILESTONE = strawberry.enum_value("milestone", description="Done or not.")


@strawberry.enum(description="What reaching the target means.")
class KeyResultDirection(Enum):
    INCREASE = strawberry.enum_value("increase", description="Go up from start to target.")
    DECREASE = strawberry.enum_value("decrease", description="Go down from start to target.")
    AT_LEAST = strawberry.enum_value("at_least", description="Stay at or above the target.")
    AT_MOST = strawberry.enum_value("at_most", description="Stay at or below the target.")


@strawberry.enum(description="Lifecycle state of a key result.")
class KeyResultState(Enum):
    ACTIVE = strawberry.enum_value("active", description="Counted in roll-ups.")
    ARCHIVED = strawberry.enum_value("archived", description="Put away; ignored by roll-ups.")


@strawberry.enum(description="Which interface recorded a check-in.")
class CheckInSource(Enum):
    GRAPHQL = strawberry.enum_value("graphql", description="The GraphQL API.")
    API = strawberry.enum_value("api", description="The REST API.")


_measure = member_of(Measure)
_direction = member_of(KeyResultDirection)
_state = member_of(KeyResultState)


# `asOf` named explicitly: Strawberry then skips converting the Python name on every call
# (a thousand key results ask it a thousand times per request).
AsOf = Annotated[datetime | None, strawberry.argument(name="asOf")]


def _current_value(result: KeyResultProgress) -> float | None:
    return result.current_value


def _attainment(result: KeyResultProgress) -> float | None:
    return result.attainment


def _progress(result: KeyResultProgress) -> float:
    return result.progress


def _status(result: KeyResultProgress) -> Status | None:
    return status(result.status)


def _expected_progress(result: KeyResultProgress) -> float:
    return result.expected_progress


@strawberry.type(description="A measurable outcome of an objective.")
class KeyResult(Node):
    title: str = strawberry.field(description="What is measured.")
    measure: Measure = strawberry.field(description="Where the current value comes from.")
    direction: KeyResultDirection = strawberry.field(description="What reaching the target means.")
    start_value: float | None = strawberry.field(description="Value at the start.")
    target_value: float | None = strawberry.field(description="Value to reach.")
    unit: str = strawberry.field(description="Unit of the values.")
    weight: float = strawberry.field(description="Weight in the objective's progress.")
    state: KeyResultState = strawberry.field(description="Lifecycle state.")
    created_at: datetime = strawberry.field(description="When the key result was created.")
    updated_at: datetime = strawberry.field(description="When the key result last changed.")
    objective_id: strawberry.Private[uuid.UUID]
    owner_person_id: strawberry.Private[uuid.UUID | None]
    metric_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, model: KeyResultModel) -> "KeyResult":
        return cls(
            uuid_=model.id,
            title=model.title,
            measure=_measure(model.measure),
            direction=_direction(model.direction),
            start_value=model.start_value,
            target_value=model.target_value,
            unit=model.unit,
            weight=model.weight,
            state=_state(model.state),
            created_at=model.created_at,
            updated_at=model.updated_at,
            objective_id=model.objective_id,
            owner_person_id=model.owner_person_id,
            metric_id=model.metric_id,
        )

    @strawberry.field(description="The objective this key result measures.")
    async def objective(
        self, info: Info[Context, None]
    ) -> Annotated["Objective", strawberry.lazy("schema.objectives.types")] | None:
        from schema.objectives.types import Objective

        model = await info.context.loaders.objective_by_id.load(self.objective_id)
        return Objective.from_model(model) if model else None

    @strawberry.field(description="The person who owns the key result.")
    async def owner(self, info: Info[Context, None]) -> Person | None:
        if self.owner_person_id is None:
            return None
        model = await info.context.loaders.person_by_id.load(self.owner_person_id)
        return Person.from_model(model) if model else None

    @strawberry.field(description="The metric it is measured on (measure `METRIC`).")
    async def metric(self, info: Info[Context, None]) -> Metric | None:
        if self.metric_id is None:
            return None
        model = await info.context.loaders.metric_by_id.load(self.metric_id)
        return Metric.from_model(model) if model else None

    @strawberry.field(description="Check-ins, newest observation first (retracted ones included).")
    async def check_ins(self, info: Info[Context, None], first: int = 10) -> list["CheckIn"]:
        from schema.core.errors import ApiError, ErrorCodes

        limit = info.context.settings.graphql_max_page_size
        if not 0 <= first <= limit:
            raise ApiError(f"`first` must be between 0 and {limit}", ErrorCodes.PAGE_SIZE_EXCEEDED)
        rows = await info.context.loaders.check_ins_by_key_result.load((self.uuid_, first))
        return [CheckIn.from_model(row) for row in rows]

    @strawberry.field(description="Commitments that support this key result, by due date.")
    async def commitments(
        self, info: Info[Context, None]
    ) -> list[Annotated["Commitment", strawberry.lazy("schema.commitments.types")]]:
        from schema.commitments.types import Commitment

        rows = await info.context.loaders.commitments_by_key_result.load(self.uuid_)
        return [Commitment.from_model(row) for row in rows]

    # The number fields answer synchronously when the list that returned this key result
    # prefetched its roll-up (`rollup_fields.prefetch_key_results`), else with an awaitable;
    # `graphql_type` states the GraphQL type since the Python return type is either.
    # graphql-core calls them directly (`schema.schema.DIRECT_FIELDS`): their `info` is
    # graphql-core's, of which they read only `info.context`.
    @strawberry.field(
        description="Current value as of an instant; null without data.",
        graphql_type=float | None,
    )
    def current_value(self, info: Info[Context, None], as_of: AsOf = None) -> Any:
        return rollup_fields.key_result_number(info, self.uuid_, as_of, _current_value)

    @strawberry.field(
        description="Unclamped (current − start) ÷ (target − start) as of an instant.",
        graphql_type=float | None,
    )
    def attainment(self, info: Info[Context, None], as_of: AsOf = None) -> Any:
        return rollup_fields.key_result_number(info, self.uuid_, as_of, _attainment)

    @strawberry.field(description="Progress, 0 to 1, as of an instant.", graphql_type=float | None)
    def progress(self, info: Info[Context, None], as_of: AsOf = None) -> Any:
        return rollup_fields.key_result_number(info, self.uuid_, as_of, _progress)

    @strawberry.field(
        description="Status against the cycle's pace, as of an instant.",
        graphql_type=Status | None,
    )
    def status(self, info: Info[Context, None], as_of: AsOf = None) -> Any:
        return rollup_fields.key_result_number(info, self.uuid_, as_of, _status)

    @strawberry.field(
        description="Share of the cycle elapsed at an instant, 0 to 1.",
        graphql_type=float | None,
    )
    def expected_progress(self, info: Info[Context, None], as_of: AsOf = None) -> Any:
        return rollup_fields.key_result_number(info, self.uuid_, as_of, _expected_progress)

    @strawberry.field(description="Delivery of its supporting commitments, as of an instant.")
    async def delivery(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> Delivery | None:
        result = await rollup_fields.key_result_rollup(info, self.uuid_, as_of)
        return Delivery.from_result(result.delivery) if result else None

    @strawberry.field(description="Whether a path leads from this key result to the North Star.")
    async def aligned_to_north_star(self, info: Info[Context, None]) -> bool:
        return await rollup_fields.aligned_to_north_star(info, "KeyResult", self.uuid_)


@strawberry.type(description="An observation of a key result; append-only.")
class CheckIn(Node):
    value: float | None = strawberry.field(description="Observed value (not for milestones).")
    done: bool | None = strawberry.field(description="Whether a milestone is done.")
    confidence: float | None = strawberry.field(description="Confidence, 0 to 1.")
    note: str = strawberry.field(description="Free-text note.")
    source: CheckInSource = strawberry.field(description="Interface that recorded it.")
    observed_at: datetime = strawberry.field(description="When the value was true.")
    recorded_at: datetime = strawberry.field(description="When it was recorded.")
    retracted_at: datetime | None = strawberry.field(description="When it was retracted.")
    key_result_id: strawberry.Private[uuid.UUID]
    author_person_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, model: CheckInModel) -> "CheckIn":
        return cls(
            uuid_=model.id,
            value=model.value,
            done=model.done,
            confidence=model.confidence,
            note=model.note,
            source=CheckInSource(model.source),
            observed_at=model.observed_at,
            recorded_at=model.recorded_at,
            retracted_at=model.retracted_at,
            key_result_id=model.key_result_id,
            author_person_id=model.author_person_id,
        )

    @strawberry.field(description="The key result observed.")
    async def key_result(self, info: Info[Context, None]) -> KeyResult | None:
        model = await info.context.loaders.key_result_by_id.load(self.key_result_id)
        return KeyResult.from_model(model) if model else None

    @strawberry.field(description="The person who made the check-in.")
    async def author(self, info: Info[Context, None]) -> Person | None:
        if self.author_person_id is None:
            return None
        model = await info.context.loaders.person_by_id.load(self.author_person_id)
        return Person.from_model(model) if model else None

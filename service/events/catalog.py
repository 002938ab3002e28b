"""Every event type Lodestar emits, with its meaning and the shape of its JSON payload.

The payload is the `data` of a webhook body (`{"type", "timestamp", "data"}`) and the
`payload` of a subscription event. Object payloads are the object's state after the change:
ids are strings (UUIDs), datetimes ISO 8601 UTC, dates `YYYY-MM-DD`. Shapes are written as
`field: type` maps; `T?` means nullable.

Webhook endpoints may subscribe to any type listed in `SUBSCRIBABLE` (everything except
`webhook.ping`, which is only ever sent by the test-ping mutation to one endpoint).
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from service.check_ins.schemas import CheckInRead
from service.commitments.schemas import CommitmentRead
from service.key_results.schemas import KeyResultRead
from service.objectives.schemas import AlignmentRead, ObjectiveRead

PING = "webhook.ping"
MARKER = "lodestar.daily_sweep"


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    payload: dict[str, Any]


def shape_of(model: type[BaseModel], **extra: str) -> dict[str, str]:
    """`field: type` of a pydantic read model (what the writer dumps), plus `extra` fields."""
    return {
        name: _type_name(field.annotation) for name, field in model.model_fields.items()
    } | extra


def _type_name(annotation: Any) -> str:
    args = [arg for arg in get_args(annotation) if arg is not NoneType]
    if get_origin(annotation) in (Union, UnionType):
        inner = "|".join(_type_name(arg) for arg in args)
        return f"{inner}?" if len(args) < len(get_args(annotation)) else inner
    if get_origin(annotation) is list:
        return f"[{_type_name(args[0])}]"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(member.value) for member in annotation)
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


_TYPE_NAMES: dict[Any, str] = {
    uuid.UUID: "str",
    datetime: "datetime",
    date: "date",
    float: "float",
    int: "int",
    bool: "bool",
    str: "str",
}

OBJECTIVE = shape_of(ObjectiveRead, metric_ids="[str]")
ALIGNMENT = shape_of(AlignmentRead)
KEY_RESULT = shape_of(KeyResultRead)
CHECK_IN = shape_of(CheckInRead)
COMMITMENT = shape_of(CommitmentRead, key_result_ids="[str]")
PERSON = {
    "id": "str",
    "name": "str",
    "email": "str?",
    "kind": "human|agent",
    "accountable_person_id": "str?",
    "archived_at": "datetime?",
}
TEAM = {"id": "str", "name": "str", "parent_team_id": "str?", "archived_at": "datetime?"}
CYCLE = {
    "id": "str",
    "name": "str",
    "starts_on": "date",
    "ends_on": "date",
    "parent_cycle_id": "str?",
    "archived_at": "datetime?",
}
METRIC = {
    "id": "str",
    "key": "str",
    "name": "str",
    "description": "str",
    "definition": "str",
    "unit": "str",
    "direction": "increase|decrease",
    "aggregation": "sum|avg|min|max|last|count",
    "kind": "leading|lagging",
    "observation_window_days": "int?",
    "owner_person_id": "str?",
    "is_north_star": "bool",
    "archived_at": "datetime?",
}
METRIC_EDGE = {
    "id": "str",
    "child_metric_id": "str",
    "parent_metric_id": "str",
    "relation": "driver|component",
    "weight": "float",
}
MEMBERSHIP = {"team_id": "str", "person_id": "str"}
ORGANIZATION = {"id": "str", "name": "str", "on_track_ratio": "float", "at_risk_ratio": "float"}
STATUS = "on_track|at_risk|off_track|done|no_data"


def _types() -> list[EventType]:
    return [
        EventType("objective.created", "An objective was created.", OBJECTIVE),
        EventType("objective.updated", "An objective's fields or state changed.", OBJECTIVE),
        EventType("objective.archived", "An objective was archived.", OBJECTIVE),
        EventType(
            "objective.aligned",
            "An objective was aligned under a parent objective (or its weight changed).",
            ALIGNMENT,
        ),
        EventType(
            "objective.unaligned",
            "An alignment between two objectives was removed.",
            ALIGNMENT,
        ),
        EventType("key_result.created", "A key result was created.", KEY_RESULT),
        EventType("key_result.updated", "A key result's fields or state changed.", KEY_RESULT),
        EventType(
            "key_result.moved",
            "A key result moved to another objective.",
            {**KEY_RESULT, "from_objective_id": "str"},
        ),
        EventType("key_result.archived", "A key result was archived.", KEY_RESULT),
        EventType(
            "key_result.status_changed",
            "A key result's computed status changed. `cause` says who announced it: `write`"
            " (a check-in, an edit or move of the key result, its objective or cycle, new"
            " status thresholds; in that write's transaction), `ingest` (ingested points:"
            " announced by the worker within about five seconds of the batch's commit,"
            " coalescing the batches of those seconds, so only the net change is announced and"
            " a move that went back in between is not), or `sweep` (the passing of time, daily"
            " sweep)."
            " The events of one key result form a chain: each `before` is the previous"
            " `after`, whatever announced them; so a change also reflects whatever moved since"
            " the previous announcement (e.g. the pace, which moves with time), and `cause`"
            " names what triggered the announcement.",
            {
                "key_result_id": "str",
                "objective_id": "str",
                "before": STATUS,
                "after": STATUS,
                "progress": "float",
                "expected_progress": "float",
                "cause": "write|ingest|sweep",
                "as_of": "datetime",
            },
        ),
        EventType("check_in.created", "A check-in was recorded on a key result.", CHECK_IN),
        EventType(
            "check_in.retracted", "A check-in was marked retracted (never deleted).", CHECK_IN
        ),
        EventType("commitment.created", "A commitment was created.", COMMITMENT),
        EventType("commitment.updated", "A commitment's fields changed.", COMMITMENT),
        EventType("commitment.completed", "A commitment was marked done.", COMMITMENT),
        EventType("commitment.dropped", "A commitment was dropped.", COMMITMENT),
        EventType("commitment.reopened", "A done or dropped commitment was reopened.", COMMITMENT),
        EventType(
            "commitment.overdue",
            "An open commitment passed its due date (daily sweep, once per commitment and"
            " due date).",
            {**COMMITMENT, "overdue_since": "date"},
        ),
        EventType(
            "metric.points_ingested",
            "Points were stored. Announced by the worker within about five seconds of the"
            " batch's commit (`status_recheck_interval_seconds`), coalescing the batches"
            " committed in between (`batches`): one event per organization (per 1,000"
            " metrics), listing each metric by key with the points stored (`count`), new"
            " identities (`inserted`), changed values (`updated`) and the time span of those"
            " points, plus the totals. Points sent again unchanged are not announced. The"
            " subject is the metric when the event lists one.",
            {
                "batches": "int",
                "count": "int",
                "inserted": "int",
                "updated": "int",
                "metrics": [
                    {
                        "metric_id": "str",
                        "metric_key": "str",
                        "count": "int",
                        "inserted": "int",
                        "updated": "int",
                        "from_ts": "datetime",
                        "to_ts": "datetime",
                    }
                ],
            },
        ),
        EventType(
            "organization.updated",
            "The organization was renamed or its status thresholds changed (statuses are"
            " computed with the new thresholds from then on).",
            ORGANIZATION,
        ),
        EventType("person.created", "A person (human or agent) was created.", PERSON),
        EventType("person.updated", "A person's fields changed.", PERSON),
        EventType("person.archived", "A person was archived.", PERSON),
        *[
            EventType(f"{noun}.{verb}", f"A {label} was {verb}.", shape)
            for noun, label, shape in (
                ("team", "team", TEAM),
                ("cycle", "cycle", CYCLE),
                ("metric", "metric definition", METRIC),
            )
            for verb in ("created", "updated", "archived")
        ],
        EventType("metric.restored", "An archived metric was restored.", METRIC),
        EventType("team.member_added", "A person joined a team.", MEMBERSHIP),
        EventType("team.member_removed", "A person left a team.", MEMBERSHIP),
        *[
            EventType(f"metric_edge.{verb}", f"A metric-tree edge was {verb}.", METRIC_EDGE)
            for verb in ("created", "updated", "deleted")
        ],
        EventType(
            "webhook.ping",
            "A test event sent to one endpoint by `webhookEndpointPing`.",
            {"endpoint_id": "str", "message": "str"},
        ),
        EventType(
            MARKER,
            "Internal marker of the daily sweep of one organization (not sent to webhooks).",
            {"day": "date", "as_of": "datetime", "status_changes": "int", "overdue": "int"},
        ),
    ]


CATALOG: dict[str, EventType] = {event_type.name: event_type for event_type in _types()}
SUBSCRIBABLE: frozenset[str] = frozenset(CATALOG) - {PING, MARKER}

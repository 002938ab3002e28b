"""Every event type Lodestar emits, with its meaning and the shape of its JSON payload.

The payload is the `data` of a webhook body (`{"type", "timestamp", "data"}`) and the
`payload` of a subscription event. Object payloads are the object's state after the change:
ids are strings (UUIDs), datetimes ISO 8601 UTC, dates `YYYY-MM-DD`. Shapes are written as
`field: type` maps; `T?` means nullable. The object shapes are the domains' read models
(`tests/events/test_catalog.py` keeps them equal), written here so that this module, which
every writer imports for `EventType`, imports no domain.

Webhook endpoints may subscribe to any type listed in `SUBSCRIBABLE` (everything except
`webhook.ping`, which is only ever sent by the test-ping mutation to one endpoint).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Every event type Lodestar records; `emit` takes one of these."""

    OBJECTIVE_CREATED = "objective.created"
    OBJECTIVE_UPDATED = "objective.updated"
    OBJECTIVE_ARCHIVED = "objective.archived"
    OBJECTIVE_ALIGNED = "objective.aligned"
    OBJECTIVE_UNALIGNED = "objective.unaligned"
    KEY_RESULT_CREATED = "key_result.created"
    KEY_RESULT_UPDATED = "key_result.updated"
    KEY_RESULT_MOVED = "key_result.moved"
    KEY_RESULT_ARCHIVED = "key_result.archived"
    KEY_RESULT_STATUS_CHANGED = "key_result.status_changed"
    CHECK_IN_CREATED = "check_in.created"
    CHECK_IN_RETRACTED = "check_in.retracted"
    COMMITMENT_CREATED = "commitment.created"
    COMMITMENT_UPDATED = "commitment.updated"
    COMMITMENT_COMPLETED = "commitment.completed"
    COMMITMENT_DROPPED = "commitment.dropped"
    COMMITMENT_REOPENED = "commitment.reopened"
    COMMITMENT_OVERDUE = "commitment.overdue"
    METRIC_POINTS_INGESTED = "metric.points_ingested"
    ORGANIZATION_UPDATED = "organization.updated"
    PERSON_CREATED = "person.created"
    PERSON_UPDATED = "person.updated"
    PERSON_ARCHIVED = "person.archived"
    TEAM_CREATED = "team.created"
    TEAM_UPDATED = "team.updated"
    TEAM_ARCHIVED = "team.archived"
    CYCLE_CREATED = "cycle.created"
    CYCLE_UPDATED = "cycle.updated"
    CYCLE_ARCHIVED = "cycle.archived"
    METRIC_CREATED = "metric.created"
    METRIC_UPDATED = "metric.updated"
    METRIC_ARCHIVED = "metric.archived"
    METRIC_RESTORED = "metric.restored"
    TEAM_MEMBER_ADDED = "team.member_added"
    TEAM_MEMBER_REMOVED = "team.member_removed"
    METRIC_EDGE_CREATED = "metric_edge.created"
    METRIC_EDGE_UPDATED = "metric_edge.updated"
    METRIC_EDGE_DELETED = "metric_edge.deleted"
    WEBHOOK_PING = "webhook.ping"
    DAILY_SWEEP = "lodestar.daily_sweep"


PING = EventType.WEBHOOK_PING
MARKER = EventType.DAILY_SWEEP


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    name: EventType
    description: str
    payload: dict[str, Any]


OBJECTIVE = {
    "id": "str",
    "title": "str",
    "description": "str",
    "cycle_id": "str",
    "owner_team_id": "str?",
    "owner_person_id": "str?",
    "state": "draft|active|closed|archived",
    "rollup_mode": "auto|key_results|children|both",
    "created_at": "datetime",
    "updated_at": "datetime",
    "metric_ids": "[str]",
}
ALIGNMENT = {"child_objective_id": "str", "parent_objective_id": "str", "weight": "float"}
KEY_RESULT = {
    "id": "str",
    "objective_id": "str",
    "title": "str",
    "owner_person_id": "str?",
    "measure": "metric|manual|milestone",
    "metric_id": "str?",
    "direction": "increase|decrease|at_least|at_most",
    "start_value": "float?",
    "target_value": "float?",
    "unit": "str",
    "weight": "float",
    "state": "active|archived",
    "created_at": "datetime",
    "updated_at": "datetime",
}
CHECK_IN = {
    "id": "str",
    "key_result_id": "str",
    "value": "float?",
    "done": "bool?",
    "confidence": "float?",
    "note": "str",
    "author_person_id": "str?",
    "source": "graphql|api",
    "observed_at": "datetime",
    "recorded_at": "datetime",
    "retracted_at": "datetime?",
}
COMMITMENT = {
    "id": "str",
    "title": "str",
    "success_criteria": "str",
    "owner_person_id": "str",
    "due_on": "date",
    "state": "open|done|dropped",
    "done_at": "datetime?",
    "dropped_at": "datetime?",
    "evidence_url": "str?",
    "created_at": "datetime",
    "updated_at": "datetime",
    "key_result_ids": "[str]",
}
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


def _entries() -> list[CatalogEntry]:
    return [
        CatalogEntry(EventType.OBJECTIVE_CREATED, "An objective was created.", OBJECTIVE),
        CatalogEntry(
            EventType.OBJECTIVE_UPDATED, "An objective's fields or state changed.", OBJECTIVE
        ),
        CatalogEntry(EventType.OBJECTIVE_ARCHIVED, "An objective was archived.", OBJECTIVE),
        CatalogEntry(
            EventType.OBJECTIVE_ALIGNED,
            "An objective was aligned under a parent objective (or its weight changed).",
            ALIGNMENT,
        ),
        CatalogEntry(
            EventType.OBJECTIVE_UNALIGNED,
            "An alignment between two objectives was removed.",
            ALIGNMENT,
        ),
        CatalogEntry(EventType.KEY_RESULT_CREATED, "A key result was created.", KEY_RESULT),
        CatalogEntry(
            EventType.KEY_RESULT_UPDATED, "A key result's fields or state changed.", KEY_RESULT
        ),
        CatalogEntry(
            EventType.KEY_RESULT_MOVED,
            "A key result moved to another objective.",
            {**KEY_RESULT, "from_objective_id": "str"},
        ),
        CatalogEntry(EventType.KEY_RESULT_ARCHIVED, "A key result was archived.", KEY_RESULT),
        CatalogEntry(
            EventType.KEY_RESULT_STATUS_CHANGED,
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
        CatalogEntry(
            EventType.CHECK_IN_CREATED, "A check-in was recorded on a key result.", CHECK_IN
        ),
        CatalogEntry(
            EventType.CHECK_IN_RETRACTED,
            "A check-in was marked retracted (never deleted).",
            CHECK_IN,
        ),
        CatalogEntry(EventType.COMMITMENT_CREATED, "A commitment was created.", COMMITMENT),
        CatalogEntry(EventType.COMMITMENT_UPDATED, "A commitment's fields changed.", COMMITMENT),
        CatalogEntry(EventType.COMMITMENT_COMPLETED, "A commitment was marked done.", COMMITMENT),
        CatalogEntry(EventType.COMMITMENT_DROPPED, "A commitment was dropped.", COMMITMENT),
        CatalogEntry(
            EventType.COMMITMENT_REOPENED, "A done or dropped commitment was reopened.", COMMITMENT
        ),
        CatalogEntry(
            EventType.COMMITMENT_OVERDUE,
            "An open commitment passed its due date (daily sweep, once per commitment and"
            " due date).",
            {**COMMITMENT, "overdue_since": "date"},
        ),
        CatalogEntry(
            EventType.METRIC_POINTS_INGESTED,
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
        CatalogEntry(
            EventType.ORGANIZATION_UPDATED,
            "The organization was renamed or its status thresholds changed (statuses are"
            " computed with the new thresholds from then on).",
            ORGANIZATION,
        ),
        CatalogEntry(EventType.PERSON_CREATED, "A person (human or agent) was created.", PERSON),
        CatalogEntry(EventType.PERSON_UPDATED, "A person's fields changed.", PERSON),
        CatalogEntry(EventType.PERSON_ARCHIVED, "A person was archived.", PERSON),
        *[
            CatalogEntry(EventType(f"{noun}.{verb}"), f"A {label} was {verb}.", shape)
            for noun, label, shape in (
                ("team", "team", TEAM),
                ("cycle", "cycle", CYCLE),
                ("metric", "metric definition", METRIC),
            )
            for verb in ("created", "updated", "archived")
        ],
        CatalogEntry(EventType.METRIC_RESTORED, "An archived metric was restored.", METRIC),
        CatalogEntry(EventType.TEAM_MEMBER_ADDED, "A person joined a team.", MEMBERSHIP),
        CatalogEntry(EventType.TEAM_MEMBER_REMOVED, "A person left a team.", MEMBERSHIP),
        *[
            CatalogEntry(
                EventType(f"metric_edge.{verb}"), f"A metric-tree edge was {verb}.", METRIC_EDGE
            )
            for verb in ("created", "updated", "deleted")
        ],
        CatalogEntry(
            EventType.WEBHOOK_PING,
            "A test event sent to one endpoint by `webhookEndpointPing`.",
            {"endpoint_id": "str", "message": "str"},
        ),
        CatalogEntry(
            MARKER,
            "Internal marker of the daily sweep of one organization (not sent to webhooks).",
            {"day": "date", "as_of": "datetime", "status_changes": "int", "overdue": "int"},
        ),
    ]


CATALOG: dict[EventType, CatalogEntry] = {entry.name: entry for entry in _entries()}
SUBSCRIBABLE: frozenset[EventType] = frozenset(CATALOG) - {PING, MARKER}

"""The metric list: its filters and their SQL, shared by GraphQL and `GET /v1/metrics`."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select

from service.kit.filters import text_search
from service.models import Metric, MetricKind


@dataclass(frozen=True, kw_only=True)
class MetricFilter:
    """All given filters must hold."""

    search: str | None = None
    """Text in the key or name."""
    kind: MetricKind | None = None
    owner_person_id: uuid.UUID | None = None
    include_archived: bool = False


def select_metrics(org_id: uuid.UUID, filter: MetricFilter) -> Select[Metric]:
    statement = select(Metric).where(
        Metric.org_id == org_id, *text_search(filter.search, Metric.key, Metric.name)
    )
    if filter.kind is not None:
        statement = statement.where(Metric.kind == filter.kind.value)
    if filter.owner_person_id is not None:
        statement = statement.where(Metric.owner_person_id == filter.owner_person_id)
    if not filter.include_archived:
        statement = statement.where(Metric.archived_at.is_(None))
    return statement

"""Points written with Core: `tests.factories.create_point` goes through the ORM identity map,
which cannot hash the JSONB `dimensions` of the points' primary key."""

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Metric, Point


async def add_point(
    session: AsyncSession,
    metric: Metric,
    ts: datetime,
    value: float,
    dimensions: dict[str, str] | None = None,
) -> None:
    await session.execute(
        insert(Point).values(
            org_id=metric.org_id,
            metric_id=metric.id,
            ts=ts,
            value=value,
            dimensions=dimensions or {},
        )
    )

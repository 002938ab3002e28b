"""REST: `/v1/metrics` — list, read, create-or-replace by key, and a bucketed series."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from service.auth.dependencies import SessionDep, require
from service.auth.principal import Principal
from service.metrics import service
from service.metrics.schemas import MetricList, MetricPut, MetricRead, MetricSeries, SeriesBucket
from service.models import Aggregation, Scope
from service.models.metric import METRIC_KEY_PATTERN
from service.problems import problem_responses

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])

Reader = Annotated[Principal, require(Scope.read)]
Writer = Annotated[Principal, require(Scope.write)]

# Keyset pages by metric key: a page never repeats or skips a metric that existed through
# the whole listing, whatever is added or archived in between.
DEFAULT_PAGE = 100
MAX_PAGE = 1000


@router.get(
    "",
    operation_id="metrics_list",
    summary="List the organization's metrics, a page at a time, in key order.",
    response_model=MetricList,
    responses=problem_responses(401, 403, 422, 429),
)
async def list_metrics(
    session: SessionDep,
    principal: Reader,
    include_archived: Annotated[bool, Query(description="Also list archived metrics.")] = False,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description=f"Page size, 1 to {MAX_PAGE}.")
    ] = DEFAULT_PAGE,
    after: Annotated[
        str | None,
        Query(
            pattern=METRIC_KEY_PATTERN,
            description="Continue after this metric key (the previous page's `next_after`).",
        ),
    ] = None,
) -> MetricList:
    metrics, next_after = await service.list_metrics(
        session, principal.org_id, include_archived=include_archived, after=after, limit=limit
    )
    return MetricList(
        items=[MetricRead.model_validate(metric) for metric in metrics], next_after=next_after
    )


@router.get(
    "/{key}",
    operation_id="metric_get",
    summary="Read one metric by key.",
    response_model=MetricRead,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def get_metric(key: str, session: SessionDep, principal: Reader) -> MetricRead:
    return MetricRead.model_validate(
        await service.get_metric_by_key(session, principal.org_id, key)
    )


@router.put(
    "/{key}",
    operation_id="metric_put",
    summary="Create the metric `key`, or replace its definition.",
    description="Omitted fields take their defaults. Returns 201 when the metric was created. "
    "Archived metrics stay archived. Choosing a second North Star is a 409 conflict.",
    response_model=MetricRead,
    responses={
        201: {"description": "Created.", "model": MetricRead},
        **problem_responses(401, 403, 409, 422, 429),
    },
)
async def put_metric(
    key: str, data: MetricPut, response: Response, session: SessionDep, principal: Writer
) -> MetricRead:
    metric, created = await service.put_metric(session, principal.org_id, key, data)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return MetricRead.model_validate(metric)


@router.get(
    "/{key}/series",
    operation_id="metric_series",
    summary="The metric's points aggregated in UTC buckets.",
    description="Buckets `[from, to)` by hour, day, week (ISO, Monday) or month in UTC with the "
    "metric's aggregation or `agg`; `last` sums each series' latest point in the bucket. Only "
    "buckets holding points are listed. Defaults: the 30 days up to now. At most 5,000 buckets.",
    response_model=MetricSeries,
    response_model_by_alias=True,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def metric_series(
    key: str,
    session: SessionDep,
    principal: Reader,
    from_: Annotated[
        datetime | None, Query(alias="from", description="Inclusive start, with a time zone.")
    ] = None,
    to: Annotated[datetime | None, Query(description="Exclusive end, with a time zone.")] = None,
    bucket: Annotated[Literal["hour", "day", "week", "month"], Query()] = "day",
    agg: Annotated[
        Aggregation | None, Query(description="Overrides the metric's aggregation.")
    ] = None,
) -> MetricSeries:
    end = to or datetime.now(UTC)
    start = from_ or end - timedelta(days=30)
    metric, used, rows = await service.metric_series(
        session, principal.org_id, key, start=start, end=end, bucket=bucket, aggregation=agg
    )
    return MetricSeries(
        metric=metric.key,
        bucket=bucket,
        aggregation=used,
        from_=start,
        to=end,
        buckets=[SeriesBucket(start=row[0], value=row[1], points=row[2]) for row in rows],
    )

"""NDJSON and CSV bodies carry the same points as JSON, with errors indexed the same way."""

from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Metric, Point
from tests.factories import create_api_key, create_metric, create_org


def headers(key: str, content_type: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": content_type}


async def stored(
    session: AsyncSession, metric: Metric
) -> list[tuple[datetime, dict[str, str], float, str]]:
    result = await session.execute(
        select(Point.ts, Point.dimensions, Point.value, Point.source)
        .where(Point.org_id == metric.org_id, Point.metric_id == metric.id)
        .order_by(Point.ts, Point.dimensions)
    )
    return [tuple(row) for row in result]  # type: ignore[misc]


async def test_ndjson_one_point_per_line(client: httpx.AsyncClient, session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    body = (
        b'{"metric": "signups", "ts": "2026-01-01T00:00:00Z", "value": 1}\n'
        b"\n"
        b'{"metric": "signups", "ts": "2026-01-02T00:00:00Z", "value": 2, "dimensions": {"plan": "pro"}}\n'
    )

    # when
    response = await client.post(
        "/v1/points", content=body, headers=headers(key, "application/x-ndjson")
    )

    # then
    assert response.json()["inserted"] == 2, response.text
    assert await stored(session, metric) == [
        (datetime(2026, 1, 1, tzinfo=UTC), {}, 1.0, ""),
        (datetime(2026, 1, 2, tzinfo=UTC), {"plan": "pro"}, 2.0, ""),
    ]


async def test_ndjson_bad_line_is_reported_at_its_index(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    body = (
        b'{"metric": "signups", "ts": "2026-01-01T00:00:00Z", "value": 1}\n'
        b'{"metric": "signups", "ts": \n'
        b'{"metric": "signups", "ts": "2026-01-03T00:00:00Z", "value": NaN}\n'
    )

    response = await client.post(
        "/v1/points", content=body, headers=headers(key, "application/x-ndjson")
    )

    assert response.status_code == 422
    assert [(e["index"], e["code"]) for e in response.json()["errors"]] == [
        (1, "MALFORMED"),
        (2, "NOT_FINITE"),
    ]
    assert await stored(session, metric) == []


async def test_csv_with_dimension_and_source_columns(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given: an empty dimension cell means "no such dimension"
    org = await create_org(session)
    metric = await create_metric(session, org, key="revenue")
    key = await create_api_key(session, org, scopes=("ingest",))
    body = (
        "metric,ts,value,dim.region,dim.plan,source\r\n"
        "revenue,2026-01-01T00:00:00Z,10.5,eu,pro,warehouse\r\n"
        "revenue,2026-01-01T00:00:00Z,3,,,\r\n"
        "revenue,2026-01-02T00:00:00+00:00,-4e2,us,,warehouse\r\n"
    )

    # when
    response = await client.post(
        "/v1/points", content=body, headers=headers(key, "text/csv; charset=utf-8")
    )

    # then
    assert response.json()["inserted"] == 3, response.text
    assert await stored(session, metric) == [
        (datetime(2026, 1, 1, tzinfo=UTC), {}, 3.0, ""),
        (datetime(2026, 1, 1, tzinfo=UTC), {"plan": "pro", "region": "eu"}, 10.5, "warehouse"),
        (datetime(2026, 1, 2, tzinfo=UTC), {"region": "us"}, -400.0, "warehouse"),
    ]


async def test_csv_errors_name_the_row_index_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="revenue")
    key = await create_api_key(session, org, scopes=("ingest",))
    body = (
        "metric,ts,value\n"
        "revenue,2026-01-01T00:00:00Z,1\n"
        "revenue,2026-01-02T00:00:00Z,nan\n"
        "revenue,2026-01-03T00:00:00Z\n"
        "revenue,2026-01-04T00:00:00,4\n"
        "revenue,2026-01-05T00:00:00Z,five\n"
    )

    response = await client.post("/v1/points", content=body, headers=headers(key, "text/csv"))

    assert response.status_code == 422
    assert [(e["index"], e["field"], e["code"]) for e in response.json()["errors"]] == [
        (1, "value", "NOT_FINITE"),
        (2, None, "MALFORMED"),
        (3, "ts", "TIMEZONE_REQUIRED"),
        (4, "value", "INVALID"),
    ]
    assert await stored(session, metric) == []


async def test_csv_for_one_metric_may_leave_out_the_metric_column(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="nps")
    key = await create_api_key(session, org, scopes=("ingest",))

    response = await client.post(
        "/v1/metrics/nps/points",
        content="ts,value\n2026-01-01T00:00:00Z,40\n",
        headers=headers(key, "text/csv"),
    )
    any_metric = await client.post(
        "/v1/points",
        content="ts,value\n2026-01-01T00:00:00Z,40\n",
        headers=headers(key, "text/csv"),
    )

    assert response.json()["inserted"] == 1
    assert await stored(session, metric) == [(datetime(2026, 1, 1, tzinfo=UTC), {}, 40.0, "")]
    assert any_metric.status_code == 422
    assert "missing: metric" in any_metric.json()["detail"]


async def test_csv_with_an_unknown_column_is_refused_whole(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    await create_metric(session, org, key="nps")
    key = await create_api_key(session, org, scopes=("ingest",))

    response = await client.post(
        "/v1/points",
        content="metric,ts,value,colour\nnps,2026-01-01T00:00:00Z,40,red\n",
        headers=headers(key, "text/csv"),
    )

    assert response.status_code == 422
    assert "unknown: colour" in response.json()["detail"]


async def test_csv_with_a_cell_past_the_csv_field_limit_is_refused_with_its_line(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given a CSV whose second data line holds a dimension of 131,073 characters
    org = await create_org(session)
    metric = await create_metric(session, org, key="nps")
    key = await create_api_key(session, org, scopes=("ingest",))
    huge = "x" * 131_073
    body = f"metric,ts,value,dim.note\nnps,2026-01-01T00:00:00Z,40,a\nnps,2026-01-02T00:00:00Z,41,{huge}\n"

    # when it is pushed
    response = await client.post("/v1/points", content=body, headers=headers(key, "text/csv"))

    # then it is a problem naming the line, not a crash, and nothing is stored
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("CSV line 3: field larger than field limit")
    assert await stored(session, metric) == []

"""Ingestion sends a batch to PostgreSQL as one JSON document (rows, metric keys, events):
values, timestamps and text must come back exactly as they were sent."""

import math
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event, Point
from service.statuses.recheck import announce_ingested
from tests.factories import create_api_key, create_metric, create_org

AWKWARD_VALUES = [
    0.1 + 0.2,  # 0.30000000000000004: needs all 17 significant digits
    -0.0,
    5e-324,  # the smallest subnormal
    1.7976931348623157e308,  # the largest finite double
    2**53 + 1,  # an int beyond a double's precision: stored as float(2**53 + 1)
    123456789.12345679,
    -2.5e-10,
]


def bits(value: float) -> bytes:
    return struct.pack(">d", value)  # tells -0.0 from 0.0


async def test_values_timestamps_and_text_are_stored_exactly(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="exact")
    key = await create_api_key(session, org, scopes=("ingest",))
    base = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    sent: list[dict[str, Any]] = [
        {
            "metric": "exact",
            "ts": (base + timedelta(minutes=i)).isoformat(),
            "value": value,
            "source": 'cron "nightly" \\ été 🚀',
            "dimensions": {"région": 'Zürich "HQ"', "tab": "a\tb"},
        }
        for i, value in enumerate(AWKWARD_VALUES)
    ]

    # when
    response = await client.post("/v1/points", json={"points": sent}, headers=auth(key))

    # then
    assert response.status_code == 200, response.text
    rows = (
        await session.execute(
            select(Point.ts, Point.value, Point.source, Point.dimensions)
            .where(Point.org_id == org.id, Point.metric_id == metric.id)
            .order_by(Point.ts)
        )
    ).all()
    assert [row.ts for row in rows] == [base + timedelta(minutes=i) for i in range(len(sent))]
    assert [bits(row.value) for row in rows] == [bits(float(v)) for v in AWKWARD_VALUES]
    assert {row.source for row in rows} == {'cron "nightly" \\ été 🚀'}
    assert {tuple(sorted(row.dimensions.items())) for row in rows} == {
        (("région", 'Zürich "HQ"'), ("tab", "a\tb"))
    }
    assert math.copysign(1.0, rows[1].value) == -1.0


async def test_the_event_payload_gives_utc_timestamps_in_isoformat(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given: microseconds, a half-hour offset, a negative offset and whole seconds
    org = await create_org(session)
    metric = await create_metric(session, org, key="ts_shapes")
    key = await create_api_key(session, org, scopes=("ingest",))
    stamps = ["2026-01-02T03:04:05.000006+05:30", "2026-01-02T10:00:00-08:00"]

    # when
    response = await client.post(
        "/v1/points",
        json={"points": [{"metric": "ts_shapes", "ts": ts, "value": 1} for ts in stamps]},
        headers=auth(key),
    )

    # then (once the worker announced the batch)
    assert response.status_code == 200, response.text
    await announce_ingested(session)
    payload = (
        await session.execute(
            select(Event.payload).where(
                Event.org_id == org.id, Event.type == "metric.points_ingested"
            )
        )
    ).scalar_one()
    utc = sorted(datetime.fromisoformat(ts).astimezone(UTC) for ts in stamps)
    assert payload["metrics"] == [
        {
            "metric_id": str(metric.id),
            "metric_key": "ts_shapes",
            "count": 2,
            "inserted": 2,
            "updated": 0,
            "from_ts": utc[0].isoformat(),  # 2026-01-01T21:34:05.000006+00:00
            "to_ts": utc[1].isoformat(),  # 2026-01-02T18:00:00+00:00
        }
    ]
    assert payload["metrics"][0]["from_ts"] == "2026-01-01T21:34:05.000006+00:00"


async def test_unknown_metric_keys_with_json_special_characters_are_told_apart(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given: the metric lookup sends the keys as a JSON array
    org = await create_org(session)
    await create_metric(session, org, key="revenue_eu_west_1")
    key = await create_api_key(session, org, scopes=("ingest",))

    # when
    response = await client.post(
        "/v1/points",
        json={
            "points": [
                {"metric": "revenue_eu_west_1", "ts": "2026-01-01T00:00:00Z", "value": 1},
                {"metric": 'revenue"eu', "ts": "2026-01-01T00:00:00Z", "value": 1},
                {"metric": "revenue\\eu", "ts": "2026-01-01T00:00:00Z", "value": 1},
                {"metric": "revenue_eu_west_1 ", "ts": "2026-01-01T00:00:00Z", "value": 1},
            ]
        },
        headers=auth(key),
    )

    # then
    assert response.status_code == 422, response.text
    assert [(e["index"], e["code"]) for e in response.json()["errors"]] == [
        (1, "UNKNOWN_METRIC"),
        (2, "UNKNOWN_METRIC"),
        (3, "UNKNOWN_METRIC"),
    ]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}

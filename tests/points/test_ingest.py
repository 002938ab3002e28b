"""POST /v1/points: atomic batches, last write wins, and the counts it answers with."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event, Metric, Organization, Point
from service.statuses import tracker
from service.statuses.recheck import announce_ingested
from tests.factories import (
    create_api_key,
    create_cycle,
    create_key_result,
    create_metric,
    create_objective,
    create_org,
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def point(metric: str, ts: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "ts": ts, "value": value, **extra}


async def stored(
    session: AsyncSession, metric: Metric
) -> list[tuple[datetime, dict[str, str], float]]:
    result = await session.execute(
        select(Point.ts, Point.dimensions, Point.value)
        .where(Point.org_id == metric.org_id, Point.metric_id == metric.id)
        .order_by(Point.ts, Point.dimensions)
    )
    return [(row.ts, row.dimensions, row.value) for row in result]


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


async def test_a_batch_is_stored_and_counted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="weekly_active_teams")
    key = await create_api_key(session, org, scopes=("ingest",))
    batch = {
        "points": [
            point("weekly_active_teams", "2026-01-04T00:00:00Z", 1234, dimensions={"region": "eu"}),
            point("weekly_active_teams", "2026-01-04T00:00:00Z", 99.5, dimensions={"region": "us"}),
            point("weekly_active_teams", "2026-01-11T00:00:00+01:00", 7),
        ]
    }

    # when
    response = await client.post("/v1/points", json=batch, headers=bearer(key))

    # then
    assert response.status_code == 200, response.text
    assert response.json() == {
        "received": 3,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
    }
    assert await stored(session, metric) == [
        (at(4), {"region": "eu"}, 1234.0),
        (at(4), {"region": "us"}, 99.5),
        (at(10, 23), {}, 7.0),
    ]


async def test_the_same_batch_twice_changes_nothing_the_second_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    batch = {
        "points": [point("signups", f"2026-01-0{day}T00:00:00Z", day * 10) for day in range(1, 6)]
    }
    first = await client.post("/v1/points", json=batch, headers=bearer(key))

    # when
    second = await client.post("/v1/points", json=batch, headers=bearer(key))

    # then
    assert first.json()["inserted"] == 5
    assert second.json() == {
        "received": 5,
        "inserted": 0,
        "updated": 0,
        "unchanged": 5,
        "duplicates": 0,
    }
    assert [value for _, _, value in await stored(session, metric)] == [
        10.0,
        20.0,
        30.0,
        40.0,
        50.0,
    ]


async def test_one_bad_point_in_the_middle_stores_nothing_and_names_its_index(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    points = [point("signups", f"2026-01-0{day}T00:00:00Z", day) for day in range(1, 6)]
    points[2]["value"] = "many"

    # when
    response = await client.post("/v1/points", json={"points": points}, headers=bearer(key))

    # then
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"] == [
        {"index": 2, "field": "value", "code": "INVALID", "message": "value must be a number"}
    ]
    assert await stored(session, metric) == []
    events = await session.execute(select(Event).where(Event.org_id == org.id))
    assert events.scalars().all() == []


async def test_late_and_out_of_order_points_replace_by_identity_last_write_wins(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="revenue")
    key = await create_api_key(session, org, scopes=("ingest",))
    await client.post(
        "/v1/points",
        json={
            "points": [
                point("revenue", "2026-01-05T00:00:00Z", 5),
                point("revenue", "2026-01-03T00:00:00Z", 3),
            ]
        },
        headers=bearer(key),
    )

    # when: a late point for an earlier day, a correction of an existing one, one unchanged
    response = await client.post(
        "/v1/points",
        json={
            "points": [
                point("revenue", "2026-01-05T00:00:00Z", 5),
                point("revenue", "2026-01-01T00:00:00Z", 1),
                point("revenue", "2026-01-03T00:00:00Z", 30),
            ]
        },
        headers=bearer(key),
    )

    # then
    assert response.json() == {
        "received": 3,
        "inserted": 1,
        "updated": 1,
        "unchanged": 1,
        "duplicates": 0,
    }
    assert await stored(session, metric) == [(at(1), {}, 1.0), (at(3), {}, 30.0), (at(5), {}, 5.0)]


async def test_duplicates_inside_one_batch_the_last_one_wins(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="revenue")
    key = await create_api_key(session, org, scopes=("ingest",))

    # when: one identity three times (the same instant written in two zones, dimension
    # order differing), and another point in between
    response = await client.post(
        "/v1/points",
        json={
            "points": [
                point("revenue", "2026-01-02T00:00:00Z", 1, dimensions={"a": "1", "b": "2"}),
                point("revenue", "2026-01-03T00:00:00Z", 100),
                point("revenue", "2026-01-02T01:00:00+01:00", 2, dimensions={"b": "2", "a": "1"}),
                point("revenue", "2026-01-02T00:00:00Z", 3, dimensions={"a": "1", "b": "2"}),
            ]
        },
        headers=bearer(key),
    )

    # then
    assert response.json() == {
        "received": 4,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 2,
    }
    assert await stored(session, metric) == [(at(2), {"a": "1", "b": "2"}, 3.0), (at(3), {}, 100.0)]


async def test_every_bad_point_is_reported_with_its_reason(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="revenue")
    archived = await create_metric(session, org, key="old", archived_at=datetime.now(UTC))
    other_org = await create_org(session)
    await create_metric(session, other_org, key="theirs")
    key = await create_api_key(session, org, scopes=("ingest",))
    future = (datetime.now(UTC) + timedelta(minutes=11)).isoformat()
    soon = (datetime.now(UTC) + timedelta(minutes=9)).isoformat()

    # when
    response = await client.post(
        "/v1/points",
        json={
            "points": [
                point("revenue", "2026-01-02T00:00:00", 1),  # 0 naive
                point("revenue", future, 1),  # 1 too far ahead
                point("revenue", soon, 1),  # 2 fine: within 10 minutes
                point("nope", "2026-01-02T00:00:00Z", 1),  # 3 unknown
                point("theirs", "2026-01-02T00:00:00Z", 1),  # 4 another org's
                point("old", "2026-01-02T00:00:00Z", 1),  # 5 archived
                point("revenue", "yesterday", 1),  # 6
                point("revenue", "2026-01-02T00:00:00Z", True),  # 7
                point("revenue", "2026-01-02T00:00:00Z", 1, dimensions={"n": 1}),  # 8
                point("revenue", "2026-01-02T00:00:00Z", 1, colour="red"),  # 9
                {"ts": "2026-01-02T00:00:00Z"},  # 10 no metric, no value
                point("revenue", "0001-01-01T00:00:00+01:00", 1),  # 11 before 1900
            ]
        },
        headers=bearer(key),
    )

    # then
    assert response.status_code == 422
    reasons = [
        (error["index"], error["field"], error["code"]) for error in response.json()["errors"]
    ]
    assert reasons == [
        (0, "ts", "TIMEZONE_REQUIRED"),
        (1, "ts", "IN_FUTURE"),
        (3, "metric", "UNKNOWN_METRIC"),
        (4, "metric", "UNKNOWN_METRIC"),
        (5, "metric", "METRIC_ARCHIVED"),
        (6, "ts", "INVALID"),
        (7, "value", "INVALID"),
        (8, "dimensions", "INVALID"),
        (9, None, "UNKNOWN_FIELD"),
        (10, "metric", "REQUIRED"),
        (10, "value", "REQUIRED"),
        (11, "ts", "INVALID"),
    ]
    assert await stored(session, metric) == []
    assert await stored(session, archived) == []


async def test_nan_and_infinity_tokens_are_refused_point_by_point(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given: JSON as Python's json module writes it, with bare NaN/Infinity tokens, and a
    # number too large for a double
    org = await create_org(session)
    metric = await create_metric(session, org, key="ratio")
    key = await create_api_key(session, org, scopes=("ingest",))
    body = (
        '{"points": ['
        '{"metric": "ratio", "ts": "2026-01-01T00:00:00Z", "value": 1},'
        '{"metric": "ratio", "ts": "2026-01-02T00:00:00Z", "value": NaN},'
        '{"metric": "ratio", "ts": "2026-01-03T00:00:00Z", "value": Infinity},'
        '{"metric": "ratio", "ts": "2026-01-04T00:00:00Z", "value": -Infinity},'
        '{"metric": "ratio", "ts": "2026-01-05T00:00:00Z", "value": 1e400}'
        "]}"
    )

    # when
    response = await client.post(
        "/v1/points", content=body, headers={**bearer(key), "Content-Type": "application/json"}
    )

    # then
    assert response.status_code == 422
    assert [(e["index"], e["code"]) for e in response.json()["errors"]] == [
        (1, "NOT_FINITE"),
        (2, "NOT_FINITE"),
        (3, "NOT_FINITE"),
        (4, "NOT_FINITE"),
    ]
    assert await stored(session, metric) == []


async def test_a_body_that_is_not_a_batch_is_a_problem(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("ingest",))

    not_json = await client.post(
        "/v1/points", content=b"{nope", headers={**bearer(key), "Content-Type": "application/json"}
    )
    a_list = await client.post("/v1/points", json=[], headers=bearer(key))
    xml = await client.post(
        "/v1/points", content=b"<points/>", headers={**bearer(key), "Content-Type": "text/xml"}
    )

    assert (not_json.status_code, not_json.json()["errors"][0]["field"]) == (422, "body")
    assert (a_list.status_code, a_list.json()["errors"][0]["field"]) == (422, "body")
    assert xml.status_code == 415
    assert xml.headers["content-type"].startswith("application/problem+json")


async def test_more_than_10000_points_is_413_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given: 10,001 valid points (the count limit is "too large", like the byte limit)
    org = await create_org(session)
    metric = await create_metric(session, org, key="clicks")
    key = await create_api_key(session, org, scopes=("ingest",))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [point("clicks", (start + timedelta(minutes=i)).isoformat(), i) for i in range(10_001)]

    # when
    response = await client.post("/v1/points", json={"points": points}, headers=bearer(key))

    # then
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert "10000" in response.json()["detail"]
    assert await stored(session, metric) == []


async def test_exactly_10000_points_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="clicks")
    key = await create_api_key(session, org, scopes=("ingest",))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [point("clicks", (start + timedelta(minutes=i)).isoformat(), i) for i in range(10_000)]

    response = await client.post("/v1/points", json={"points": points}, headers=bearer(key))

    assert response.json()["inserted"] == 10_000
    assert len(await stored(session, metric)) == 10_000


async def ingested_events(session: AsyncSession, org: Organization) -> list[Event]:
    result = await session.execute(
        select(Event)
        .where(Event.org_id == org.id, Event.type == "metric.points_ingested")
        .order_by(Event.seq)
    )
    return list(result.scalars())


async def test_batches_are_announced_by_the_next_worker_run_in_one_event(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given two committed batches: an insert into `first`, then inserts into both metrics and
    # an update of the first point
    org = await create_org(session)
    first = await create_metric(session, org, key="first")
    second = await create_metric(session, org, key="second")
    key = await create_api_key(session, org, scopes=("ingest",))
    await client.post(
        "/v1/points",
        json={"points": [point("first", "2026-01-01T00:00:00Z", 1)]},
        headers=bearer(key),
    )
    await client.post(
        "/v1/points",
        json={
            "points": [
                point("first", "2026-01-03T00:00:00Z", 3),
                point("second", "2026-01-02T00:00:00Z", 2),
                point("first", "2026-01-01T00:00:00Z", 10),
                point("first", "2026-01-02T12:00:00+02:00", 4),
            ]
        },
        headers=bearer(key),
    )
    # the batches' own transactions wrote no event
    assert await ingested_events(session, org) == []

    # when the worker runs
    assert await announce_ingested(session) == (2, 0)

    # then one event announces both batches: each metric's points stored over them and
    # their time span, in key order
    (event,) = await ingested_events(session, org)
    assert event.subject_id is None  # two metrics: no single subject
    assert event.payload == {
        "batches": 2,
        "count": 5,
        "inserted": 4,
        "updated": 1,
        "metrics": [
            {
                "metric_id": str(first.id),
                "metric_key": "first",
                "count": 4,
                "inserted": 3,
                "updated": 1,
                "from_ts": "2026-01-01T00:00:00+00:00",
                "to_ts": "2026-01-03T00:00:00+00:00",
            },
            {
                "metric_id": str(second.id),
                "metric_key": "second",
                "count": 1,
                "inserted": 1,
                "updated": 0,
                "from_ts": "2026-01-02T00:00:00+00:00",
                "to_ts": "2026-01-02T00:00:00+00:00",
            },
        ],
    }
    # and the next run has nothing left to announce
    assert await announce_ingested(session) == (0, 0)
    assert len(await ingested_events(session, org)) == 1


async def test_a_run_announcing_one_metric_names_it_as_the_subject(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="only")
    key = await create_api_key(session, org, scopes=("ingest",))
    await client.post(
        "/v1/points",
        json={"points": [point("only", "2026-01-01T00:00:00Z", 1)]},
        headers=bearer(key),
    )

    # when
    await announce_ingested(session)

    # then
    (event,) = await ingested_events(session, org)
    assert event.subject_id == metric.id
    assert event.payload["batches"] == 1


async def test_a_batch_that_changes_nothing_is_not_announced(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given a batch stored and announced
    org = await create_org(session)
    await create_metric(session, org, key="steady")
    key = await create_api_key(session, org, scopes=("ingest",))
    body = {"points": [point("steady", "2026-01-01T00:00:00Z", 1)]}
    await client.post("/v1/points", json=body, headers=bearer(key))
    await announce_ingested(session)

    # when the same points are sent again (a blind retry without an idempotency key)
    response = await client.post("/v1/points", json=body, headers=bearer(key))

    # then they are counted as unchanged, and nothing is queued or announced
    assert response.json()["unchanged"] == 1
    assert await announce_ingested(session) == (0, 0)
    assert len(await ingested_events(session, org)) == 1


async def test_a_run_over_many_metrics_is_announced_in_events_of_at_most_1000(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given 2,500 metrics
    org = await create_org(session)
    keys = [f"m{n:04d}" for n in range(2500)]
    for metric_key in keys:
        await create_metric(session, org, key=metric_key)
    key = await create_api_key(session, org, scopes=("ingest",))

    # when one batch has a point for each
    response = await client.post(
        "/v1/points",
        json={"points": [point(k, "2026-01-01T00:00:00Z", 1) for k in reversed(keys)]},
        headers=bearer(key),
    )

    # then the worker's run announces them in three events, in key order, 1,000 at most each
    assert response.status_code == 200, response.text
    await announce_ingested(session)
    payloads = [event.payload for event in await ingested_events(session, org)]
    assert [len(payload["metrics"]) for payload in payloads] == [1000, 1000, 500]
    assert [m["metric_key"] for p in payloads for m in p["metrics"]] == keys
    assert [payload["inserted"] for payload in payloads] == [1000, 1000, 500]


async def test_the_per_metric_route_takes_points_without_a_metric_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="nps")
    await create_metric(session, org, key="other")
    key = await create_api_key(session, org, scopes=("ingest",))

    # when
    ok = await client.post(
        "/v1/metrics/nps/points",
        json={
            "points": [
                {"ts": "2026-01-01T00:00:00Z", "value": 40},
                point("nps", "2026-01-02T00:00:00Z", 41),
            ]
        },
        headers=bearer(key),
    )
    mismatch = await client.post(
        "/v1/metrics/nps/points",
        json={"points": [point("other", "2026-01-03T00:00:00Z", 1)]},
        headers=bearer(key),
    )
    unknown = await client.post(
        "/v1/metrics/nope/points",
        json={"points": [{"ts": "2026-01-03T00:00:00Z", "value": 1}]},
        headers=bearer(key),
    )

    # then
    assert ok.json()["inserted"] == 2
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["code"] == "METRIC_MISMATCH"
    assert unknown.status_code == 404
    assert await stored(session, metric) == [(at(1), {}, 40.0), (at(2), {}, 41.0)]


async def test_a_point_that_moves_a_key_results_status_announces_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given a key result measured on a metric, with no data yet
    org = await create_org(session)
    metric = await create_metric(session, org, key="activations", aggregation="sum")
    today = datetime.now(UTC).date()
    cycle = await create_cycle(
        session, org, starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=10)
    )
    objective = await create_objective(session, org, cycle)
    key_result = await create_key_result(
        session,
        objective,
        measure="metric",
        metric_id=metric.id,
        start_value=0.0,
        target_value=10.0,
    )
    await tracker.observe(session, org.id, [key_result.id])  # as create_key_result does
    key = await create_api_key(session, org, scopes=("ingest",))
    ts = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    # when a point reaches the target, and the worker's recheck runs after the commit
    await client.post(
        "/v1/points", json={"points": [point("activations", ts, 10)]}, headers=bearer(key)
    )
    announced_in_the_request = await status_payloads(session, org)
    await announce_ingested(session)

    # then the recheck announced it, with cause ingest
    assert announced_in_the_request == []
    payloads = await status_payloads(session, org)
    assert [(p["key_result_id"], p["before"], p["after"], p["cause"]) for p in payloads] == [
        (str(key_result.id), "no_data", "done", "ingest")
    ]


async def status_payloads(session: AsyncSession, org: Organization) -> list[dict[str, Any]]:
    result = await session.execute(
        select(Event.payload)
        .where(Event.org_id == org.id, Event.type == "key_result.status_changed")
        .order_by(Event.seq)
    )
    return list(result.scalars().all())

"""/v1/metrics: list, read, create-or-replace by key, series; tenancy and scopes."""

from datetime import UTC, datetime

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event, Metric, Point
from tests.factories import create_api_key, create_metric, create_org, create_person


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_put_creates_then_replaces_the_definition(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    owner = await create_person(session, org)
    key = await create_api_key(session, org, scopes=("write", "read"))

    # when
    created = await client.put(
        "/v1/metrics/weekly_active_teams",
        json={
            "name": "Weekly active teams",
            "definition": "Teams with ≥ 3 active members in the ISO week.",
            "aggregation": "last",
            "owner_person_id": str(owner.id),
            "is_north_star": True,
        },
        headers=bearer(key),
    )
    replaced = await client.put(
        "/v1/metrics/weekly_active_teams",
        json={"name": "Weekly active teams (v2)", "aggregation": "max"},
        headers=bearer(key),
    )
    read = await client.get("/v1/metrics/weekly_active_teams", headers=bearer(key))

    # then
    assert created.status_code == 201, created.text
    assert created.json()["is_north_star"] is True
    assert replaced.status_code == 200
    body = read.json()
    assert body["id"] == created.json()["id"]
    assert (body["name"], body["aggregation"], body["definition"], body["owner_person_id"]) == (
        "Weekly active teams (v2)",
        "max",
        "",
        None,
    )
    assert body["is_north_star"] is False  # a PUT replaces the whole definition
    events = await session.execute(
        select(Event.type).where(Event.org_id == org.id).order_by(Event.seq)
    )
    assert events.scalars().all() == ["metric.created", "metric.updated"]


async def test_put_with_the_same_definition_emits_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("write",))
    definition = {"name": "Signups", "unit": "accounts"}
    await client.put("/v1/metrics/signups", json=definition, headers=bearer(key))

    again = await client.put("/v1/metrics/signups", json=definition, headers=bearer(key))

    assert again.status_code == 200
    events = await session.execute(select(Event.type).where(Event.org_id == org.id))
    assert events.scalars().all() == ["metric.created"]


async def test_a_second_north_star_is_a_conflict(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    await create_metric(session, org, key="revenue", is_north_star=True)
    key = await create_api_key(session, org, scopes=("write",))

    # when
    response = await client.put(
        "/v1/metrics/signups", json={"name": "Signups", "is_north_star": True}, headers=bearer(key)
    )

    # then
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "'revenue' is already the North Star" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "is_north_star"
    created = await session.execute(
        select(Metric).where(Metric.org_id == org.id, Metric.key == "signups")
    )
    assert created.scalar_one_or_none() is None


async def test_put_refuses_a_bad_key_and_bad_fields_with_a_problem(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("write",))

    bad_key = await client.put("/v1/metrics/Not-A-Slug", json={"name": "x"}, headers=bearer(key))
    bad_fields = await client.put(
        "/v1/metrics/ok",
        json={"name": "", "aggregation": "median", "extra": 1},
        headers=bearer(key),
    )
    unknown_owner = await client.put(
        "/v1/metrics/ok",
        json={"name": "Ok", "owner_person_id": "00000000-0000-4000-8000-000000000000"},
        headers=bearer(key),
    )

    assert bad_key.status_code == 422
    assert bad_key.json()["errors"][0]["field"] == "key"
    assert bad_fields.status_code == 422
    assert {error["field"] for error in bad_fields.json()["errors"]} == {
        "name",
        "aggregation",
        "extra",
    }
    assert unknown_owner.status_code == 422
    assert unknown_owner.json()["errors"][0] == {
        "field": "owner_person_id",
        "code": "NOT_FOUND",
        "message": "owner person not found",
    }


async def test_list_hides_archived_metrics_unless_asked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    await create_metric(session, org, key="b_metric")
    await create_metric(session, org, key="a_metric")
    await create_metric(session, org, key="c_old", archived_at=datetime.now(UTC))
    key = await create_api_key(session, org, scopes=("read",))

    current = await client.get("/v1/metrics", headers=bearer(key))
    everything = await client.get("/v1/metrics?include_archived=true", headers=bearer(key))

    assert [m["key"] for m in current.json()["items"]] == ["a_metric", "b_metric"]
    assert [m["key"] for m in everything.json()["items"]] == ["a_metric", "b_metric", "c_old"]


async def test_another_organizations_metric_cannot_be_read_or_written(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org_a = await create_org(session)
    org_b = await create_org(session)
    theirs = await create_metric(session, org_b, key="secret_revenue", name="Secret")
    await create_metric(session, org_a, key="mine")
    key_a = await create_api_key(session, org_a, scopes=("admin",))

    # when
    read = await client.get("/v1/metrics/secret_revenue", headers=bearer(key_a))
    series = await client.get("/v1/metrics/secret_revenue/series", headers=bearer(key_a))
    listed = await client.get("/v1/metrics", headers=bearer(key_a))
    pushed_one = await client.post(
        "/v1/metrics/secret_revenue/points",
        json={"points": [{"ts": "2026-01-01T00:00:00Z", "value": 1}]},
        headers=bearer(key_a),
    )
    pushed_any = await client.post(
        "/v1/points",
        json={"points": [{"metric": "secret_revenue", "ts": "2026-01-01T00:00:00Z", "value": 1}]},
        headers=bearer(key_a),
    )
    put = await client.put(
        "/v1/metrics/secret_revenue", json={"name": "Mine now"}, headers=bearer(key_a)
    )

    # then
    assert (read.status_code, series.status_code, pushed_one.status_code) == (404, 404, 404)
    assert [m["key"] for m in listed.json()["items"]] == ["mine"]
    assert pushed_any.status_code == 422
    assert pushed_any.json()["errors"][0]["code"] == "UNKNOWN_METRIC"
    # keys are per organization: A's PUT made A's own metric and left B's alone
    assert put.status_code == 201
    assert put.json()["id"] != str(theirs.id)
    await session.refresh(theirs)
    assert theirs.name == "Secret"


async def test_series_buckets_by_day_with_the_metrics_aggregation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="revenue", aggregation="sum")
    key = await create_api_key(session, org, scopes=("read",))
    for ts, value, dims in [
        (datetime(2026, 1, 1, 1, tzinfo=UTC), 1.0, {}),
        (datetime(2026, 1, 1, 23, tzinfo=UTC), 2.0, {}),
        (datetime(2026, 1, 3, 0, tzinfo=UTC), 5.0, {"region": "eu"}),
        (datetime(2026, 1, 3, 12, tzinfo=UTC), 7.0, {"region": "us"}),
        (datetime(2026, 1, 3, 13, tzinfo=UTC), 1.0, {"region": "us"}),
        (datetime(2026, 1, 4, 0, tzinfo=UTC), 100.0, {}),  # outside [from, to)
    ]:
        await session.execute(
            insert(Point).values(
                org_id=org.id, metric_id=metric.id, ts=ts, value=value, dimensions=dims
            )
        )
    window = "from=2026-01-01T00:00:00Z&to=2026-01-04T00:00:00Z"

    # when
    summed = await client.get(f"/v1/metrics/revenue/series?{window}", headers=bearer(key))
    last = await client.get(f"/v1/metrics/revenue/series?{window}&agg=last", headers=bearer(key))
    maxed = await client.get(
        f"/v1/metrics/revenue/series?{window}&agg=max&bucket=month", headers=bearer(key)
    )

    # then
    assert summed.status_code == 200, summed.text
    assert summed.json()["aggregation"] == "sum"
    assert summed.json()["from"] == "2026-01-01T00:00:00Z"
    assert [(b["start"], b["value"], b["points"]) for b in summed.json()["buckets"]] == [
        ("2026-01-01T00:00:00Z", 3.0, 2),
        ("2026-01-03T00:00:00Z", 13.0, 3),
    ]
    # last: each series' latest point in the bucket, summed over series (eu 5 + us 1)
    assert [(b["start"], b["value"]) for b in last.json()["buckets"]] == [
        ("2026-01-01T00:00:00Z", 2.0),
        ("2026-01-03T00:00:00Z", 6.0),
    ]
    assert [(b["start"], b["value"], b["points"]) for b in maxed.json()["buckets"]] == [
        ("2026-01-01T00:00:00Z", 7.0, 5)
    ]


async def test_series_refuses_naive_or_reversed_windows(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    await create_metric(session, org, key="revenue")
    key = await create_api_key(session, org, scopes=("read",))

    naive = await client.get(
        "/v1/metrics/revenue/series?from=2026-01-01T00:00:00&to=2026-01-02T00:00:00Z",
        headers=bearer(key),
    )
    reversed_ = await client.get(
        "/v1/metrics/revenue/series?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        headers=bearer(key),
    )
    too_many = await client.get(
        "/v1/metrics/revenue/series?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour",
        headers=bearer(key),
    )

    assert (naive.status_code, naive.json()["errors"][0]["field"]) == (422, "from")
    assert (reversed_.status_code, reversed_.json()["errors"][0]["field"]) == (422, "to")
    assert (too_many.status_code, too_many.json()["errors"][0]["code"]) == (422, "OUT_OF_RANGE")


async def test_the_list_pages_by_key_and_refuses_bad_page_parameters(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given five metrics, one archived
    org = await create_org(session)
    for name in ("e_five", "b_two", "d_four", "a_one"):
        await create_metric(session, org, key=name)
    await create_metric(session, org, key="c_old", archived_at=datetime.now(UTC))
    key = await create_api_key(session, org, scopes=("read",))

    # when they are listed two at a time, following next_after
    pages: list[list[str]] = []
    after: str | None = None
    while True:
        params = {"limit": "2"} | ({"after": after} if after is not None else {})
        response = await client.get("/v1/metrics", params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        pages.append([metric["key"] for metric in response.json()["items"]])
        after = response.json()["next_after"]
        if after is None:
            break

    # then every current metric comes once, in key order, and the last page says so
    assert pages == [["a_one", "b_two"], ["d_four", "e_five"]]
    everything = await client.get(
        "/v1/metrics", params={"include_archived": "true", "after": "b_two"}, headers=bearer(key)
    )
    assert [m["key"] for m in everything.json()["items"]] == ["c_old", "d_four", "e_five"]
    assert everything.json()["next_after"] is None

    # and out-of-range or hostile page parameters are a 422 naming the parameter
    hostile = ({"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"after": "x" * 64})
    for params in (*hostile, {"after": "B_two"}, {"after": "b_two' --"}):
        refused = await client.get("/v1/metrics", params=params, headers=bearer(key))
        assert refused.status_code == 422, (params, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert next(iter(params)) in refused.text

"""Every /v1 route, read from the app's own OpenAPI: another organization's objects are
invisible (404, as if missing), each route admits exactly its scopes (403 otherwise), and no
route answers without a key (401). A new route fails `test_every_v1_route_is_listed` until
it is added to ROUTES below."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Base, Metric, Organization
from tests import factories
from tests.test_rest_hostile_input import ROUTES as OPENAPI_ROUTES

METRIC_B = "secret_revenue"
KEY_RESULT_ID = uuid.UUID("0c7ad0b4-1b8e-4c40-8e55-6c2b8a3f9e10")  # organization B's


@dataclass(frozen=True)
class Access:
    method: str
    path: str  # with organization B's objects filled in
    scopes: frozenset[str]  # any one of them admits (admin admits everything)
    body: dict[str, Any] | None = None
    # What organization A's admin gets: 404 for B's objects; routes naming no object of B
    # answer from A's own data (checked in test_a_key_never_reaches_another_organization).
    foreign_status: int = 404


ROUTES: dict[str, Access] = {
    "metrics_list": Access("GET", "/v1/metrics", frozenset({"read"}), foreign_status=200),
    "metric_get": Access("GET", f"/v1/metrics/{METRIC_B}", frozenset({"read"})),
    "metric_series": Access("GET", f"/v1/metrics/{METRIC_B}/series", frozenset({"read"})),
    "points_ingest": Access(
        "POST",
        "/v1/points",
        frozenset({"ingest", "write"}),
        {"points": [{"metric": METRIC_B, "ts": "2026-01-05T00:00:00Z", "value": 1}]},
        422,
    ),
    "metric_points_ingest": Access(
        "POST",
        f"/v1/metrics/{METRIC_B}/points",
        frozenset({"ingest", "write"}),
        {"points": [{"ts": "2026-01-05T00:00:00Z", "value": 1}]},
    ),
    "key_result_get": Access("GET", f"/v1/key-results/{KEY_RESULT_ID}", frozenset({"read"})),
    "check_in_create": Access(
        "POST",
        f"/v1/key-results/{KEY_RESULT_ID}/check-ins",
        frozenset({"ingest", "write"}),
        {"value": 1},
    ),
    # Last: metric keys are per organization, so A's PUT of B's key creates A's own metric.
    "metric_put": Access(
        "PUT", f"/v1/metrics/{METRIC_B}", frozenset({"write"}), {"name": "Renamed"}, 201
    ),
}
ALL_SCOPES = ("read", "write", "ingest", "admin")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def rows_of(session: AsyncSession, org: Organization) -> dict[str, int]:
    """Row count of every tenant table for one organization."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        if "org_id" in table.c:
            result = await session.execute(
                select(func.count()).select_from(table).where(table.c.org_id == org.id)
            )
            counts[table.name] = int(result.scalar_one())
    return counts


async def organization_b(session: AsyncSession) -> Organization:
    org = await factories.create_org(session)
    await factories.create_metric(session, org, key=METRIC_B, name="B's secret")
    today = datetime.now(UTC).date()
    cycle = await factories.create_cycle(
        session, org, starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=80)
    )
    objective = await factories.create_objective(session, org, cycle)
    await factories.create_key_result(session, objective, id=KEY_RESULT_ID)
    return org


async def test_every_v1_route_is_listed() -> None:
    assert {route.operation for route in OPENAPI_ROUTES} == set(ROUTES)
    for route in OPENAPI_ROUTES:
        assert ROUTES[route.operation].method == route.method, route.operation


async def test_a_key_never_reaches_another_organization(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given organization B's objects and organization A's key with every scope
    b = await organization_b(session)
    metric_b = (await session.execute(select(Metric).where(Metric.org_id == b.id))).scalar_one()
    org_a = await factories.create_org(session)
    await factories.create_metric(session, org_a, key="a_own")
    key_a = await factories.create_api_key(session, org_a, ALL_SCOPES)
    rows_before = await rows_of(session, b)

    for operation, access in ROUTES.items():
        # when
        response = await client.request(
            access.method, access.path, json=access.body, headers=bearer(key_a)
        )

        # then B's objects are missing for A; routes without an object of B show A's own
        assert response.status_code == access.foreign_status, (operation, response.text)
        if response.status_code == 404:
            assert response.json()["title"] == "Not Found", operation
        if operation == "metrics_list":
            assert [metric["key"] for metric in response.json()["items"]] == ["a_own"]
        if operation == "metric_put":
            assert response.json()["name"] == "Renamed"
            assert response.json()["id"] != str(metric_b.id)
    # and nothing of B changed
    assert await rows_of(session, b) == rows_before
    await session.refresh(metric_b)
    assert metric_b.name == "B's secret"


@pytest.mark.parametrize("operation", sorted(ROUTES))
async def test_each_route_admits_exactly_its_scopes(
    operation: str, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given organization B's objects and one key per scope of B
    b = await organization_b(session)
    access = ROUTES[operation]

    for scope in ALL_SCOPES:
        key = await factories.create_api_key(session, b, (scope,))

        # when
        response = await client.request(
            access.method, access.path, json=access.body, headers=bearer(key)
        )

        # then
        if scope == "admin" or scope in access.scopes:
            assert response.status_code < 400, (operation, scope, response.text)
        else:
            assert response.status_code == 403, (operation, scope, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    anonymous = await client.request(access.method, access.path, json=access.body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"

"""POST /v1/key-results/{id}/check-ins: recorded with source `api`, refused cleanly,
retry-safe with Idempotency-Key; tenancy and scopes."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service import global_ids
from service.models import CheckIn, Event, KeyResult, Organization
from tests import factories


def bearer(key: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


async def key_result_in_current_cycle(
    session: AsyncSession, org: Organization, **fields: Any
) -> KeyResult:
    today = datetime.now(UTC).date()
    cycle = await factories.create_cycle(
        session, org, starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=60)
    )
    objective = await factories.create_objective(session, org, cycle)
    return await factories.create_key_result(session, objective, **fields)


async def check_ins_of(session: AsyncSession, key_result: KeyResult) -> list[CheckIn]:
    result = await session.execute(
        select(CheckIn).where(
            CheckIn.org_id == key_result.org_id, CheckIn.key_result_id == key_result.id
        )
    )
    return list(result.scalars())


async def event_types(session: AsyncSession, org: Organization) -> list[str]:
    result = await session.execute(
        select(Event.type).where(Event.org_id == org.id).order_by(Event.seq)
    )
    return list(result.scalars())


async def test_a_check_in_is_recorded_with_source_api_and_moves_the_status(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given a manual key result without data, and an author
    org = await factories.create_org(session)
    key_result = await key_result_in_current_cycle(session, org)
    author = await factories.create_person(session, org)
    key = await factories.create_api_key(session, org, ("ingest",))
    observed_at = datetime.now(UTC) - timedelta(hours=1)

    # when
    response = await client.post(
        f"/v1/key-results/{key_result.id}/check-ins",
        json={
            "value": 80,
            "confidence": 0.9,
            "note": "Three enterprise pilots live.",
            "author_person_id": str(author.id),
            "observed_at": observed_at.isoformat(),
        },
        headers=bearer(key),
    )
    report = await client.get(
        f"/v1/key-results/{key_result.id}",
        headers=bearer(await factories.create_api_key(session, org, ("read",))),
    )

    # then
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key_result_id"] == str(key_result.id)
    assert (body["value"], body["done"], body["confidence"], body["source"]) == (
        80.0,
        None,
        0.9,
        "api",
    )
    assert body["note"] == "Three enterprise pilots live."
    assert body["author_person_id"] == str(author.id)
    assert datetime.fromisoformat(body["observed_at"]) == observed_at
    assert body["retracted_at"] is None
    [stored] = await check_ins_of(session, key_result)
    assert (str(stored.id), stored.source) == (body["id"], "api")
    assert await event_types(session, org) == ["check_in.created", "key_result.status_changed"]
    assert report.json()["current_value"] == 80.0
    assert (report.json()["progress"], report.json()["status"]) == (0.8, "on_track")


async def test_a_milestone_takes_done_and_the_graphql_id_works(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await factories.create_org(session)
    key_result = await key_result_in_current_cycle(session, org, measure="milestone")
    key = await factories.create_api_key(session, org, ("write",))

    response = await client.post(
        f"/v1/key-results/{global_ids.encode('KeyResult', key_result.id)}/check-ins",
        json={"done": True},
        headers=bearer(key),
    )

    assert response.status_code == 201, response.text
    assert (response.json()["done"], response.json()["value"]) == (True, None)
    [stored] = await check_ins_of(session, key_result)
    assert stored.done is True


async def test_bad_check_ins_are_refused_with_the_field_at_fault_and_nothing_is_written(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await factories.create_org(session)
    manual = await key_result_in_current_cycle(session, org)
    milestone = await key_result_in_current_cycle(session, org, measure="milestone")
    key = await factories.create_api_key(session, org, ("ingest",))
    soon = datetime.now(UTC) + timedelta(minutes=30)
    cases: list[tuple[KeyResult, dict[str, Any], str]] = [
        (manual, {}, "value"),
        (manual, {"value": 1, "done": True}, "done"),
        (manual, {"value": "many"}, "value"),
        (manual, {"value": 1, "confidence": 1.5}, "confidence"),
        (manual, {"value": 1, "confidence": -0.1}, "confidence"),
        (manual, {"value": 1, "note": "x" * 10_001}, "note"),
        (manual, {"value": 1, "observed_at": "2027-01-01T00:00:00"}, "observed_at"),
        (manual, {"value": 1, "observed_at": soon.isoformat()}, "observed_at"),
        (manual, {"value": 1, "observed_at": "yesterday"}, "observed_at"),
        (manual, {"value": 1, "source": "graphql"}, "source"),
        (
            manual,
            {"value": 1, "author_person_id": "00000000-0000-4000-8000-000000000000"},
            "author_person_id",
        ),
        (milestone, {"value": 1}, "done"),
        (milestone, {"done": "perhaps"}, "done"),
    ]

    for key_result, body, field in cases:
        # when
        response = await client.post(
            f"/v1/key-results/{key_result.id}/check-ins", json=body, headers=bearer(key)
        )

        # then
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in {error["field"] for error in response.json()["errors"]}, (
            body,
            response.json(),
        )
    assert await check_ins_of(session, manual) == []
    assert await check_ins_of(session, milestone) == []
    assert await event_types(session, org) == []


async def test_an_archived_key_result_takes_no_check_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await factories.create_org(session)
    key_result = await key_result_in_current_cycle(session, org, state="archived")
    key = await factories.create_api_key(session, org, ("ingest",))

    response = await client.post(
        f"/v1/key-results/{key_result.id}/check-ins", json={"value": 5}, headers=bearer(key)
    )

    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["code"] == "INVALID_STATE"
    assert await check_ins_of(session, key_result) == []


async def test_a_retry_with_the_same_idempotency_key_records_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await factories.create_org(session)
    key_result = await key_result_in_current_cycle(session, org)
    key = await factories.create_api_key(session, org, ("ingest",))
    url = f"/v1/key-results/{key_result.id}/check-ins"

    # when
    first = await client.post(url, json={"value": 12}, headers=bearer(key, "weekly-2027-03"))
    replay = await client.post(url, json={"value": 12}, headers=bearer(key, "weekly-2027-03"))
    other_body = await client.post(url, json={"value": 13}, headers=bearer(key, "weekly-2027-03"))
    without_key = await client.post(url, json={"value": 12}, headers=bearer(key))

    # then
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert other_body.status_code == 422
    assert without_key.status_code == 201  # no key: a second, distinct check-in
    assert without_key.json()["id"] != first.json()["id"]
    assert sorted(c.value for c in await check_ins_of(session, key_result)) == [12.0, 12.0]


async def test_another_organizations_key_result_takes_no_check_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org_a = await factories.create_org(session)
    key_result = await key_result_in_current_cycle(session, org_a)
    org_b = await factories.create_org(session)
    key_b = await factories.create_api_key(session, org_b, ("admin",))

    # when
    theirs = await client.post(
        f"/v1/key-results/{key_result.id}/check-ins", json={"value": 1}, headers=bearer(key_b)
    )
    missing = await client.post(
        "/v1/key-results/00000000-0000-4000-8000-000000000000/check-ins",
        json={"value": 1},
        headers=bearer(key_b),
    )

    # then
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert await check_ins_of(session, key_result) == []
    assert await event_types(session, org_a) == []


async def test_recording_needs_the_ingest_or_write_scope(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await factories.create_org(session)
    key_result = await key_result_in_current_cycle(session, org)
    read = await factories.create_api_key(session, org, ("read",))
    url = f"/v1/key-results/{key_result.id}/check-ins"

    forbidden = await client.post(url, json={"value": 1}, headers=bearer(read))
    anonymous = await client.post(url, json={"value": 1})

    assert forbidden.status_code == 403
    assert "'ingest' or 'write' scopes" in forbidden.json()["detail"]
    assert anonymous.status_code == 401
    assert await check_ins_of(session, key_result) == []

"""Webhook endpoint rules (inside the test transaction)."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Invalid, NotFound
from service.models import WebhookEndpoint
from service.webhooks import service
from service.webhooks.schemas import EndpointCreate, EndpointUpdate
from tests import factories


async def count_endpoints(session: AsyncSession) -> int:
    return int(
        (await session.execute(select(func.count()).select_from(WebhookEndpoint))).scalar_one()
    )


async def test_a_loopback_url_is_refused_in_production_and_nothing_is_stored(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    before = await count_endpoints(session)

    with pytest.raises(Invalid) as refused:
        await service.create_endpoint(
            session,
            org.id,
            EndpointCreate(url="http://127.0.0.1:8080/h", event_types=["check_in.created"]),
            production=True,
        )

    assert refused.value.field == "url"
    assert await count_endpoints(session) == before


async def test_update_changes_only_the_given_fields_and_validates_them(
    session: AsyncSession,
) -> None:
    # given an endpoint
    org = await factories.create_org(session)
    endpoint, _ = await service.create_endpoint(
        session,
        org.id,
        EndpointCreate(url="http://127.0.0.1/a", event_types=["check_in.created"]),
        production=False,
    )

    # when only the event types change (duplicates and order do not matter)
    updated = await service.update_endpoint(
        session,
        org.id,
        endpoint.id,
        EndpointUpdate(event_types=["objective.created", "check_in.created", "objective.created"]),
        production=False,
    )

    # then the URL stays and the types are cleaned
    assert updated.url == "http://127.0.0.1/a"
    assert updated.event_types == ["check_in.created", "objective.created"]
    with pytest.raises(Invalid):
        await service.update_endpoint(
            session, org.id, endpoint.id, EndpointUpdate(event_types=[]), production=False
        )


async def test_enabling_clears_the_failure_streak(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    endpoint, _ = await service.create_endpoint(
        session,
        org.id,
        EndpointCreate(url="http://127.0.0.1/a", event_types=["check_in.created"]),
        production=False,
    )
    disabled = await service.set_enabled(session, org.id, endpoint.id, False)
    assert disabled.disabled_at is not None
    disabled.consecutive_failures = 7

    enabled = await service.set_enabled(session, org.id, endpoint.id, True)

    assert (enabled.enabled, enabled.consecutive_failures, enabled.disabled_at) == (True, 0, None)


async def test_another_organizations_endpoint_behaves_as_missing(session: AsyncSession) -> None:
    org, other = await factories.create_org(session), await factories.create_org(session)
    theirs, _ = await service.create_endpoint(
        session,
        other.id,
        EndpointCreate(url="http://127.0.0.1/a", event_types=["check_in.created"]),
        production=False,
    )

    with pytest.raises(NotFound):
        await service.ping(session, org.id, theirs.id)

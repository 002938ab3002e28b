import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.db import outbox
from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.events.catalog import EventType
from service.models import Organization
from service.organizations import repository
from service.organizations.schemas import OrganizationUpdate, StatusThresholds
from service.statuses import tracker


def clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("name must be 1 to 200 characters", field="name")
    return name


async def create_organization(
    session: AsyncSession, name: str, thresholds: StatusThresholds | None = None
) -> Organization:
    org = Organization(
        name=clean_name(name), settings=(thresholds or StatusThresholds()).model_dump()
    )
    session.add(org)
    await session.flush()
    return org


async def get_organization(session: AsyncSession, org_id: uuid.UUID) -> Organization:
    org = await repository.get(session, org_id)
    if org is None:
        raise NotFound("organization not found")
    return org


def thresholds(org: Organization) -> StatusThresholds:
    """The organization's status thresholds (defaults for missing ones; other keys ignored)."""
    settings = org.settings or {}
    return StatusThresholds.model_validate(
        {name: settings[name] for name in StatusThresholds.model_fields if name in settings}
    )


def organization_payload(org: Organization) -> dict[str, Any]:
    current = thresholds(org)
    return {
        "id": str(org.id),
        "name": org.name,
        "on_track_ratio": current.on_track_ratio,
        "at_risk_ratio": current.at_risk_ratio,
    }


def _updated_thresholds(current: StatusThresholds, data: OrganizationUpdate) -> StatusThresholds:
    """`current` with the ratios `data` sets; refuses nulls and an at-risk above on-track."""
    changes = data.model_fields_set
    for field in ("on_track_ratio", "at_risk_ratio"):
        if field in changes and getattr(data, field) is None:
            raise Invalid(f"{field} cannot be null", field=field, code=ErrorCode.REQUIRED)
    on_track = data.on_track_ratio if "on_track_ratio" in changes else current.on_track_ratio
    at_risk = data.at_risk_ratio if "at_risk_ratio" in changes else current.at_risk_ratio
    assert on_track is not None and at_risk is not None
    if at_risk > on_track:
        # The field at fault is the one given (at_risk_ratio when both are).
        field = "at_risk_ratio" if "at_risk_ratio" in changes else "on_track_ratio"
        raise DomainError(
            f"at_risk_ratio ({at_risk}) must not exceed on_track_ratio ({on_track})",
            field=field,
            code=ErrorCode.OUT_OF_RANGE,
        )
    return StatusThresholds(on_track_ratio=on_track, at_risk_ratio=at_risk)


async def update_organization(
    session: AsyncSession, org_id: uuid.UUID, data: OrganizationUpdate
) -> Organization:
    """Rename the organization or change its status thresholds; only given fields change.

    Statuses are computed on read from `organizations.settings`, so new thresholds apply to
    every status asked for afterwards (no stored status to rewrite); a change of thresholds
    emits `key_result.status_changed` for every active key result whose status it moves.
    """
    org = await repository.get(session, org_id, for_update=True)
    if org is None:
        raise NotFound("organization not found")
    changes = data.model_fields_set
    name = org.name
    if "name" in changes:
        if data.name is None:
            raise Invalid("name cannot be empty", field="name", code=ErrorCode.REQUIRED)
        name = clean_name(data.name)
    current = thresholds(org)
    updated = _updated_thresholds(current, data)
    if name == org.name and updated == current:
        return org  # nothing changes: nothing written, nothing emitted
    # New thresholds move statuses: announce each key result whose status they change.
    before = (
        await tracker.snapshot(session, org_id, await tracker.active_key_results(session, org_id))
        if updated != current
        else {}
    )
    org.name = name
    # A new dict: JSONB columns do not track in-place changes; other settings keys are kept.
    org.settings = {**(org.settings or {}), **updated.model_dump()}
    await session.flush()
    await outbox.emit(
        session, org_id, EventType.ORGANIZATION_UPDATED, org.id, organization_payload(org)
    )
    await tracker.announce_changes(session, org_id, before)
    return org

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Invalid, NotFound
from service.models import Organization
from service.organizations import repository
from service.organizations.schemas import StatusThresholds


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
    return StatusThresholds.model_validate(org.settings)

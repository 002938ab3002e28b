import uuid

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiKey

# The per-request lookup as a ready text statement: an ORM-enabled select() rebuilt per
# request (construction, cache key, ORM result setup) costs the event loop more, on a path
# every single-point push takes (docs/decisions/0011-connection-pool-and-per-request-overhead.md).
ACTIVE_KEY_BY_HASH = text(
    """
    SELECT org_id, id, scopes FROM api_keys
    WHERE secret_hash = :secret_hash AND revoked_at IS NULL
    """
)


async def active_key_by_hash(
    session: AsyncSession, secret_hash: bytes
) -> tuple[uuid.UUID, uuid.UUID, list[str]] | None:
    """(org_id, key id, scopes) of the unrevoked key with this hash (unique)."""
    result = await session.execute(ACTIVE_KEY_BY_HASH, {"secret_hash": secret_hash})
    row = result.first()
    return None if row is None else (row[0], row[1], list(row[2]))


async def is_active(session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Whether the key exists and is not revoked."""
    result = await session.execute(
        select(ApiKey.id).where(
            ApiKey.org_id == org_id, ApiKey.id == key_id, ApiKey.revoked_at.is_(None)
        )
    )
    return result.first() is not None


def keys_statement(org_id: uuid.UUID, *, include_revoked: bool) -> Select[ApiKey]:
    """The organization's keys, for the GraphQL list and the command line."""
    statement = select(ApiKey).where(ApiKey.org_id == org_id)
    if not include_revoked:
        statement = statement.where(ApiKey.revoked_at.is_(None))
    return statement


async def list_for_org(session: AsyncSession, org_id: uuid.UUID) -> list[ApiKey]:
    """Every key of the organization, revoked ones too, oldest first."""
    statement = keys_statement(org_id, include_revoked=True)
    result = await session.execute(statement.order_by(ApiKey.created_at, ApiKey.id))
    return list(result.scalars())

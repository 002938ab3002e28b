"""API keys: creation (secret shown once), authentication and revocation."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import keys, repository
from service.auth.principal import Principal
from service.errors import Invalid
from service.kit import rows
from service.models import ApiKey, Scope


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    scopes: set[Scope] = set()
    for value in values:
        try:
            scopes.add(Scope(value))
        except ValueError:
            allowed = ", ".join(scope.value for scope in Scope)
            raise Invalid(f"unknown scope {value!r}; allowed: {allowed}", field="scopes") from None
    if not scopes:
        raise Invalid("an API key needs at least one scope", field="scopes")
    return frozenset(scopes)


async def create_key(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    name: str,
    scopes: Iterable[str],
    created_by_person_id: uuid.UUID | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its secret, which is never available again."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("name must be 1 to 200 characters", field="name")
    parsed = parse_scopes(scopes)
    secret = keys.generate_key()
    api_key = ApiKey(
        org_id=org_id,
        name=name,
        scopes=sorted(scope.value for scope in parsed),
        prefix=keys.display_prefix(secret),
        secret_hash=keys.hash_key(secret),
        created_by_person_id=created_by_person_id,
    )
    session.add(api_key)
    await session.flush()
    return api_key, secret


async def authenticate(session: AsyncSession, raw_key: str) -> Principal | None:
    """The principal for a bearer key, or None for a malformed, unknown or revoked key."""
    if not keys.is_well_formed(raw_key):
        return None
    # Read on every request, never cached: a revoked key fails on its next request.
    found = await repository.active_key_by_hash(session, keys.hash_key(raw_key))
    if found is None:
        return None
    org_id, api_key_id, scopes = found
    return Principal(
        org_id=org_id,
        api_key_id=api_key_id,
        scopes=frozenset(Scope(scope) for scope in scopes),
    )


async def revoke_key(session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    api_key = await rows.get_one(session, ApiKey, org_id, key_id, what="API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = datetime.now(UTC)
        await session.flush()
    return api_key


async def list_keys(session: AsyncSession, org_id: uuid.UUID) -> list[ApiKey]:
    return await repository.list_for_org(session, org_id)

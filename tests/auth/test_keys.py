import hashlib
import re
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import keys
from service.auth.service import authenticate, create_key, list_keys, revoke_key
from service.errors import Invalid, NotFound
from service.models import ApiKey, Scope
from tests.conftest import StatementCounter
from tests.factories import create_org


def one_character_typos(key: str) -> list[str]:
    """Every key that differs from `key` in exactly one character after the `lsk_` prefix."""
    typos = []
    for position in range(len(keys.KEY_PREFIX), len(key)):
        replacement = keys.ALPHABET[(keys.ALPHABET.index(key[position]) + 1) % len(keys.ALPHABET)]
        typos.append(key[:position] + replacement + key[position + 1 :])
    return typos


def test_a_key_is_lsk_and_46_base62_characters() -> None:
    key = keys.generate_key()

    assert re.fullmatch(r"lsk_[0-9A-Za-z]{46}", key)
    assert len(key) == keys.KEY_LENGTH == 50
    assert keys.is_well_formed(key)
    assert keys.display_prefix(key) == key[:12]


def test_keys_are_random() -> None:
    assert len({keys.generate_key() for _ in range(100)}) == 100


def test_the_checksum_catches_every_one_character_typo() -> None:
    for _ in range(20):
        key = keys.generate_key()
        for typo in one_character_typos(key):
            assert not keys.is_well_formed(typo), typo


def test_the_checksum_catches_swapped_neighbours() -> None:
    key = keys.generate_key()
    body_start = len(keys.KEY_PREFIX)
    for position in range(body_start, len(key) - 1):
        if key[position] != key[position + 1]:
            swapped = key[:position] + key[position + 1] + key[position] + key[position + 2 :]
            assert not keys.is_well_formed(swapped), swapped


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1],
        lambda key: key + "0",
        lambda key: "lsK_" + key[4:],
        lambda key: key[:10] + "-" + key[11:],
        lambda key: "",
        lambda key: f"Bearer {key}",
    ],
)
def test_malformed_keys_are_not_well_formed(mangle: Callable[[str], str]) -> None:
    assert not keys.is_well_formed(mangle(keys.generate_key()))


async def test_a_typo_is_refused_without_touching_the_database(
    session: AsyncSession, statements: StatementCounter
) -> None:
    # given
    org = await create_org(session)
    _, secret = await create_key(session, org.id, name="ci", scopes=["ingest"])
    typo = one_character_typos(secret)[17]
    statements.reset()

    # when
    principal = await authenticate(session, typo)

    # then
    assert principal is None
    assert statements.count == 0


async def test_the_right_key_authenticates_with_one_lookup(
    session: AsyncSession, statements: StatementCounter
) -> None:
    org = await create_org(session)
    api_key, secret = await create_key(session, org.id, name="ci", scopes=["ingest", "read"])
    statements.reset()

    principal = await authenticate(session, secret)

    assert principal is not None
    assert (principal.org_id, principal.api_key_id) == (org.id, api_key.id)
    assert principal.scopes == frozenset({Scope.ingest, Scope.read})
    assert statements.count == 1


async def test_a_well_formed_unknown_key_is_refused(session: AsyncSession) -> None:
    assert await authenticate(session, keys.generate_key()) is None


async def test_only_the_hash_of_the_secret_is_stored(session: AsyncSession) -> None:
    org = await create_org(session)
    api_key, secret = await create_key(session, org.id, name="ci", scopes=["read"])

    assert api_key.secret_hash == hashlib.sha256(secret.encode()).digest()
    assert api_key.prefix == secret[:12]
    stored = await session.scalar(select(ApiKey.secret_hash).where(ApiKey.id == api_key.id))
    assert stored is not None and secret.encode() not in stored


async def test_a_revoked_key_is_refused(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    api_key, secret = await create_key(session, org.id, name="ci", scopes=["read"])
    assert await authenticate(session, secret) is not None

    # when
    revoked = await revoke_key(session, org.id, api_key.id)

    # then
    assert revoked.revoked_at is not None
    assert await authenticate(session, secret) is None


async def test_revoking_twice_keeps_the_first_revocation_time(session: AsyncSession) -> None:
    org = await create_org(session)
    api_key, _ = await create_key(session, org.id, name="ci", scopes=["read"])

    first = (await revoke_key(session, org.id, api_key.id)).revoked_at
    second = (await revoke_key(session, org.id, api_key.id)).revoked_at

    assert first is not None and second == first


async def test_revoking_another_orgs_key_is_not_found_and_leaves_it_working(
    session: AsyncSession,
) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    their_key, their_secret = await create_key(
        session, other_org.id, name="theirs", scopes=["read"]
    )

    # when / then
    with pytest.raises(NotFound):
        await revoke_key(session, org.id, their_key.id)
    with pytest.raises(NotFound):
        await revoke_key(session, org.id, uuid.uuid4())
    await session.refresh(their_key)
    assert their_key.revoked_at is None
    assert await authenticate(session, their_secret) is not None


async def test_keys_are_listed_per_org(session: AsyncSession) -> None:
    org, other_org = await create_org(session), await create_org(session)
    mine, _ = await create_key(session, org.id, name="mine", scopes=["read"])
    await create_key(session, other_org.id, name="theirs", scopes=["read"])

    assert [key.id for key in await list_keys(session, org.id)] == [mine.id]


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [("ci", [], "scopes"), ("ci", ["read", "root"], "scopes"), ("  ", ["read"], "name")],
)
async def test_bad_key_input_is_refused(
    session: AsyncSession, name: str, scopes: list[str], field: str
) -> None:
    org = await create_org(session)

    with pytest.raises(Invalid) as error:
        await create_key(session, org.id, name=name, scopes=scopes)

    assert error.value.field == field
    assert await list_keys(session, org.id) == []

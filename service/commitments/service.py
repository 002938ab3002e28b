"""Commitments: binary, verifiable deliverables with one person owner and a due date.

Decisions:
- The owner is exactly one person (human or agent) of the organization; a team id is
  WRONG_OWNER (shared work is split into several commitments).
- States: open → done (`complete`), open → dropped (`drop`), done/dropped → open
  (`reopen`). Anything else is INVALID_STATE. Reopening clears done_at, dropped_at and
  evidence_url (the evidence belongs to the completion that was undone).
- `done_at` defaults to now; a given one must carry a time zone and may be at most
  FUTURE_TOLERANCE ahead of now. `evidence_url` is an absolute http(s) URL.
- Fields (title, success criteria, owner, due date) change only while open: a done or
  dropped commitment is a record; reopen it first. The supported key results can be
  changed in any state (a link can be discovered after the fact).
- Supported key results must all be key results of the organization (any state);
  duplicates in the input count once; adding one already supported changes nothing.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from service.commitments import repository
from service.commitments.schemas import (
    CommitmentCreate,
    CommitmentFilter,
    CommitmentRead,
    CommitmentUpdate,
)
from service.db.outbox import emit
from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.events.catalog import EventType
from service.key_results import repository as key_results_repository
from service.key_results.service import check_person_owner
from service.models import Commitment, CommitmentState
from service.objectives.service import check_page_size, clean_title

SUCCESS_CRITERIA_MAX = 5000
EVIDENCE_URL_MAX = 2048
FUTURE_TOLERANCE = timedelta(minutes=10)


async def commitment_payload(session: AsyncSession, commitment: Commitment) -> dict[str, Any]:
    payload = CommitmentRead.model_validate(commitment).model_dump(mode="json")
    links = await repository.key_result_ids_of(session, commitment.org_id, [commitment.id])
    payload["key_result_ids"] = [str(key_result_id) for _, key_result_id in links]
    return payload


def clean_success_criteria(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(
            "success_criteria must say what done means",
            field="success_criteria",
            code=ErrorCode.REQUIRED,
        )
    if len(text) > SUCCESS_CRITERIA_MAX:
        raise Invalid(
            f"success_criteria must be at most {SUCCESS_CRITERIA_MAX} characters",
            field="success_criteria",
        )
    return text


def clean_evidence_url(url: str | None) -> str | None:
    if url is None:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise Invalid("evidence_url must be an absolute http or https URL", field="evidence_url")
    if len(url) > EVIDENCE_URL_MAX:
        raise Invalid(
            f"evidence_url must be at most {EVIDENCE_URL_MAX} characters", field="evidence_url"
        )
    return url


def check_done_at(done_at: datetime | None, now: datetime) -> datetime:
    if done_at is None:
        return now
    if done_at.tzinfo is None or done_at.utcoffset() is None:
        raise Invalid("done_at must carry a time zone", field="done_at")
    if done_at > now + FUTURE_TOLERANCE:
        raise Invalid(
            "done_at must not be in the future", field="done_at", code=ErrorCode.OUT_OF_RANGE
        )
    return done_at.astimezone(UTC)


async def check_key_results(
    session: AsyncSession, org_id: uuid.UUID, key_result_ids: Collection[uuid.UUID]
) -> None:
    found = await key_results_repository.list_by_ids(session, org_id, key_result_ids)
    if len(found) != len(set(key_result_ids)):
        missing = sorted(str(id) for id in set(key_result_ids) - {kr.id for kr in found})
        raise NotFound(f"key results not found: {', '.join(missing)}", field="key_result_ids")


def require_state(commitment: Commitment, allowed: set[CommitmentState], action: str) -> None:
    if CommitmentState(commitment.state) not in allowed:
        raise DomainError(
            f"a {commitment.state} commitment cannot be {action}",
            code=ErrorCode.INVALID_STATE,
        )


async def get_commitment(
    session: AsyncSession, org_id: uuid.UUID, commitment_id: uuid.UUID, *, for_update: bool = False
) -> Commitment:
    commitment = await repository.get(session, org_id, commitment_id, for_update=for_update)
    if commitment is None:
        raise NotFound("commitment not found", field="id")
    return commitment


async def get_commitments(
    session: AsyncSession, org_id: uuid.UUID, commitment_ids: Sequence[uuid.UUID]
) -> list[Commitment | None]:
    """The commitments in the order of `commitment_ids`, None where missing (for dataloaders)."""
    found = {c.id: c for c in await repository.list_by_ids(session, org_id, set(commitment_ids))}
    return [found.get(commitment_id) for commitment_id in commitment_ids]


async def list_commitments(
    session: AsyncSession,
    org_id: uuid.UUID,
    filters: CommitmentFilter | None = None,
    *,
    limit: int = 100,
    after: uuid.UUID | None = None,
) -> list[Commitment]:
    """Up to `limit` commitments by due date, starting after the commitment `after`."""
    return await repository.list_for_org(
        session, org_id, filters or CommitmentFilter(), limit=check_page_size(limit), after=after
    )


async def list_key_result_ids(
    session: AsyncSession, org_id: uuid.UUID, commitment_id: uuid.UUID
) -> list[uuid.UUID]:
    await get_commitment(session, org_id, commitment_id)
    rows = await repository.key_result_ids_of(session, org_id, [commitment_id])
    return [key_result_id for _, key_result_id in rows]


async def key_result_ids_by_commitment(
    session: AsyncSession, org_id: uuid.UUID, commitment_ids: Sequence[uuid.UUID]
) -> list[list[uuid.UUID]]:
    """Supported key-result ids of each commitment, in input order (one query)."""
    grouped: dict[uuid.UUID, list[uuid.UUID]] = {id: [] for id in commitment_ids}
    for commitment_id, key_result_id in await repository.key_result_ids_of(
        session, org_id, set(commitment_ids)
    ):
        grouped[commitment_id].append(key_result_id)
    return [grouped[id] for id in commitment_ids]


async def commitment_ids_by_key_result(
    session: AsyncSession, org_id: uuid.UUID, key_result_ids: Sequence[uuid.UUID]
) -> list[list[uuid.UUID]]:
    """Ids of the commitments supporting each key result, in input order (one query)."""
    grouped: dict[uuid.UUID, list[uuid.UUID]] = {id: [] for id in key_result_ids}
    for key_result_id, commitment_id in await repository.commitment_ids_of(
        session, org_id, set(key_result_ids)
    ):
        grouped[key_result_id].append(commitment_id)
    return [grouped[id] for id in key_result_ids]


async def create_commitment(
    session: AsyncSession, org_id: uuid.UUID, data: CommitmentCreate
) -> Commitment:
    title = clean_title(data.title)
    success_criteria = clean_success_criteria(data.success_criteria)
    key_result_ids = list(dict.fromkeys(data.key_result_ids))
    await check_person_owner(
        session,
        org_id,
        data.owner_person_id,
        owned="a commitment (split shared work into several commitments)",
    )
    await check_key_results(session, org_id, key_result_ids)
    commitment = Commitment(
        org_id=org_id,
        title=title,
        success_criteria=success_criteria,
        owner_person_id=data.owner_person_id,
        due_on=data.due_on,
        state=CommitmentState.open.value,
    )
    session.add(commitment)
    await session.flush()
    repository.add_key_results(session, org_id, commitment.id, key_result_ids)
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.COMMITMENT_CREATED,
        commitment.id,
        await commitment_payload(session, commitment),
    )
    return commitment


async def update_commitment(
    session: AsyncSession, org_id: uuid.UUID, commitment_id: uuid.UUID, data: CommitmentUpdate
) -> Commitment:
    commitment = await get_commitment(session, org_id, commitment_id, for_update=True)
    require_state(commitment, {CommitmentState.open}, "edited; reopen it first")
    fields = data.model_fields_set
    changes: dict[str, Any] = {}
    if "title" in fields:
        if data.title is None:
            raise Invalid("title must not be empty", field="title", code=ErrorCode.REQUIRED)
        changes["title"] = clean_title(data.title)
    if "success_criteria" in fields:
        changes["success_criteria"] = clean_success_criteria(data.success_criteria)
    if "due_on" in fields:
        if data.due_on is None:
            raise Invalid("a commitment needs due_on", field="due_on", code=ErrorCode.REQUIRED)
        changes["due_on"] = data.due_on
    if "owner_person_id" in fields:
        if data.owner_person_id is None:
            raise Invalid(
                "a commitment has exactly one owner",
                field="owner_person_id",
                code=ErrorCode.REQUIRED,
            )
        if data.owner_person_id != commitment.owner_person_id:
            await check_person_owner(
                session,
                org_id,
                data.owner_person_id,
                owned="a commitment (split shared work into several commitments)",
            )
        changes["owner_person_id"] = data.owner_person_id

    changed = {name: value for name, value in changes.items() if getattr(commitment, name) != value}
    if not changed:
        return commitment
    for name, value in changed.items():
        setattr(commitment, name, value)
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.COMMITMENT_UPDATED,
        commitment.id,
        await commitment_payload(session, commitment),
    )
    return commitment


async def update_commitment_and_key_results(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    data: CommitmentUpdate,
    key_result_ids: Collection[uuid.UUID] | None = None,
) -> Commitment:
    """`update_commitment`, then, when `key_result_ids` is given, `set_key_results`.

    Each step that changes something emits its own `commitment.updated`, in that order.
    """
    commitment = await update_commitment(session, org_id, commitment_id, data)
    if key_result_ids is not None:
        await set_key_results(session, org_id, commitment_id, key_result_ids)
    return commitment


async def complete_commitment(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    *,
    done_at: datetime | None = None,
    evidence_url: str | None = None,
    now: datetime | None = None,
) -> Commitment:
    when = check_done_at(done_at, now or datetime.now(UTC))
    url = clean_evidence_url(evidence_url)
    commitment = await get_commitment(session, org_id, commitment_id, for_update=True)
    require_state(commitment, {CommitmentState.open}, "completed")
    commitment.state = CommitmentState.done.value
    commitment.done_at = when
    commitment.evidence_url = url
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.COMMITMENT_COMPLETED,
        commitment.id,
        await commitment_payload(session, commitment),
    )
    return commitment


async def drop_commitment(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> Commitment:
    commitment = await get_commitment(session, org_id, commitment_id, for_update=True)
    require_state(commitment, {CommitmentState.open}, "dropped")
    commitment.state = CommitmentState.dropped.value
    commitment.dropped_at = now or datetime.now(UTC)
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.COMMITMENT_DROPPED,
        commitment.id,
        await commitment_payload(session, commitment),
    )
    return commitment


async def reopen_commitment(
    session: AsyncSession, org_id: uuid.UUID, commitment_id: uuid.UUID
) -> Commitment:
    commitment = await get_commitment(session, org_id, commitment_id, for_update=True)
    require_state(commitment, {CommitmentState.done, CommitmentState.dropped}, "reopened")
    commitment.state = CommitmentState.open.value
    commitment.done_at = None
    commitment.dropped_at = None
    commitment.evidence_url = None
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.COMMITMENT_REOPENED,
        commitment.id,
        await commitment_payload(session, commitment),
    )
    return commitment


async def _change_key_results(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    *,
    add: Collection[uuid.UUID] = (),
    remove: Collection[uuid.UUID] = (),
    replace: Collection[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    commitment = await get_commitment(session, org_id, commitment_id, for_update=True)
    rows = await repository.key_result_ids_of(session, org_id, [commitment_id])
    current = {key_result_id for _, key_result_id in rows}
    wanted = set(replace) if replace is not None else (current | set(add)) - set(remove)
    if replace is None and set(remove) - current:
        raise NotFound(
            "the commitment does not support some of those key results", field="key_result_ids"
        )
    to_add, to_remove = wanted - current, current - wanted
    await check_key_results(session, org_id, to_add)
    if to_add or to_remove:
        await repository.remove_key_results(session, org_id, commitment_id, to_remove)
        repository.add_key_results(session, org_id, commitment_id, to_add)
        await session.flush()
        await emit(
            session,
            org_id,
            EventType.COMMITMENT_UPDATED,
            commitment.id,
            await commitment_payload(session, commitment),
        )
    rows = await repository.key_result_ids_of(session, org_id, [commitment_id])
    return [key_result_id for _, key_result_id in rows]


async def set_key_results(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    key_result_ids: Collection[uuid.UUID],
) -> list[uuid.UUID]:
    """Make the commitment support exactly these key results; returns the supported ids."""
    return await _change_key_results(session, org_id, commitment_id, replace=key_result_ids)


async def add_key_results(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    key_result_ids: Collection[uuid.UUID],
) -> list[uuid.UUID]:
    return await _change_key_results(session, org_id, commitment_id, add=key_result_ids)


async def remove_key_results(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    key_result_ids: Collection[uuid.UUID],
) -> list[uuid.UUID]:
    """Stop supporting these key results; one the commitment does not support is NotFound."""
    return await _change_key_results(session, org_id, commitment_id, remove=key_result_ids)

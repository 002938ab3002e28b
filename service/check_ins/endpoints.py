"""REST: `POST /v1/key-results/{id}/check-ins` — integrations record check-ins."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from service.auth.dependencies import SessionDep, require
from service.auth.principal import Principal
from service.check_ins.schemas import CheckInCreate, CheckInRead
from service.check_ins.service import NOTE_MAX, create_check_in
from service.idempotency.rest import REPLAYED_RESPONSE, IdempotencyKey, respond_once
from service.idempotency.service import StoredResponse
from service.key_results.endpoints import KeyResultId
from service.models import CheckInSource, Scope
from service.problems import problem_responses

router = APIRouter(prefix="/v1/key-results", tags=["check-ins"])

Recorder = Annotated[Principal, require(Scope.ingest, Scope.write)]


class CheckInIn(BaseModel):
    """A check-in sent over REST: `value` for manual and metric key results, `done` for
    milestones. Its source is recorded as `api`."""

    model_config = ConfigDict(extra="forbid", title="CheckInIn")

    value: float | None = Field(
        default=None, allow_inf_nan=False, description="The observed value (not for milestones)."
    )
    done: bool | None = Field(default=None, description="Whether a milestone is done.")
    confidence: float | None = Field(
        default=None, ge=0, le=1, allow_inf_nan=False, description="Confidence, 0 to 1."
    )
    note: str = Field(default="", max_length=NOTE_MAX, description="Free-text note.")
    author_person_id: uuid.UUID | None = Field(
        default=None, description="The person the check-in is from, if any."
    )
    observed_at: datetime | None = Field(
        default=None,
        description="When the value was true, with a time zone, at most 10 minutes ahead "
        "(default: now). A check-in observed earlier than the latest one is history, not the "
        "current value.",
    )


@router.post(
    "/{id}/check-ins",
    operation_id="check_in_create",
    summary="Record a check-in on a key result.",
    description="Append-only: a correction is a new check-in. Archived key results take none "
    "(409). With `Idempotency-Key`, a retry replays the first answer.",
    status_code=201,
    response_model=CheckInRead,
    responses={
        201: {"description": "Recorded.", "headers": REPLAYED_RESPONSE},
        **problem_responses(401, 403, 404, 409, 413, 422, 429),
    },
)
async def record_check_in(
    key_result: KeyResultId,
    data: CheckInIn,
    request: Request,
    session: SessionDep,
    principal: Recorder,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def work() -> StoredResponse:
        check_in = await create_check_in(
            session,
            principal.org_id,
            key_result,
            CheckInCreate(**data.model_dump(), source=CheckInSource.api),
        )
        return StoredResponse(
            status=201, body=CheckInRead.model_validate(check_in).model_dump(mode="json")
        )

    return await respond_once(request, session, principal, await request.body(), work)

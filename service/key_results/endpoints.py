"""REST: `GET /v1/key-results/{id}` — a key result and its numbers, for tools without GraphQL."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from service import global_ids
from service.auth.dependencies import SessionDep, require
from service.auth.principal import Principal
from service.errors import Invalid
from service.key_results.schemas import DeliveryRead, KeyResultRead, KeyResultReport
from service.key_results.service import get_key_result
from service.models import Scope
from service.problems import problem_responses
from service.rollups.service import key_result_rollup, resolve_as_of

router = APIRouter(prefix="/v1/key-results", tags=["key results"])

Reader = Annotated[Principal, require(Scope.read)]
GRAPHQL_TYPE = "KeyResult"


def parse_key_result_id(
    id: Annotated[
        str,
        Path(
            description="The key result's UUID (as in webhook payloads) or its GraphQL ID.",
            examples=["0b8e3c1e-4f6a-4c1d-9a57-2f3d8f1c2b7a"],
        ),
    ],
) -> uuid.UUID:
    """The UUID a path `{id}` names; 422 when it is neither form."""
    found = global_ids.uuid_or_global_id(id, GRAPHQL_TYPE)
    if found is None:
        raise Invalid("id must be a key result's UUID or its GraphQL ID", field="id")
    return found


KeyResultId = Annotated[uuid.UUID, Depends(parse_key_result_id)]


@router.get(
    "/{id}",
    operation_id="key_result_get",
    summary="A key result with its progress, status and delivery as of an instant.",
    description="The numbers are the ones the GraphQL fields of the same names return "
    "(`currentValue`, `attainment`, `progress`, `status`, `expectedProgress`, `delivery`), "
    "computed as of `as_of` (default: now). Archived key results are readable too.",
    response_model=KeyResultReport,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def get_key_result_report(
    key_result: KeyResultId,
    session: SessionDep,
    principal: Reader,
    as_of: Annotated[
        datetime | None,
        Query(description="The instant, with a time zone (default now)."),
    ] = None,
) -> KeyResultReport:
    instant = resolve_as_of(as_of, field="as_of")
    model = await get_key_result(session, principal.org_id, key_result)
    rollup = await key_result_rollup(session, principal.org_id, model.id, as_of=instant)
    return KeyResultReport(
        **KeyResultRead.model_validate(model).model_dump(),
        graphql_id=global_ids.encode(GRAPHQL_TYPE, model.id),
        as_of=rollup.as_of.astimezone(UTC),
        current_value=rollup.current_value,
        attainment=rollup.attainment,
        progress=rollup.progress,
        status=rollup.status,
        expected_progress=rollup.expected_progress,
        confidence=rollup.confidence,
        delivery=DeliveryRead.model_validate(rollup.delivery),
    )

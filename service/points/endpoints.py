"""REST ingestion: `POST /v1/points` and `POST /v1/metrics/{key}/points`."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse

from service.auth.dependencies import SessionDep, require
from service.auth.principal import Principal
from service.idempotency.rest import (
    REPLAYED_HEADER,
    REPLAYED_RESPONSE,
    IdempotencyKey,
    respond_once,
)
from service.idempotency.service import StoredResponse
from service.models import Scope
from service.points import parsing, service
from service.points.schemas import IngestResult, PointIn
from service.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["points"])


Ingester = Annotated[Principal, require(Scope.ingest, Scope.write)]


def _request_body(metric_required: bool) -> dict[str, Any]:
    point = PointIn.model_json_schema()
    if not metric_required:
        point["required"] = [name for name in point.get("required", []) if name != "metric"]
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["points"],
                        "additionalProperties": False,
                        "properties": {
                            "points": {"type": "array", "maxItems": 10_000, "items": point}
                        },
                    }
                },
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "One point object per line."}
                },
                "text/csv": {
                    "schema": {
                        "type": "string",
                        "description": "Header `metric,ts,value[,source][,dim.<name>...]` "
                        + ("" if metric_required else "(`metric` optional) ")
                        + "then one point per row; empty cells are absent.",
                    }
                },
            },
        }
    }


_DESCRIPTION = (
    "Atomic: every point is stored, or none is and the 422 lists each bad point "
    "(`index`, `field`, `code`, `message`). At most 10,000 points and 10 MB (413 beyond). "
    "Identity is (metric, ts, dimensions): the last write wins, also within one request. "
    "The answer is sent once the batch is committed."
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Committed. With a replayed `Idempotency-Key` the first response again, "
        f"with `{REPLAYED_HEADER}: true`.",
        "headers": REPLAYED_RESPONSE,
    },
    **problem_responses(401, 403, 404, 409, 413, 415, 422, 429),
}


async def _ingest(
    request: Request, session: SessionDep, principal: Principal, route_metric: str | None
) -> JSONResponse:
    settings = request.app.state.settings
    fmt = parsing.body_format(request.headers.get("content-type"))
    if fmt is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="send application/json, application/x-ndjson or text/csv",
        )
    body = await request.body()  # RequestSizeLimitMiddleware already refused > 10 MB (413)
    batch = parsing.parse(body, fmt, metric_column_required=route_metric is None)
    if len(batch.items) > settings.max_points_per_request:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"at most {settings.max_points_per_request} points per request; "
            f"got {len(batch.items)}",
        )

    async def work() -> StoredResponse:
        result = await service.ingest(
            session,
            principal.org_id,
            batch.items,
            route_metric=route_metric,
            text_values=batch.text_values,
            max_future_skew_seconds=settings.max_future_skew_seconds,
            errors=batch.errors,
        )
        return StoredResponse(status=200, body=result.model_dump())

    return await respond_once(request, session, principal, body, work)


@router.post(
    "/points",
    operation_id="points_ingest",
    summary="Push a batch of points for any metrics.",
    description=_DESCRIPTION,
    response_model=IngestResult,
    responses=_RESPONSES,
    openapi_extra=_request_body(metric_required=True),
)
async def ingest_points(
    request: Request,
    session: SessionDep,
    principal: Ingester,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _ingest(request, session, principal, route_metric=None)


@router.post(
    "/metrics/{key}/points",
    operation_id="metric_points_ingest",
    summary="Push a batch of points for one metric.",
    description=_DESCRIPTION + " Points may omit `metric`; if given it must be `key`.",
    response_model=IngestResult,
    responses=_RESPONSES,
    openapi_extra=_request_body(metric_required=False),
)
async def ingest_metric_points(
    key: str,
    request: Request,
    session: SessionDep,
    principal: Ingester,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _ingest(request, session, principal, route_metric=key)

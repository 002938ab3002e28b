"""Liveness and readiness probes."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.migrations import database_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", summary="The process is up.")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="The database answers and its schema is at the latest migration.",
    responses={503: {"description": "Not ready: database unreachable or not migrated."}},
)
async def readyz(request: Request) -> JSONResponse:
    head = head_revision()
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await database_revision(conn)
    except Exception as exc:  # any failure to reach the database means not ready
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
        )
    ready = current == head
    return JSONResponse(
        {"status": "ok" if ready else "migrations_pending", "revision": current, "head": head},
        status_code=200 if ready else 503,
    )

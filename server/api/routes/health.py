"""GET /api/v1/health: is the process up and can it reach its database."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from server.api.deps import ServicesDep
from server.api.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def health(services: ServicesDep) -> HealthResponse | JSONResponse:
    """Report liveness and database reachability."""
    now = services.clock()
    try:
        with services.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        body = HealthResponse(status="degraded", database="unreachable", server_time_ms=now)
        return JSONResponse(body.model_dump(), status_code=503)
    return HealthResponse(status="ok", database="ok", server_time_ms=now)

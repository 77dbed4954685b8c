"""POST /api/v1/enroll: a one-time code and a public key become a terminal."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Connection

from server.api.deps import ApiProblem, ServicesDep
from server.api.schemas import ErrorBody
from server.enroll import EnrollError, enroll_terminal
from server.event import get_event_settings
from server.issuer import issuer_key_rows
from sync.schemas import EnrollRequest, EnrollResponse

router = APIRouter(tags=["terminals"])


@router.post("/enroll", response_model=EnrollResponse,
             responses={401: {"model": ErrorBody}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def enroll(request: EnrollRequest, services: ServicesDep) -> EnrollResponse:
    """Enroll a terminal: 401 unknown code, 409 used or expired code, 422 bad public key."""
    now = services.clock()

    def work(conn: Connection) -> EnrollResponse:
        enrolled = enroll_terminal(conn, request, now_ms=now)
        return EnrollResponse(terminal=enrolled.terminal, api_token=enrolled.api_token,
                              issuer_keys=issuer_key_rows(conn), settings=get_event_settings(conn),
                              server_time_ms=now)

    try:
        return services.db.run_write(work, attempts=1)
    except EnrollError as exc:
        raise ApiProblem(exc.status, str(exc)) from exc

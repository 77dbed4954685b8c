"""POST /api/v1/authorize: online approval of a sale above the floor limit, or a top-up."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Connection

from server.api.deps import ApiProblem, ServicesDep, TerminalDep
from server.api.schemas import ErrorBody
from server.event import get_event_settings
from server.records import Outcome, RecordApplier, check_record
from sync.schemas import AuthorizeRequest, AuthorizeResponse, ItemStatus

router = APIRouter(tags=["sync"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody},
                                             422: {"model": ErrorBody}, 503: {"model": ErrorBody}})


@router.post("/authorize", response_model=AuthorizeResponse)
def authorize(request: AuthorizeRequest, terminal: TerminalDep, services: ServicesDep) -> AuthorizeResponse:
    """Approve and book, or decline and book nothing; idempotent on the record id.

    A bad signature, an invalid body or a record kind other than sale/top-up is a 422.
    A declined authorization stores nothing, so a later push of the same record
    (the terminal fell back to offline approval) books it as an offline fact.
    """
    checked = check_record(request.record, terminal)
    now = services.clock()
    db = services.db

    def work(conn: Connection) -> Outcome:
        applier = RecordApplier(conn, terminal, get_event_settings(conn), now, lock=not db.is_sqlite)
        return applier.run([checked], online=True)[0]

    outcome = db.run_write(work)
    if outcome.status is ItemStatus.REJECTED or (outcome.status is None and outcome.code == 422):
        raise ApiProblem(422, outcome.reason or "invalid record")
    if outcome.status is ItemStatus.CONFLICT:
        return AuthorizeResponse(id=outcome.id, approved=False, reason="conflict")
    return AuthorizeResponse(id=outcome.id, approved=outcome.booked, reason=outcome.reason,
                             balance=outcome.balance, seq=outcome.seq)

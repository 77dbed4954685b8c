"""POST /api/v1/authorize: online approval of a sale above the floor limit, a top-up, a cash-out, or cups
brought back beyond what the till's own ledger holds in deposits (``deposit_return``).

The hot path of the server (a customer waits at the stall), so it does as little
as it can: the handler runs on the event loop, and everything that touches the
database (who is calling, the signature check against that terminal's key, the
booking) is one job in one write transaction (``Database.run_write_async``: group
commit on SQLite).  The terminal, people's access and the event settings come from
the per-process cache (``server.hotcache``), checked with one statement per call.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from sqlalchemy import Connection

from server.api.deps import ApiProblem, ServicesDep
from server.api.schemas import ErrorBody
from server.auth import TerminalCaller
from server.hotcache import hot_cache
from server.records import Outcome, RecordApplier, check_record
from sync.schemas import (
    AuthorizeRequest,
    AuthorizeResponse,
    ItemStatus,
    PushItemResult,
    RefundRecord,
    SaleRecord,
    VoidRecord,
)

router = APIRouter(tags=["sync"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody},
                                             422: {"model": ErrorBody}, 503: {"model": ErrorBody}})

_BEARER = {"WWW-Authenticate": "Bearer"}


@router.post("/authorize", response_model=AuthorizeResponse)
async def authorize(request: AuthorizeRequest, services: ServicesDep,
                    authorization: Annotated[str | None, Header()] = None) -> AuthorizeResponse:
    """Approve and book, or decline and book nothing; idempotent on the record id.

    A bad signature, an invalid body or a record kind other than sale/top-up is a 422.
    A declined authorization stores nothing, so a later push of the same record
    (the terminal fell back to offline approval) books it as an offline fact.
    """
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiProblem(401, "missing API token (Authorization: Bearer ...)", headers=_BEARER)
    now = services.clock()
    db = services.db
    cache = hot_cache(db)

    def work(conn: Connection) -> tuple[Outcome, list[PushItemResult]] | ApiProblem:
        view = cache.view(conn)
        caller = view.caller(token)
        if caller is None:
            return ApiProblem(401, "unknown API token", headers=_BEARER)
        if not isinstance(caller, TerminalCaller):
            return ApiProblem(403, "this call is for enrolled terminals")
        if caller.revoked:
            return ApiProblem(401, "this terminal was revoked", headers=_BEARER, revoked=True)
        checked = check_record(request.record, caller)
        carried = [check_record(r, caller) for r in request.carried]
        wallet_id = getattr(checked.body, "wallet_id", None)
        for c in carried:  # only records of the wallet being decided, and no check-ins or top-ups
            if c.body is not None and (not isinstance(c.body, SaleRecord | RefundRecord | VoidRecord)
                                       or c.body.wallet_id != wallet_id):
                c.body, c.error = None, "invalid: a carried record is a sale, refund or void of the same wallet"
        applier = RecordApplier(conn, caller, view.event_settings(), now, lock=not db.is_sqlite, cache=view)
        outcomes = applier.run([*carried, checked], online=True, carried=len(carried))
        return outcomes[-1], [o.result() for o in outcomes[:-1]]

    answer = await db.run_write_async(work)
    if isinstance(answer, ApiProblem):
        raise answer
    outcome, carried_results = answer
    if outcome.status is ItemStatus.REJECTED or (outcome.status is None and outcome.code == 422):
        raise ApiProblem(422, outcome.reason or "invalid record")
    if outcome.status is ItemStatus.CONFLICT:
        return AuthorizeResponse(id=outcome.id, approved=False, reason="conflict", carried=carried_results)
    return AuthorizeResponse(id=outcome.id, approved=outcome.booked, reason=outcome.reason,
                             balance=outcome.balance, seq=outcome.seq, carried=carried_results)

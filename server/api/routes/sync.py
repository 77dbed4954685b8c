"""POST /api/v1/push and /api/v1/pull: the terminal's outbox in, the event's changes out.

POST /api/v1/security-events: forged-token sightings from the terminals' security logs, each
an anomaly once (keyed by terminal and log number), so the admins see them on the dashboard.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Response
from sqlalchemy import Connection, insert, select

from server.anomalies import security_log
from server.api.deps import ApiProblem, ServicesDep, TerminalDep
from server.api.schemas import ErrorBody
from server.authority import fold_flood
from server.db import tables as t
from server.epoch import EPOCH_HEADER, restore_epoch
from server.event import get_event_settings
from server.observability import observe_pull, observe_push
from server.pull import PullError, pull, record_status
from server.records import RecordApplier, check_record
from sync.schemas import (
    PullRequest,
    PullResponse,
    PushItemResult,
    PushRequest,
    PushResponse,
    SecurityReport,
    SecurityReportResponse,
)

router = APIRouter(tags=["sync"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody},
                                             413: {"model": ErrorBody}, 422: {"model": ErrorBody},
                                             503: {"model": ErrorBody}})


@router.post("/push", response_model=PushResponse)
def push(request: PushRequest, terminal: TerminalDep, services: ServicesDep, response: Response) -> PushResponse:
    """Book a batch of signed records, each at most once; one result per record, in order.

    The ``Ennichi-Restore-Epoch`` header names the epoch the results were booked under (server.epoch).
    """
    checked = [check_record(signed, terminal) for signed in request.records]  # CPU work outside the lock
    now = services.clock()
    db = services.db

    def work(conn: Connection) -> tuple[list[PushItemResult], str]:
        applier = RecordApplier(conn, terminal, get_event_settings(conn), now, lock=not db.is_sqlite)
        return [outcome.result() for outcome in applier.run(checked)], restore_epoch(conn)

    results, epoch = db.run_write_grouped(work)
    observe_push(request.records, results)
    response.headers[EPOCH_HEADER] = epoch
    return PushResponse(results=results)


@router.post("/pull", response_model=PullResponse)
def pull_changes(request: PullRequest, terminal: TerminalDep, services: ServicesDep,
                 response: Response) -> PullResponse:
    """Return one page of changes after the cursor; call again while ``more`` (epoch header: see push)."""
    now = services.clock()
    db = services.db
    db.run_write_grouped(lambda conn: record_status(conn, terminal.id, request.status, now_ms=now))
    try:
        with db.read() as conn:
            page = pull(conn, terminal, request, now_ms=now)
            response.headers[EPOCH_HEADER] = restore_epoch(conn)
    except PullError as exc:
        raise ApiProblem(422, str(exc)) from exc
    observe_pull(page)
    return page


def sighting_key(n: int) -> str:
    """The anomaly's ``record_id`` for a terminal's security log entry ``n`` (unique per terminal)."""
    return f"sighting:{n}"


@router.post("/security-events", response_model=SecurityReportResponse)
def security_events(report: SecurityReport, terminal: TerminalDep, services: ServicesDep) -> SecurityReportResponse:
    """Record forged-token sightings as ``forged_token`` anomalies, each once; a repeat is counted as known."""
    now = services.clock()
    a = t.anomalies

    def work(conn: Connection) -> SecurityReportResponse:
        keys = [sighting_key(e.n) for e in report.events]
        known = set(conn.execute(select(a.c.record_id).where(
            a.c.kind == "forged_token", a.c.terminal_id == terminal.id, a.c.record_id.in_(keys))).scalars())
        fresh: list[dict[str, object]] = []
        for event, key in zip(report.events, keys, strict=True):
            if key in known:
                continue
            known.add(key)
            fresh.append({"kind": "forged_token", "severity": "security", "terminal_id": terminal.id,
                          "record_id": key, "wallet_id": None, "created_at": now, "detail": json.dumps(
                              {"seen_at_ms": event.at_ms, "reason": event.reason, "fingerprint": event.fingerprint,
                               "what": event.detail, "terminal": terminal.name}, sort_keys=True)})
        if fresh:  # past the per-terminal cap, one counted row instead of one row per sighting
            security_log.warning("%d forged-token sightings from terminal %s", len(fresh), terminal.id)
            kept = fold_flood(conn, terminal.id, fresh, now_ms=now)
            if kept:
                conn.execute(insert(a), kept)
        return SecurityReportResponse(accepted=len(fresh), known=len(report.events) - len(fresh))

    return services.db.run_write(work)

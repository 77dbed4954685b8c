"""Tickets and gates for staff API tokens: live gate counts, issuing and revoking tickets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from server.api.deps import ApiProblem, CallerDep, ServicesDep, StaffHeader, acting_staff, require_permission
from server.api.schemas import ErrorBody
from server.audit import audit
from server.auth import StaffCaller
from server.gates import DEFAULT_BUCKET_S, gate_counts
from server.issuer import IssuerKeyMissing
from server.tickets import TicketError, TicketRequest, issue_tickets, revoke_ticket
from sync.permissions import Permission

router = APIRouter(tags=["gates"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody},
                                              422: {"model": ErrorBody}})
DAY_MS = 86_400_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TicketIssue(_Model):
    """Issue ``count`` tickets of a type (window in Unix seconds; default: the type's window)."""

    ticket_type: Annotated[int, Field(ge=1, le=65535)]
    count: Annotated[int, Field(ge=1, le=1000)] = 1
    holder: str = Field("", max_length=200)
    valid_from: Annotated[int, Field(ge=0, lt=1 << 32)] | None = None
    valid_until: Annotated[int, Field(ge=0, lt=1 << 32)] | None = None


class TicketOut(_Model):
    ticket_id: int
    display_id: str
    ticket_type: int
    policy: str
    valid_from: int
    valid_until: int
    holder: str
    token: str


class TicketRevoke(_Model):
    reason: str = Field("admin", max_length=200)
    revoked: bool = True


@router.get("/gates/counts")
def get_gate_counts(caller: CallerDep, services: ServicesDep, staff: StaffHeader = None,
                    since_ms: Annotated[int | None, Query(ge=0, lt=1 << 47)] = None,
                    until_ms: Annotated[int | None, Query(ge=0, lt=1 << 47)] = None,
                    bucket_s: Annotated[int, Query(ge=10, le=86400)] = DEFAULT_BUCKET_S) -> dict[str, Any]:
    """Entries, exits and people inside, per gate and in total, per bucket (dashboard.view or tickets.manage)."""
    require_permission(services, acting_staff(services, caller, staff),
                       (Permission.DASHBOARD, Permission.TICKETS_MANAGE))
    until = until_ms if until_ms is not None else services.clock() + 1
    since = since_ms if since_ms is not None else until - DAY_MS
    try:
        with services.db.read() as conn:
            return gate_counts(conn, since_ms=since, until_ms=until, bucket_s=bucket_s).to_json()
    except ValueError as exc:
        raise ApiProblem(422, str(exc)) from exc


@router.post("/tickets", status_code=201)
def post_tickets(body: TicketIssue, caller: CallerDep, services: ServicesDep) -> list[TicketOut]:
    """Issue tickets (a staff API token with tickets.manage); the answer carries each token once."""
    if not isinstance(caller, StaffCaller):
        raise ApiProblem(403, "tickets are issued with a staff API token")
    require_permission(services, caller.staff_id, (Permission.TICKETS_MANAGE,))
    now = services.clock()
    request = TicketRequest(body.ticket_type, holder=body.holder, valid_from=body.valid_from,
                            valid_until=body.valid_until)

    def work(conn: Connection) -> list[TicketOut]:
        issued = issue_tickets(conn, [request] * body.count, issuer=services.issuer.active(conn), now_ms=now)
        audit(conn, actor=f"staff:{caller.staff_id}", action="tickets.issue", now_ms=now,
              ticket_type=body.ticket_type, count=body.count)
        return [TicketOut(ticket_id=i.ticket_id, display_id=i.display_id, ticket_type=i.ticket_type,
                          policy=i.policy, valid_from=i.valid_from, valid_until=i.valid_until, holder=i.holder,
                          token=i.token) for i in issued]

    try:
        return services.db.run_write(work)
    except TicketError as exc:
        raise ApiProblem(422, str(exc)) from exc
    except IssuerKeyMissing as exc:
        raise ApiProblem(503, f"cannot sign tokens: {exc}") from exc


@router.post("/tickets/{ticket_id}/revoke")
def post_revoke(ticket_id: Annotated[str, Path(max_length=20)], body: TicketRevoke, caller: CallerDep,
                services: ServicesDep) -> dict[str, Any]:
    """Revoke (or lift the revocation of) a ticket at every gate (staff API token with tickets.manage)."""
    if not isinstance(caller, StaffCaller):
        raise ApiProblem(403, "tickets are revoked with a staff API token")
    require_permission(services, caller.staff_id, (Permission.TICKETS_MANAGE,))
    now = services.clock()

    def work(conn: Connection) -> int:
        tid = revoke_ticket(conn, ticket_id, now_ms=now, reason=body.reason, revoked=body.revoked)
        audit(conn, actor=f"staff:{caller.staff_id}", action="ticket.revoke" if body.revoked else "ticket.unrevoke",
              now_ms=now, ticket_id=tid, reason=body.reason)
        return tid

    try:
        tid = services.db.run_write(work)
    except TicketError as exc:
        raise ApiProblem(422, str(exc)) from exc
    return {"ticket_id": tid, "revoked": body.revoked}

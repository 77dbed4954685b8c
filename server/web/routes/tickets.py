"""Tickets and gates: ticket types, gates with people inside, and the tickets registry.

Issuing (one, or N of a type), CSV import, the printable QR sheet and revoking
are ``server.tickets``'s functions, each run in one write transaction with its
audit entry.  A CSV with any bad line is refused whole, with every bad line
listed.  The guest-invitation default quota of the ``student`` role is set
here too (a customer's own number on the wallet page is the exception).
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import Connection, select

from server import tickets as registry
from server.catalog import create_gate, create_ticket_type
from server.db import tables as t
from server.gates import GateTotals, gate_counts
from server.said import Said
from server.web import actions, customers, queries
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, require
from server.web.deps import PageDep, Refused, database, services
from server.web.people import read_csv_bytes
from server.web.qr import qr_svg
from server.web.render import PageContext, page
from server.web.routes.overview import day_start_ms
from server.web.ticket_import import ImportRefused, read_tickets_csv, template_csv
from sync.ids import ShortIdError, format_short_id, parse_short_id
from sync.permissions import Permission

router = APIRouter()
P = Permission.TICKETS_MANAGE
MAX_FORM_ISSUE = 500  # per click; bigger runs go through CSV import or the CLI
MAX_PRINT = 500  # QR codes on one printed sheet
MAX_CSV_BYTES = 2 * 1024 * 1024
RECENT = 30


@router.get("/admin/tickets")
def tickets_page(request: Request, ctx: PageDep, admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Gates with today's entries, exits and people inside; ticket types; issuing, import, recent tickets."""
    since = day_start_ms(ctx)
    with database(request).read() as conn:
        gates = queries.gates(conn)
        counts = gate_counts(conn, since_ms=since, until_ms=max(ctx.now_ms + 1, since + 1),
                             bucket_s=86400).gates
        types = customers.ticket_types(conn)
        tk = t.tickets
        recent = list(conn.execute(select(tk).order_by(tk.c.created_at.desc(), tk.c.ticket_id).limit(RECENT)))
        student_quota = customers.role_quota(conn, "student")
    names = {g.id: g.name for g in gates}
    type_names = {int(tt.id): tt.name for tt in types}
    return page(request, "tickets.html", ctx, active="tickets", gates=gates, counts=counts, zero=GateTotals(),
                types=[{"id": tt.id, "name": tt.name, "policy": tt.policy,
                        "gates": [names.get(g, g) for g in json.loads(tt.gate_ids)]} for tt in types],
                recent=[{"id": int(r.ticket_id), "code": format_short_id(int(r.ticket_id)),
                         "type": type_names.get(int(r.ticket_type), str(r.ticket_type)), "holder": r.holder,
                         "source": r.source, "batch": r.batch, "revoked": r.revoked_at is not None,
                         "valid_until_ms": int(r.valid_until) * 1000} for r in recent],
                student_quota=student_quota, max_issue=MAX_FORM_ISSUE)


@router.post("/admin/gates")
def gate_create(request: Request, ctx: PageDep, name: Annotated[str, Form(max_length=100)],
                admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Add a gate."""
    def run(conn: Connection, now: int) -> dict[str, int]:
        if not name.strip():
            raise Said("a gate needs a name", ja="ゲートの名前を入力してください")
        return {"gate_id": create_gate(conn, name=name.strip())}

    return actions.perform(request, ctx, admin, "gate.create", run, back="/admin/tickets", done="saved", name=name)


@router.post("/admin/ticket-types")
def ticket_type_create(request: Request, ctx: PageDep, name: Annotated[str, Form(max_length=100)],
                       policy: Annotated[str, Form(max_length=10)],
                       gate_ids: Annotated[list[int] | None, Form()] = None,
                       admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Add a ticket type (entry policy, the gates it opens)."""
    def run(conn: Connection, now: int) -> dict[str, int]:
        if not name.strip():
            raise Said("a ticket type needs a name", ja="チケット種別の名前を入力してください")
        return {"ticket_type": create_ticket_type(conn, name=name.strip(), policy=policy,  # type: ignore[arg-type]
                                                  gate_ids=gate_ids or [])}

    return actions.perform(request, ctx, admin, "ticket_type.create", run, back="/admin/tickets", done="saved",
                           name=name, policy=policy)


def _issue(request: Request, ctx: PageContext, admin: Admin, action: str,
           make: list[registry.TicketRequest], source: str, **detail: object) -> Response:
    """Issue ``make`` (all or none) with its audit entry, then show the printable sheet of the batch."""
    batch = uuid.uuid4().hex[:12]

    def run(conn: Connection, now: int) -> dict[str, object]:
        issuer = services(request).issuer.active(conn)
        issued = registry.issue_tickets(conn, make, issuer=issuer, now_ms=now, source=source, batch=batch)
        return {"count": len(issued), "batch": batch}

    response = actions.perform(request, ctx, admin, action, run, back="/admin/tickets", done="tickets_issued",
                               **detail)
    if response.status_code == 303:
        return actions.back_to("/admin/tickets/print", batch=batch)
    return response


@router.post("/admin/tickets/issue")
def tickets_issue(request: Request, ctx: PageDep, ticket_type: Annotated[int, Form()],
                  count: Annotated[int, Form()] = 1, holder: Annotated[str, Form(max_length=200)] = "",
                  admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Issue one ticket (with the holder's name) or ``count`` tickets of a type."""
    if not 1 <= count <= MAX_FORM_ISSUE:
        return _refused(request, ctx, ctx.t("tickets.count_range", n=MAX_FORM_ISSUE))
    make = [registry.TicketRequest(ticket_type, holder=holder) for _ in range(count)]
    return _issue(request, ctx, admin, "ticket.issue", make, "admin", ticket_type=ticket_type, count=count,
                  holder=holder)


@router.post("/admin/tickets/import")
async def tickets_import(request: Request, ctx: PageDep, file: Annotated[UploadFile, File()],
                         admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Issue one ticket per CSV line (type name or id, holder, valid_from, valid_until in local time): all, or
    none with every bad line in the page's language."""
    raw = await file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return _refused(request, ctx, ctx.t("tickets.csv_too_big"))
    try:
        text = read_csv_bytes(raw, t=ctx.t)  # UTF-8, or the Shift_JIS a Japanese spreadsheet saves
    except ImportRefused as exc:
        return _refused(request, ctx, exc.errors[0])
    with database(request).read() as conn:
        tt = t.ticket_types
        active = {int(r.id): r.name for r in conn.execute(select(tt.c.id, tt.c.name).where(tt.c.active.is_(True)))}
    try:
        make = read_tickets_csv(text, types=active, zone=str(ctx.tz), t=ctx.t)
    except ImportRefused as exc:
        return _refused(request, ctx, ctx.t("tickets.csv_refused"), errors=exc.errors)
    return _issue(request, ctx, admin, "ticket.import", make, "csv", file=(file.filename or "")[:200],
                  count=len(make))


def _refused(request: Request, ctx: PageContext, message: str, errors: list[str] | None = None) -> Response:
    return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                message=message, errors=errors or [], back="/admin/tickets")


@router.get("/admin/tickets/print")
def tickets_print(request: Request, ctx: PageDep, batch: str = "",
                  ids: Annotated[list[str] | None, Query(max_length=2000)] = None,
                  admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """A printable sheet of ticket QR codes: one issued batch, or the ids picked on the tickets page."""
    wanted: list[int] = []
    for part in ",".join(ids or []).replace(" ", ",").split(",")[:MAX_PRINT]:
        if part.strip():
            try:
                wanted.append(parse_short_id(part.strip()))
            except ShortIdError as exc:
                raise Refused(str(exc)) from exc
    tk = t.tickets
    query = select(tk).order_by(tk.c.created_at, tk.c.ticket_id).limit(MAX_PRINT)
    if batch:
        query = query.where(tk.c.batch == batch[:40])
    elif wanted:
        query = query.where(tk.c.ticket_id.in_(wanted))
    else:
        return actions.back_to("/admin/tickets")
    with database(request).read() as conn:
        rows = list(conn.execute(query))
        issuer = services(request).issuer.active(conn)
        type_names = {int(tt.id): tt.name for tt in customers.ticket_types(conn)}
        texts = [registry.ticket_text(conn, int(r.ticket_id), issuer=issuer) for r in rows]
    cards = [{"id": int(r.ticket_id), "code": format_short_id(int(r.ticket_id)), "holder": r.holder,
              "type": type_names.get(int(r.ticket_type), str(r.ticket_type)), "policy": r.policy,
              "revoked": r.revoked_at is not None, "from_ms": int(r.valid_from) * 1000,
              "until_ms": int(r.valid_until) * 1000, "qr": qr_svg(text, scale=4)}
             for r, text in zip(rows, texts, strict=True)]
    return page(request, "tickets_print.html", ctx, active="tickets", cards=cards)


@router.post("/admin/tickets/revoke")
def tickets_revoke(request: Request, ctx: PageDep, ticket_id: Annotated[str, Form(max_length=40)],
                   reason: Annotated[str, Form(max_length=200)] = "",
                   admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Revoke a ticket at every gate (gates learn it on their next pull), with the reason in the audit log."""
    def run(conn: Connection, now: int) -> dict[str, object]:
        if not reason.strip():
            raise ValueError(ctx.t("tickets.reason_needed"))
        tid = registry.revoke_ticket(conn, ticket_id.strip(), now_ms=now, reason=reason.strip())
        return {"ticket_id": tid, "display_id": format_short_id(tid)}

    return actions.perform(request, ctx, admin, "ticket.revoke", run, back="/admin/tickets", done="ticket_revoked",
                           reason=reason.strip())


@router.post("/admin/tickets/guest-quota")
def guest_quota_default(request: Request, ctx: PageDep, quota: Annotated[int, Form()],
                        role: Annotated[str, Form(max_length=40)] = "student",
                        admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Set the default guest-invitation quota of a role; a customer's own number stays their exception."""
    return actions.perform(request, ctx, admin, "guest_quota.default",
                           lambda conn, now: customers.set_role_quota(conn, role, quota),
                           back="/admin/tickets", done="saved", role=role, quota=quota)



@router.get("/admin/tickets/template.csv")
def tickets_template(request: Request, ctx: PageDep, admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """The tickets CSV template, with this event's ticket type names (UTF-8 with a BOM)."""
    import datetime as dt

    with database(request).read() as conn:
        names = [tt.name for tt in customers.ticket_types(conn)]
    today = dt.datetime.fromtimestamp(ctx.now_ms / 1000, ctx.tz).date()
    return Response("\ufeff" + template_csv(lang=ctx.lang, type_names=names, today=today),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="ennichi-tickets-template.csv"'})

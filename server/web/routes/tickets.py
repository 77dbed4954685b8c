"""Tickets and gates: ticket types, gates, and per-gate counts.

Issuing, importing, printing and revoking individual tickets waits for the
server's tickets table (a separate issue); guest tickets from My page work.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from server.catalog import create_gate, create_ticket_type
from server.web import actions, customers, queries
from server.web.access import Admin
from server.web.deps import PageDep, database, require
from server.web.render import page
from server.web.routes.overview import day_start_ms
from sync.permissions import Permission

router = APIRouter()
P = Permission.TICKETS_MANAGE


@router.get("/admin/tickets")
def tickets_page(request: Request, ctx: PageDep, admin: Admin = require(P)) -> Response:
    """Gates with today's counts, and ticket types."""
    with database(request).read() as conn:
        gates = queries.gates(conn)
        counts = queries.gate_counts(conn, since_ms=day_start_ms(ctx))
        types = customers.ticket_types(conn)
    names = {g.id: g.name for g in gates}
    return page(request, "tickets.html", ctx, active="tickets", gates=gates, counts=counts,
                types=[{"id": tt.id, "name": tt.name, "policy": tt.policy,
                        "gates": [names.get(g, g) for g in json.loads(tt.gate_ids)]} for tt in types])


@router.post("/admin/gates")
def gate_create(request: Request, ctx: PageDep, name: Annotated[str, Form(max_length=100)],
                admin: Admin = require(P)) -> Response:
    """Add a gate."""
    def run(conn: Connection, now: int) -> dict[str, int]:
        if not name.strip():
            raise ValueError("a gate needs a name")
        return {"gate_id": create_gate(conn, name=name.strip())}

    return actions.perform(request, ctx, admin, "gate.create", run, back="/admin/tickets", done="saved", name=name)


@router.post("/admin/ticket-types")
def ticket_type_create(request: Request, ctx: PageDep, name: Annotated[str, Form(max_length=100)],
                       policy: Annotated[str, Form(max_length=10)],
                       gate_ids: Annotated[list[int] | None, Form()] = None, admin: Admin = require(P)) -> Response:
    """Add a ticket type (entry policy, the gates it opens)."""
    def run(conn: Connection, now: int) -> dict[str, int]:
        if not name.strip():
            raise ValueError("a ticket type needs a name")
        return {"ticket_type": create_ticket_type(conn, name=name.strip(), policy=policy,  # type: ignore[arg-type]
                                                  gate_ids=gate_ids or [])}

    return actions.perform(request, ctx, admin, "ticket_type.create", run, back="/admin/tickets", done="saved",
                           name=name, policy=policy)

"""Terminals: enrollment codes (shown as a QR), health, revocation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from server.audit import audit
from server.enroll import create_enrollment_code
from server.terminals import revoke_terminal
from server.web import actions, queries
from server.web.access import Admin
from server.web.authz import Visible, code_in_form, code_scope, require, terminal_in_path
from server.web.deps import PageDep, clock_ms, database, event_settings, services
from server.web.forms import optional_int
from server.web.qr import qr_svg
from server.web.render import page
from sync.permissions import Permission
from sync.schemas import TerminalMode

router = APIRouter()
P = Permission.TERMINALS_MANAGE


@router.get("/admin/terminals")
def terminals_page(request: Request, ctx: PageDep, admin: Admin = require(P)) -> Response:
    """The health of every terminal the admin may manage, and the form for a new enrollment code."""
    now = ctx.now_ms
    online_window = max(60_000, 3 * event_settings(request).pull_interval_s * 1000)
    see = Visible(admin.grants, P)
    with database(request).read() as conn:
        terminals = [r for r in queries.terminal_health(conn) if see.terminal(r)]
        stalls = {sid: name for sid, name in queries.stall_names(conn).items() if see.stall(sid)}
        gates = [g for g in queries.gates(conn) if see.gate(int(g.id))]
        codes = [c for c in queries.enrollment_codes(conn, now_ms=now)
                 if see.scope(code_scope(str(c.mode), c.stall_id, c.gate_id))]
    modes = [m.value for m in TerminalMode if see.event or (m is TerminalMode.STALL and stalls)
             or (m is TerminalMode.GATE and gates)]
    return page(request, "terminals.html", ctx, active="terminals", terminals=terminals, stalls=stalls,
                gates=gates, codes=codes, online_window=online_window, modes=modes)


@router.post("/admin/terminals/codes")
def code_create(request: Request, ctx: PageDep, mode: Annotated[str, Form(max_length=10)],
                stall_id: Annotated[str, Form(max_length=10)] = "", gate_id: Annotated[str, Form(max_length=10)] = "",
                admin: Admin = require(P, on=code_in_form)) -> Response:
    """Make a one-time enrollment code and show it as a QR (its text is shown only now)."""
    svc = services(request)
    now = clock_ms(request)
    try:
        terminal_mode = TerminalMode(mode)
        stall, gate = optional_int(stall_id, ctx), optional_int(gate_id, ctx)
        with database(request).write() as conn:
            code = create_enrollment_code(conn, mode=terminal_mode, base_url=svc.settings.base_url, now_ms=now,
                                          ttl_s=svc.settings.enroll_code_ttl_s, stall_id=stall, gate_id=gate,
                                          pin=svc.settings.tls_pin)
            audit(conn, actor=admin.actor, action="terminal.code", now_ms=now, mode=terminal_mode.value,
                  stall_id=stall, gate_id=gate)
    except ValueError as exc:
        return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                    message=actions.said(exc, ctx.lang), back="/admin/terminals")
    return page(request, "enroll_code.html", ctx, active="terminals", text=code.text(), qr=qr_svg(code.text()),
                mode=terminal_mode.value, expires_ms=now + svc.settings.enroll_code_ttl_s * 1000)


@router.post("/admin/terminals/{terminal_id}/revoke")
def terminal_revoke(request: Request, ctx: PageDep, terminal_id: int,
                    reason: Annotated[str, Form(max_length=200)] = "",
                    admin: Admin = require(P, on=terminal_in_path)) -> Response:
    """Revoke a terminal: its token stops working and it wipes its data on next contact."""
    return actions.perform(
        request, ctx, admin, "terminal.revoke",
        lambda conn, now: revoke_terminal(conn, terminal_id, now_ms=now, reason=reason.strip() or "admin"),
        back="/admin/terminals", done="revoked", terminal_id=terminal_id, reason=reason)

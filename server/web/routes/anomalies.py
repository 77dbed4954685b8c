"""Anomalies: overdrafts, duplicate entries, conflicting records, forged tokens; resolved with an action and a note.

Resolving never edits history: the action is a new fact (a block, a
revocation) and the note goes to the audit log with the anomaly's id; the
anomaly row only gets its ``resolved_at``.  A money correction is an
adjustment on the wallet page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from server.anomalies import mark_resolved
from server.said import Said
from server.terminals import revoke_terminal
from server.wallets import set_blocked
from server.web import actions, queries
from server.web.access import Admin
from server.web.authz import Visible, anomaly_in_path, anomaly_scope, authorize_object, require, terminal_scope
from server.web.deps import PageDep, database
from server.web.describe import describe
from server.web.render import page
from sync.permissions import EVENT, Permission

router = APIRouter()
P = Permission.ANOMALIES_RESOLVE
ACTIONS = ("acknowledge", "block_wallet", "unblock_wallet", "revoke_terminal")


@router.get("/admin/anomalies")
def anomalies_page(request: Request, ctx: PageDep, show: str = "open", kind: str = "",
                   admin: Admin = require(P)) -> Response:
    """Open (or all) anomalies the admin may resolve (what they concern is in their scope), newest first."""
    see = Visible(admin.grants, P)
    with database(request).read() as conn:
        rows = queries.anomalies(conn, open_only=show != "all", kind=kind or None)
        if not see.event:
            rows = [r for r in rows if see.scope(anomaly_scope(conn, r["terminal_id"]))]
        kinds = queries.anomaly_kinds(conn)
    return page(request, "anomalies.html", ctx, active="anomalies", rows=rows, kinds=kinds, show=show, kind=kind,
                describe=lambda kind_, detail: describe(ctx, kind_, detail),
                resolve_actions=ACTIONS)


@router.post("/admin/anomalies/{anomaly_id}/resolve")
def anomaly_resolve(request: Request, ctx: PageDep, anomaly_id: int, action: Annotated[str, Form(max_length=30)],
                    note: Annotated[str, Form(max_length=500)],
                    admin: Admin = require(P, on=anomaly_in_path)) -> Response:
    """Resolve with an action and a note; the action needs its own permission on its own object."""
    def run(conn: Connection, now: int) -> dict[str, Any]:
        if action not in ACTIONS:
            raise Said(f"unknown action {action!r}", ja="対応の種類は一覧から選んでください")
        if not note.strip():
            raise Said("a resolution needs a note", ja="対応にはメモが必要です")
        row = queries.anomaly(conn, anomaly_id)
        if row is None:
            raise Said("unknown anomaly", ja="その異常は見つかりません")
        if action in ("block_wallet", "unblock_wallet"):
            if row.wallet_id is None:
                raise Said("this anomaly names no wallet", ja="この異常にはウォレットがありません")
            authorize_object(admin.grants, Permission.WALLETS_MANAGE, EVENT)
            set_blocked(conn, int(row.wallet_id), blocked=action == "block_wallet", reason=note.strip()[:200],
                        now_ms=now)
        elif action == "revoke_terminal":
            if row.terminal_id is None:
                raise Said("this anomaly names no terminal", ja="この異常には端末がありません")
            authorize_object(admin.grants, Permission.TERMINALS_MANAGE, terminal_scope(conn, int(row.terminal_id)))
            revoke_terminal(conn, int(row.terminal_id), now_ms=now, reason=note.strip()[:200])
        mark_resolved(conn, anomaly_id, staff_id=admin.staff_id, now_ms=now)
        return {"kind": row.kind, "wallet_id": row.wallet_id, "terminal_id": row.terminal_id}

    return actions.perform(request, ctx, admin, "anomaly.resolve", run, back="/admin/anomalies", done="resolved",
                           anomaly_id=anomaly_id, resolution=action, note=note.strip())

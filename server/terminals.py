"""Terminals as the server manages them: revocation."""

from __future__ import annotations

from sqlalchemy import Connection, insert, update

from server.db import tables as t
from server.db.engine import reserve_changes

__all__ = ["revoke_terminal"]


def revoke_terminal(conn: Connection, terminal_id: int, *, now_ms: int, reason: str = "admin") -> None:
    """Revoke a terminal: its token stops working (401, revoked) and other terminals learn it; raises LookupError."""
    done = conn.execute(update(t.terminals).where(t.terminals.c.id == terminal_id).values(revoked=True)).rowcount
    if not done:
        raise LookupError(f"unknown terminal {terminal_id}")
    r = t.revocations
    number = reserve_changes(conn, 1)
    if not conn.execute(update(r).where(r.c.kind == "terminal", r.c.ref == terminal_id).values(
            revoked=True, reason=reason, created_at=now_ms, change_seq=number)).rowcount:
        conn.execute(insert(r).values(kind="terminal", ref=terminal_id, revoked=True, reason=reason,
                                      created_at=now_ms, change_seq=number))

"""Anomalies: facts the server booked or refused that an admin should look at."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Connection, insert, select, update

from server.db import tables as t

__all__ = ["list_anomalies", "mark_resolved", "raise_anomaly", "security_log"]

security_log = logging.getLogger("ennichi.security")


def raise_anomaly(conn: Connection, kind: str, *, now_ms: int, severity: str = "warning",
                  terminal_id: int | None = None, record_id: str | None = None,
                  wallet_id: int | None = None, detail: Any = "") -> None:
    """Insert an anomaly now (inside the caller's transaction)."""
    text = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True, default=str)
    if severity == "security":
        security_log.warning("%s terminal=%s record=%s %s", kind, terminal_id, record_id, text)
    conn.execute(insert(t.anomalies).values(kind=kind, severity=severity, terminal_id=terminal_id,
                                            record_id=record_id, wallet_id=wallet_id, detail=text,
                                            created_at=now_ms))


def list_anomalies(conn: Connection, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Return anomalies, oldest first, optionally of one kind."""
    a = t.anomalies
    query = select(a).order_by(a.c.id)
    if kind is not None:
        query = query.where(a.c.kind == kind)
    return [dict(row._mapping) for row in conn.execute(query)]


def mark_resolved(conn: Connection, anomaly_id: int, *, staff_id: int | None, now_ms: int) -> None:
    """Close an open anomaly (its row is otherwise untouched; ``staff_id`` None: the server itself).

    Raises ValueError if it is not open.  The caller writes the audit entry (action and note).
    """
    an = t.anomalies
    done = conn.execute(update(an).where(an.c.id == anomaly_id, an.c.resolved_at.is_(None))
                        .values(resolved_at=now_ms, resolved_by=staff_id)).rowcount
    if not done:
        raise ValueError("this anomaly is already resolved or does not exist")

"""The audit log: every admin action, append-only."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert

from server.db import tables as t

__all__ = ["audit"]


def audit(conn: Connection, *, actor: str, action: str, now_ms: int, **detail: Any) -> None:
    """Append one audit entry inside the caller's transaction."""
    conn.execute(insert(t.audit_log).values(at=now_ms, actor=actor, action=action,
                                            detail=json.dumps(detail, sort_keys=True, default=str)))

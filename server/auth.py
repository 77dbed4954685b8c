"""Who is calling: an enrolled terminal or a staff member's API token."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from server.db import tables as t
from server.staff import hash_token
from sync.keys import public_key_from_b64
from sync.schemas import TerminalMode

__all__ = ["StaffCaller", "TerminalCaller", "lookup_caller"]


@dataclass(frozen=True, slots=True)
class TerminalCaller:
    """An enrolled terminal, authenticated by its API token."""

    id: int
    name: str
    mode: TerminalMode
    stall_id: int | None
    gate_id: int | None
    public_key: Ed25519PublicKey
    revoked: bool


@dataclass(frozen=True, slots=True)
class StaffCaller:
    """A staff member using an API token (scripts, later the dashboard)."""

    staff_id: int


def lookup_caller(conn: Connection, token: str) -> TerminalCaller | StaffCaller | None:
    """Return who holds ``token``, or None when nobody does (revoked terminals are returned, flagged)."""
    digest = hash_token(token)
    tm = t.terminals
    row = conn.execute(select(tm.c.id, tm.c.name, tm.c.mode, tm.c.stall_id, tm.c.gate_id, tm.c.public_key,
                              tm.c.revoked).where(tm.c.token_hash == digest)).first()
    if row is not None:
        return TerminalCaller(int(row.id), row.name, TerminalMode(row.mode), row.stall_id, row.gate_id,
                              public_key_from_b64(row.public_key), bool(row.revoked))
    at = t.api_tokens
    staff_id = conn.execute(select(at.c.staff_id).where(at.c.token_hash == digest, at.c.revoked.is_(False))).scalar()
    if staff_id is not None:
        return StaffCaller(int(staff_id))
    return None

"""Enrollment: a one-time code and the terminal's public key become a terminal and its API token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from server.db import tables as t
from server.ledger import ensure_account
from server.said import Said
from server.staff import hash_token
from sync.enrollment import EnrollmentCode
from sync.keys import b64d, public_key_from_b64
from sync.schemas import EnrollRequest, TerminalMode, TerminalRow

__all__ = ["EnrollError", "Enrolled", "create_enrollment_code", "enroll_terminal", "terminal_row",
           "weak_public_key"]

_P = 2**255 - 19
# The y coordinates of Ed25519's eight small-order points (the 8-torsion; with either sign bit):
# the identity (y=1), order 2 (y=p-1), order 4 (y=0), order 8 (the two below).  Source: the
# blocklist of libsodium's ge25519_has_small_order (src/libsodium/crypto_core/ed25519/ref10/
# ed25519_ref10.c) and Chalkias et al., "Taming the many EdDSAs" (SSR 2020), table of small-order
# encodings; checked here by multiplying each point out to its order.  A y >= p is a
# non-canonical encoding (libsodium refuses those too).
_SMALL_ORDER_Y = frozenset({
    0, 1, _P - 1,
    0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826,
    0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7,
})


def weak_public_key(raw: bytes) -> str | None:
    """Why a raw Ed25519 public key must not be enrolled (small order, non-canonical), or None."""
    if len(raw) != 32:
        return "must be 32 bytes"
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P:
        return "a non-canonical encoding"
    if y in _SMALL_ORDER_Y:  # a "signature" of such a key verifies for many bodies: anyone could forge
        return "a small-order (weak) key"
    return None


class EnrollError(Exception):
    """Enrollment refused; ``status`` is the HTTP status (401 unknown code, 409 used or expired, 422 bad key)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Enrolled:
    """A new terminal and its API token (shown once)."""

    terminal: TerminalRow
    api_token: str


def create_enrollment_code(conn: Connection, *, mode: TerminalMode, base_url: str, now_ms: int, ttl_s: int,
                           stall_id: int | None = None, gate_id: int | None = None, pin: str = "") -> EnrollmentCode:
    """Make a one-time code for a terminal of ``mode``; raises ValueError for a missing or unknown scope.

    ``pin`` is the server's own certificate pin (``ServerSettings.tls_pin``), carried in the code.
    """
    mode = TerminalMode(mode)
    if mode is TerminalMode.STALL:
        if stall_id is None or conn.execute(select(t.stalls.c.id).where(t.stalls.c.id == stall_id)).scalar() is None:
            raise Said("a stall terminal needs an existing --stall", ja="模擬店の端末には、ある模擬店を選んでください")
        gate_id = None
    elif mode is TerminalMode.GATE:
        if gate_id is None or conn.execute(select(t.gates.c.id).where(t.gates.c.id == gate_id)).scalar() is None:
            raise Said("a gate terminal needs an existing --gate", ja="ゲートの端末には、あるゲートを選んでください")
        stall_id = None
    else:
        stall_id = gate_id = None
    code = EnrollmentCode(base_url, EnrollmentCode.new_code(), pin)
    conn.execute(insert(t.enrollment_codes).values(
        code_hash=hash_token(code.code), mode=mode.value, stall_id=stall_id, gate_id=gate_id,
        created_at=now_ms, expires_at=now_ms + ttl_s * 1000))
    return code


def terminal_row(row: object) -> TerminalRow:
    """Return the API form of a ``terminals`` row."""
    return TerminalRow(terminal_id=row.id, name=row.name, mode=TerminalMode(row.mode),  # type: ignore[attr-defined]
                       stall_id=row.stall_id, gate_id=row.gate_id, revoked=bool(row.revoked))  # type: ignore[attr-defined]


def enroll_terminal(conn: Connection, request: EnrollRequest, *, now_ms: int) -> Enrolled:
    """Use a one-time code; raises EnrollError."""
    try:
        public_key_from_b64(request.public_key)
    except ValueError as exc:
        raise EnrollError(422, f"public_key: {exc}") from exc
    weak = weak_public_key(b64d(request.public_key))
    if weak is not None:
        raise EnrollError(422, f"public_key: refused, {weak}")
    code = request.code.strip().upper().replace("-", "")
    ec = t.enrollment_codes
    row = conn.execute(select(ec).where(ec.c.code_hash == hash_token(code))).first()
    if row is None:
        raise EnrollError(401, "unknown enrollment code")
    if row.used_at is not None:
        raise EnrollError(409, "this enrollment code was already used")
    if row.expires_at <= now_ms:
        raise EnrollError(409, "this enrollment code has expired")
    token = secrets.token_urlsafe(32)
    name = request.name.strip() or f"{row.mode} terminal"
    terminal_id = int(conn.execute(insert(t.terminals).values(
        name=name, mode=row.mode, stall_id=row.stall_id, gate_id=row.gate_id, public_key=request.public_key,
        token_hash=hash_token(token), revoked=False, enrolled_at=now_ms, app_version=request.app_version,
    ).returning(t.terminals.c.id)).scalar_one())
    used = conn.execute(update(ec).where(ec.c.code_hash == row.code_hash, ec.c.used_at.is_(None))
                        .values(used_at=now_ms, terminal_id=terminal_id)).rowcount
    if not used:  # another request used it between our read and our write
        raise EnrollError(409, "this enrollment code was already used")
    ensure_account(conn, "cash_drawer", terminal_id, now_ms=now_ms, name=name)
    terminal = conn.execute(select(t.terminals).where(t.terminals.c.id == terminal_id)).one()
    return Enrolled(terminal_row(terminal), token)

"""Pull: what changed since the terminal's cursor, one page at a time.

Every pullable row carries the change number of its last change (see
``server.db.engine.reserve_changes``).  A page is the ``limit`` rows with the
smallest change numbers above the cursor, across all kinds, read in one
snapshot; the new cursor is the last number delivered, so an interrupted first
pull of a big event resumes where it stopped.  Settings, issuer keys and the
terminal itself are small and come with every page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, select, update

from server.auth import TerminalCaller
from server.authority import may_work_at
from server.db import tables as t
from server.enroll import terminal_row
from server.event import get_event_settings
from server.issuer import issuer_key_rows
from server.staff import load_access, staff_rows
from sync.schemas import (
    CheckInRow,
    GateRow,
    ProductRow,
    PullRequest,
    PullResponse,
    RevocationKind,
    RevocationRow,
    StaffRow,
    StallRow,
    StatementRow,
    TerminalMode,
    TerminalStatus,
    TicketRow,
    TicketTypeRow,
)

__all__ = ["PullError", "parse_cursor", "pull", "record_status"]


class PullError(ValueError):
    """A cursor the server never gave out."""


def parse_cursor(cursor: str) -> int:
    """Return the change number of ``cursor`` ('' is 0); raises PullError."""
    if cursor == "":
        return 0
    # ASCII digits only ("³".isdigit() is true, and int() refuses it), and within a database integer
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19 or int(cursor) >= 1 << 63:
        raise PullError("cursor: not a cursor this server gave out")
    return int(cursor)


def _stall(r: Any) -> StallRow:
    return StallRow(id=r.id, name=r.name, allow_free_amount=bool(r.allow_free_amount), active=bool(r.active))


def product_row(r: Any) -> ProductRow:
    """A ``products`` row as terminals receive it (the pull, and a till's sold-out answer)."""
    return ProductRow(id=r.id, stall_id=r.stall_id, name=r.name, price=int(r.price),
                      stock=None if r.stock is None else int(r.stock), sold_out=bool(r.sold_out),
                      active=bool(r.active), sort=r.sort, kind=r.kind, category=r.category or "",
                      colour=r.colour)


def _gate(r: Any) -> GateRow:
    return GateRow(id=r.id, name=r.name, active=bool(r.active))


def _ticket_type(r: Any) -> TicketTypeRow:
    return TicketTypeRow(id=r.id, name=r.name, policy=r.policy, gate_ids=json.loads(r.gate_ids),
                         active=bool(r.active))


def _statement(r: Any) -> StatementRow:
    return StatementRow(wallet_id=int(r.ref), balance=int(r.balance), seq=int(r.seq), blocked=bool(r.blocked))


def _revocation(r: Any) -> RevocationRow:
    return RevocationRow(kind=RevocationKind(r.kind), id=int(r.ref), revoked=bool(r.revoked))


def _checkin(r: Any) -> CheckInRow:
    return CheckInRow(id=r.record_id, gate_id=r.gate_id, terminal_id=r.terminal_id, ticket_id=int(r.ticket_id),
                      direction=r.direction, created_at=int(r.created_at))


def _ticket(r: Any) -> TicketRow:
    return TicketRow(ticket_id=int(r.ticket_id), ticket_type=int(r.ticket_type), policy=r.policy,
                     valid_from=int(r.valid_from), valid_until=int(r.valid_until), flags=int(r.flags),
                     revoked=r.revoked_at is not None)


def pull(conn: Connection, terminal: TerminalCaller, request: PullRequest, *, now_ms: int) -> PullResponse:
    """Return one page of changes after ``request.cursor``; raises PullError for a bad cursor."""
    cursor = parse_cursor(request.cursor)
    limit = request.limit
    sources: list[tuple[str, Table, Any, Callable[[Any], Any] | None]] = [
        ("stalls", t.stalls, None, _stall),
        ("products", t.products, None, product_row),
        ("gates", t.gates, None, _gate),
        ("ticket_types", t.ticket_types, None, _ticket_type),
        ("staff", t.staff, None, None),
        ("statements", t.accounts, t.accounts.c.kind == "wallet", _statement),
        ("revocations", t.revocations, None, _revocation),
        ("checkins", t.checkins, t.checkins.c.terminal_id != terminal.id, _checkin),
        ("tickets", t.tickets, None, _ticket),  # a typed ticket id: the gate decides it from this row
    ]
    if terminal.mode is TerminalMode.GATE:  # a gate never reads a wallet's balance
        sources = [s for s in sources if s[0] != "statements"]
    else:  # only gates decide entries
        sources = [s for s in sources if s[0] not in ("checkins", "tickets")]
    found: list[tuple[int, int, str, Any]] = []
    for order, (name, table, extra, _conv) in enumerate(sources):
        query = select(table).where(table.c.change_seq > cursor)
        if extra is not None:
            query = query.where(extra)
        query = query.order_by(table.c.change_seq).limit(limit + 1)
        found.extend((int(row.change_seq), order, name, row) for row in conn.execute(query))
    found.sort(key=lambda item: (item[0], item[1]))
    more = len(found) > limit
    page = found[:limit]
    if more:
        new_cursor = page[-1][0]
    else:
        top = conn.execute(select(t.counters.c.value).where(t.counters.c.name == "changes")).scalar_one()
        new_cursor = max(cursor, int(top))
    out: dict[str, list[Any]] = {name: [] for name, *_ in sources}
    staff_raw: list[dict[str, object]] = []
    converters = {name: conv for name, _table, _extra, conv in sources}
    for _seq, _order, name, row in page:
        conv = converters[name]
        if conv is None:
            staff_raw.append(dict(row._mapping))
        else:
            out[name].append(conv(row))
    if staff_raw:
        out["staff"] = _working_staff(conn, terminal, staff_raw, now_ms=now_ms)
    me = conn.execute(select(t.terminals).where(t.terminals.c.id == terminal.id)).one()
    return PullResponse(
        cursor=str(new_cursor), more=more, server_time_ms=now_ms, terminal=terminal_row(me),
        settings=get_event_settings(conn), issuer_keys=issuer_key_rows(conn), **out,
    )


def _working_staff(conn: Connection, terminal: TerminalCaller, raw: list[dict[str, object]], *,
                   now_ms: int) -> list[StaffRow]:
    """Staff rows for the people who may log in at ``terminal``; everyone else as an inactive id only.

    The bare row (no name, no PIN hash, no roles, inactive) tells a terminal that pulled the
    person before that they may no longer log in there.
    """
    ids = {r["id"]: int(str(r["id"])) for r in raw}
    access = load_access(conn, ids.values())
    now_s = now_ms // 1000
    may = {r["id"] for r in raw if may_work_at(terminal, access[ids[r["id"]]], now_s=now_s)}
    working = [r for r in raw if r["id"] in may]
    bare = [StaffRow(staff_id=ids[r["id"]], name="", pin_hash="", active=False) for r in raw if r["id"] not in may]
    return list(staff_rows(conn, working)) + bare


def record_status(conn: Connection, terminal_id: int, status: TerminalStatus, *, now_ms: int) -> None:
    """Remember what the terminal reported (for the dashboard's health view)."""
    conn.execute(update(t.terminals).where(t.terminals.c.id == terminal_id).values(
        last_seen_ms=now_ms, app_version=status.app_version,
        clock_skew_ms=(now_ms - status.clock_ms) if status.clock_ms else None,
        unsynced_count=status.unsynced_count, unsynced_amount=status.unsynced_amount,
        last_error=status.last_error))

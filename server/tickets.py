"""Issued tickets: one or many at a time, from a CSV import, revoked at every gate.

A ticket is a row of ``tickets`` plus its signed ``ET1:`` token.  The token
carries the ticket type, the entry policy and the validity window, so a gate
decides offline; the row is the registry (who holds it, which import it came
from, whether it is revoked).  Ed25519 signatures are deterministic, so the
token text can be re-made from the row at any time (printing, re-sending).

The window of a ticket is the request's, clipped to its type's window
(``ticket_types.valid_from``/``valid_until``); with neither, it runs from now
for ``DEFAULT_TTL_S`` (starting ``CLOCK_SKEW_S`` back, for gates whose clock
runs behind).  Revoking publishes a ``ticket`` revocation that every
gate pulls; an entry a gate decided before it learned of it is still booked
(it is a fact), and the dashboard sees it as a check-in of a revoked ticket.

Guest tickets made on My page (``server.web.customers``) are issued here too
(source ``guest``, the GUEST flag); their invitation (``web_guest_invitations``)
names the ticket and counts against the student's quota.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from server.db import tables as t
from server.db.engine import reserve_changes
from server.ledger import LedgerBatch
from sync.ids import ShortIdError, format_short_id, new_short_id, parse_short_id
from sync.keys import IssuerKey
from sync.tokens import CLOCK_SKEW_S, EntryPolicy, TicketFlags, TicketToken, encode_token

__all__ = [
    "DEFAULT_TTL_S",
    "MAX_ISSUE",
    "IssuedTicket",
    "TicketError",
    "TicketRequest",
    "import_tickets_csv",
    "issue_tickets",
    "parse_tickets_csv",
    "parse_time",
    "revoke_ticket",
    "set_ticket_type_window",
    "ticket_text",
    "tickets_csv",
]

DEFAULT_TTL_S = 7 * 86400
MAX_ISSUE = 100_000  # one call; a festival of this size issues in a few imports
_U32 = (1 << 32) - 1
POLICIES = {"single": EntryPolicy.SINGLE, "reentry": EntryPolicy.REENTRY, "unlimited": EntryPolicy.UNLIMITED}


class TicketError(ValueError):
    """A ticket request with bad input (unknown type, empty window, bad CSV row); the message is safe to show."""


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """One ticket to issue; times in Unix seconds (None: the type's window or the default)."""

    ticket_type: int
    holder: str = ""
    valid_from: int | None = None
    valid_until: int | None = None
    flags: TicketFlags = TicketFlags.NONE


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    """A ticket as issued: its registry fields and its token text."""

    ticket_id: int
    ticket_type: int
    policy: str
    valid_from: int
    valid_until: int
    holder: str
    token: str

    @property
    def display_id(self) -> str:
        """The printed form of the id (``K7M2-QX4P-9``)."""
        return format_short_id(self.ticket_id)


@dataclass(frozen=True, slots=True)
class _Type:
    id: int
    policy: str
    active: bool
    valid_from: int | None
    valid_until: int | None


def _types(conn: Connection) -> dict[int, _Type]:
    tt = t.ticket_types
    rows = conn.execute(select(tt.c.id, tt.c.policy, tt.c.active, tt.c.valid_from, tt.c.valid_until))
    return {int(r.id): _Type(int(r.id), r.policy, bool(r.active), r.valid_from, r.valid_until) for r in rows}


def set_ticket_type_window(conn: Connection, type_id: int, *, valid_from: int | None,
                           valid_until: int | None) -> None:
    """Set when tickets of a type are valid (Unix s, None: open); raises TicketError."""
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise TicketError("the window must end after it starts")
    tt = t.ticket_types
    done = conn.execute(update(tt).where(tt.c.id == type_id).values(valid_from=valid_from,
                                                                     valid_until=valid_until)).rowcount
    if not done:
        raise TicketError(f"unknown ticket type {type_id}")


def _window(kind: _Type, req: TicketRequest, now_s: int) -> tuple[int, int]:
    # "From now" starts a few minutes back: a gate laptop's clock that runs behind must not refuse it.
    start = req.valid_from if req.valid_from is not None else (kind.valid_from or now_s - CLOCK_SKEW_S)
    if kind.valid_from is not None:
        start = max(start, kind.valid_from)
    if req.valid_until is not None:
        end = req.valid_until
    elif kind.valid_until is not None:
        end = kind.valid_until
    else:
        end = max(start, now_s) + DEFAULT_TTL_S
    if kind.valid_until is not None:
        end = min(end, kind.valid_until)
    if not (0 <= start < end <= _U32):
        raise TicketError(f"empty or out-of-range validity window ({start} to {end}) for type {kind.id}")
    return start, end


def issue_tickets(conn: Connection, requests: Sequence[TicketRequest], *, issuer: IssuerKey | None, now_ms: int,
                  source: str = "admin", batch: str = "") -> list[IssuedTicket]:
    """Issue tickets (all or none, in the caller's transaction); raises TicketError.

    ``issuer`` None signs nothing now (``token`` is ''; ``ticket_text`` makes it from the row when needed).
    """
    if not requests:
        raise TicketError("nothing to issue")
    if len(requests) > MAX_ISSUE:
        raise TicketError(f"at most {MAX_ISSUE} tickets at a time")
    types = _types(conn)
    now_s = now_ms // 1000
    batch = batch or uuid.uuid4().hex[:12]
    issued: list[IssuedTicket] = []
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for req in requests:
        kind = types.get(req.ticket_type)
        if kind is None:
            raise TicketError(f"unknown ticket type {req.ticket_type}")
        if not kind.active:
            raise TicketError(f"ticket type {req.ticket_type} is not active")
        start, end = _window(kind, req, now_s)
        ticket_id = new_short_id()
        while ticket_id in seen:  # 40 random bits: a clash inside one batch is rare, never impossible
            ticket_id = new_short_id()
        seen.add(ticket_id)
        token = TicketToken(ticket_id, kind.id, start, end, POLICIES[kind.policy], req.flags)
        holder = req.holder.strip()[:200]
        issued.append(IssuedTicket(ticket_id, kind.id, kind.policy, start, end, holder,
                                   "" if issuer is None else encode_token(token, issuer)))
        rows.append({"ticket_id": ticket_id, "ticket_type": kind.id, "policy": kind.policy,
                     "flags": int(req.flags), "valid_from": start, "valid_until": end, "holder": holder,
                     "source": source, "batch": batch, "created_at": now_ms})
    first = reserve_changes(conn, len(rows))  # gates pull tickets by change number, one each
    for number, row in enumerate(rows, start=first):
        row["change_seq"] = number
    for start_at in range(0, len(rows), 1000):
        conn.execute(insert(t.tickets), rows[start_at:start_at + 1000])
    return issued


def parse_time(text: str, where: str, zone: str | None = None) -> int | None:
    """Read Unix seconds or an ISO 8601 time ('' is None); raises TicketError.

    Without an offset the time is the event's local time in ``zone`` (an IANA name) when given, refused
    when it falls in a DST change (skipped or repeated); with no ``zone`` an offset is required.
    """
    text = text.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TicketError(f"{where}: {text!r} is neither Unix seconds nor an ISO 8601 time") from exc
    if moment.tzinfo is None and zone is not None:
        from sync.timezone import parse_local_time

        try:
            moment = parse_local_time(text, zone)
        except ValueError as exc:
            raise TicketError(f"{where}: {exc}") from exc
    if moment.tzinfo is None:
        raise TicketError(f"{where}: {text!r} needs a time zone (e.g. 2026-11-03T09:00+09:00)")
    return int(moment.timestamp())


def parse_tickets_csv(text: str, *, default_type: int | None = None, zone: str | None = None) -> list[TicketRequest]:
    """Read a CSV with a header: ``type``, ``holder``, ``valid_from``, ``valid_until``; raises TicketError."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {(f or "").strip().lower() for f in reader.fieldnames or []}
    known = {"type", "holder", "name", "valid_from", "valid_until"}
    if not fields or not fields & known:
        raise TicketError(f"the CSV needs a header with some of: {', '.join(sorted(known))}")
    if "type" not in fields and default_type is None:
        raise TicketError("give a ticket type (--type) or a 'type' column")
    out: list[TicketRequest] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        if not any(row.values()):
            continue
        where = f"line {number}"
        type_text = row.get("type", "")
        if type_text:
            if not (type_text.isascii() and type_text.isdigit()):
                raise TicketError(f"{where}: type {type_text!r} is not a ticket type id")
            ticket_type = int(type_text)
        elif default_type is not None:
            ticket_type = default_type
        else:
            raise TicketError(f"{where}: no ticket type")
        out.append(TicketRequest(ticket_type, holder=row.get("holder") or row.get("name", ""),
                                 valid_from=parse_time(row.get("valid_from", ""), where, zone),
                                 valid_until=parse_time(row.get("valid_until", ""), where, zone)))
    if not out:
        raise TicketError("the CSV has no rows")
    return out


def import_tickets_csv(conn: Connection, text: str, *, issuer: IssuerKey, now_ms: int,
                       default_type: int | None = None) -> list[IssuedTicket]:
    """Issue one ticket per CSV row, all or none; times without an offset are the event's; raises TicketError."""
    from server.event import get_event_settings

    zone = get_event_settings(conn).timezone
    return issue_tickets(conn, parse_tickets_csv(text, default_type=default_type, zone=zone), issuer=issuer,
                         now_ms=now_ms, source="csv")


def tickets_csv(issued: Sequence[IssuedTicket]) -> str:
    """The issued tickets as CSV (id, printed id, type, holder, window, token) for mail merge or printing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["ticket_id", "display_id", "type", "policy", "holder", "valid_from", "valid_until", "token"])
    for it in issued:
        holder = "'" + it.holder if it.holder[:1] in ("=", "+", "-", "@", "\t", "\r") else it.holder
        writer.writerow([it.ticket_id, it.display_id, it.ticket_type, it.policy, holder, it.valid_from,
                         it.valid_until, it.token])
    return out.getvalue()


def _ticket_id(value: int | str) -> int:
    if isinstance(value, int):
        return value
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        return parse_short_id(value)
    except ShortIdError as exc:
        raise TicketError(f"ticket id: {exc}") from exc


def ticket_text(conn: Connection, ticket_id: int | str, *, issuer: IssuerKey) -> str:
    """Re-make the ``ET1:`` text of an issued ticket; raises TicketError for an unknown ticket."""
    tk = t.tickets
    row = conn.execute(select(tk).where(tk.c.ticket_id == _ticket_id(ticket_id))).first()
    if row is None:
        raise TicketError("unknown ticket")
    token = TicketToken(int(row.ticket_id), int(row.ticket_type), int(row.valid_from), int(row.valid_until),
                        POLICIES[row.policy], TicketFlags(int(row.flags)))
    return encode_token(token, issuer)


def revoke_ticket(conn: Connection, ticket_id: int | str, *, now_ms: int, reason: str = "admin",
                  revoked: bool = True) -> int:
    """Revoke (or lift the revocation of) a ticket at every gate; returns its id; raises TicketError.

    Tickets the registry does not know (tickets of another system) can be
    revoked too: the revocation is what gates pull.
    """
    tid = _ticket_id(ticket_id)
    if not 0 < tid < 1 << 40:
        raise TicketError("ticket id out of range")
    tk = t.tickets
    conn.execute(update(tk).where(tk.c.ticket_id == tid).values(revoked_at=now_ms if revoked else None,
                                                                 change_seq=reserve_changes(conn, 1)))
    batch = LedgerBatch(conn, lock=False, now_ms=now_ms)  # the server's way to publish a revocation
    batch.revocations[("ticket", tid)] = {"kind": "ticket", "ref": tid, "revoked": revoked, "reason": reason[:200]}
    batch.flush()
    return tid

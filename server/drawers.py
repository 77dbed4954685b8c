"""Cash drawers of the top-up desks: counted at close-out, the difference booked to an imbalance account.

A desk's shift runs from its previous close-out (or its enrollment) to a ``drawer``
record (``sync.schemas.DrawerRecord``).  The server works out what the drawer
should hold from its own books, never from the desk's screen:

    expected = start float + the desk's top-ups − its cash-outs, booked in (since, closed_at]

and books the difference as one transaction:

    drawer_closeout   cash drawer (the desk) −(counted − expected), system "imbalance" +(counted − expected)

so "money in" (the cash the desks really took) and "where it is" still agree to the
yen: a drawer short by ¥100 takes ¥100 off both.  The desk's own figure is kept
beside the server's (``desk_expected``) so the admin sees when they differ.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Index, Integer, MetaData, Table, Text, func, select

from server.db import tables as t
from server.db.tables import BIG, NAMING_CONVENTION, STRICT

__all__ = ["SYSTEM_IMBALANCE", "drawer_closeouts", "list_closeouts", "shift_totals"]

SYSTEM_IMBALANCE = 6  # the other side of counted − expected at drawer close-outs

metadata = MetaData(naming_convention=NAMING_CONVENTION)

drawer_closeouts = Table(
    "drawer_closeouts", metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", Text(), nullable=False, unique=True),
    Column("terminal_id", Integer, nullable=False),
    Column("staff_id", BIG, nullable=False),
    Column("since", BIG, nullable=False),  # the previous close-out's created_at (0: the first)
    Column("closed_at", BIG, nullable=False),  # the record's created_at (the desk's clock)
    Column("start_float", BIG, nullable=False),
    Column("topups", BIG, nullable=False),
    Column("cashouts", BIG, nullable=False),
    Column("expected", BIG, nullable=False),
    Column("counted", BIG, nullable=False),
    Column("difference", BIG, nullable=False),  # counted − expected: what the imbalance account got
    Column("desk_expected", BIG, nullable=False),  # the desk's own figure, for the admin
    Column("received_at", BIG, nullable=False),
    Index("ix_drawer_closeouts_terminal_id", "terminal_id", "closed_at"),
    **STRICT,
)


def previous_closeout(conn: Connection, terminal_id: int, *, before: int) -> int:
    """The ``closed_at`` of the desk's latest close-out before ``before`` (0 when there is none)."""
    d = drawer_closeouts
    value = conn.execute(select(func.max(d.c.closed_at)).where(d.c.terminal_id == terminal_id,
                                                               d.c.closed_at < before)).scalar()
    return int(value or 0)


def shift_totals(conn: Connection, terminal_id: int, *, since: int, until: int) -> tuple[int, int]:
    """(top-ups, cash-outs) the server booked for the desk's records created in (since, until]."""
    r = t.records
    rows = conn.execute(select(r.c.kind, func.coalesce(func.sum(r.c.amount), 0)).where(
        r.c.terminal_id == terminal_id, r.c.kind.in_(("topup", "cashout")), r.c.txn_id.is_not(None),
        r.c.created_at > since, r.c.created_at <= until).group_by(r.c.kind)).all()
    totals = {str(kind): int(amount) for kind, amount in rows}
    return totals.get("topup", 0), totals.get("cashout", 0)


def list_closeouts(conn: Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    """Close-outs newest first, with the desk's name (for the admin's close page)."""
    d, tm = drawer_closeouts, t.terminals
    rows = conn.execute(select(d, tm.c.name.label("terminal_name")).join(tm, tm.c.id == d.c.terminal_id)
                        .order_by(d.c.closed_at.desc(), d.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]

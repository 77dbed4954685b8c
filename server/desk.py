"""New wallets issued at a top-up desk for a visitor who arrives with none (``POST /api/v1/desk/wallets``).

The desk makes a request id (UUIDv7) and keeps it before it asks; the server keeps one
``desk_wallets`` row per request id, so a request whose answer was lost, asked again,
gets the same wallet back (with a fresh one-time link: the first one was never seen),
never a second wallet.  A request id another terminal used is refused (409).

A wallet starts at 0, so issuing one mints no money; still, a stolen desk laptop must not
fill the event with wallets: each terminal may issue ``desk_wallets_per_hour`` in any
rolling hour and ``desk_wallets_per_terminal`` in all (``ServerSettings``).  The count and
the insert run in one write transaction that first locks the terminal's row (PostgreSQL;
SQLite writers are serialized), so two requests at once cannot both pass the cap.

Each wallet gets My page access as a people import gives it (a ``visitor`` with no PIN yet)
and a one-time sign-in link (``server.web.people``): the desk shows it as a QR that the
visitor photographs with their phone to choose a PIN and see the wallet QR on My page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Connection, Index, Integer, MetaData, Table, Text, func, insert, select

from server.db import tables as t
from server.db.tables import BIG, NAMING_CONVENTION, STRICT
from server.wallets import create_wallet

__all__ = ["DeskRefused", "Issued", "desk_wallets", "issue_desk_wallet"]

HOUR_MS = 3_600_000

metadata = MetaData(naming_convention=NAMING_CONVENTION)

desk_wallets = Table(
    "desk_wallets", metadata,
    Column("request_id", Text(), primary_key=True),  # the desk's UUIDv7: the idempotency key
    Column("terminal_id", Integer, nullable=False),
    Column("staff_id", BIG, nullable=False),
    Column("wallet_id", BIG, nullable=False, unique=True),
    Column("created_at", BIG, nullable=False),  # Unix ms, the server's clock
    Index("ix_desk_wallets_terminal_id", "terminal_id", "created_at"),
    **STRICT,
)


class DeskRefused(Exception):
    """A desk wallet not issued: ``code`` (issue_cap, request_conflict) and an HTTP status."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Issued:
    """The wallet of a request; ``link``: its one-time sign-in token (None once a PIN was chosen)."""

    wallet_id: int
    link: str | None
    repeated: bool


def issue_desk_wallet(conn: Connection, *, request_id: str, terminal_id: int, staff_id: int, now_ms: int,
                      lock: bool, per_hour: int, per_terminal: int) -> Issued:
    """Issue (or find again) the wallet of ``request_id``; raises DeskRefused."""
    from server.web import people as web_people
    from server.web.tables import customers, people, signin_links

    tm = t.terminals
    query = select(tm.c.id).where(tm.c.id == terminal_id)
    conn.execute(query.with_for_update() if lock else query).first()  # serializes this desk's requests
    d = desk_wallets
    known = conn.execute(select(d.c.terminal_id, d.c.wallet_id).where(d.c.request_id == request_id)).first()
    if known is not None:
        if int(known.terminal_id) != terminal_id:
            raise DeskRefused(409, "request_conflict", "this request id was used by another terminal")
        wallet_id = int(known.wallet_id)
        return Issued(wallet_id, web_people.issue_links(conn, [wallet_id], now_ms=now_ms).get(wallet_id), True)
    in_hour = int(conn.execute(select(func.count()).select_from(d).where(
        d.c.terminal_id == terminal_id, d.c.created_at > now_ms - HOUR_MS)).scalar_one())
    if in_hour >= per_hour:
        raise DeskRefused(403, "issue_cap", f"issue_cap: this desk issued {in_hour} new wallets in the last hour "
                                            f"(at most {per_hour}); ask an admin")
    total = int(conn.execute(select(func.count()).select_from(d).where(d.c.terminal_id == terminal_id))
                .scalar_one())
    if total >= per_terminal:
        raise DeskRefused(403, "issue_cap", f"issue_cap: this desk issued {total} new wallets "
                                            f"(at most {per_terminal}); ask an admin")
    wallet_id = create_wallet(conn, now_ms=now_ms)
    conn.execute(insert(d).values(request_id=request_id, terminal_id=terminal_id, staff_id=staff_id,
                                  wallet_id=wallet_id, created_at=now_ms))
    conn.execute(insert(people).values(wallet_id=wallet_id, name="", class_name="", email="", kind="visitor",
                                       batch=f"desk-{terminal_id}", position=total, created_at=now_ms))
    conn.execute(insert(customers).values(wallet_id=wallet_id, holder_name="", pin_hash=web_people.UNSET_PIN,
                                          staff_id=None, guest_quota=-1, guest_ticket_type=None,
                                          created_at=now_ms))
    token, digest = web_people.link_token()
    conn.execute(insert(signin_links).values(token_hash=digest, wallet_id=wallet_id, created_at=now_ms,
                                             expires_at=now_ms + web_people.LINK_TTL_MS, used_at=None))
    return Issued(wallet_id, token, False)

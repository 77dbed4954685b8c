"""Customers on My page: PIN access to a wallet, and guest invitations within a quota.

Who may invite is decided by ``sync.permissions`` (permission
``guests.invite``, held through the linked person's roles, e.g. ``student``);
how many by the quota: the event's default for the person's role (``student``,
set on the dashboard's tickets page) unless the admin set a number for this
customer (an exception).  A guest ticket is a ticket of the registry
(``server.tickets``: a ``tickets`` row, source ``guest``, the GUEST flag,
the guest's name as holder) whose signed ``ET1:`` token the page shows, so
gates pull it like any issued ticket and decide its typed short id offline;
its window is an issued ticket's (from a few minutes back, clipped to its
type's window), for ``GUEST_TICKET_TTL_S`` at most.  Cancelling revokes it
(``revoke_ticket``): the registry row and a revocation every gate pulls.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from server.db import tables as t
from server.said import Said
from server.staff import create_staff, grant_role, hash_secret, load_access
from server.tickets import TicketError, TicketRequest, issue_tickets, revoke_ticket, ticket_text
from server.web.tables import customers, guest_invitations
from sync.keys import IssuerKey
from sync.permissions import EVENT, Permission
from sync.tokens import EntryPolicy, TicketFlags, TicketToken, encode_token

__all__ = ["QUOTA_ROLES", "GuestError", "cancel_invitation", "customer", "effective_quota", "guest_ticket_text",
           "invitations", "invite_guest", "may_invite", "role_quota", "set_customer", "set_role_quota", "ticket_types"]

GUEST_TICKET_TTL_S = 3 * 86400
MAX_QUOTA = 100
QUOTA_ROLES = ("student",)  # roles whose default quota the dashboard sets
_ROLE_DEFAULT = -1  # web_customers.guest_quota: no exception, the role's default applies
_QUOTA_KEY = "web.guest_quota.role."  # a row of the server's ``counters`` (name -> integer): no schema change
_POLICIES = {"single": EntryPolicy.SINGLE, "reentry": EntryPolicy.REENTRY, "unlimited": EntryPolicy.UNLIMITED}


class GuestError(ValueError):
    """An invitation that cannot be made or cancelled; the message is a catalog key."""


@dataclass(frozen=True, slots=True)
class Customer:
    """A wallet's My page access."""

    wallet_id: int
    holder_name: str
    pin_hash: str
    staff_id: int | None
    guest_quota: int | None  # the admin's exception; None: the role's default
    guest_ticket_type: int | None


def customer(conn: Connection, wallet_id: int, *, lock: bool = False) -> Customer | None:
    """The My page access of a wallet, or None; ``lock``: the row FOR UPDATE (PostgreSQL; SQLite's write
    transaction already serialises), the lock every change of this customer's invitations takes first."""
    query = select(customers).where(customers.c.wallet_id == wallet_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    quota = int(row.guest_quota)
    return Customer(int(row.wallet_id), row.holder_name, row.pin_hash, row.staff_id,
                    None if quota == _ROLE_DEFAULT else quota, row.guest_ticket_type)


def role_quota(conn: Connection, role: str) -> int:
    """The event's default guest quota for holders of ``role`` (0 when unset)."""
    value = conn.execute(select(t.counters.c.value).where(t.counters.c.name == _QUOTA_KEY + role)).scalar()
    return int(value or 0)


def set_role_quota(conn: Connection, role: str, quota: int) -> None:
    """Set the default guest quota of ``role`` (one of QUOTA_ROLES); raises ValueError."""
    if role not in QUOTA_ROLES:
        raise Said(f"no default quota for role {role!r}", ja="ゲスト枠の対象は一覧から選んでください")
    if not 0 <= quota <= MAX_QUOTA:
        raise Said(f"the guest quota is 0 to {MAX_QUOTA}", ja=f"ゲストの枠は0〜{MAX_QUOTA}人です")
    c = t.counters
    if not conn.execute(update(c).where(c.c.name == _QUOTA_KEY + role).values(value=quota)).rowcount:
        conn.execute(insert(c).values(name=_QUOTA_KEY + role, value=quota))


def effective_quota(conn: Connection, person: Customer) -> int:
    """The admin's exception when set, else the highest default of the linked person's roles."""
    if person.guest_quota is not None:
        return person.guest_quota
    if person.staff_id is None:
        return 0
    sr = t.staff_roles
    roles = set(conn.execute(select(sr.c.role).where(sr.c.staff_id == person.staff_id)).scalars())
    return max((role_quota(conn, r) for r in roles if r in QUOTA_ROLES), default=0)


def set_customer(conn: Connection, wallet_id: int, *, holder_name: str, pin: str, student: bool,
                 guest_quota: int | None, guest_ticket_type: int | None, now_ms: int) -> dict[str, Any]:
    """Give a wallet My page access (or change it); a blank PIN keeps the old one. Raises ValueError.

    ``guest_quota`` None: the role's default applies; a number is this customer's exception.
    """
    if conn.execute(select(t.accounts.c.id).where(t.accounts.c.kind == "wallet", t.accounts.c.ref == wallet_id)
                    ).scalar() is None:
        raise Said("unknown wallet", ja="ウォレットが見つかりません")
    if pin and not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise Said("a PIN is 4 to 12 digits", ja="PINは4〜12桁の数字です")
    if guest_quota is not None and not 0 <= guest_quota <= MAX_QUOTA:
        raise Said(f"the guest quota is 0 to {MAX_QUOTA}", ja=f"ゲストの枠は0〜{MAX_QUOTA}人です")
    existing = customer(conn, wallet_id)
    if existing is None and not pin:
        raise Said("set a PIN for the first sign-in", ja="最初のサインイン用にPINを設定してください")
    staff_id = existing.staff_id if existing else None
    if student and staff_id is None:
        # The permission to invite comes from a role, the same rule set as everywhere.
        staff_id = create_staff(conn, name=holder_name or f"wallet {wallet_id}", pin=f"{secrets.randbelow(10**8):08d}",
                                now_ms=now_ms)
        grant_role(conn, staff_id, "student")
    values = {"holder_name": holder_name.strip(), "staff_id": staff_id,
              "guest_quota": _ROLE_DEFAULT if guest_quota is None else guest_quota,
              "guest_ticket_type": guest_ticket_type}
    if pin:
        values["pin_hash"] = hash_secret(pin)
    if existing is None:
        conn.execute(insert(customers).values(wallet_id=wallet_id, created_at=now_ms, **values))
    else:
        conn.execute(update(customers).where(customers.c.wallet_id == wallet_id).values(**values))
    if holder_name.strip():
        conn.execute(update(t.accounts).where(t.accounts.c.kind == "wallet", t.accounts.c.ref == wallet_id)
                     .values(name=holder_name.strip()))
    return {"student": student, "guest_quota": guest_quota, "pin_changed": bool(pin)}


def may_invite(conn: Connection, person: Customer, *, now_s: int) -> bool:
    """True when the customer's linked person holds ``guests.invite``."""
    if person.staff_id is None:
        return False
    access = load_access(conn, [person.staff_id]).get(person.staff_id)
    return access is not None and access.allows(Permission.GUESTS_INVITE, EVENT, now_s=now_s)


def invitations(conn: Connection, wallet_id: int) -> list[dict[str, Any]]:
    """A customer's invitations, newest first."""
    g = guest_invitations
    return [dict(r._mapping) for r in conn.execute(select(g).where(g.c.wallet_id == wallet_id)
                                                   .order_by(g.c.id.desc()))]


def live_invitations(conn: Connection, wallet_id: int) -> int:
    """What counts against the quota: invitations not cancelled, and every one whose guest has entered
    (a gate that had not yet heard of the cancellation let them in: their place stays taken)."""
    g, ci = guest_invitations, t.checkins
    used = select(ci.c.ticket_id).where(ci.c.ticket_id == g.c.ticket_id).exists()
    return int(conn.execute(select(func.count()).select_from(g).where(
        g.c.wallet_id == wallet_id, or_(g.c.cancelled_at.is_(None), used))).scalar_one())


def invite_guest(conn: Connection, wallet_id: int, *, guest_name: str, now_ms: int) -> int:
    """Make a guest ticket within the quota; returns the invitation id; raises GuestError."""
    person = customer(conn, wallet_id, lock=True)  # the lock first: two tabs cannot both take the last place
    if person is None or not may_invite(conn, person, now_s=now_ms // 1000):
        raise GuestError("my.guest_not_allowed")
    if person.guest_ticket_type is None:
        raise GuestError("my.guest_no_type")
    if live_invitations(conn, wallet_id) >= effective_quota(conn, person):
        raise GuestError("my.guest_quota_full")
    now_s = now_ms // 1000
    tt = t.ticket_types
    type_from = conn.execute(select(tt.c.valid_from).where(tt.c.id == person.guest_ticket_type)).scalar()
    name = guest_name.strip()[:100]
    # A real ticket, as the dashboard issues one: the gates pull it (its typed short id works offline).
    request = TicketRequest(person.guest_ticket_type, holder=name, flags=TicketFlags.GUEST,
                            valid_until=max(now_s, type_from or 0) + GUEST_TICKET_TTL_S)
    try:
        [ticket] = issue_tickets(conn, [request], issuer=None, now_ms=now_ms, source="guest")
    except TicketError as exc:  # the type was switched off, or its window is over
        raise GuestError("my.guest_type_closed") from exc
    return int(conn.execute(insert(guest_invitations).values(
        wallet_id=wallet_id, ticket_id=ticket.ticket_id, ticket_type=ticket.ticket_type, guest_name=name,
        valid_from=ticket.valid_from, valid_until=ticket.valid_until,
        created_at=now_ms).returning(guest_invitations.c.id)).scalar_one())


def cancel_invitation(conn: Connection, wallet_id: int, invitation_id: int, *, now_ms: int) -> int:
    """Cancel one's own invitation and revoke its ticket at every gate; returns the ticket id; raises GuestError."""
    g = guest_invitations
    if customer(conn, wallet_id, lock=True) is None:  # serialised with invite_guest of the same customer
        raise GuestError("my.guest_not_found")
    row = conn.execute(select(g).where(g.c.id == invitation_id, g.c.wallet_id == wallet_id)).first()
    if row is None or row.cancelled_at is not None:
        raise GuestError("my.guest_not_found")
    ci = t.checkins
    if conn.execute(select(ci.c.record_id).where(ci.c.ticket_id == row.ticket_id).limit(1)).first() is not None:
        raise GuestError("my.guest_used")  # the guest has entered: the place is spent
    conn.execute(update(g).where(g.c.id == invitation_id).values(cancelled_at=now_ms))
    # the registry row (what a typed id is decided from) and the revocation every gate pulls
    return revoke_ticket(conn, int(row.ticket_id), now_ms=now_ms, reason="guest invitation cancelled")


def guest_ticket_text(conn: Connection, invitation: dict[str, Any], issuer: IssuerKey) -> str:
    """The signed ``ET1:`` text of a guest ticket (from its registry row, as every ticket's)."""
    try:
        return ticket_text(conn, int(invitation["ticket_id"]), issuer=issuer)
    except TicketError:  # no registry row (not possible after migration 0770): from the invitation
        pass
    tt = t.ticket_types
    policy = conn.execute(select(tt.c.policy).where(tt.c.id == invitation["ticket_type"])).scalar() or "single"
    token = TicketToken(int(invitation["ticket_id"]), int(invitation["ticket_type"]), int(invitation["valid_from"]),
                        int(invitation["valid_until"]), _POLICIES.get(policy, EntryPolicy.SINGLE), TicketFlags.GUEST)
    return encode_token(token, issuer)


def ticket_types(conn: Connection) -> list[Any]:
    """Every active ticket type."""
    tt = t.ticket_types
    return list(conn.execute(select(tt.c.id, tt.c.name, tt.c.policy, tt.c.gate_ids).where(tt.c.active.is_(True))
                             .order_by(tt.c.id)))

"""Wallets: search, history, balance, top-up, refund or adjustment with a reason, block, printed card."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from server.wallets import WalletError, admin_adjust, admin_topup, create_wallet, set_blocked, wallet_view
from server.web import actions, customers, people, queries
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, Visible, require, sale_in_form
from server.web.deps import PageDep, Refused, database, event_settings, services
from server.web.forms import checkbox, money_field, optional_int
from server.web.qr import qr_svg
from server.web.render import page
from sync.ids import ShortIdError, parse_short_id
from sync.permissions import EVENT, Permission
from sync.tokens import WalletFlags, WalletToken, encode_token

router = APIRouter()
VIEW, MANAGE = Permission.WALLETS_VIEW, Permission.WALLETS_MANAGE
CARD_TTL_S = 7 * 86400  # a printed card outlives the festival days


def _lock(request: Request) -> bool:
    return not database(request).is_sqlite


@router.get("/admin/wallets")
def wallets_page(request: Request, ctx: PageDep, q: str = "", admin: Admin = require(VIEW)) -> Response:
    """Search by short code (typed loosely: dashes, O/0, I/1) or by name.

    A person who may view wallets only for some stalls finds a wallet by its exact code, without the holder's
    name or balance (those are the event's): the wallet page then shows only their stalls' sales.
    """
    q = q.strip()[:100]
    wallet_id = None
    if q:
        try:
            wallet_id = parse_short_id(q)
        except ShortIdError:
            wallet_id = None
    full = Visible(admin.grants, VIEW).event
    batches: list[dict[str, object]] = []
    if not full and wallet_id is None:
        found: list[object] = []
    else:
        with database(request).read() as conn:
            found = list(queries.find_wallets(conn, wallet_id=wallet_id, name=""))
            if full and q and (wallet_id is None or not found):  # partial: name, class or part of a code
                found = list(people.find_people(conn, q))
            if admin.grants.allows(MANAGE, EVENT):
                batches = people.recent_batches(conn)
    return page(request, "wallets.html", ctx, active="wallets", q=q, wallets=found, full=full, batches=batches,
                max_cards=people.MAX_CARDS, kinds=people.KINDS)


@router.post("/admin/wallets")
def wallet_create(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Create an empty wallet (for a printed card)."""
    made: dict[str, int] = {}

    def run(conn: object, now: int) -> dict[str, int]:
        made["id"] = create_wallet(conn, now_ms=now)  # type: ignore[arg-type]
        return {"wallet_id": made["id"]}

    response = actions.perform(request, ctx, admin, "wallet.create", run, back="/admin/wallets", done="saved")
    if "id" in made:
        return actions.back_to(f"/admin/wallets/{made['id']}", done="created")
    return response


@router.get("/admin/wallets/{wallet_id}")
def wallet_page(request: Request, ctx: PageDep, wallet_id: int, admin: Admin = require(VIEW)) -> Response:
    """A wallet's balance, state and full history, with the admin's actions.

    Viewed for some stalls only: the history rows of those stalls, no holder, no balance, no event actions.
    """
    see, manage = Visible(admin.grants, VIEW), Visible(admin.grants, MANAGE)
    with database(request).read() as conn:
        try:
            view = wallet_view(conn, wallet_id, history=0)
        except WalletError as exc:
            raise Refused(str(exc)) from exc
        history = queries.wallet_history(conn, wallet_id)
        stalls = queries.stall_names(conn)
        person = customers.customer(conn, wallet_id) if see.event else None
        types = customers.ticket_types(conn)
        default_quota = customers.role_quota(conn, "student")
    if not see.event:
        history = [h for h in history if h["stall_id"] is not None and see.stall(h["stall_id"])]
    refund_stalls = manage.stalls(stalls)
    return page(request, "wallet.html", ctx, active="wallets", w=view, history=history, stalls=stalls,
                manage=manage.event and see.event, full=see.event, refund_stalls=refund_stalls, person=person,
                ticket_types=types, default_quota=default_quota)


@router.post("/admin/wallets/{wallet_id}/customer")
def wallet_customer(request: Request, ctx: PageDep, wallet_id: int, holder_name: Annotated[str, Form(max_length=100)],
                    pin: Annotated[str, Form(max_length=12)] = "", student: Annotated[str | None, Form()] = None,
                    guest_quota: Annotated[str, Form(max_length=4)] = "",
                    guest_ticket_type: Annotated[str, Form(max_length=6)] = "",
                    admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Give the wallet's holder My page access: name, PIN, student (guests.invite) and guest quota.

    A blank quota means the role's default (set on the tickets page); a number is this customer's exception.
    """
    def run(conn: Connection, now: int) -> dict[str, object]:
        return customers.set_customer(
            conn, wallet_id, holder_name=holder_name, pin=pin.strip(), student=checkbox(student),
            guest_quota=optional_int(guest_quota, ctx), guest_ticket_type=optional_int(guest_ticket_type, ctx),
            now_ms=now)

    return actions.perform(request, ctx, admin, "wallet.my_access", run, back=f"/admin/wallets/{wallet_id}",
                           done="customer_saved", wallet_id=wallet_id, holder_name=holder_name)


@router.post("/admin/wallets/{wallet_id}/topup")
def wallet_topup(request: Request, ctx: PageDep, wallet_id: int, amount: Annotated[str, Form(max_length=20)],
                 admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Load cash taken at the admin desk."""
    def run(conn: object, now: int) -> dict[str, int]:
        value = money_field(ctx, amount)
        balance, seq = admin_topup(conn, wallet_id, value, lock=_lock(request), now_ms=now,  # type: ignore[arg-type]
                                   staff_id=admin.staff_id)
        return {"amount": value, "balance": balance, "seq": seq}

    return actions.perform(request, ctx, admin, "wallet.topup", run, back=f"/admin/wallets/{wallet_id}",
                           done="topped_up", wallet_id=wallet_id)


@router.post("/admin/wallets/{wallet_id}/refund")
def wallet_refund(request: Request, ctx: PageDep, wallet_id: int, txn_id: Annotated[int, Form()],
                  amount: Annotated[str, Form(max_length=20)], reason: Annotated[str, Form(max_length=200)],
                  admin: Admin = require(MANAGE, on=sale_in_form)) -> Response:
    """Refund (part of) a sale: a new refund transaction from the stall back to the wallet (the sale's stall)."""
    def run(conn: object, now: int) -> dict[str, int]:
        value = money_field(ctx, amount)
        result = actions.refund_sale(conn, wallet_id, txn_id, value, lock=_lock(request), now_ms=now,  # type: ignore[arg-type]
                                     reason=reason, staff_id=admin.staff_id)
        return {"amount": value, **result}

    return actions.perform(request, ctx, admin, "wallet.refund", run, back=f"/admin/wallets/{wallet_id}",
                           done="refunded", wallet_id=wallet_id, txn_id=txn_id, reason=reason)


@router.post("/admin/wallets/{wallet_id}/adjust")
def wallet_adjust(request: Request, ctx: PageDep, wallet_id: int, amount: Annotated[str, Form(max_length=20)],
                  reason: Annotated[str, Form(max_length=200)],
                  admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Correct the balance by a signed amount with a reason: a new adjustment transaction."""
    def run(conn: object, now: int) -> dict[str, int]:
        value = money_field(ctx, amount, allow_negative=True)
        balance, seq = admin_adjust(conn, wallet_id, value, lock=_lock(request), now_ms=now,  # type: ignore[arg-type]
                                    note=reason.strip(), staff_id=admin.staff_id)
        return {"amount": value, "balance": balance, "seq": seq}

    return actions.perform(request, ctx, admin, "wallet.adjust", run, back=f"/admin/wallets/{wallet_id}",
                           done="adjusted", wallet_id=wallet_id, reason=reason)


@router.post("/admin/wallets/{wallet_id}/block")
def wallet_block(request: Request, ctx: PageDep, wallet_id: int, blocked: Annotated[str, Form(max_length=5)],
                 reason: Annotated[str, Form(max_length=200)] = "",
                 admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Block (or unblock) a wallet; every terminal learns it on its next pull."""
    block = blocked == "1"
    return actions.perform(
        request, ctx, admin, "wallet.block" if block else "wallet.unblock",
        lambda conn, now: set_blocked(conn, wallet_id, blocked=block, reason=reason.strip() or "admin", now_ms=now),
        back=f"/admin/wallets/{wallet_id}", done="blocked" if block else "unblocked", wallet_id=wallet_id,
        reason=reason)


@router.get("/admin/wallets/{wallet_id}/card")
def wallet_card(request: Request, ctx: PageDep, wallet_id: int,
                admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """A printable card with a long-lived wallet QR (flag PRINTED_CARD)."""
    svc = services(request)
    now_s = ctx.now_ms // 1000
    with database(request).read() as conn:
        try:
            view = wallet_view(conn, wallet_id, history=0)
        except WalletError as exc:
            raise Refused(str(exc)) from exc
        issuer = svc.issuer.active(conn)
    if view.blocked:  # a 7-day token of a blocked wallet would still pay at every offline stall
        return page(request, "error.html", ctx, status_code=409, status=409, heading=ctx.t("error.forbidden"),
                    message=ctx.t("wallets.card_blocked"), back=f"/admin/wallets/{wallet_id}")
    event = event_settings(request)
    token = WalletToken(wallet_id, view.balance, view.seq, now_s, now_s + CARD_TTL_S, event.offline_limit,
                        WalletFlags(view.flags & 0xFF) | WalletFlags.PRINTED_CARD)
    text = encode_token(token, issuer)
    return page(request, "wallet_card.html", ctx, active="wallets", w=view, qr=qr_svg(text, scale=6),
                token=text, event=event, expires_ms=(now_s + CARD_TTL_S) * 1000)

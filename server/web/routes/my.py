"""My page: a customer signs in with the wallet's short code and PIN, and gets the wallet QR.

The QR is a freshly signed wallet token (``server.wallets.signed_wallet_token``),
refetched by the page before it expires.  Guests: make, see, cancel within
the quota.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from server import closing
from server.audit import audit
from server.event import get_event_settings
from server.wallets import WalletError, signed_wallet_token, wallet_view
from server.web import customers, queries
from server.web.actions import claim_form
from server.web.deps import (
    PageDep,
    SessionDep,
    WalletDep,
    WebApp,
    client_address,
    clock_ms,
    cookie_header,
    database,
    services,
)
from server.web.i18n import MESSAGES
from server.web.qr import qr_svg
from server.web.render import PageContext, page
from server.web.session import CUSTOMER_COOKIE, Session, credential_fingerprint
from server.web.signin import Lockout, begin_attempt, check_secret, finish_attempt
from sync.ids import ShortIdError, format_short_id, parse_short_id

router = APIRouter()
QR_SCALE = 8  # 45 modules + border at 8 px: about 420 px, easy for a webcam at arm's length


def _signin_page(request: Request, ctx: PageContext, *, error: str = "", code: str = "",
                 status_code: int = 200) -> Response:
    return page(request, "my_signin.html", ctx, error=error, code=code, status_code=status_code)


@router.get("/my/signin")
def my_signin_page(request: Request, ctx: PageDep, state: SessionDep, next: str = "/my") -> Response:
    """The customer sign-in form."""
    return _signin_page(request, ctx)


@router.post("/my/signin")
def my_signin(request: Request, ctx: PageDep, state: SessionDep, code: Annotated[str, Form(max_length=30)],
              pin: Annotated[str, Form(max_length=20)]) -> Response:
    """Short code and PIN; repeated failures lock that wallet's sign-in for a while."""
    web: WebApp = request.app.state.web
    now_ms = clock_ms(request)
    if wait_ms := web.signin_begin(request, now_ms):  # one address trying many wallets
        return _signin_page(request, ctx, error=ctx.t("auth.locked", minutes=max(1, -(-wait_ms // 60_000))),
                            code=code, status_code=429)
    try:
        wallet_id = parse_short_id(code)
    except ShortIdError:
        return _signin_page(request, ctx, error=ctx.t("my.bad_code"), code=code, status_code=401)
    actor = f"wallet:{format_short_id(wallet_id)}"
    db = database(request)
    until = begin_attempt(db, actor, address=client_address(request), limits=Lockout.of("my", web.settings),
                          now_ms=now_ms)  # counted before it is checked: at most the limit is ever checked
    if until is not None:
        return _signin_page(request, ctx, error=ctx.t("auth.locked", minutes=max(1, -(-(until - now_ms) // 60_000))),
                            code=code, status_code=429)
    with db.read() as conn:
        person = customers.customer(conn, wallet_id)
    ok = check_secret(pin, person.pin_hash if person else None)
    finish_attempt(db, actor, area="my", ok=ok and person is not None, now_ms=now_ms)
    if not ok or person is None:
        return _signin_page(request, ctx, error=ctx.t("my.failed"), code=code, status_code=401)
    web.signin_ok(request, now_ms)  # only failures count against the address
    now_s = now_ms // 1000
    session = Session("wallet", wallet_id, now_s, now_s + web.settings.customer_session_ttl_s,
                      Session.anonymous(now_s, 0).nonce, credential_fingerprint(person.pin_hash))
    state.cookies[:] = [cookie_header(request, CUSTOMER_COOKIE, web.codec.dumps(session),
                                      max_age=web.settings.customer_session_ttl_s)]
    return RedirectResponse("/my", status_code=303)


@router.post("/my/signout")
def my_signout(request: Request, state: SessionDep) -> Response:
    """End the customer session."""
    web: WebApp = request.app.state.web
    anon = Session.anonymous(clock_ms(request) // 1000, web.settings.customer_session_ttl_s)
    state.cookies[:] = [cookie_header(request, CUSTOMER_COOKIE, web.codec.dumps(anon),
                                      max_age=web.settings.customer_session_ttl_s)]
    return RedirectResponse("/my/signin", status_code=303)


def _token(request: Request, wallet_id: int) -> tuple[str | None, int, int, str]:
    """(token text or None when blocked, balance, expires_ms, error key)."""
    svc = services(request)
    with database(request).read() as conn:
        try:
            signed = signed_wallet_token(conn, wallet_id, issuer=svc.issuer.active(conn),
                                         settings=get_event_settings(conn), now_ms=svc.clock())
        except WalletError:
            view = wallet_view(conn, wallet_id, history=0)
            return None, view.balance, 0, "my.blocked"
    return signed.token, signed.balance, signed.expires_at * 1000, ""


@router.get("/my")
def my_page(request: Request, ctx: PageDep, wallet_id: WalletDep) -> Response:
    """The wallet QR, balance, history, and guest invitations."""
    token, balance, expires_ms, error = _token(request, wallet_id)
    with database(request).read() as conn:
        view = wallet_view(conn, wallet_id, history=30)
        person = customers.customer(conn, wallet_id)
        invites = customers.invitations(conn, wallet_id)
        allowed = person is not None and customers.may_invite(conn, person, now_s=ctx.now_ms // 1000)
        quota = customers.effective_quota(conn, person) if person else 0
        payout = closing.payout_status(conn, wallet_id)
        payouts_open = closing.close_settings(conn).payouts_open
        live = customers.live_invitations(conn, wallet_id)  # a used guest ticket keeps its place
    payout_error = request.query_params.get("payout_error", "")
    return page(request, "my.html", ctx, w=view, person=person, token=token, balance=balance,
                qr=qr_svg(token, scale=QR_SCALE) if token else "", expires_ms=expires_ms, error=error,
                margin_ms=request.app.state.web.settings.wallet_qr_refresh_margin_s * 1000,
                invites=invites, may_invite=allowed, quota=quota, used=live,
                guest_error=_guest_error(ctx, request.query_params.get("guest_error", "")),
                wallet_code=format_short_id(wallet_id), payout=payout, payouts_open=payouts_open,
                payout_error=ctx.t(f"close.err.{payout_error}") if f"close.err.{payout_error}" in MESSAGES["en"]
                else "")


def _guest_error(ctx: PageContext, key: str) -> str:
    return ctx.t(key) if key.startswith("my.guest_") and key in MESSAGES["en"] else ""


@router.get("/my/qr")
def my_qr(request: Request, ctx: PageDep, wallet_id: WalletDep) -> Response:
    """A fresh wallet token as SVG, for the page's refresh before expiry."""
    token, balance, expires_ms, error = _token(request, wallet_id)
    if token is None:
        return JSONResponse({"error": ctx.t(error)}, status_code=409)
    return JSONResponse({"svg": str(qr_svg(token, scale=QR_SCALE)), "expires_ms": expires_ms, "now_ms": ctx.now_ms,
                         "balance_text": ctx.money(balance),
                         "expires_text": ctx.t("my.qr_valid_until", time=ctx.time(expires_ms, "%H:%M"))},
                        headers={"Cache-Control": "no-store"})


@router.post("/my/guests")
def my_invite(request: Request, ctx: PageDep, wallet_id: WalletDep,
              guest_name: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Make a guest invitation within the quota."""
    now = clock_ms(request)
    try:
        with database(request).write() as conn:
            if not claim_form(conn, request, now_ms=now):
                return RedirectResponse("/my", status_code=303)  # this form made its invitation already
            invitation = customers.invite_guest(conn, wallet_id, guest_name=guest_name, now_ms=now)
    except customers.GuestError as exc:
        return RedirectResponse(f"/my?guest_error={exc}", status_code=303)
    return RedirectResponse(f"/my/guests/{invitation}", status_code=303)


@router.get("/my/guests/{invitation_id}")
def my_guest(request: Request, ctx: PageDep, wallet_id: WalletDep, invitation_id: int) -> Response:
    """One guest ticket: its QR to send or print."""
    svc = services(request)
    with database(request).read() as conn:
        found = [i for i in customers.invitations(conn, wallet_id) if i["id"] == invitation_id]
        if not found:
            return RedirectResponse("/my?guest_error=my.guest_not_found", status_code=303)
        text = customers.guest_ticket_text(conn, found[0], svc.issuer.active(conn))
    inv = found[0]
    return page(request, "my_guest.html", ctx, inv=inv, qr=qr_svg(text, scale=QR_SCALE) if not inv["cancelled_at"]
                else "", ticket_code=format_short_id(int(inv["ticket_id"])))


@router.post("/my/guests/{invitation_id}/cancel")
def my_cancel(request: Request, ctx: PageDep, wallet_id: WalletDep, invitation_id: int) -> Response:
    """Cancel an invitation: its ticket is revoked at every gate, and the place is free again."""
    try:
        with database(request).write() as conn:
            customers.cancel_invitation(conn, wallet_id, invitation_id, now_ms=clock_ms(request))
    except customers.GuestError as exc:
        return RedirectResponse(f"/my?guest_error={exc}", status_code=303)
    return RedirectResponse("/my?done=cancelled", status_code=303)


@router.post("/my/payout")
def my_payout(request: Request, ctx: PageDep, wallet_id: WalletDep,
              method: Annotated[str, Form(max_length=10)] = "",
              holder: Annotated[str, Form(max_length=100)] = "", bank: Annotated[str, Form(max_length=20)] = "",
              branch: Annotated[str, Form(max_length=20)] = "",
              account_type: Annotated[str, Form(max_length=20)] = "",
              number: Annotated[str, Form(max_length=20)] = "") -> Response:
    """Ask for the remaining balance: a bank transfer to the account given, or a donation to the school."""
    now = clock_ms(request)
    try:
        details = (closing.BankDetails.parse(holder=holder, bank=bank, branch=branch, account_type=account_type,
                                             number=number) if method == "bank" else None)
        with database(request).write() as conn:
            request_id = closing.request_payout(conn, wallet_id, method=method, bank=details, now_ms=now)
            audit(conn, actor=f"wallet:{wallet_id}", action="payout.request", now_ms=now, request_id=request_id,
                  method=method)
    except closing.CloseError as exc:
        return RedirectResponse(f"/my?payout_error={exc.code}#payout", status_code=303)
    return RedirectResponse("/my?done=payout_requested#payout", status_code=303)


@router.post("/my/payout/cancel")
def my_payout_cancel(request: Request, ctx: PageDep, wallet_id: WalletDep) -> Response:
    """Withdraw a waiting payout request (a run already under way cannot be withdrawn)."""
    now = clock_ms(request)
    with database(request).write() as conn:
        if closing.cancel_request(conn, wallet_id, now_ms=now):
            audit(conn, actor=f"wallet:{wallet_id}", action="payout.cancel", now_ms=now)
    return RedirectResponse("/my?done=payout_cancelled#payout", status_code=303)


@router.get("/my/receipt/{seq}")
def my_receipt(request: Request, ctx: PageDep, wallet_id: WalletDep, seq: int) -> Response:
    """A receipt for one line of this wallet's history (a sale: the stall, the items, the balance after)."""
    if not 0 < seq < 2**53:
        return RedirectResponse("/my", status_code=303)
    with database(request).read() as conn:
        receipt = queries.wallet_receipt(conn, wallet_id, seq)
    if receipt is None:
        return RedirectResponse("/my", status_code=303)
    return page(request, "my_receipt.html", ctx, r=receipt)


@router.get("/my/r/{record_id}")
def my_receipt_of_record(request: Request, ctx: PageDep, wallet_id: WalletDep, record_id: str) -> Response:
    """Where the receipt QR on a stall terminal's result screen leads: this wallet's receipt of that sale.

    The terminal knows its record id at once, online or offline; the server has it once the terminal
    has sent it, so until then the page says the receipt is on its way. Another wallet's record is
    treated as unknown (nothing about it is shown).
    """
    try:
        rid = str(uuid.UUID(record_id))
    except ValueError:
        return RedirectResponse("/my", status_code=303)
    with database(request).read() as conn:
        seq = queries.wallet_seq_of_record(conn, wallet_id, rid)
    if seq is None:
        return page(request, "my_receipt_pending.html", ctx)
    return RedirectResponse(f"/my/receipt/{seq}", status_code=303)


# ---------------------------------------------------------------- the one-time link on a printed letter


def _link_page(request: Request, ctx: PageContext, token: str, *, error: str = "", status_code: int = 200,
               valid: bool = True) -> Response:
    return page(request, "my_link.html", ctx, token=token if valid else "", error=error, valid=valid,
                status_code=status_code if valid else 404)


@router.get("/my/link/{token}")
def my_link_page(request: Request, ctx: PageDep, state: SessionDep, token: str) -> Response:
    """A letter's one-time link: choose the first PIN (nothing is spent by opening it, so a mail scanner is
    harmless)."""
    from server.web.people import link_wallet

    with database(request).read() as conn:
        wallet_id = link_wallet(conn, token, now_ms=clock_ms(request))
    return _link_page(request, ctx, token, valid=wallet_id is not None)


@router.post("/my/link/{token}")
def my_link_use(request: Request, ctx: PageDep, state: SessionDep, token: str,
                pin: Annotated[str, Form(max_length=20)] = "",
                pin2: Annotated[str, Form(max_length=20)] = "") -> Response:
    """Spend the link: set the first PIN and sign in (twice the same link: the second finds it used)."""
    from server.staff import hash_secret
    from server.web.people import link_wallet, use_link

    web: WebApp = request.app.state.web
    now_ms = clock_ms(request)
    db = database(request)
    with db.read() as conn:  # the cheap check before the costly hash
        valid = link_wallet(conn, token, now_ms=now_ms) is not None
    if not valid:
        return _link_page(request, ctx, token, valid=False)
    pin = pin.strip()
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        return _link_page(request, ctx, token, error=ctx.t("my.link_pin_digits"), status_code=422)
    if pin != pin2.strip():
        return _link_page(request, ctx, token, error=ctx.t("my.link_pin_mismatch"), status_code=422)
    pin_hash = hash_secret(pin)
    with db.write() as conn:
        wallet_id = use_link(conn, token, pin_hash=pin_hash, now_ms=now_ms, lock=not db.is_sqlite)
        if wallet_id is not None:
            audit(conn, actor=f"wallet:{format_short_id(wallet_id)}", action="my.first_pin", now_ms=now_ms,
                  wallet_id=wallet_id)
    if wallet_id is None:
        return _link_page(request, ctx, token, valid=False)
    now_s = now_ms // 1000
    session = Session("wallet", wallet_id, now_s, now_s + web.settings.customer_session_ttl_s,
                      Session.anonymous(now_s, 0).nonce, credential_fingerprint(pin_hash))
    state.cookies[:] = [cookie_header(request, CUSTOMER_COOKIE, web.codec.dumps(session),
                                      max_age=web.settings.customer_session_ttl_s)]
    return RedirectResponse("/my", status_code=303)

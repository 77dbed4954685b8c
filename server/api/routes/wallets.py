"""Wallets for staff with the permission, and freshly signed wallet tokens.

There is no "token of any wallet" route: no terminal screen needs one (a stall reads the
token the customer shows; a desk gets the token of a wallet it issues or tops up in the
answer), and one let any terminal's credentials mint a payment token for any wallet.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import Connection

from server.api.deps import ApiProblem, CallerDep, Services, ServicesDep, StaffHeader, acting_staff, require_permission
from server.api.schemas import ErrorBody, WalletAmount, WalletCreate, WalletInfo, WalletPosting
from server.audit import audit
from server.auth import StaffCaller, TerminalCaller
from server.event import get_event_settings
from server.issuer import IssuerKeyMissing
from server.wallets import WalletError, admin_topup, create_wallet, signed_wallet_token, wallet_view
from sync.ids import ShortIdError, format_short_id, parse_short_id
from sync.permissions import Permission
from sync.schemas import TerminalMode, WalletTokenResponse

router = APIRouter(prefix="/wallets", tags=["wallets"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                              422: {"model": ErrorBody}})
WalletPath = Annotated[str, Path(description="wallet id: digits, or the printed form K7M2-QX4P-9", max_length=20)]


def _wallet_id(text: str) -> int:
    if text.isascii() and text.isdigit():  # str.isdigit() is also true for "³" or "٣", which int() refuses
        value = int(text)
        if value < 1 << 40:
            return value
        raise ApiProblem(422, "wallet id out of range")
    try:
        return parse_short_id(text)
    except ShortIdError as exc:
        raise ApiProblem(422, f"wallet id: {exc}") from exc


def _token(services: Services, conn: Connection, wallet_id: int) -> WalletTokenResponse:
    try:
        return signed_wallet_token(conn, wallet_id, issuer=services.issuer.active(conn),
                                   settings=get_event_settings(conn), now_ms=services.clock())
    except IssuerKeyMissing as exc:
        raise ApiProblem(503, f"cannot sign tokens: {exc}") from exc


@router.get("/{wallet_id}", response_model=WalletInfo)
def get_wallet(wallet_id: WalletPath, caller: CallerDep, services: ServicesDep,
               staff: StaffHeader = None) -> WalletInfo:
    """A wallet's balance, state and recent postings (wallets.view, or topup at a desk)."""
    wid = _wallet_id(wallet_id)
    require_permission(services, acting_staff(services, caller, staff), (Permission.WALLETS_VIEW, Permission.TOPUP))
    try:
        with services.db.read() as conn:
            view = wallet_view(conn, wid)
    except WalletError as exc:
        raise ApiProblem(404, str(exc)) from exc
    return WalletInfo(wallet_id=view.wallet_id, display_id=format_short_id(view.wallet_id), balance=view.balance,
                      seq=view.seq, blocked=view.blocked, overdrawn=view.overdrawn, flags=view.flags,
                      history=[WalletPosting(**h) for h in view.history])


@router.post("", response_model=WalletTokenResponse, status_code=201)
def new_wallet(body: WalletCreate, caller: CallerDep, services: ServicesDep,
               staff: StaffHeader = None) -> WalletTokenResponse:
    """Issue a new empty wallet (staff with wallets.manage, or a top-up terminal's staff with topup)."""
    if isinstance(caller, TerminalCaller) and caller.mode is not TerminalMode.TOPUP:
        raise ApiProblem(403, "only top-up terminals issue wallets")
    wanted = (Permission.WALLETS_MANAGE,) if isinstance(caller, StaffCaller) else (Permission.TOPUP,)
    staff_id = acting_staff(services, caller, staff)
    require_permission(services, staff_id, wanted)
    now = services.clock()

    def work(conn: Connection) -> WalletTokenResponse:
        wid = create_wallet(conn, now_ms=now, flags=body.flags)
        audit(conn, actor=f"staff:{staff_id}", action="wallet.create", now_ms=now, wallet_id=wid)
        return _token(services, conn, wid)

    return services.db.run_write(work)


@router.post("/{wallet_id}/topup", response_model=WalletTokenResponse)
def topup_wallet(wallet_id: WalletPath, body: WalletAmount, caller: CallerDep,
                 services: ServicesDep) -> WalletTokenResponse:
    """Load cash taken by an admin (staff API token with wallets.manage); terminals use authorize."""
    wid = _wallet_id(wallet_id)
    if not isinstance(caller, StaffCaller):
        raise ApiProblem(403, "terminals top up with a signed record through /authorize")
    require_permission(services, caller.staff_id, (Permission.WALLETS_MANAGE,))
    now = services.clock()
    db = services.db

    def work(conn: Connection) -> WalletTokenResponse:
        admin_topup(conn, wid, body.amount, lock=not db.is_sqlite, now_ms=now, staff_id=caller.staff_id)
        audit(conn, actor=f"staff:{caller.staff_id}", action="wallet.topup", now_ms=now, wallet_id=wid,
              amount=body.amount)
        return _token(services, conn, wid)

    try:
        return db.run_write(work)
    except WalletError as exc:
        raise ApiProblem(404 if "unknown" in str(exc) else 422, str(exc)) from exc

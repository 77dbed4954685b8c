"""POST /api/v1/desk/wallets: a top-up desk issues a new empty wallet for a visitor (``server.desk``).

Only an enrolled top-up terminal, for the person logged in there holding ``topup`` for the
event: the rule ``wallet_issue`` of ``server.authority.ACTIONS``, judged like a record.
Idempotent on the desk's request id; capped per terminal (``ServerSettings.desk_wallets_*``);
audited.  The wallet starts at 0: the desk then tops it up through ``/authorize`` as any other.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Connection

from server import authority
from server.api.deps import ApiProblem, Services, ServicesDep, TerminalDep
from server.api.schemas import ErrorBody
from server.audit import audit
from server.desk import DeskRefused, Issued, issue_desk_wallet
from server.event import get_event_settings
from server.issuer import IssuerKeyMissing
from server.staff import load_access
from server.wallets import signed_wallet_token
from sync.ids import format_short_id
from sync.schemas import DeskWalletRequest, DeskWalletResponse, WalletTokenResponse

router = APIRouter(prefix="/desk", tags=["wallets"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 409: {"model": ErrorBody},
                              422: {"model": ErrorBody}, 503: {"model": ErrorBody}})


def _token(services: Services, conn: Connection, wallet_id: int) -> WalletTokenResponse:
    try:
        return signed_wallet_token(conn, wallet_id, issuer=services.issuer.active(conn),
                                   settings=get_event_settings(conn), now_ms=services.clock())
    except IssuerKeyMissing as exc:
        raise ApiProblem(503, f"cannot sign tokens: {exc}") from exc


@router.post("/wallets", response_model=DeskWalletResponse, status_code=201)
def issue_wallet(body: DeskWalletRequest, terminal: TerminalDep, services: ServicesDep) -> DeskWalletResponse:
    """Issue a new wallet (balance 0) with a one-time My page link; the same request id gives the same wallet."""
    now = services.clock()
    db = services.db
    with db.read() as conn:
        access = load_access(conn, [body.staff_id])
    verdict = authority.judge_action(terminal, "wallet_issue", body.staff_id, access, received_ms=now)
    if verdict.breaches:
        raise ApiProblem(403, verdict.reason, reason="forbidden")
    settings = services.settings
    request_id = str(body.request_id)

    def work(conn: Connection) -> tuple[Issued, WalletTokenResponse]:
        issued = issue_desk_wallet(conn, request_id=request_id, terminal_id=terminal.id, staff_id=body.staff_id,
                                   now_ms=now, lock=not db.is_sqlite, per_hour=settings.desk_wallets_per_hour,
                                   per_terminal=settings.desk_wallets_per_terminal)
        audit(conn, actor=f"terminal:{terminal.id}", action="wallet.desk_issue", now_ms=now,
              wallet_id=issued.wallet_id, staff_id=body.staff_id, terminal_id=terminal.id, request_id=request_id,
              repeated=issued.repeated)
        return issued, _token(services, conn, issued.wallet_id)

    try:
        issued, token = db.run_write(work)
    except DeskRefused as exc:
        raise ApiProblem(exc.status, exc.detail, reason=exc.code) from exc
    url = f"{settings.base_url}/my/link/{issued.link}" if issued.link else None
    return DeskWalletResponse(wallet_id=issued.wallet_id, display_id=format_short_id(issued.wallet_id), token=token,
                              signin_url=url, repeated=issued.repeated)

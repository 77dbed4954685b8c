"""New wallets at a top-up desk: the server issues one (online only), the desk then tops it up as any other.

A visitor who arrives with no wallet gets one at the desk.  The wallet is the server's to
make (a short id no other desk may hand out, a signed token, My page access), so there is
no offline path: offline the desk says so in words and suggests a pre-printed card (an
unassigned card wallet from "N card wallets" is scanned and topped up like any wallet).

The request id (UUIDv7) is stored before it is sent; an answer lost in any way leaves it
waiting, asked again ``ISSUE_RETRIES`` times and then at the next press of "New wallet":
the server answers the same id with the same wallet, so a lost answer never makes two.
The answer carries the wallet's signed token (what the top-up is made against) and a
one-time My page sign-in link that the desk shows as a QR for the visitor's phone.
"""

from __future__ import annotations

from uuid import UUID

from sync.errors import ApiError, Forbidden, SyncUnavailable, Unauthorized
from sync.ids import new_record_id
from sync.permissions import Permission, Scope
from sync.schemas import DeskWalletRequest, DeskWalletResponse, StaffRow, TerminalMode
from terminal.context import Context
from terminal.decisions import Decision, DeclineReason
from terminal.sessions import staff_allowed

__all__ = ["ISSUE_RETRIES", "ISSUE_TIMEOUT_S", "issue_wallet"]

ISSUE_RETRIES = 2  # a lost answer is asked again this many times (same request id) before the desk gives up
ISSUE_RETRY_PAUSE_S = 0.3
ISSUE_TIMEOUT_S = 5.0  # one request's wait for the server (the visitor is waiting at the desk)


def _decline(reason: DeclineReason, **params: object) -> Decision:
    return Decision(False, reason, kind="issue", params=dict(params))


def issue_wallet(ctx: Context, staff: StaffRow) -> Decision:
    """Ask the server for a new empty wallet; approved: ``params`` hold ``token``, ``signin_url``, ``display_id``."""
    if ctx.terminal.mode is not TerminalMode.TOPUP:
        return _decline(DeclineReason.WRONG_MODE)
    if not staff_allowed(staff, Permission.TOPUP, Scope(), now_s=ctx.clock.now_ms() // 1000):
        return _decline(DeclineReason.NOT_PERMITTED, permission=Permission.TOPUP.value)
    if ctx.client is None or ctx.known_unreachable():  # the sync loop already knows: no wait at the desk
        if ctx.client is not None:
            ctx.on_record()  # a nudge for the probe
        return _decline(DeclineReason.ISSUE_NEEDS_SERVER, waiting=ctx.store.desk_waiting())
    request_id = ctx.store.desk_request(staff_id=staff.staff_id, now_ms=ctx.clock.now_ms(),
                                        new_id=str(new_record_id()))
    request = DeskWalletRequest(request_id=UUID(request_id), staff_id=staff.staff_id)
    error = ""
    for attempt in range(1 + ISSUE_RETRIES):
        if attempt:
            ctx.pause(ISSUE_RETRY_PAUSE_S)
        try:
            answer = ctx.client.issue_wallet(request, timeout_s=min(ISSUE_TIMEOUT_S,
                                                                    ctx.settings.authorize_timeout_ms / 1000 * 2))
        except SyncUnavailable as exc:
            error = str(exc)
            if not exc.maybe_delivered and attempt == 0:  # it never reached the server: offline, say so now
                return _decline(DeclineReason.ISSUE_NEEDS_SERVER, error=error, waiting=ctx.store.desk_waiting())
            continue
        except Unauthorized as exc:
            ctx.store.wipe_personal_data(now_ms=ctx.clock.now_ms(), why=f"desk wallet: {exc.message}")
            return _decline(DeclineReason.TERMINAL_REVOKED)
        except Forbidden as exc:
            ctx.store.desk_refused(request_id)
            if exc.message.startswith("issue_cap"):
                return _decline(DeclineReason.ISSUE_CAP, server_reason=exc.message)
            return _decline(DeclineReason.SERVER_DECLINED, server_reason=exc.message, status=exc.status)
        except ApiError as exc:
            if exc.status >= 500 or exc.status in (408, 429) or exc.status < 400:  # unreadable: ask again
                error = str(exc)
                continue
            ctx.store.desk_refused(request_id)
            return _decline(DeclineReason.SERVER_DECLINED, server_reason=exc.message, status=exc.status)
        return _issued(ctx, request_id, answer)
    return _decline(DeclineReason.ISSUE_NO_ANSWER, error=error, waiting=ctx.store.desk_waiting())


def _issued(ctx: Context, request_id: str, answer: DeskWalletResponse) -> Decision:
    ctx.store.desk_answered(request_id, wallet_id=answer.wallet_id, now_ms=ctx.clock.now_ms())
    return Decision(True, None, kind="issue", wallet_id=answer.wallet_id, balance_after=answer.token.balance,
                    mode="online", params={"token": answer.token.token, "signin_url": answer.signin_url or "",
                                           "display_id": answer.display_id, "repeated": answer.repeated,
                                           "request_id": request_id})

"""Cash-outs at a top-up desk: a wallet's balance (all of it, or a part) handed back in cash.

Decided like any spend (DESIGN.md, "Authorizing a payment on the terminal"): at or
under the floor limit offline, within the caps (the amount available, the wallet's
offline limit at this terminal, the unsynced cap, the time since the last sync);
above it online (``authorize``, which checks the balance at the server).  The
record and its outbox row are written in one transaction before the desk is told
to pay, so a cash handed over is never lost.

A cash-out has no reversal record, so an online answer that is lost is asked again
with the same record id; still unknown, the signed record is held in doubt exactly
like a top-up (``terminal.sales.hold_in_doubt``): the desk does **not** pay yet,
and the next push settles it (booked: pay now; refused: do not pay).  A cash-out of
the whole balance (``close``) makes the server close the wallet, so its old tokens
spend nothing more at terminals that pull.
"""

from __future__ import annotations

from sync.ids import new_record_id
from sync.permissions import Permission, Scope
from sync.schemas import CashOutRecord, OfflineFallback, StaffRow, TerminalMode
from terminal.authorize import best_statement
from terminal.context import Context
from terminal.decisions import Decision, DeclineReason
from terminal.sales import TOPUP_RETRIES, TOPUP_RETRY_PAUSE_S, _commit, _decline, _online, _read, hold_in_doubt
from terminal.sessions import staff_allowed
from terminal.store import LedgerRow

__all__ = ["MAX_CASHOUT", "cash_out"]

MAX_CASHOUT = 10**9


def cash_out(ctx: Context, staff: StaffRow, wallet_text: str, amount: int | None = None) -> Decision:
    """Pay out ``amount`` of the wallet shown (None: its whole balance); the record is durable if approved.

    Declines (a Decision, never an exception): wrong mode, no permission, a bad
    code, a blocked wallet, nothing to pay out, the offline caps, the server's no;
    ``cashout_in_doubt`` when the server's answer was lost: do not pay yet.
    """
    if ctx.terminal.mode is not TerminalMode.TOPUP:  # cash leaves only at the desks
        return _decline(DeclineReason.WRONG_MODE, "cashout")
    if not staff_allowed(staff, Permission.CASHOUT, Scope(), now_s=ctx.clock.now_ms() // 1000):
        return _decline(DeclineReason.NOT_PERMITTED, "cashout", permission=Permission.CASHOUT.value)
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)
                               or not 0 < amount <= MAX_CASHOUT):
        return _decline(DeclineReason.INVALID_AMOUNT, "cashout")
    view = _read(ctx, wallet_text, "cashout")
    if isinstance(view, Decision):
        return view
    wallet_id = view.wallet_id
    statement = ctx.store.statement(wallet_id)
    if ctx.store.is_revoked("wallet", wallet_id) or (statement is not None and statement.blocked):
        return Decision(False, DeclineReason.WALLET_REVOKED, kind="cashout", wallet_id=wallet_id)
    best = best_statement(view.token, statement)
    if best is None:
        return Decision(False, DeclineReason.NO_STATEMENT, kind="cashout", wallet_id=wallet_id)
    pending = ctx.store.wallet_pending(wallet_id, best.seq)
    available = best.balance + pending.net
    close = amount is None
    if amount is None:
        amount = available
    params: dict[str, object] = {"available": available, "statement_seq": best.seq, "source": best.source,
                                 "close": close}
    if amount <= 0:
        return Decision(False, DeclineReason.INSUFFICIENT_BALANCE, kind="cashout", wallet_id=wallet_id,
                        amount=max(0, amount), params=params)
    record = CashOutRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
                           created_at=ctx.clock.now_ms(), wallet_id=wallet_id, amount=amount,
                           token_seq=view.token.seq if view.token is not None else best.seq,
                           close=close and amount == available)
    row = ctx.sign(record, mode="offline")
    maybe_booked = False
    if amount > ctx.settings.floor_limit:
        decision = _online(ctx, row, [], wallet_id=wallet_id, params=params)
        for _ in range(TOPUP_RETRIES):  # a lost answer: ask again with the same id
            if decision is not None or not ctx.store.has_pending_authorization(row.id):
                break
            ctx.pause(TOPUP_RETRY_PAUSE_S)
            decision = _online(ctx, row, [], wallet_id=wallet_id, params=params, again=True)
        if decision is not None:
            return decision
        maybe_booked = ctx.store.has_pending_authorization(row.id)
        if ctx.settings.offline_fallback is OfflineFallback.DECLINE:
            return _unsettled(ctx, row, maybe_booked, wallet_id=wallet_id, amount=amount, params=params)
        params["server_unreachable"] = True
    limit = ctx.settings.offline_limit
    if view.token is not None:
        limit = min(limit, view.token.offline_limit)
    reason, _ = ctx.offline_decline(amount=amount, available=available, offline_spent=pending.offline_spent,
                                    wallet_offline_limit=limit)
    if reason is not None:
        if maybe_booked:
            return _unsettled(ctx, row, True, wallet_id=wallet_id, amount=amount, params=params)
        return Decision(False, reason, kind="cashout", wallet_id=wallet_id, amount=amount, params=params)
    _commit(ctx, row)  # the same signed body an unanswered authorize sent: the push dedupes it
    return Decision(True, None, kind="cashout", record_id=row.id, amount=amount, wallet_id=wallet_id,
                    balance_after=available - amount, mode="offline", params=params)


def _unsettled(ctx: Context, row: LedgerRow, maybe_booked: bool, *, wallet_id: int, amount: int,
               params: dict[str, object]) -> Decision:
    """No answer and no offline approval: held in doubt if the server may have booked it, else declined."""
    if maybe_booked:  # the wallet may be debited: never "declined" while the push can still book it
        hold_in_doubt(ctx, row, why=str(params.get("error") or "no answer in time"))
        params["in_doubt"] = True
        return Decision(False, DeclineReason.CASHOUT_IN_DOUBT, kind="cashout", record_id=row.id, wallet_id=wallet_id,
                        amount=amount, params=params)
    return Decision(False, DeclineReason.SERVER_UNREACHABLE, kind="cashout", wallet_id=wallet_id, amount=amount,
                    params=params)

"""Sales, refunds, voids and top-ups at a till: decide, sign, and write record + outbox in one transaction.

Each function returns a ``Decision``; nothing here raises for an ordinary
decline.  The record is durable (committed, fsynced) before the function
returns an approval, and the sync service is poked to push it soon.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from uuid import UUID

from sync.errors import ApiError, SyncUnavailable, TokenError, Unauthorized
from sync.ids import new_record_id
from sync.permissions import Permission, Scope
from sync.records import REVERSAL_REASON
from sync.schemas import (
    MAX_CARRIED,
    MAX_RETURN_ITEMS,
    DepositReturnRecord,
    ItemStatus,
    OfflineFallback,
    PushItemResult,
    RefundLine,
    RefundRecord,
    ReturnLine,
    SaleLine,
    SaleRecord,
    StaffRow,
    TerminalMode,
    TopUpRecord,
    VoidRecord,
)
from terminal.authorize import (
    WalletView,
    best_statement,
    cap_warning,
    clock_skew,
    read_wallet,
    token_decline,
)
from terminal.context import Context
from terminal.decisions import Cart, Decision, DeclineReason, Mode
from terminal.sessions import staff_allowed
from terminal.store import LedgerRow, Store

__all__ = ["TOPUP_RETRIES", "deposit_return", "hold_in_doubt", "recover", "refund", "refundable_items", "reverse",
           "sell", "topup", "void"]

Lines = list[tuple[int | None, int, int]]
TOPUP_RETRIES = 2  # a top-up whose answer was lost is asked again this many times before it is held in doubt
TOPUP_RETRY_PAUSE_S = 0.3


def _decline(reason: DeclineReason, kind: str = "sale", **params: object) -> Decision:
    return Decision(False, reason, kind=kind, params=dict(params))


def _price(ctx: Context, stall_id: int, cart: Cart) -> Lines | DeclineReason:
    """Return the sale lines (product, qty, unit price) of a cart, or why it cannot be sold."""
    stall = ctx.store.stall(stall_id)
    if cart.free_amount is not None:
        if cart.lines:
            return DeclineReason.INVALID_CART
        if stall is None or not stall.allow_free_amount:
            return DeclineReason.FREE_AMOUNT_NOT_ALLOWED
        if isinstance(cart.free_amount, bool) or not isinstance(cart.free_amount, int) or not (
                0 < cart.free_amount <= 10**9):
            return DeclineReason.INVALID_AMOUNT
        return [(None, 1, cart.free_amount)]
    if not cart.lines or len(cart.lines) > 100:
        return DeclineReason.INVALID_CART
    products = {p.id: p for p in ctx.store.products(stall_id)}
    lines: Lines = []
    goods = discounts = 0
    for line in cart.lines:
        product = products.get(line.product_id)
        if product is None or not product.active or product.sold_out or not 1 <= abs(line.qty) <= 999:
            return DeclineReason.INVALID_CART
        # the server's sign rules (server.authority.line_doubts): only a deposit comes back, a discount only off
        if (line.qty < 0 and product.kind == "normal") or (line.qty > 0 and product.kind == "discount"):
            return DeclineReason.INVALID_CART
        lines.append((product.id, line.qty, product.price))
        if product.kind == "normal":
            goods += line.qty * product.price
        elif product.kind == "discount":
            discounts -= line.qty * product.price
    if discounts > goods:
        return DeclineReason.DISCOUNT_TOO_LARGE
    if sum(q * u for _, q, u in lines) <= 0 and not returns_only(ctx, stall_id, lines):
        return DeclineReason.INVALID_AMOUNT  # a sale is never negative; cups back alone are a deposit return
    return lines


def returns_only(ctx: Context, stall_id: int, lines: Lines) -> bool:
    """True for a basket of deposit returns only (cups back, nothing bought): a ``deposit_return``."""
    kinds = {p.id: p.kind for p in ctx.store.products(stall_id)}
    return bool(lines) and all(p is not None and q < 0 and kinds.get(p) == "deposit" for p, q, _u in lines)


def _stall_scope(ctx: Context, staff: StaffRow, permission: Permission, kind: str) -> Decision | int:
    if ctx.terminal.mode is not TerminalMode.STALL or ctx.terminal.stall_id is None:
        return _decline(DeclineReason.WRONG_MODE, kind)
    if not staff_allowed(staff, permission, Scope.stall(ctx.terminal.stall_id), now_s=ctx.clock.now_ms() // 1000):
        return _decline(DeclineReason.NOT_PERMITTED, kind, permission=permission.value)
    return ctx.terminal.stall_id


def _read(ctx: Context, wallet_text: str, kind: str) -> WalletView | Decision:
    now_s = ctx.clock.now_ms() // 1000
    try:
        return read_wallet(wallet_text, ctx.keys, now_s=now_s)
    except TokenError as exc:
        if exc.is_forgery:
            ctx.log_forgery(wallet_text, exc.reason.value, f"wallet token on {kind}")
        skew = clock_skew(exc, now_s=now_s, server_skew_ms=ctx.store.server_skew_ms(
            now_ms=ctx.clock.now_ms(), mono_s=ctx.clock.monotonic()))
        if skew is not None:  # a good token, a wrong clock: say so (not "damaged", not "expired")
            return _decline(DeclineReason.CLOCK_SKEW, kind, token_reason=exc.reason.value, **skew.params())
        return _decline(token_decline(exc), kind, token_reason=exc.reason.value)


def _commit(ctx: Context, row: LedgerRow, *, lines: Lines | None = None,
            ack: PushItemResult | None = None) -> None:
    ctx.store.add_record(row, lines=lines or [], ack=ack)
    ctx.on_record()


def sell(ctx: Context, staff: StaffRow, cart: Cart, wallet_text: str) -> Decision:
    """Authorize and book a sale per DESIGN.md; returns the decision (the record is durable if approved)."""
    scope = _stall_scope(ctx, staff, Permission.SELL, "sale")
    if isinstance(scope, Decision):
        return scope
    stall_id = scope
    now_ms = ctx.clock.now_ms()
    if not ctx.settings.is_open(now_ms):  # the event's opening hours: no sale outside them
        opens = ctx.settings.next_opening(now_ms)
        return _decline(DeclineReason.CLOSED, "sale", **({"opens_at": opens} if opens is not None else {}))
    priced = _price(ctx, stall_id, cart)
    if isinstance(priced, DeclineReason):
        return _decline(priced)
    if returns_only(ctx, stall_id, priced):
        return deposit_return(ctx, staff, stall_id, priced, wallet_text)
    amount = sum(q * u for _, q, u in priced)
    view = _read(ctx, wallet_text, "sale")
    if isinstance(view, Decision):
        return view
    wallet_id = view.wallet_id
    statement = ctx.store.statement(wallet_id)
    if ctx.store.is_revoked("wallet", wallet_id) or (statement is not None and statement.blocked):
        return Decision(False, DeclineReason.WALLET_REVOKED, wallet_id=wallet_id, amount=amount)
    best = best_statement(view.token, statement)
    if best is None:
        return Decision(False, DeclineReason.NO_STATEMENT, wallet_id=wallet_id, amount=amount)
    pending = ctx.store.wallet_pending(wallet_id, best.seq)
    available = best.balance + pending.net
    record = SaleRecord(
        id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
        created_at=ctx.clock.now_ms(), stall_id=stall_id, wallet_id=wallet_id, amount=amount,
        lines=[SaleLine(product_id=p, qty=q, unit_price=u) for p, q, u in priced],
        token_seq=view.token.seq if view.token is not None else best.seq,
    )
    limit = ctx.settings.offline_limit
    if view.token is not None:
        limit = min(limit, view.token.offline_limit)
    params: dict[str, object] = {"available": available, "statement_seq": best.seq, "source": best.source}
    row = ctx.sign(record, mode="offline")
    in_doubt = False
    if amount > ctx.settings.floor_limit:
        online = _online(ctx, row, priced, wallet_id=wallet_id, params=params)
        if online is not None:
            return online
        in_doubt = ctx.store.has_pending_authorization(row.id)  # it may be booked: reverse unless approved here
        if ctx.settings.offline_fallback is OfflineFallback.DECLINE:
            if in_doubt:
                reverse(ctx, json.loads(row.body), row.sig, why="no answer in time")
            return Decision(False, DeclineReason.SERVER_UNREACHABLE, wallet_id=wallet_id, amount=amount,
                            params=params)
        params["server_unreachable"] = True
    reason, unsynced_offline = ctx.offline_decline(amount=amount, available=available,
                                                   offline_spent=pending.offline_spent, wallet_offline_limit=limit)
    if reason is not None:
        if in_doubt:
            reverse(ctx, json.loads(row.body), row.sig, why="no answer in time; declined offline")
        return Decision(False, reason, wallet_id=wallet_id, amount=amount, params=params)
    _commit(ctx, row, lines=priced)  # the same signed body: a push finds it booked ("duplicate") or books it
    warning = cap_warning(unsynced_offline + amount, ctx.settings.unsynced_cap)
    if warning is not None:  # shown on the till before the cap starts declining customers
        params["warning"] = warning
    return Decision(True, None, record_id=row.id, amount=amount, wallet_id=wallet_id,
                    balance_after=available - amount, mode="offline", params=params)


def deposit_return(ctx: Context, staff: StaffRow, stall_id: int, lines: Lines, wallet_text: str) -> Decision:
    """Pay the deposits of cups brought back (no purchase) onto the wallet shown: a ``deposit_return`` record.

    ``lines``: the stall's deposit products with negative quantities (as in a basket).  Within
    what this terminal's own ledger took in deposits less what it gave back
    (``store.deposits_held_here``) it is decided here, with no network call; beyond that the
    server decides on the stall's deposit account (``deposit_not_held`` when it holds too
    little).  An answer lost after sending keeps the record (approved): the server may have
    booked it, and the push books it once either way (a return beyond what is held is then
    booked and flagged there).  Surely not sent: declined, nothing recorded.
    """
    merged: dict[int, tuple[int, int]] = {}  # one line per product (a cart may name a product twice)
    for p, q, u in lines:
        if p is not None:
            merged[p] = (merged.get(p, (0, u))[0] - q, u)
    back = [(p, q, u) for p, (q, u) in merged.items()]
    if sum(q for _, q, _u in back) > MAX_RETURN_ITEMS or len(back) > 20:
        return _decline(DeclineReason.INVALID_CART, "deposit_return")
    amount = sum(q * u for _, q, u in back)
    view = _read(ctx, wallet_text, "deposit_return")
    if isinstance(view, Decision):
        return view
    wallet_id = view.wallet_id
    statement = ctx.store.statement(wallet_id)
    if ctx.store.is_revoked("wallet", wallet_id) or (statement is not None and statement.blocked):
        return Decision(False, DeclineReason.WALLET_REVOKED, kind="deposit_return", wallet_id=wallet_id,
                        amount=amount)
    best = best_statement(view.token, statement)
    balance = None if best is None else best.balance + ctx.store.wallet_pending(wallet_id, best.seq).net
    record = DepositReturnRecord(
        id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
        created_at=ctx.clock.now_ms(), stall_id=stall_id, wallet_id=wallet_id, amount=amount,
        lines=[ReturnLine(product_id=p, qty=q, unit_price=u) for p, q, u in back])
    held = ctx.store.deposits_held_here(stall_id)
    params: dict[str, object] = {"held_here": held, "items": sum(q for _, q, _u in back)}
    row = ctx.sign(record, mode="offline")
    if amount <= held:
        _commit(ctx, row, lines=lines)
        return Decision(True, None, kind="deposit_return", record_id=row.id, amount=amount, wallet_id=wallet_id,
                        balance_after=None if balance is None else balance + amount, mode="offline", params=params)
    online_row = ctx.sign(record, mode="online")
    decided = _online(ctx, online_row, lines, wallet_id=wallet_id, params=params)
    if decided is not None:
        if not decided.approved and decided.params.get("server_reason") == "deposit_not_held":
            return Decision(False, DeclineReason.DEPOSIT_NOT_HELD, kind="deposit_return", wallet_id=wallet_id,
                            amount=amount, params=decided.params)
        return decided
    if ctx.store.has_pending_authorization(online_row.id):  # sent, no answer: it may be booked, keep it
        _commit(ctx, online_row, lines=lines)
        params["in_doubt"] = True
        return Decision(True, None, kind="deposit_return", record_id=online_row.id, amount=amount,
                        wallet_id=wallet_id, balance_after=None if balance is None else balance + amount,
                        mode="offline", params=params)
    return Decision(False, DeclineReason.DEPOSIT_NOT_HELD, kind="deposit_return", wallet_id=wallet_id,
                    amount=amount, params={**params, "server_unreachable": True})


def _definite(exc: ApiError) -> bool:
    """True when an error answer surely means "not booked" (a 4xx refusal, not a garbled or timed-out answer)."""
    return 400 <= exc.status < 500 and exc.status not in (408, 429)


def _online(ctx: Context, row: LedgerRow, lines: Lines, *, wallet_id: int,
            params: dict[str, object], again: bool = False) -> Decision | None:
    """Ask the server about a signed record; returns its decision, or None when there was no answer in time.

    The record is noted as a pending authorization before it is sent.  On None
    the note stays: the caller either books the record offline or reverses it
    (``reverse``), because the server may have booked it and lost the answer.
    ``again``: the same record sent once more after an answer was lost (a top-up):
    the note is already there, and an answer that is not a clear refusal
    (a garbled 200, a 5xx) leaves it in doubt rather than declined.
    """
    kind = row.kind
    amount = row.amount
    if ctx.client is None:
        return None
    if not again and ctx.known_unreachable():  # the sync loop is probing: no per-sale timeout wait
        params["error"] = "the server is unreachable (the sync service is retrying)"
        ctx.on_record()  # a nudge for the probe
        return None
    # One "available" on both paths: the server books this wallet's unsynced records first, then decides.
    carried = [r.signed() for r in ctx.store.unsynced_of_wallet(wallet_id, MAX_CARRIED)] if kind == "sale" else []
    if not again:
        ctx.store.begin_authorization(row)
    try:
        resp = ctx.client.authorize(row.signed(), timeout_s=ctx.settings.authorize_timeout_ms / 1000,
                                    carried=carried)
    except SyncUnavailable as exc:
        params["error"] = str(exc)
        if not exc.maybe_delivered:
            ctx.store.drop_authorization(row.id)
        return None
    except Unauthorized as exc:
        ctx.store.drop_authorization(row.id)
        ctx.store.wipe_personal_data(now_ms=ctx.clock.now_ms(), why=f"authorize: {exc.message}")
        return _decline(DeclineReason.TERMINAL_REVOKED, kind)
    except ApiError as exc:
        if kind in ("topup", "cashout", "deposit_return") and not _definite(exc):  # may be booked: unreadable answer
            params["error"] = str(exc)
            return None
        ctx.store.drop_authorization(row.id)
        return Decision(False, DeclineReason.SERVER_DECLINED, kind=kind, wallet_id=wallet_id, amount=amount,
                        params={**params, "server_reason": exc.message, "status": exc.status})
    if resp.carried:  # the carried records are booked now: acknowledged as a push would
        ctx.store.apply_push_results(resp.carried, now_ms=ctx.clock.now_ms())
    if not resp.approved:
        ctx.store.drop_authorization(row.id)
        return Decision(False, DeclineReason.SERVER_DECLINED, kind=kind, wallet_id=wallet_id, amount=amount,
                        params={**params, "server_reason": resp.reason})
    ack = PushItemResult(id=row.id, status=ItemStatus.APPLIED, code=200, wallet_id=wallet_id,
                         balance=resp.balance, seq=resp.seq)
    _commit(ctx, row, lines=lines, ack=ack)  # settles the pending note; also queued: the push says "duplicate"
    balance = resp.balance
    if balance is not None and resp.seq is not None:  # minus what the server has not seen from us yet
        balance += ctx.store.wallet_pending(wallet_id, resp.seq).net
    mode: Mode = "online"
    return Decision(True, None, kind=kind, record_id=row.id, amount=amount, wallet_id=wallet_id,
                    balance_after=balance, mode=mode, params=params)


def reverse(ctx: Context, body: dict[str, object], sig: str, *, why: str) -> str | None:
    """Reverse an online authorization whose answer never came: push the sale and its automatic void.

    The sale may or may not be booked at the server; pushing both (sale first)
    leaves the wallet as if nothing happened either way, and both records are
    kept in the local ledger.  A top-up has no reversal record: it is held in
    doubt (``hold_in_doubt``) and the next push settles it.  Returns the void's
    id, or None for a top-up.
    """
    record_id = str(body["id"])
    if body.get("kind") == "deposit_return":  # a credit with no reversal record: kept, the push books it once
        kept = LedgerRow.from_signed(dict(body), sig, mode="online")
        raw = body.get("lines")
        back: Lines = [(ln["product_id"], -ln["qty"], ln["unit_price"]) for ln in raw] if isinstance(raw, list) else []
        ctx.store.add_record(kept, lines=back)
        ctx.store.log_security(now_ms=ctx.clock.now_ms(), event="deposit_return_in_doubt", reason=why,
                               detail=kept.id)
        ctx.on_record()
        return None
    if body.get("kind") != "sale":
        hold_in_doubt(ctx, LedgerRow.from_signed(dict(body), sig, mode="online"), why=why)
        return None
    sale = LedgerRow.from_signed(dict(body), sig, mode="online")
    raw_lines = body.get("lines")
    lines: Lines = [(ln["product_id"], ln["qty"], ln["unit_price"]) for ln in raw_lines] \
        if isinstance(raw_lines, list) else []
    void = VoidRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=sale.staff_id,
                      created_at=ctx.clock.now_ms(), stall_id=sale.stall_id or 1, wallet_id=sale.wallet_id or 0,
                      amount=sale.amount, ref_id=UUID(record_id), reason=f"{REVERSAL_REASON}: {why}"[:200])
    void_row = ctx.sign(void, mode="online")
    with ctx.store.write():  # one transaction: the sale, its void, both outbox rows, the note settled
        ctx.store.add_record(sale, lines=lines)
        ctx.store.add_record(void_row, auto=True)
    ctx.on_record()
    return void_row.id


def hold_in_doubt(ctx: Context, row: LedgerRow, *, why: str) -> None:
    """Keep a top-up the server may have booked: ledger + outbox + an in-doubt note, settled by the next push.

    The cashier is told to keep the cash.  Pushing the same signed record is
    idempotent: the server answers ``duplicate`` if the lost answer had booked
    it, or books it now (the cash is in the drawer); either way it is booked
    once, and a refusal tells the cashier to hand the cash back.
    """
    body = json.loads(row.body)
    cash = body.get("cash_received")
    cash = cash if isinstance(cash, int) and cash >= row.amount else row.amount
    ctx.store.hold_topup_in_doubt(row, cash_received=cash, now_ms=ctx.clock.now_ms())
    ctx.store.log_security(now_ms=ctx.clock.now_ms(), event="topup_in_doubt", reason=why, detail=row.id)
    ctx.on_record()


def recover(ctx: Context) -> int:
    """Settle the online authorizations a crash left unanswered (sales reversed, top-ups held in doubt)."""
    pending = ctx.store.pending_authorizations("sending") + ctx.store.pending_authorizations("in_doubt")
    for _record_id, _kind, body, sig in pending:
        reverse(ctx, json.loads(body), sig, why="the terminal stopped before the answer")
    return len(pending)


def _original(ctx: Context, ref: str, kind: str) -> LedgerRow | Decision:
    try:
        ref_id = str(UUID(str(ref)))
    except ValueError:
        return _decline(DeclineReason.REF_NOT_FOUND, kind)
    sale = ctx.store.record(ref_id)
    if sale is None or sale.kind != "sale" or sale.ack_status in ("conflict", "rejected"):
        return _decline(DeclineReason.REF_NOT_FOUND, kind)
    if sale.stall_id != ctx.terminal.stall_id:
        return _decline(DeclineReason.REF_NOT_FOUND, kind)
    return sale


def refundable_items(store: Store, sale_id: str) -> list[tuple[int, int, int, int]]:
    """What of a sale may still be refunded by item: (product, unit price, sold, left), in the basket's order.

    Only product lines of positive quantity (the server's ``server.records.sold_items``); what earlier
    refunds by item of this terminal gave back is counted.
    """
    sold: dict[tuple[int, int], int] = {}
    for product_id, qty, unit_price in store.lines_of(sale_id):
        if product_id is not None and qty > 0:
            sold[(product_id, unit_price)] = sold.get((product_id, unit_price), 0) + qty
    given = store.refunded_items(sale_id)
    return [(p, u, n, max(0, n - given.get((p, u), 0))) for (p, u), n in sold.items()]


def _item_lines(ctx: Context, sale: LedgerRow, items: Mapping[int, int]) -> list[tuple[int, int, int]] | Decision:
    """The refund lines (product, qty, the sale's unit price) for ``items`` (product -> qty), or why not."""
    left = {p: (u, n) for p, u, _sold, n in refundable_items(ctx.store, sale.id)}
    names = {p.id: p.name for p in ctx.store.products(sale.stall_id)}
    lines: list[tuple[int, int, int]] = []
    for product_id, qty in sorted(items.items()):
        if isinstance(qty, bool) or not isinstance(qty, int) or not isinstance(product_id, int) or qty < 0:
            return _decline(DeclineReason.INVALID_AMOUNT, "refund")
        if qty == 0:
            continue
        if product_id not in left:
            return _decline(DeclineReason.ITEM_NOT_IN_SALE, "refund", product_id=product_id)
        unit_price, remaining = left[product_id]
        if qty > remaining:
            return _decline(DeclineReason.ITEM_ABOVE_LEFT, "refund", product_id=product_id, left=remaining,
                            name=names.get(product_id, f"#{product_id}"))
        lines.append((product_id, qty, unit_price))
    if not lines:
        return _decline(DeclineReason.INVALID_AMOUNT, "refund")
    return lines


def refund(ctx: Context, staff: StaffRow, ref: str, amount: int, *, reason: str = "",
           items: Mapping[int, int] | None = None) -> Decision:
    """Refund part or all of a sale this terminal made; never above what is left of it.

    ``items`` (product -> qty): a refund by item; the amount is then the items' sum at the sale's
    prices (``amount`` is ignored), and no line goes above what is left of it.
    """
    scope = _stall_scope(ctx, staff, Permission.REFUND, "refund")
    if isinstance(scope, Decision):
        return scope
    sale = _original(ctx, ref, "refund")
    if isinstance(sale, Decision):
        return sale
    lines: list[tuple[int, int, int]] = []
    if items is not None:
        picked = _item_lines(ctx, sale, items)
        if isinstance(picked, Decision):
            return picked
        lines = picked
        amount = sum(q * u for _p, q, u in lines)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return _decline(DeclineReason.INVALID_AMOUNT, "refund")
    reversed_amount, voided = ctx.store.reversed_amount(sale.id)
    if voided:
        return _decline(DeclineReason.ALREADY_VOIDED, "refund")
    if amount > sale.amount - reversed_amount:
        return _decline(DeclineReason.ABOVE_ORIGINAL, "refund", left=sale.amount - reversed_amount)
    assert sale.wallet_id is not None
    record = RefundRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
                          created_at=ctx.clock.now_ms(), stall_id=scope, wallet_id=sale.wallet_id,
                          amount=amount, ref_id=UUID(sale.id), reason=reason[:200],
                          lines=[RefundLine(product_id=p, qty=q, unit_price=u) for p, q, u in lines])
    row = ctx.sign(record, mode="offline")
    _commit(ctx, row, lines=list(lines))
    return Decision(True, None, kind="refund", record_id=row.id, amount=amount, wallet_id=sale.wallet_id,
                    mode="offline", params={"ref": sale.id, "items": len(lines)})


def void(ctx: Context, staff: StaffRow, ref: str, *, reason: str = "") -> Decision:
    """Cancel a whole sale of this terminal that has no refund or void yet."""
    scope = _stall_scope(ctx, staff, Permission.REFUND, "void")
    if isinstance(scope, Decision):
        return scope
    sale = _original(ctx, ref, "void")
    if isinstance(sale, Decision):
        return sale
    reversed_amount, voided = ctx.store.reversed_amount(sale.id)
    if voided:
        return _decline(DeclineReason.ALREADY_VOIDED, "void")
    if reversed_amount:
        return _decline(DeclineReason.ABOVE_ORIGINAL, "void", left=sale.amount - reversed_amount)
    assert sale.wallet_id is not None
    record = VoidRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
                        created_at=ctx.clock.now_ms(), stall_id=scope, wallet_id=sale.wallet_id,
                        amount=sale.amount, ref_id=UUID(sale.id), reason=reason[:200])
    row = ctx.sign(record, mode="offline")
    _commit(ctx, row)
    return Decision(True, None, kind="void", record_id=row.id, amount=sale.amount, wallet_id=sale.wallet_id,
                    mode="offline", params={"ref": sale.id})


def topup(ctx: Context, staff: StaffRow, wallet_text: str, amount: int, *,
          cash_received: int | None = None) -> Decision:
    """Load cash onto a wallet; online only (the server must book it before the cash is kept).

    Never "failed" while the server may have booked it: a lost answer is asked
    again with the same record id (``TOPUP_RETRIES``), then held in doubt
    (``TOPUP_IN_DOUBT``: keep the cash) until the next push settles it.
    ``TOPUP_NOT_SENT`` means the request surely never reached the server.
    """
    if ctx.terminal.mode is not TerminalMode.TOPUP:  # the server books cash only at top-up desks
        return _decline(DeclineReason.WRONG_MODE, "topup")
    if not staff_allowed(staff, Permission.TOPUP, Scope(), now_s=ctx.clock.now_ms() // 1000):
        return _decline(DeclineReason.NOT_PERMITTED, "topup", permission=Permission.TOPUP.value)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= 10**9:
        return _decline(DeclineReason.INVALID_AMOUNT, "topup")
    cash = amount if cash_received is None else cash_received
    if isinstance(cash, bool) or not isinstance(cash, int) or cash < amount:
        return _decline(DeclineReason.INVALID_AMOUNT, "topup", cash_received=cash)
    view = _read(ctx, wallet_text, "topup")
    if isinstance(view, Decision):
        return view
    if ctx.store.is_revoked("wallet", view.wallet_id):
        return Decision(False, DeclineReason.WALLET_REVOKED, kind="topup", wallet_id=view.wallet_id, amount=amount)
    record = TopUpRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
                         created_at=ctx.clock.now_ms(), wallet_id=view.wallet_id, amount=amount,
                         cash_received=cash)
    params: dict[str, object] = {"change": cash - amount, "cash_received": cash}
    row = ctx.sign(record, mode="online")
    decision = _online(ctx, row, [], wallet_id=view.wallet_id, params=params)
    for _ in range(TOPUP_RETRIES):  # the answer was lost after sending: ask again with the same record id
        if decision is not None or not ctx.store.has_pending_authorization(row.id):
            break
        ctx.pause(TOPUP_RETRY_PAUSE_S)
        decision = _online(ctx, row, [], wallet_id=view.wallet_id, params=params, again=True)
    if decision is not None:
        return decision
    if ctx.store.has_pending_authorization(row.id):  # it may be booked: never "failed" to the cashier
        hold_in_doubt(ctx, row, why=str(params.get("error") or "no answer in time"))
        params["in_doubt"] = True
        return Decision(False, DeclineReason.TOPUP_IN_DOUBT, kind="topup", record_id=row.id,
                        wallet_id=view.wallet_id, amount=amount, params=params)
    return Decision(False, DeclineReason.TOPUP_NOT_SENT, kind="topup", wallet_id=view.wallet_id,
                    amount=amount, params=params)

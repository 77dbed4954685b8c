"""Sold out, marked at a stall's till: the server sets it (online only), the till shows it at once.

A supervisor (anyone holding ``product.sold_out`` for the stall) marks a product of this stall
sold out, or back on sale, from the till.  The flag is the server's: the dashboard sets it too,
the stall's other tills pull it, and the server declines an online sale of a sold-out product.
So there is no offline path: a change queued offline could undo a later one made on the
dashboard, and the till says in words that it needs the server.  The call sets a value (not a
toggle), so asking again after a lost answer is harmless; the answer is stored at once, so this
till's buttons change before the next pull.
"""

from __future__ import annotations

from sync.errors import ApiError, Forbidden, SyncUnavailable, Unauthorized
from sync.permissions import Permission, Scope
from sync.schemas import SoldOutRequest, StaffRow, TerminalMode
from terminal.context import Context
from terminal.decisions import Decision, DeclineReason
from terminal.sessions import staff_allowed

__all__ = ["SOLD_OUT_TIMEOUT_S", "may_mark_sold_out", "set_sold_out"]

SOLD_OUT_TIMEOUT_S = 5.0  # one request's wait for the server (a person waits at the till)


def _decline(reason: DeclineReason, **params: object) -> Decision:
    return Decision(False, reason, kind="sold_out", params=dict(params))


def may_mark_sold_out(ctx: Context, staff: StaffRow) -> bool:
    """True when ``staff`` holds ``product.sold_out`` for this till's stall now."""
    stall_id = ctx.terminal.stall_id
    return (ctx.terminal.mode is TerminalMode.STALL and stall_id is not None
            and staff_allowed(staff, Permission.PRODUCT_SOLD_OUT, Scope.stall(stall_id),
                              now_s=ctx.clock.now_ms() // 1000))


def set_sold_out(ctx: Context, staff: StaffRow, product_id: int, sold_out: bool) -> Decision:
    """Ask the server to mark ``product_id`` sold out (or back on sale); approved: stored here, ``params`` name it."""
    if ctx.terminal.mode is not TerminalMode.STALL or ctx.terminal.stall_id is None:
        return _decline(DeclineReason.WRONG_MODE)
    if not may_mark_sold_out(ctx, staff):
        return _decline(DeclineReason.NOT_PERMITTED, permission=Permission.PRODUCT_SOLD_OUT.value)
    product = next((p for p in ctx.store.products(ctx.terminal.stall_id) if p.id == product_id), None)
    if product is None:
        return _decline(DeclineReason.INVALID_CART, product_id=product_id)
    if ctx.client is None or ctx.known_unreachable():  # the sync loop already knows: say so now, no wait
        if ctx.client is not None:
            ctx.on_record()  # a nudge for the probe
        return _decline(DeclineReason.SOLD_OUT_NEEDS_SERVER, name=product.name)
    request = SoldOutRequest(staff_id=staff.staff_id, sold_out=sold_out)
    timeout = min(SOLD_OUT_TIMEOUT_S, ctx.settings.authorize_timeout_ms / 1000 * 2)
    try:
        answer = ctx.client.set_sold_out(product_id, request, timeout_s=timeout)
    except SyncUnavailable as exc:
        return _decline(DeclineReason.SOLD_OUT_NEEDS_SERVER, name=product.name, error=str(exc))
    except Unauthorized as exc:
        ctx.store.wipe_personal_data(now_ms=ctx.clock.now_ms(), why=f"sold out: {exc.message}")
        return _decline(DeclineReason.TERMINAL_REVOKED)
    except Forbidden as exc:
        return _decline(DeclineReason.SERVER_DECLINED, server_reason=exc.message, status=exc.status)
    except ApiError as exc:
        if exc.status == 409:
            return _decline(DeclineReason.NO_STOCK_LEFT, name=product.name)
        if exc.status >= 500 or exc.status in (408, 429):
            return _decline(DeclineReason.SOLD_OUT_NEEDS_SERVER, name=product.name, error=str(exc))
        return _decline(DeclineReason.SERVER_DECLINED, server_reason=exc.message, status=exc.status)
    ctx.store.put_product(answer.product)
    return Decision(True, None, kind="sold_out", params={"name": answer.product.name,
                                                        "sold_out": answer.product.sold_out,
                                                        "changed": answer.changed})

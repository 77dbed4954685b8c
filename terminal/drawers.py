"""The cash drawer of a top-up desk at close-out: float + top-ups − cash-outs expected, the cash counted.

The desk writes one signed ``drawer`` record (``sync.schemas.DrawerRecord``) with the
start float, the counted cash and its own expected figure; the server works the
expected figure out again from what it booked and books counted − expected to its
imbalance account (``server.drawers``).  A shift runs from the desk's previous
close-out.  The drawer cannot be closed while a top-up or cash-out is in doubt:
its cash is neither in nor out yet.
"""

from __future__ import annotations

from sync.ids import new_record_id
from sync.permissions import Permission, Scope
from sync.schemas import DrawerRecord, StaffRow, TerminalMode
from terminal.context import Context
from terminal.decisions import Decision, DeclineReason
from terminal.sales import _commit, _decline
from terminal.sessions import staff_allowed

__all__ = ["MAX_DRAWER_CASH", "close_drawer"]

MAX_DRAWER_CASH = 10**9


def _cash(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= MAX_DRAWER_CASH


def close_drawer(ctx: Context, staff: StaffRow, *, start_float: int, counted: int) -> Decision:
    """Close this desk's drawer with the counted cash; returns expected, counted and the difference in params.

    Declines: not a desk, no ``shift.close``, an amount out of bounds, a doubt still open.
    """
    if ctx.terminal.mode is not TerminalMode.TOPUP:
        return _decline(DeclineReason.WRONG_MODE, "drawer")
    if not staff_allowed(staff, Permission.SHIFT_CLOSE, Scope(), now_s=ctx.clock.now_ms() // 1000):
        return _decline(DeclineReason.NOT_PERMITTED, "drawer", permission=Permission.SHIFT_CLOSE.value)
    if not _cash(start_float) or not _cash(counted):
        return _decline(DeclineReason.INVALID_AMOUNT, "drawer")
    if ctx.store.in_doubt_count():
        return _decline(DeclineReason.DRAWER_DOUBTS_OPEN, "drawer", open=ctx.store.in_doubt_count())
    now = ctx.clock.now_ms()
    since = ctx.store.last_drawer_ms(before=now)
    topups, cashouts = ctx.store.desk_totals(since=since, until=now)
    expected = start_float + topups - cashouts
    record = DrawerRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
                          created_at=now, since=since, start_float=start_float, counted=counted, expected=expected)
    row = ctx.sign(record, mode="offline")
    _commit(ctx, row)
    return Decision(True, None, kind="drawer", record_id=row.id, amount=counted, mode="offline", params={
        "start_float": start_float, "topups": topups, "cashouts": cashouts, "expected": expected,
        "counted": counted, "difference": counted - expected, "since": since})

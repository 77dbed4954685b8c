"""Gate check-ins: decode the ticket, check revocations and pass-back, record + outbox in one transaction.

Pass-back uses every check-in the terminal knows of (its own and those of
other gates from the pull) for the ticket's ``EntryPolicy``:
single entry — one ``in`` ever; re-entry — ``in`` only when the last known
passage was ``out`` (or none); unlimited — no check.  An ``out`` always passes.
A later issue refines gates (gate groups, the offline window of other gates).
"""

from __future__ import annotations

from typing import Literal

from sync.errors import TokenError
from sync.ids import new_record_id
from sync.permissions import Permission, Scope
from sync.schemas import CheckInRecord, StaffRow, TerminalMode
from sync.tokens import EntryPolicy, TicketToken, decode_token
from terminal.authorize import token_decline
from terminal.context import Context
from terminal.decisions import DeclineReason, GateDecision
from terminal.sessions import staff_allowed

__all__ = ["check_in"]


def check_in(ctx: Context, staff: StaffRow, ticket_text: str, direction: Literal["in", "out"]) -> GateDecision:
    """Decide a ticket at this gate; an approved check-in is durable before this returns."""
    if direction not in ("in", "out"):
        return GateDecision(False, DeclineReason.INVALID_CART, params={"direction": str(direction)})
    if ctx.terminal.mode is not TerminalMode.GATE or ctx.terminal.gate_id is None:
        return GateDecision(False, DeclineReason.WRONG_MODE, direction=direction)
    gate_id = ctx.terminal.gate_id
    if not staff_allowed(staff, Permission.GATE, Scope.gate(gate_id), now_s=ctx.clock.now_ms() // 1000):
        return GateDecision(False, DeclineReason.NOT_PERMITTED, direction=direction)
    try:
        token = decode_token(ticket_text, ctx.keys, now=ctx.clock.now_ms() // 1000, expect=TicketToken)
    except TokenError as exc:
        if exc.is_forgery:
            ctx.log_forgery(ticket_text, exc.reason.value, "ticket at gate")
        return GateDecision(False, token_decline(exc), direction=direction,
                            params={"token_reason": exc.reason.value})
    assert isinstance(token, TicketToken)

    def refuse(reason: DeclineReason) -> GateDecision:
        return GateDecision(False, reason, ticket_id=token.ticket_id, ticket_type=token.ticket_type,
                            direction=direction)

    if ctx.store.is_revoked("ticket", token.ticket_id):
        return refuse(DeclineReason.TICKET_REVOKED)
    ticket_type = ctx.store.ticket_type(token.ticket_type)
    if ticket_type is not None:
        if not ticket_type.active:
            return refuse(DeclineReason.TICKET_TYPE_INACTIVE)
        if ticket_type.gate_ids and gate_id not in ticket_type.gate_ids:
            return refuse(DeclineReason.WRONG_GATE)
    history = ctx.store.checkins_of(token.ticket_id)
    if direction == "in" and token.policy is EntryPolicy.SINGLE and any(d == "in" for d, _ in history):
        return refuse(DeclineReason.ALREADY_USED)
    if direction == "in" and token.policy is EntryPolicy.REENTRY and history and history[-1][0] == "in":
        return refuse(DeclineReason.ALREADY_INSIDE)
    record = CheckInRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
                           created_at=ctx.clock.now_ms(), gate_id=gate_id, ticket_id=token.ticket_id,
                           ticket_type=token.ticket_type, direction=direction)
    row = ctx.sign(record, mode="offline")
    ctx.store.add_record(row)
    ctx.on_record()
    return GateDecision(True, None, record_id=row.id, ticket_id=token.ticket_id, ticket_type=token.ticket_type,
                        direction=direction)

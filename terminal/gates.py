"""Gate check-ins: decode the ticket, check revocations and pass-back, record + outbox in one transaction.

Everything is decided offline, from the token, the pulled revocation list and
ticket types, and the local check-in log (this gate's own check-ins and those
of other gates from the pull).  An entry is refused with one reason:

==================  =========================================================
``not_a_code``      not an Ennichi code; ``damaged``: ours but unreadable
``forged``          bad signature or unknown issuer key (security log)
``wrong_kind``      a wallet or staff badge shown at the gate
``not_yet_valid``   before the ticket's ``valid_from``; ``expired``: after
                    its ``valid_until`` (the window of its type, at issue)
``ticket_revoked``  on the pulled revocation list
``ticket_type_inactive``  its type was switched off
``wrong_gate``      its type opens other gates only
``already_used``    single entry: an ``in`` is known (here or at another gate)
``already_inside``  re-entry: the last known passage is an ``in`` (pass-back)
``unknown_ticket``  a typed ticket id (check character right) that this gate
                    has not pulled: no ticket of this event has that id
==================  =========================================================

A ticket id typed from under the QR (``K7M2-QX4P-9``, when the QR cannot be
read) has no signed token: it is decided from the ticket row the gate pulled
(type, policy, validity window, revoked), with the same checks in the same
order.  A typed id whose check character is wrong is refused as ``not_a_code``.

An approved entry ("valid") is written with its outbox row in one durable
transaction before this returns; the network is never waited for.  Unlimited
tickets (staff) have no pass-back check.  An exit is recorded for any genuine
ticket, even an expired, revoked or wrong-gate one: the person is leaving, and
the counts of people inside must see it.  Two gates that both admit a ticket
while neither knows of the other's entry are reconciled by the server (a
``duplicate_entry`` anomaly), never here.
"""

from __future__ import annotations

from typing import Literal

from sync.errors import TokenError
from sync.ids import ShortIdError, new_record_id, parse_short_id
from sync.permissions import Permission, Scope
from sync.schemas import CheckInRecord, StaffRow, TerminalMode
from sync.tokens import EntryPolicy, TicketFlags, TicketToken, decode_token
from terminal.authorize import token_decline
from terminal.context import Context
from terminal.decisions import DeclineReason, GateDecision
from terminal.sessions import staff_allowed

__all__ = ["check_in", "typed_ticket_id"]


def check_in(ctx: Context, staff: StaffRow, ticket_text: str, direction: Literal["in", "out"]) -> GateDecision:
    """Decide a ticket at this gate; an approved check-in is durable before this returns."""
    if direction not in ("in", "out"):
        return GateDecision(False, DeclineReason.INVALID_CART, params={"direction": str(direction)})
    if ctx.terminal.mode is not TerminalMode.GATE or ctx.terminal.gate_id is None:
        return GateDecision(False, DeclineReason.WRONG_MODE, direction=direction)
    gate_id = ctx.terminal.gate_id
    if not staff_allowed(staff, Permission.GATE, Scope.gate(gate_id), now_s=ctx.clock.now_ms() // 1000):
        return GateDecision(False, DeclineReason.NOT_PERMITTED, direction=direction)
    entering = direction == "in"
    typed = typed_ticket_id(ticket_text)
    if typed is not None:
        known = ctx.store.ticket(typed)
        if known is None:
            return GateDecision(False, DeclineReason.UNKNOWN_TICKET, ticket_id=typed, direction=direction)
        token = TicketToken(known.ticket_id, known.ticket_type, known.valid_from, known.valid_until,
                            EntryPolicy[known.policy.upper()], TicketFlags(known.flags))
        now_s = ctx.clock.now_ms() // 1000
        window = (None if not entering else DeclineReason.NOT_YET_VALID if now_s < known.valid_from
                  else DeclineReason.EXPIRED if now_s >= known.valid_until  # as a token's window
                  else DeclineReason.TICKET_REVOKED if known.revoked else None)
        if window is not None:
            return GateDecision(False, window, ticket_id=typed, ticket_type=known.ticket_type,
                                direction=direction)
    else:
        try:  # an exit is recorded whatever the ticket's window: the person is leaving
            decoded = decode_token(ticket_text, ctx.keys, now=ctx.clock.now_ms() // 1000 if entering else None,
                                   expect=TicketToken)
        except TokenError as exc:
            if exc.is_forgery:
                ctx.log_forgery(ticket_text, exc.reason.value, "ticket at gate")
            return GateDecision(False, token_decline(exc), direction=direction,
                                params={"token_reason": exc.reason.value})
        assert isinstance(decoded, TicketToken)
        token = decoded

    def refuse(reason: DeclineReason) -> GateDecision:
        return GateDecision(False, reason, ticket_id=token.ticket_id, ticket_type=token.ticket_type,
                            direction=direction)

    if entering:
        reason = _entry_refusal(ctx, token, gate_id)
        if reason is not None:
            return refuse(reason)
    record = CheckInRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
                           created_at=ctx.clock.now_ms(), gate_id=gate_id, ticket_id=token.ticket_id,
                           ticket_type=token.ticket_type, direction=direction)
    row = ctx.sign(record, mode="offline")
    ctx.store.add_record(row)
    ctx.on_record()
    return GateDecision(True, None, record_id=row.id, ticket_id=token.ticket_id, ticket_type=token.ticket_type,
                        direction=direction)


def typed_ticket_id(text: object) -> int | None:
    """Return the ticket id when ``text`` is a typed short id (``K7M2-QX4P-9``, check passed), else None."""
    if not isinstance(text, str) or len(text) > 24 or ":" in text:
        return None
    try:
        return parse_short_id(text.strip())
    except ShortIdError:
        return None


def _entry_refusal(ctx: Context, token: TicketToken, gate_id: int) -> DeclineReason | None:
    """Return why a genuine, in-window ticket may not enter here, or None."""
    if ctx.store.is_revoked("ticket", token.ticket_id):
        return DeclineReason.TICKET_REVOKED
    ticket_type = ctx.store.ticket_type(token.ticket_type)
    if ticket_type is not None:
        if not ticket_type.active:
            return DeclineReason.TICKET_TYPE_INACTIVE
        if ticket_type.gate_ids and gate_id not in ticket_type.gate_ids:
            return DeclineReason.WRONG_GATE
    if token.policy is EntryPolicy.UNLIMITED:
        return None
    history = ctx.store.checkins_of(token.ticket_id)
    if token.policy is EntryPolicy.SINGLE and any(d == "in" for d, _ in history):
        return DeclineReason.ALREADY_USED
    if token.policy is EntryPolicy.REENTRY and history and history[-1][0] == "in":
        return DeclineReason.ALREADY_INSIDE
    return None

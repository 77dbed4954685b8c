"""Gate check-ins: ticket checks, pass-back per entry policy, record + outbox."""

from __future__ import annotations

import pytest
from terminal_helpers import CASHIER, GATEKEEPER, Env

from sync.ids import format_short_id
from sync.schemas import CheckInRow, RevocationKind, RevocationRow, TerminalMode, TicketRow
from sync.tokens import EntryPolicy, TicketFlags, TicketToken, encode_token
from terminal.decisions import DeclineReason
from terminal.engine import Terminal

R = DeclineReason


@pytest.fixture
def gate(env: Env) -> Terminal:
    env.mode = TerminalMode.GATE
    t = env.seed()
    env.login(GATEKEEPER)
    return t


def test_single_entry(env: Env, gate: Terminal) -> None:
    ticket = env.ticket(11)
    first = gate.check_in(ticket, "in")
    assert first.approved and first.ticket_id == 11 and first.record_id
    assert gate.check_in(ticket, "in").reason is R.ALREADY_USED
    assert gate.check_in(ticket, "out").approved
    assert gate.check_in(ticket, "in").reason is R.ALREADY_USED
    assert gate.status().unsynced_count == 2


def test_reentry_after_exit(env: Env, gate: Terminal) -> None:
    ticket = env.ticket(12, 2, EntryPolicy.REENTRY)
    assert gate.check_in(ticket, "in").approved
    assert gate.check_in(ticket, "in").reason is R.ALREADY_INSIDE
    assert gate.check_in(ticket, "out").approved
    assert gate.check_in(ticket, "in").approved


def test_unlimited(env: Env, gate: Terminal) -> None:
    ticket = env.ticket(13, 1, EntryPolicy.UNLIMITED)
    assert all(gate.check_in(ticket, "in").approved for _ in range(3))


def test_other_gates_check_ins_count(env: Env, gate: Terminal) -> None:
    env.pull(checkins=[CheckInRow(id="x-1", gate_id=8, terminal_id=77, ticket_id=14, direction="in",
                                  created_at=env.clock.now_ms() - 1000)])
    assert gate.check_in(env.ticket(14), "in").reason is R.ALREADY_USED


def test_refusals(env: Env, gate: Terminal) -> None:
    env.pull(revocations=[RevocationRow(kind=RevocationKind.TICKET, id=15)])
    assert gate.check_in(env.ticket(15), "in").reason is R.TICKET_REVOKED
    assert gate.check_in(env.ticket(16, 3), "in").reason is R.WRONG_GATE
    assert gate.check_in(env.wallet(1, 1, 1), "in").reason is R.WRONG_KIND
    assert gate.check_in("garbage", "in").reason is R.NOT_A_CODE
    env.login(CASHIER)
    assert gate.check_in(env.ticket(17), "in").reason is R.NOT_PERMITTED


def test_a_stall_terminal_is_not_a_gate(env: Env) -> None:
    term = env.seed()
    env.login(GATEKEEPER)
    assert term.check_in(env.ticket(18), "in").reason is R.WRONG_MODE


def test_a_guest_ticket_typed_or_scanned_is_one_ticket(env: Env, gate: Terminal) -> None:
    """A guest ticket (GUEST flag) pulled as a ticket row: its typed short id and its QR, as any ticket's."""
    start, end = env.now_s - 300, env.now_s + 3 * 86400
    guest = TicketRow(ticket_id=21, ticket_type=1, policy="single", valid_from=start, valid_until=end,
                      flags=int(TicketFlags.GUEST))
    elsewhere = TicketRow(ticket_id=22, ticket_type=3, policy="single", valid_from=start, valid_until=end,
                          flags=int(TicketFlags.GUEST))
    later = guest.model_copy(update={"ticket_id": 23})
    env.pull(tickets=[guest, elsewhere, later])
    qr = encode_token(TicketToken(21, 1, start, end, EntryPolicy.SINGLE, TicketFlags.GUEST), env.issuer)
    typed = gate.check_in(format_short_id(21), "in")
    assert typed.approved and typed.ticket_id == 21 and typed.ticket_type == 1
    assert gate.check_in(qr, "in").reason is R.ALREADY_USED
    assert gate.check_in(format_short_id(22), "in").reason is R.WRONG_GATE
    assert gate.gate_counts().inside == 1

    # Cancelled on My page: the next pull brings the revocation and the revoked row.
    assert gate.check_in(format_short_id(23), "out").approved  # (an exit is recorded for any genuine ticket)
    env.pull(cursor="c2", tickets=[later.model_copy(update={"revoked": True})],
             revocations=[RevocationRow(kind=RevocationKind.TICKET, id=23)])
    assert gate.check_in(format_short_id(23), "in").reason is R.TICKET_REVOKED
    other = encode_token(TicketToken(23, 1, start, end, EntryPolicy.SINGLE, TicketFlags.GUEST), env.issuer)
    assert gate.check_in(other, "in").reason is R.TICKET_REVOKED

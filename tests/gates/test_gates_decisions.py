"""Every gate decision reason, each entry policy, pass-back, and revocation reaching a gate by pull."""

from __future__ import annotations

import pytest
from gates_helpers import Festival

from sync.keys import IssuerKey
from sync.tokens import EntryPolicy, TicketToken, encode_token
from terminal.decisions import DeclineReason

R = DeclineReason


def test_valid_entry_is_durable_before_the_answer(festival: Festival) -> None:
    gate = festival.gate(0)
    [ticket] = festival.issue(festival.single)
    gate.network.up = False  # the answer never depends on the network
    decision = gate.scan(ticket.token)
    assert decision.approved and decision.reason is None and decision.ticket_id == ticket.ticket_id
    assert gate.terminal.store.record(decision.record_id) is not None
    assert gate.terminal.status().unsynced_count == 1


def test_single_entry_policy(festival: Festival) -> None:
    gate = festival.gate(0)
    [ticket] = festival.issue(festival.single)
    assert gate.scan(ticket.token).approved
    assert gate.scan(ticket.token).reason is R.ALREADY_USED  # pass-back while inside
    assert gate.scan(ticket.token, "out").approved
    assert gate.scan(ticket.token).reason is R.ALREADY_USED  # used up, even after leaving


def test_reentry_policy_refuses_pass_back_until_exit(festival: Festival) -> None:
    gate = festival.gate(0)
    [ticket] = festival.issue(festival.reentry)
    assert gate.scan(ticket.token).approved
    assert gate.scan(ticket.token).reason is R.ALREADY_INSIDE
    assert gate.scan(ticket.token, "out").approved
    assert gate.scan(ticket.token).approved
    assert gate.scan(ticket.token).reason is R.ALREADY_INSIDE


def test_unlimited_policy(festival: Festival) -> None:
    gate = festival.gate(0)
    [ticket] = festival.issue(festival.unlimited)
    assert all(gate.scan(ticket.token).approved for _ in range(3))
    assert gate.scan(ticket.token, "out").approved and gate.scan(ticket.token).approved


def test_pass_back_across_gates_after_pull(festival: Festival) -> None:
    north, south = festival.gate(0), festival.gate(1)
    single, reentry = festival.issue(festival.single)[0], festival.issue(festival.reentry)[0]
    assert north.scan(single.token).approved and north.scan(reentry.token).approved
    assert north.sync() and south.sync()
    assert south.scan(single.token).reason is R.ALREADY_USED
    assert south.scan(reentry.token).reason is R.ALREADY_INSIDE
    assert south.scan(reentry.token, "out").approved
    assert south.sync() and north.sync()
    assert north.scan(reentry.token).approved


def test_not_yet_valid_and_expired(festival: Festival) -> None:
    gate = festival.gate(0)
    now = festival.now_s
    [early] = festival.issue(festival.single, valid_from=now + 3600, valid_until=now + 7200)
    [late] = festival.issue(festival.single, valid_from=now - 7200, valid_until=now - 3600)
    assert gate.scan(early.token).reason is R.NOT_YET_VALID
    assert gate.scan(late.token).reason is R.EXPIRED
    festival.clock.advance(3600)
    assert gate.scan(early.token).approved


def test_ticket_type_window_clips_the_ticket(festival: Festival) -> None:
    from server.tickets import set_ticket_type_window

    now = festival.now_s
    with festival.seed.db.write() as conn:
        set_ticket_type_window(conn, festival.reentry, valid_from=now + 600, valid_until=now + 1200)
    [ticket] = festival.issue(festival.reentry, valid_from=now - 60, valid_until=now + 86400)
    assert (ticket.valid_from, ticket.valid_until) == (now + 600, now + 1200)
    gate = festival.gate(0)
    assert gate.scan(ticket.token).reason is R.NOT_YET_VALID
    festival.clock.advance(700)
    assert gate.scan(ticket.token).approved
    festival.clock.advance(600)
    assert gate.scan(ticket.token, "out").approved  # an expired ticket may still leave
    assert gate.scan(ticket.token).reason is R.EXPIRED


def test_revocation_reaches_the_gate_by_pull(festival: Festival) -> None:
    gate = festival.gate(0)
    inside, later = festival.issue(festival.reentry, 2)
    assert gate.scan(inside.token).approved
    festival.revoke(inside.ticket_id)
    festival.revoke(later.ticket_id)
    assert gate.scan(inside.token, "out").approved  # not pulled yet: nothing changed
    assert gate.sync()
    assert gate.scan(later.token).reason is R.TICKET_REVOKED
    assert gate.scan(inside.token).reason is R.TICKET_REVOKED
    assert gate.scan(inside.token, "out").approved  # a revoked ticket inside may still leave


def test_wrong_gate(festival: Festival) -> None:
    north, south = festival.gate(0), festival.gate(1)
    [ticket] = festival.issue(festival.north_only)
    assert south.scan(ticket.token).reason is R.WRONG_GATE
    assert north.scan(ticket.token).approved


def test_forged_and_altered_tickets_are_logged(festival: Festival) -> None:
    gate = festival.gate(0)
    now = festival.now_s
    stranger = IssuerKey.generate(1)  # same key id as the server's, another key
    forged = encode_token(TicketToken(123456, festival.single, now - 60, now + 3600, EntryPolicy.SINGLE), stranger)
    [genuine] = festival.issue(festival.single)
    prefix, body = genuine.token[:4], genuine.token[4:]
    altered = prefix + body[:10] + ("0" if body[10] != "0" else "1") + body[11:]
    before = gate.terminal.store.security_count()
    assert gate.scan(forged).reason is R.FORGED
    assert gate.scan(altered).reason in (R.FORGED, R.DAMAGED)
    assert gate.scan(forged, "out").reason is R.FORGED  # exits need a genuine ticket too
    assert gate.terminal.store.security_count() >= before + 2
    assert gate.terminal.status().unsynced_count == 0


@pytest.mark.parametrize(("text", "reason"), [("hello", R.NOT_A_CODE), ("ET1:%%%", R.DAMAGED), ("", R.NOT_A_CODE)])
def test_not_a_ticket(festival: Festival, text: str, reason: DeclineReason) -> None:
    gate = festival.gate(0)
    assert gate.scan(text).reason is reason


def test_a_wallet_or_badge_at_the_gate_is_the_wrong_kind(festival: Festival) -> None:
    gate = festival.gate(0)
    assert gate.scan(festival.seed.badge(festival.keeper)).reason is R.WRONG_KIND


def test_inactive_ticket_type(festival: Festival) -> None:
    from sqlalchemy import update

    from server.db import tables as t
    from server.db.engine import reserve_changes

    gate = festival.gate(0)
    [ticket] = festival.issue(festival.single)
    with festival.seed.db.write() as conn:
        conn.execute(update(t.ticket_types).where(t.ticket_types.c.id == festival.single)
                     .values(active=False, change_seq=reserve_changes(conn, 1)))
    assert gate.sync()
    assert gate.scan(ticket.token).reason is R.TICKET_TYPE_INACTIVE


def test_not_logged_in_and_not_permitted(festival: Festival) -> None:
    gate = festival.gate(0)
    [ticket] = festival.issue(festival.single)
    cashier = festival.seed.staff("Cashier", pin="1234", roles=[("cashier", "event", None)])
    assert gate.sync()
    gate.terminal.logout()
    assert gate.scan(ticket.token).reason is R.NOT_LOGGED_IN
    # the server's pull gives a gate only the people who may work there: a cashier cannot log in
    refused = gate.terminal.login(festival.seed.badge(cashier), "1234")
    assert (refused.ok, refused.reason) == (False, "not_here")
    assert gate.scan(ticket.token).reason is R.NOT_LOGGED_IN

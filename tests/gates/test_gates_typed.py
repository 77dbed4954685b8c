"""A ticket id typed at the gate (the code under the QR): decided offline from the pulled ticket, as the QR would be."""

from __future__ import annotations

from gates_helpers import Festival

from sync.ids import format_short_id
from terminal.decisions import DeclineReason


def test_typed_and_scanned_are_one_ticket(festival_any: Festival) -> None:
    fest = festival_any
    north, south = fest.gate(0), fest.gate(1)
    a, b = fest.issue(fest.single, 2)
    assert north.sync() and south.sync()
    north.network.up = False  # decided offline: from the pulled row
    typed = north.scan(format_short_id(a.ticket_id))
    assert typed.approved and typed.ticket_id == a.ticket_id and typed.ticket_type == fest.single
    assert north.scan(a.token).reason is DeclineReason.ALREADY_USED  # the QR of the same ticket
    assert north.scan(b.token).approved
    assert north.scan(format_short_id(b.ticket_id, grouped=False).lower()).reason is DeclineReason.ALREADY_USED
    north.network.up = True
    assert north.sync() and south.sync()
    # another gate learns the typed entry like any other
    assert south.scan(format_short_id(a.ticket_id)).reason is DeclineReason.ALREADY_USED
    assert fest.stored_checkins() == 2


def test_typed_ids_take_every_gate_decision(festival_any: Festival) -> None:
    fest = festival_any
    north = fest.gate(0)
    [re] = fest.issue(fest.reentry)
    [old] = fest.issue(fest.single, valid_from=fest.now_s - 7200, valid_until=fest.now_s - 60)
    [later] = fest.issue(fest.single, valid_from=fest.now_s + 3600, valid_until=fest.now_s + 7200)
    [gone] = fest.issue(fest.single)
    [south_only] = fest.issue(fest.north_only)
    fest.revoke(gone.ticket_id)
    south = fest.gate(1)  # pulls all of the above
    assert north.sync()

    def typed(gate: object, ticket_id: int, direction: str = "in") -> object:
        return gate.scan(format_short_id(ticket_id), direction)  # type: ignore[attr-defined]

    assert typed(north, re.ticket_id).approved
    assert typed(north, re.ticket_id).reason is DeclineReason.ALREADY_INSIDE
    assert typed(north, re.ticket_id, "out").approved and typed(north, re.ticket_id).approved
    assert typed(north, old.ticket_id).reason is DeclineReason.EXPIRED
    assert typed(north, old.ticket_id, "out").approved  # an exit is recorded for any genuine ticket
    assert typed(north, later.ticket_id).reason is DeclineReason.NOT_YET_VALID
    assert typed(north, gone.ticket_id).reason is DeclineReason.TICKET_REVOKED
    assert typed(south, south_only.ticket_id).reason is DeclineReason.WRONG_GATE
    assert typed(north, south_only.ticket_id).approved

    # Issued after the gate's last pull: not known here yet, said so; known after the next pull.
    [new] = fest.issue(fest.single)
    unknown = typed(north, new.ticket_id)
    assert not unknown.approved and unknown.reason is DeclineReason.UNKNOWN_TICKET  # type: ignore[attr-defined]
    assert north.sync()
    [new2] = fest.issue(fest.single)
    assert north.sync()
    assert typed(north, new2.ticket_id).approved
    # A typo (check character wrong) is not a ticket id at all.
    code = format_short_id(new2.ticket_id)
    assert north.scan(("1" if code[0] != "1" else "2") + code[1:]).reason is DeclineReason.NOT_A_CODE

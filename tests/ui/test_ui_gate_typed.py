"""A ticket code typed at the gate (the QR cannot be read): decided offline from the tickets the gate pulled.

Real tickets issued on the live server, the gate terminal pulls them, and the
codes printed under their QR are typed into the gate screen's field with real
key events at a person's pace.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hid_keys import FakeClock, type_like_person
from ui_helpers import Event, close_app, enroll, login, make_app, shot, type_at_gate

from server.catalog import create_ticket_type
from server.tickets import TicketRequest, issue_tickets, revoke_ticket
from sync.ids import format_short_id, new_short_id
from terminal.decisions import DeclineReason


def _issue(event: Event, type_id: int, **window: int) -> int:
    issuer = event.issuer()  # read first: not inside the write transaction
    with event.seeder.db.write() as conn:
        issued = issue_tickets(conn, [TicketRequest(type_id, **window)], issuer=issuer,
                               now_ms=int(time.time() * 1000))
    return issued[0].ticket_id


def test_typed_ticket_codes_at_the_gate(qtbot: Any, tmp_path: Path, event: Event) -> None:
    now = int(time.time())
    single = _issue(event, event.ticket_types["single"])
    reentry = _issue(event, event.ticket_types["reentry"])
    expired = _issue(event, event.ticket_types["single"], valid_from=now - 7200, valid_until=now - 3600)
    revoked = _issue(event, event.ticket_types["single"])
    south_gate = event.seeder.gate("South side gate")
    with event.seeder.db.write() as conn:
        revoke_ticket(conn, revoked, now_ms=int(time.time() * 1000))
        south_only = create_ticket_type(conn, name="South side", policy="single", gate_ids=[south_gate])
    elsewhere = _issue(event, south_only)
    unknown = new_short_id()

    app = make_app(qtbot, tmp_path)
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        enroll(qtbot, app, event, "gate")
        login(qtbot, app, event, "gate")
        qtbot.wait_until(lambda: app.window.current.name == "gate", timeout=10_000)
        app.camera.stop()
        gate = app.window.gate
        overlay = app.window.overlay
        overlay.auto_hide_ms = 0
        field = gate.typed.edit

        def type_code(text: str) -> Any:
            return type_at_gate(qtbot, app, text, clock)

        first = type_code(format_short_id(single).lower().replace("-", ""))  # read as people type it
        assert first.approved and first.ticket_id == single and first.direction == "in", first
        assert first.record_id is not None and "Inside now" in overlay.detail.text()
        again = type_code(format_short_id(single))  # typed again at once: decided again, a deliberate re-check
        assert not again.approved and again.reason == DeclineReason.ALREADY_USED
        assert "already used" in overlay.detail.text()

        assert type_code(format_short_id(reentry)).approved
        inside = type_code(format_short_id(reentry))
        assert inside.reason == DeclineReason.ALREADY_INSIDE
        gate.exit_button.click()
        assert type_code(format_short_id(reentry)).approved  # out
        gate.entry_button.click()
        assert type_code(format_short_id(reentry)).approved  # back in

        for ticket_id, reason in ((expired, DeclineReason.EXPIRED), (revoked, DeclineReason.TICKET_REVOKED),
                                  (elsewhere, DeclineReason.WRONG_GATE)):
            decision = type_code(format_short_id(ticket_id))
            assert not decision.approved and decision.reason == reason, (ticket_id, decision)

        # A code with a right check character that is no ticket of this event: said in words, both languages.
        none = type_code(format_short_id(unknown))
        assert none.reason == DeclineReason.UNKNOWN_TICKET
        assert "No ticket of this event has this code" in overlay.detail.text()
        assert "type it again" in overlay.next_step.text()
        shot(app.window, "gate_typed_unknown_en")
        app.i18n.set_language("ja")
        assert type_code(format_short_id(unknown)).reason == DeclineReason.UNKNOWN_TICKET
        assert "このコードのチケットはありません" in overlay.detail.text()
        overlay.dismiss()

        # A typo is caught by the check character before anything is decided.
        decided: list[Any] = []
        gate.checked.connect(decided.append)
        code = format_short_id(reentry)
        typo = ("1" if code[0] != "1" else "2") + code[1:]
        field.setFocus()
        type_like_person(field, typo, clock)
        qtbot.wait_until(lambda: gate.typed.error.text() != "", timeout=3000)
        assert "確認文字が一致しません" in gate.typed.error.text()
        qtbot.wait(200)
        assert decided == []
        app.i18n.set_language("en")
    finally:
        close_app(app)

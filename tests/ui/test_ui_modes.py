"""Refund with a supervisor, top-up with change, gate entry/exit with pass-back refusal, shift report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from ui_helpers import PIN, Event, close_app, enroll, login, make_app, pay, shot, show_code

from terminal.decisions import DeclineReason
from terminal.engine import Terminal


def test_refund_needs_a_supervisor_and_recent_and_shift_report(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event)
        login(qtbot, app, event, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        qtbot.wait_until(lambda: len(sale.product_buttons) == 4, timeout=5000)
        sale.product_buttons[event.product_ids[0]].click()
        sale.product_buttons[event.product_ids[2]].click()
        shot(app.window, "sale_en")
        sold = pay(qtbot, app, event.wallet(3000))
        assert sold.approved
        shot(app.window, "approved_en")
        app.window.overlay.dismiss()
        assert not app.backend.may("refund"), "the cashier role has no refund permission"
        app.window.nav_buttons["nav.recent"].click()
        recent = app.window.recent
        qtbot.wait_until(lambda: any(r.id == sold.record_id for r in recent.rows), timeout=5000)
        recent.select(sold.record_id)
        shot(app.window, "recent_en")
        recent.refund_button.click()
        refund = app.window.refund
        assert app.window.current is refund
        refund.keypad.set_text("300")
        refund.refund_button.click()
        assert refund.confirm_box.isVisible() and not refund.supervisor.isVisible(), "the customer confirms first"
        assert "Refund ¥300 to the customer's wallet" in refund.confirm_label.text()
        assert refund.confirm_button.text() == "Yes, refund ¥300"
        shot(app.window, "refund_confirm_en")
        refund.confirm_button.click()
        assert refund.supervisor.isVisible(), "a cashier without the permission is asked for a supervisor"
        assert refund.supervisor.submit.text() == "Approve this refund"  # not "Log in"
        show_code(app, event.badge("supervisor"))
        qtbot.wait_until(lambda: refund.supervisor.badge is not None, timeout=10_000)
        refund.supervisor.type_pin("9999")
        refund.supervisor.submit.click()
        qtbot.wait_until(lambda: "Wrong PIN" in refund.supervisor.message.text(), timeout=10_000)
        refund.supervisor.type_pin(PIN)
        shot(app.window, "refund_supervisor_en")
        with qtbot.wait_signal(refund.finished, timeout=10_000) as blocker:
            refund.supervisor.submit.click()
        decision = blocker.args[0]
        assert decision.approved and decision.kind == "refund" and decision.amount == 300
        assert "Refunded ¥300" in app.window.overlay.headline.text()
        assert app.backend.staff is not None and app.backend.staff.name == "Hana", "the cashier stays logged in"
        app.window.overlay.dismiss()
        app.window.nav_buttons["nav.shift"].click()
        shift = app.window.shift
        qtbot.wait_until(lambda: shift.report is not None, timeout=5000)
        # The engine books the refund under the supervisor's id; it was made at the cashier's till during the
        # cashier's shift, so it is in the cashier's report.
        assert shift.report.sales_amount == 800 and shift.report.sales_count == 1
        assert (shift.report.refunds_count, shift.report.refunds_amount, shift.report.approved_count) == (1, 300, 1)
        assert shift.report.net_sales == 500
        assert "1 approved by a supervisor" in shift.text.toPlainText()
        assert "¥500" in shift.text.toPlainText()
        with qtbot.wait_signal(shift.saved, timeout=5000) as saved:
            shift.save_button.click()
        assert Path(saved.args[0]).read_text(encoding="utf-8") == shift.text.toPlainText()
        shot(app.window, "shift_close_en")
    finally:
        close_app(app)


def test_topup_with_change(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event, "topup")
        login(qtbot, app, event, "topup")
        qtbot.wait_until(lambda: app.window.current.name == "topup", timeout=10_000)
        topup = app.window.topup
        topup.amount_buttons[1000].click()
        topup.cash_buttons[5000].click()
        assert "¥4,000" in topup.change_label.text()
        topup.cash_buttons[0].click()
        topup.cash_buttons[2000].click()
        shot(app.window, "topup_en")
        with qtbot.wait_signal(topup.done_signal, timeout=15_000) as blocker:
            show_code(app, event.wallet(500))
        decision = blocker.args[0]
        assert decision.approved, decision
        assert decision.amount == 1000 and decision.params["change"] == 1000
        assert decision.balance_after == 1500
        assert "Topped up ¥1,000" in app.window.overlay.headline.text()
        assert "¥1,000" in app.window.overlay.detail.text()
    finally:
        close_app(app)


def test_gate_entry_exit_and_pass_back(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event, "gate")
        login(qtbot, app, event, "gate")
        qtbot.wait_until(lambda: app.window.current.name == "gate", timeout=10_000)
        gate = app.window.gate
        overlay = app.window.overlay
        overlay.auto_hide_ms = 0  # results stay until tapped: the steps below do not race its timer
        ticket = event.ticket("reentry")

        def tap() -> None:
            if overlay.isVisible():
                qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton)

        def scan(text: str = ticket) -> Any:
            tap()
            with qtbot.wait_signal(gate.checked, timeout=15_000) as blocker:
                show_code(app, text)
            return blocker.args[0]

        first = scan()
        assert first.approved and first.direction == "in"
        assert gate.counts.inside == 1 and gate.counts.entries_here == 1
        assert gate.inside_label.text() == "Inside now: 1"
        assert gate.here_label.text() == "This gate: 1 in · 0 out"

        # The same ticket still held up (read again, no tap): the same person, not decided again.
        reads: list[str] = []
        app.camera.scanned.connect(lambda text, _at: reads.append(text))
        decided: list[Any] = []
        gate.checked.connect(decided.append)
        show_code(app, ticket)
        qtbot.wait_until(lambda: ticket in reads, timeout=10_000)
        qtbot.wait(300)
        assert decided == [] and overlay.approved is True and gate.counts.entries_here == 1

        # The next person's ticket while the result still shows: decided at once, no tap needed.
        assert overlay.isVisible()
        with qtbot.wait_signal(gate.checked, timeout=15_000) as blocker:
            show_code(app, event.ticket("reentry"))
        assert blocker.args[0].approved and gate.counts.inside == 2 and overlay.isVisible()
        assert gate.here_label.text() == "This gate: 2 in · 0 out"
        shot(app.window, "gate_entry_en")
        again = scan()
        assert not again.approved and again.reason == DeclineReason.ALREADY_INSIDE
        assert app.window.overlay.icon.text() == "✗"
        assert "pass-back" in app.window.overlay.detail.text()
        shot(app.window, "gate_passback_en")
        app.window.overlay.dismiss()
        gate.exit_button.click()
        out = scan()
        assert out.approved and out.direction == "out" and gate.counts.inside == 1
        assert gate.here_label.text() == "This gate: 2 in · 1 out"
        gate.entry_button.click()
        back_in = scan()
        assert back_in.approved and gate.counts.inside == 2

        # Someone enters at another gate: once pulled, the count here includes them, the gate line does not.
        south = event.seeder.gate("South gate")
        keeper = event.seeder.staff("Mei", pin=PIN, roles=[("gatekeeper", "gate", south)])
        other = Terminal.open(tmp_path / "south")
        try:
            other.enroll(event.seeder.enrollment_code("gate", gate_id=south, base_url=event.base_url))
            other.sync_now()
            assert other.login(event.seeder.badge(keeper), PIN).ok
            assert other.check_in(event.ticket("reentry"), "in").approved
            assert other.sync_now().unsynced_count == 0
        finally:
            other.close()
        app.backend.run(lambda engine: engine.sync_now())
        qtbot.wait_until(lambda: gate.counts.inside == 3, timeout=15_000)  # the screen recounts every 5 s
        assert gate.inside_label.text() == "Inside now: 3"
        assert gate.here_label.text() == "This gate: 3 in · 1 out"
    finally:
        close_app(app)

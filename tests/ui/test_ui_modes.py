"""Refund with a supervisor, top-up with change, gate entry/exit with pass-back refusal, shift report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui_helpers import PIN, Event, close_app, enroll, login, make_app, pay, shot, show_code

from terminal.decisions import DeclineReason


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
        assert refund.supervisor.isVisible(), "a cashier without the permission is asked for a supervisor"
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
        # The engine books the refund as the supervisor's (it has no "approved by" argument yet), so it is in
        # the supervisor's shift, not the cashier's.
        assert shift.report.sales_amount == 800 and shift.report.sales_count == 1
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
        ticket = event.ticket("reentry")

        def scan() -> Any:
            app.window.overlay.dismiss()
            with qtbot.wait_signal(gate.checked, timeout=15_000) as blocker:
                show_code(app, ticket)
            return blocker.args[0]

        first = scan()
        assert first.approved and first.direction == "in"
        assert gate.inside == 1
        shot(app.window, "gate_entry_en")
        again = scan()
        assert not again.approved and again.reason == DeclineReason.ALREADY_INSIDE
        assert app.window.overlay.icon.text() == "✗"
        assert "pass-back" in app.window.overlay.detail.text()
        shot(app.window, "gate_passback_en")
        app.window.overlay.dismiss()
        gate.exit_button.click()
        out = scan()
        assert out.approved and out.direction == "out" and gate.inside == 0
        gate.entry_button.click()
        back_in = scan()
        assert back_in.approved and gate.inside == 1
    finally:
        close_app(app)

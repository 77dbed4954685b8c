"""Enrollment, login and a sale, end to end: real app, real scanner, real engine, real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui_helpers import Event, close_app, enroll, login, make_app, pay, shot


def test_enroll_login_and_sell(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        shot(app.window, "enroll_en")
        enroll(qtbot, app, event)
        assert app.backend.terminal.mode == "stall"
        login(qtbot, app, event, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        qtbot.wait_until(lambda: len(sale.product_buttons) == 4, timeout=5000)
        yakisoba, ramune = event.product_ids[0], event.product_ids[1]
        sale.product_buttons[yakisoba].click()
        sale.product_buttons[ramune].click()
        sale.product_buttons[ramune].click()
        assert sale.total() == 900
        decision = pay(qtbot, app, event.wallet(2000))
        assert decision.approved, decision
        assert app.window.overlay.approved is True
        assert "1,100" in app.window.overlay.detail.text()
        assert app.window.overlay.icon.text() == "✓"
        assert sale.total() == 0
    finally:
        close_app(app)


def test_staff_added_after_enrollment_can_log_in_at_once(qtbot: Any, tmp_path: Path, event: Event) -> None:
    """Enrollment pulls the staff list before the login screen; a badge unknown locally triggers one pull."""
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event)
        newcomer = event.seeder.staff("Riko", pin="2468", roles=[("cashier", "stall", event.stall_id)])
        event.staff["newcomer"] = newcomer
        login(qtbot, app, event, "newcomer", pin="2468")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=15_000)
        assert "Riko" in app.window.status_bar.staff.text()
    finally:
        del event.staff["newcomer"]
        close_app(app)

"""The refund screen says "zero" in the event's currency (an event in US dollars: $0.00, never ¥0)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from ui_helpers import PIN, Event, close_app, enroll, login, make_app, pay

from server.testing import Seeder, init_test_event, run_server_in_thread
from sync.schemas import EventSettings


@pytest.fixture(scope="module")
def dollars(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Event]:
    """An event whose currency is USD, with one stall and a supervisor."""
    tmp = tmp_path_factory.mktemp("usd")
    settings, _ = init_test_event(tmp, event=EventSettings(currency="USD"))
    seeder = Seeder(settings)
    base_url, stop = run_server_in_thread(settings)
    ev = Event(tmp, settings, seeder, base_url, stop)
    ev.stall_id = seeder.stall("Lemonade")
    ev.product_ids = [seeder.product(ev.stall_id, "Lemonade レモネード", 350)]
    ev.staff = {"supervisor": seeder.staff("Kenji", pin=PIN, roles=[("supervisor", "event", None)])}
    yield ev
    ev.stop_server()
    seeder.close()


def test_refund_zero_amount_message_uses_the_events_currency(qtbot: Any, tmp_path: Path, dollars: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, dollars)
        login(qtbot, app, dollars, "supervisor")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        [lemonade] = dollars.product_ids
        qtbot.wait_until(lambda: lemonade in sale.product_buttons, timeout=5000)
        qtbot.mouseClick(sale.product_buttons[lemonade], Qt.MouseButton.LeftButton)
        sold = pay(qtbot, app, dollars.wallet(1000))
        assert sold.approved and sold.amount == 350
        app.window.overlay.dismiss()

        app.window.nav_buttons["nav.recent"].click()
        recent = app.window.recent
        qtbot.wait_until(lambda: any(r.id == sold.record_id for r in recent.rows), timeout=5000)
        recent.select(sold.record_id)
        qtbot.mouseClick(recent.refund_button, Qt.MouseButton.LeftButton)
        refund = app.window.refund
        assert app.window.current is refund and refund.amount_label.text() == "$3.50"
        qtbot.mouseClick(refund.keypad.buttons["C"], Qt.MouseButton.LeftButton)  # the amount cleared: zero
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)
        assert refund.message.text() == "Enter an amount above $0.00 first."
        assert not refund.confirm_box.isVisible()
        app.i18n.set_language("ja")
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)
        assert refund.message.text() == "先に$0.00より大きい金額を入力してください。"
        assert "¥" not in refund.message.text()
        app.i18n.set_language("en")
    finally:
        close_app(app)

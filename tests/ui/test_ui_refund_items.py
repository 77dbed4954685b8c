"""The refund screen by item, driven by mouse clicks: + and − per item, the amount follows, never above what is left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from ui_helpers import Event, close_app, enroll, login, make_app, pay, shot


def _open_refund(qtbot: Any, app: Any, record_id: str) -> Any:
    app.window.nav_buttons["nav.recent"].click()
    recent = app.window.recent
    qtbot.wait_until(lambda: any(r.id == record_id for r in recent.rows), timeout=5000)
    recent.select(record_id)
    qtbot.mouseClick(recent.refund_button, Qt.MouseButton.LeftButton)
    refund = app.window.refund
    assert app.window.current is refund
    qtbot.wait_until(lambda: refund.by_item_button.isVisible(), timeout=5000)
    return refund


def test_refund_by_item_by_clicks(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event)
        login(qtbot, app, event, "supervisor")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        soba, ramune = event.product_ids[0], event.product_ids[1]
        qtbot.wait_until(lambda: soba in sale.product_buttons, timeout=5000)
        for product in (soba, soba, ramune):
            qtbot.mouseClick(sale.product_buttons[product], Qt.MouseButton.LeftButton)
        sold = pay(qtbot, app, event.wallet(3000))
        assert sold.approved and sold.amount == 1200
        app.window.overlay.dismiss()

        refund = _open_refund(qtbot, app, sold.record_id)
        assert refund.by_amount_button.isChecked() and refund.keypad.isVisible(), "by amount stays the default"
        qtbot.mouseClick(refund.by_item_button, Qt.MouseButton.LeftButton)
        assert refund.items_area.isVisible() and not refund.keypad.isVisible()
        assert refund.refund_button.text() == "Refund the items picked"
        _name, minus, qty, plus, left = refund.item_rows[soba]
        assert left.text() == "2 of 2 left to refund" and not minus.isEnabled()
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)  # nothing picked yet
        assert refund.message.text() == "Pick at least one item first (+)." and not refund.confirm_box.isVisible()
        for _ in range(2):
            qtbot.mouseClick(plus, Qt.MouseButton.LeftButton)
        assert qty.text() == "2" and not plus.isEnabled(), "never above what was sold"
        assert refund.amount_label.text() == "¥1,000"
        qtbot.mouseClick(minus, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(refund.item_rows[ramune][3], Qt.MouseButton.LeftButton)
        assert refund.amount_label.text() == "¥700"  # 1 yakisoba + 1 ramune
        shot(app.window, "refund_items_en")
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)
        assert refund.confirm_box.isVisible()
        assert "焼きそば Yakisoba × 1" in refund.confirm_label.text() and "¥700" in refund.confirm_label.text()
        with qtbot.wait_signal(refund.finished, timeout=10_000) as blocker:
            qtbot.mouseClick(refund.confirm_button, Qt.MouseButton.LeftButton)
        decision = blocker.args[0]
        assert decision.approved and decision.kind == "refund" and decision.amount == 700
        engine = app.backend.engine
        assert engine.store.lines_of(decision.record_id) == [(soba, 1, 500), (ramune, 1, 200)]
        app.window.overlay.dismiss()

        # The same sale again: what was refunded by item is counted.
        refund = _open_refund(qtbot, app, sold.record_id)
        qtbot.mouseClick(refund.by_item_button, Qt.MouseButton.LeftButton)
        assert refund.item_rows[soba][4].text() == "1 of 2 left to refund"
        assert refund.item_rows[ramune][4].text() == "0 of 1 left to refund"
        assert not refund.item_rows[ramune][3].isEnabled()
        app.i18n.set_language("ja")
        assert refund.refund_button.text() == "選んだ商品を返金"
        assert refund.item_rows[soba][4].text() == "返金できるのは 2 個中 1 個"
        app.i18n.set_language("en")
        qtbot.mouseClick(refund.by_amount_button, Qt.MouseButton.LeftButton)  # by amount still works
        assert refund.keypad.isVisible() and refund.refund_button.text() == "Refund this amount"
        for key in "C500":
            qtbot.mouseClick(refund.keypad.buttons[key], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)
        with qtbot.wait_signal(refund.finished, timeout=10_000) as blocker:
            qtbot.mouseClick(refund.confirm_button, Qt.MouseButton.LeftButton)
        assert blocker.args[0].approved and blocker.args[0].amount == 500
    finally:
        close_app(app)

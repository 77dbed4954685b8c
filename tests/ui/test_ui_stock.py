"""Stock left on each counted product's button; the cart cannot take more than is left; sold out after the sale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui_helpers import Event, close_app, make_app, open_stall, pay


def test_stock_left_on_the_button_and_no_oversell_from_the_cart(qtbot: Any, tmp_path: Path, event: Event) -> None:
    stall = event.seeder.stall("かき氷屋")
    counted = event.seeder.product(stall, "かき氷 Kakigori", 300, stock=2)
    plain = event.seeder.product(stall, "お茶 Tea", 150)
    app = make_app(qtbot, tmp_path)
    try:
        sale = open_stall(qtbot, app, event, stall)
        qtbot.wait_until(lambda: len(sale.product_buttons) == 2, timeout=5000)
        # Buttons are looked up each time: the catalog reloaded after the login lays them out again.
        def button() -> Any:
            return sale.product_buttons[counted]

        qtbot.wait_until(lambda: "2 left" in button().text(), timeout=5000)
        assert "left" not in sale.product_buttons[plain].text()  # not counted: nothing shown
        button().click()
        assert "1 left" in button().text()
        button().click()
        button().click()  # a third one: refused, there are two
        assert sale.qty[counted] == 2
        assert "Only 2 of かき氷 Kakigori left" in sale.hint.text()
        decision = pay(qtbot, app, event.wallet(2000))
        assert decision.approved and decision.amount == 600
        qtbot.wait_until(lambda: "SOLD OUT" in button().text() and not button().isEnabled(), timeout=10_000)
    finally:
        close_app(app)

"""A stall with many products: category tabs over the buttons and a colour per product (real clicks, real server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from test_ui_window_fits import SIZES, check_fits
from ui_helpers import Event, close_app, make_app, open_stall, pay, shot

MENU = [  # name, price, category, colour
    ("Cola コーラ", 150, "Drinks 飲み物", "red"), ("Tea お茶", 120, "Drinks 飲み物", "green"),
    ("Ramune ラムネ", 200, "Drinks 飲み物", "blue"), ("Yakisoba 焼きそば", 400, "Food 食べ物", "orange"),
    ("Takoyaki たこ焼き", 500, "Food 食べ物", "yellow"), ("Crepe クレープ", 450, "Sweets 甘い物", "pink"),
    ("Sticker シール", 100, "", None),  # no category: under "Other" (and "All")
]


def _visible(sale: Any) -> set[int]:
    return {pid for pid, button in sale.product_buttons.items() if button.isVisible()}


def test_category_tabs_show_their_buttons_and_the_cart_keeps_everything(qtbot: Any, tmp_path: Path,
                                                                        event: Event) -> None:
    stall = event.seeder.stall("Festival café 模擬店カフェ")
    ids = {name: event.seeder.product(stall, name, price, category=cat, colour=colour)
           for name, price, cat, colour in MENU}
    app = make_app(qtbot, tmp_path)
    try:
        sale = open_stall(qtbot, app, event, stall)
        qtbot.wait_until(lambda: len(sale.product_buttons) == len(MENU) and len(sale.category_buttons) == 5,
                         timeout=5000)
        tabs = [button.text() for button in sale.category_buttons.values()]
        assert tabs == ["All", "Drinks 飲み物", "Food 食べ物", "Sweets 甘い物", "Other"]
        assert sale.category_scroll.isVisible()
        assert _visible(sale) == set(ids.values())  # "All" first: every product
        assert sale.product_buttons[ids["Cola コーラ"]].property("colour") == "red"
        assert sale.product_buttons[ids["Sticker シール"]].property("colour") == ""
        # the colour reaches the painted button: a tinted background, not the plain white one
        cola = sale.product_buttons[ids["Cola コーラ"]].grab().toImage()
        plain = sale.product_buttons[ids["Sticker シール"]].grab().toImage()
        assert cola.pixelColor(cola.width() // 2, 8) != plain.pixelColor(plain.width() // 2, 8)

        qtbot.mouseClick(sale.category_buttons["Drinks 飲み物"], Qt.MouseButton.LeftButton)
        drinks = {ids[n] for n, _, c, _ in MENU if c == "Drinks 飲み物"}
        assert _visible(sale) == drinks
        assert sale.category_buttons["Drinks 飲み物"].isChecked() and not sale.category_buttons[None].isChecked()
        qtbot.mouseClick(sale.product_buttons[ids["Ramune ラムネ"]], Qt.MouseButton.LeftButton)
        for size in SIZES:  # the tabs take a row: the screen must still fit a laptop, nothing clipped
            check_fits(qtbot, app, size, f"sale with categories {size}")
        shot(app.window, "sale_categories_1366x768_en")

        qtbot.mouseClick(sale.category_buttons["Food 食べ物"], Qt.MouseButton.LeftButton)
        assert _visible(sale) == {ids["Yakisoba 焼きそば"], ids["Takoyaki たこ焼き"]}
        qtbot.mouseClick(sale.product_buttons[ids["Takoyaki たこ焼き"]], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(sale.category_buttons[""], Qt.MouseButton.LeftButton)
        assert _visible(sale) == {ids["Sticker シール"]}
        assert sale.qty == {ids["Ramune ラムネ"]: 1, ids["Takoyaki たこ焼き"]: 1}  # the cart kept both tabs' items
        assert sale.total() == 700
        decision = pay(qtbot, app, event.wallet(2000))
        assert decision.approved and decision.amount == 700
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        assert sale.category == ""  # the tab chosen stays for the next customer
    finally:
        close_app(app)


def test_a_stall_without_categories_shows_no_tabs(qtbot: Any, tmp_path: Path, event: Event) -> None:
    stall = event.seeder.stall("Plain stall 普通の店")
    for name, price in (("Onigiri おにぎり", 200), ("Miso 味噌汁", 150)):
        event.seeder.product(stall, name, price)
    app = make_app(qtbot, tmp_path, language="ja")
    try:
        sale = open_stall(qtbot, app, event, stall)
        qtbot.wait_until(lambda: len(sale.product_buttons) == 2, timeout=5000)
        assert sale.category_buttons == {} and not sale.category_scroll.isVisible()
        assert len(_visible(sale)) == 2
    finally:
        close_app(app)

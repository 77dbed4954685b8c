"""A bar on the sale screen: a drink with a cup deposit, then the cup taken back (real clicks, real server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from sqlalchemy import select
from ui_helpers import PIN, Event, close_app, enroll, login, make_app, pay, shot

from server.db import tables as t
from server.testing import Seeder, init_test_event, run_server_in_thread
from server.web.routes.close import stall_settlement
from sync.ids import format_short_id


@pytest.fixture(scope="module")
def bar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Event]:
    """An event with one bar: a beer, a cup deposit and a staff discount."""
    tmp = tmp_path_factory.mktemp("bar")
    settings, _ = init_test_event(tmp)
    seeder = Seeder(settings)
    base_url, stop = run_server_in_thread(settings)
    ev = Event(tmp, settings, seeder, base_url, stop)
    ev.stall_id = seeder.stall("Bar")
    ev.product_ids = [seeder.product(ev.stall_id, "Beer ビール", 600),
                      seeder.product(ev.stall_id, "Cup カップ", 200, kind="deposit"),
                      seeder.product(ev.stall_id, "Staff 割引", 100, kind="discount")]
    ev.staff = {"cashier": seeder.staff("Hana", pin=PIN, roles=[("cashier", "stall", ev.stall_id)])}
    yield ev
    ev.stop_server()
    seeder.close()


def _accounts(ev: Event) -> dict[str, int]:
    a = t.accounts
    with ev.seeder.db.read() as conn:
        return {str(k): int(b) for k, b in conn.execute(
            select(a.c.kind, a.c.balance).where(a.c.ref == ev.stall_id,
                                                a.c.kind.in_(("stall_revenue", "stall_deposit", "stall_discount"))))}


def test_sell_a_drink_with_a_cup_deposit_then_take_the_cup_back(qtbot: Any, tmp_path: Path, bar: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, bar)
        login(qtbot, app, bar, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        beer, cup, staff = bar.product_ids
        qtbot.wait_until(lambda: len(sale.product_buttons) == 3 and cup in sale.return_buttons, timeout=5000)
        assert "Return" in sale.return_buttons[cup].text() and "−" in sale.return_buttons[cup].text()
        assert "−" in sale.product_buttons[staff].text()

        sale.product_buttons[beer].click()
        sale.product_buttons[cup].click()
        assert sale.total() == 800
        first = pay(qtbot, app, bar.wallet(3000))
        assert first.approved and first.amount == 800, first

        app.window.overlay.dismiss()
        # the next round: a beer, the cup back, a staff discount
        sale.product_buttons[beer].click()
        sale.return_buttons[cup].click()
        sale.product_buttons[staff].click()
        assert sale.qty == {beer: 1, cup: -1, staff: -1}
        assert sale.total() == 300
        negative = [row for row in sale.cart_host.findChildren(QWidget) if row.objectName() == "cart-negative"]
        texts = sorted(row.amount.text() for row in negative)  # type: ignore[attr-defined]
        assert len(texts) == 2 and all(x.startswith("−") for x in texts)
        assert any("Return" in row.label.text() for row in negative)  # type: ignore[attr-defined]
        shot(app.window, "sale_deposit_return_en")
        second = pay(qtbot, app, bar.wallet(2200))
        assert second.approved and second.amount == 300, second

        app.window.overlay.dismiss()
        sale.return_buttons[cup].click()  # a cup back alone is a deposit return (test below), not a negative sale
        assert sale.total() == -200
        assert "Cups back" in sale.hint.text() and "¥200" in sale.hint.text()
        sale.product_buttons[beer].click()  # with a beer it is a basket again; one that would pay out is refused
        sale.return_buttons[cup].click()
        sale.return_buttons[cup].click()
        sale.return_buttons[cup].click()
        assert sale.total() == 600 - 4 * 200 and "never pays out" in sale.hint.text()
        sale.clear_cart()

        # both were decided here (under the floor limit) and reach the server with the background push
        want = {"stall_revenue": 1200, "stall_deposit": 0, "stall_discount": -100}
        qtbot.wait_until(lambda: _accounts(bar) == want, timeout=20_000)
        with bar.seeder.db.read() as conn:
            d = stall_settlement(conn, bar.stall_id, 0)
        assert (d["sales"], d["discounts"], d["net"], d["owed"]) == (1200, 100, 1100, 1100)
        assert (d["deposits_taken"], d["deposits_returned"], d["deposits_held"]) == (200, 200, 0)
    finally:
        close_app(app)


def _balance(ev: Event, wallet_id: int) -> int:
    a = t.accounts
    with ev.seeder.db.read() as conn:
        return int(conn.execute(select(a.c.balance).where(a.c.kind == "wallet", a.c.ref == wallet_id)).scalar_one())


def test_cups_back_alone_pay_the_deposit_onto_a_typed_wallet(qtbot: Any, tmp_path: Path, bar: Event) -> None:
    """Only the cup-return button, then a wallet code typed: green, the deposit on the wallet; more cups back than
    the bar holds: red, with words, and nothing paid."""
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, bar)
        login(qtbot, app, bar, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        beer, cup, _staff = bar.product_ids
        qtbot.wait_until(lambda: cup in sale.return_buttons, timeout=5000)
        qtbot.mouseClick(sale.product_buttons[beer], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(sale.product_buttons[cup], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(sale.product_buttons[cup], Qt.MouseButton.LeftButton)  # two drinks' cups on one beer
        assert pay(qtbot, app, bar.wallet(3000)).approved
        app.window.overlay.dismiss()

        friend = bar.seeder.wallet()
        bar.seeder.topup(friend, 100)
        held_before = _accounts(bar).get("stall_deposit", 0)
        qtbot.mouseClick(sale.return_buttons[cup], Qt.MouseButton.LeftButton)  # the friend brings one cup back
        assert sale.total() == -200 and sale.returns_only()
        assert sale.total_label.text().startswith("−") and "¥200" in sale.hint.text()
        with qtbot.wait_signal(sale.paid, timeout=15_000) as blocker:
            qtbot.keyClicks(sale.manual_edit, format_short_id(friend))
            qtbot.keyClick(sale.manual_edit, Qt.Key.Key_Return)
        back = blocker.args[0]
        assert back.approved and back.kind == "deposit_return" and back.amount == 200, back
        overlay = app.window.overlay
        assert overlay.isVisible() and overlay.approved
        assert overlay.headline.text() == "¥200 back on the wallet"
        assert sale.qty == {}  # the cart is empty for the next customer
        shot(app.window, "sale_cups_back_en")
        # the till took this cup's deposit itself: decided here, and pushed in the background
        qtbot.wait_until(lambda: _balance(bar, friend) == 300, timeout=20_000)
        qtbot.wait_until(lambda: _accounts(bar)["stall_deposit"] == held_before + 400 - 200, timeout=20_000)

        overlay.dismiss()
        for _ in range(3):  # three cups more than this till gave out, and the bar holds one: the server says no
            qtbot.mouseClick(sale.return_buttons[cup], Qt.MouseButton.LeftButton)
        held = _accounts(bar)["stall_deposit"]
        with qtbot.wait_signal(sale.paid, timeout=15_000) as blocker:
            qtbot.keyClicks(sale.manual_edit, format_short_id(friend))
            qtbot.keyClick(sale.manual_edit, Qt.Key.Key_Return)
        refused = blocker.args[0]
        assert held == held_before + 200 < 600
        assert not refused.approved and refused.reason == "deposit_not_held", refused
        assert not overlay.approved and "holds less in deposits" in overlay.detail.text()
        assert sale.qty == {cup: -3}  # kept, so the cashier can take a cup out
        assert _balance(bar, friend) == 300 and _accounts(bar)["stall_deposit"] == held
    finally:
        close_app(app)

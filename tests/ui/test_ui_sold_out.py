"""Sold out from the till: a supervisor marks a product sold out on the real app, by clicks, on a real server.

The "Sold out" button of the navigation bar shows only to people holding ``product.sold_out`` for
the stall; its screen has one button per product that says what it does.  The server keeps the
flag (the product row changes there, audited); the sale screen's button turns to SOLD OUT at once
and cannot be tapped.  Back on sale undoes it.  With the server gone the till says, in words, that
it needs the server, and nothing changes.  In English and Japanese; screenshots at 1366x768.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import select
from ui_helpers import PIN, Event, close_app, free_port, login, make_app, serve_on, shot

from server.db import tables as t
from server.testing import Seeder, init_test_event
from sync.schemas import EventSettings


@pytest.fixture
def stall(tmp_path: Path) -> Iterator[Event]:
    """An event with one stall of three products, its supervisor and its cashier, on a server that can stop."""
    settings, _ = init_test_event(tmp_path / "event", event=EventSettings(
        authorize_timeout_ms=500, push_debounce_ms=50, pull_interval_s=30, staff_idle_logout_s=86400))
    seeder = Seeder(settings)
    port = free_port()
    ev = Event(tmp_path, settings, seeder, f"http://127.0.0.1:{port}", serve_on(settings, port))
    ev.stall_id = seeder.stall("Crepes")
    ev.product_ids = [seeder.product(ev.stall_id, "Banana crepe", 400),
                      seeder.product(ev.stall_id, "Tea お茶", 150, stock=20),
                      seeder.product(ev.stall_id, "Cup カップ", 100, kind="deposit")]
    ev.staff = {"supervisor": seeder.staff("Mio", pin=PIN, roles=[("supervisor", "stall", ev.stall_id)]),
                "cashier": seeder.staff("Hana", pin=PIN, roles=[("cashier", "stall", ev.stall_id)])}
    yield ev
    ev.stop_server()
    seeder.close()


def _sold_out(ev: Event, product_id: int) -> bool:
    with ev.seeder.db.read() as conn:
        return bool(conn.execute(select(t.products.c.sold_out).where(t.products.c.id == product_id)).scalar_one())


def _click(button: Any) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def _open(qtbot: Any, app: Any, ev: Event, who: str) -> None:
    from ui_helpers import show_code

    show_code(app, ev.seeder.enrollment_code("stall", stall_id=ev.stall_id, base_url=ev.base_url))
    qtbot.wait_until(lambda: app.window.current.name == "login", timeout=15_000)
    login(qtbot, app, ev, who)
    qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)


def test_a_supervisor_marks_a_product_sold_out_and_back_by_clicks(qtbot: Any, tmp_path: Path, stall: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        app.window.resize(1366, 768)
        _open(qtbot, app, stall, "supervisor")
        window, crepe, tea = app.window, stall.product_ids[0], stall.product_ids[1]
        _click(window.nav_buttons["nav.soldout"])
        qtbot.wait_until(lambda: window.current.name == "soldout", timeout=5000)
        screen = window.soldout
        qtbot.wait_until(lambda: set(screen.rows) == {crepe, tea}, timeout=5000)  # the cup deposit is not listed
        qtbot.wait_until(lambda: screen.rows[crepe][2].isVisible(), timeout=5000)
        button = screen.rows[crepe][2]
        assert button.text() == "Mark sold out" and screen.rows[crepe][1].text() == "✓ On sale"
        assert screen.rows[tea][1].text() == "✓ On sale: 20 left"
        shot(window, "fit_soldout_1366x768_en")
        _click(button)
        qtbot.wait_until(lambda: screen.message.text() == "Banana crepe is sold out now", timeout=10_000)
        assert _sold_out(stall, crepe) and not _sold_out(stall, tea)  # the server's row, not only this till's
        qtbot.wait_until(lambda: screen.rows[crepe][2].text() == "Back on sale", timeout=5000)
        _click(window.nav_buttons["nav.sale"])
        qtbot.wait_until(lambda: window.current.name == "sale", timeout=5000)
        sale = window.sale
        qtbot.wait_until(lambda: not sale.product_buttons[crepe].isEnabled(), timeout=5000)
        assert "SOLD OUT" in sale.product_buttons[crepe].text() and sale.product_buttons[tea].isEnabled()
        # back on sale, in Japanese
        app.i18n.set_language("ja")
        _click(window.nav_buttons["nav.soldout"])
        qtbot.wait_until(lambda: window.current.name == "soldout" and crepe in screen.rows, timeout=5000)
        qtbot.wait_until(lambda: screen.rows[crepe][2].text() == "販売を再開する", timeout=5000)
        assert screen.rows[crepe][1].text() == "✗ 売り切れ" and window.nav_buttons["nav.soldout"].text() == "売り切れ"
        _click(screen.rows[crepe][2])
        qtbot.wait_until(lambda: screen.message.text() == "Banana crepeの販売を再開しました", timeout=10_000)
        assert not _sold_out(stall, crepe)
        shot(window, "fit_soldout_1366x768_ja")
        _click(window.nav_buttons["nav.sale"])
        qtbot.wait_until(lambda: window.sale.product_buttons[crepe].isEnabled(), timeout=5000)
    finally:
        close_app(app)


def test_a_cashier_has_no_sold_out_button(qtbot: Any, tmp_path: Path, stall: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        _open(qtbot, app, stall, "cashier")
        assert not app.window.nav_buttons["nav.soldout"].isVisible()
        assert app.window.nav_buttons["nav.sale"].isVisible()
    finally:
        close_app(app)


def test_offline_the_till_says_it_needs_the_server_and_changes_nothing(qtbot: Any, tmp_path: Path,
                                                                         stall: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        _open(qtbot, app, stall, "supervisor")
        window, crepe = app.window, stall.product_ids[0]
        stall.stop_server()
        _click(window.nav_buttons["nav.soldout"])
        screen = window.soldout
        qtbot.wait_until(lambda: crepe in screen.rows, timeout=5000)
        _click(screen.rows[crepe][2])
        qtbot.wait_until(lambda: "needs the server" in screen.message.text(), timeout=15_000)
        assert screen.message.text().startswith("Banana crepe: marking sold out needs the server")
        assert "Try again when the till is online" in screen.message.text()
        assert screen.rows[crepe][2].text() == "Mark sold out" and screen.rows[crepe][2].isEnabled()
        assert not _sold_out(stall, crepe)
        _click(window.nav_buttons["nav.sale"])
        qtbot.wait_until(lambda: window.current.name == "sale", timeout=5000)
        assert window.sale.product_buttons[crepe].isEnabled()
    finally:
        close_app(app)

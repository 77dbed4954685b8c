"""The top-up desk's close-out on the real shift screen: tendered, change, cash in, then the drawer counted.

A real server on loopback; the real app offscreen, driven by mouse clicks and key events.
The close-out shows the top-up amount, the cash tendered and the change (not "お預かり ¥5,000"
alone for a ¥1,000 top-up), and the counted drawer's difference reaches the server's imbalance account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hid_keys import FakeClock, type_like_person
from PySide6.QtCore import Qt
from sqlalchemy import select
from ui_helpers import PIN, Event, close_app, enroll, make_app, shot

from server.db import tables as t
from server.drawers import SYSTEM_IMBALANCE, list_closeouts
from server.testing import Seeder, init_test_event, run_server_in_thread
from sync.ids import format_short_id
from sync.schemas import EventSettings


@pytest.fixture
def desk_event(tmp_path: Path) -> Iterator[Event]:
    settings, _ = init_test_event(tmp_path / "event", event=EventSettings(
        authorize_timeout_ms=2000, push_debounce_ms=50, pull_interval_s=2, staff_idle_logout_s=86400))
    seeder = Seeder(settings)
    url, stop = run_server_in_thread(settings)
    ev = Event(tmp_path, settings, seeder, url, stop)
    ev.staff = {"topup": seeder.staff("Mio", pin=PIN, roles=[("cashdesk", "event", None)])}
    yield ev
    ev.stop_server()
    seeder.close()


def _type(app: Any, edit: Any, text: str, clock: FakeClock) -> None:
    app.window.activateWindow()
    edit.setFocus()
    type_like_person(edit, text, clock)  # a person's pace, then Enter


def _imbalance(ev: Event) -> int:
    a = t.accounts
    with ev.seeder.db.read() as conn:
        return int(conn.execute(select(a.c.balance).where(a.c.kind == "system", a.c.ref == SYSTEM_IMBALANCE))
                   .scalar_one_or_none() or 0)


def test_close_out_shows_tendered_and_change_and_books_the_counted_drawer(qtbot: Any, tmp_path: Path,
                                                                          desk_event: Event) -> None:
    ev = desk_event
    app = make_app(qtbot, tmp_path)
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        enroll(qtbot, app, ev, "topup")
        app.camera.stop()
        form = app.window.login.form
        _type(app, form.typed.edit, format_short_id(ev.staff["topup"]), clock)
        qtbot.wait_until(lambda: form.badge is not None, timeout=3000)
        for digit in PIN:
            qtbot.mouseClick(form.keypad.buttons[digit], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(form.submit, Qt.MouseButton.LeftButton)
        qtbot.wait_until(lambda: app.window.current.name == "topup", timeout=10_000)
        screen = app.window.topup
        qtbot.mouseClick(screen.amount_buttons[1000], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(screen.cash_buttons[5000], Qt.MouseButton.LeftButton)
        with qtbot.wait_signal(screen.done_signal, timeout=15_000) as blocker:
            _type(app, screen.typed.edit, format_short_id(ev.seeder.wallet()), clock)
        assert blocker.args[0].approved, blocker.args[0]
        app.window.overlay.dismiss()

        qtbot.mouseClick(app.window.nav_buttons["nav.shift"], Qt.MouseButton.LeftButton)
        shift = app.window.shift
        qtbot.wait_until(lambda: shift.report is not None and shift.report.topups_count == 1, timeout=5000)
        text = shift.text.toPlainText()
        assert "Top-up" in text and "¥1,000" in text
        assert "Tendered" in text and "¥5,000" in text and "Change given" in text and "-¥4,000" in text
        assert "Cash in" in text
        assert shift.drawer.isVisible()

        _type(app, shift.float_edit, "10,000", clock)
        _type(app, shift.counted_edit, "10 9OO", clock)  # a typo: letters O for zeros
        qtbot.mouseClick(shift.drawer_button, Qt.MouseButton.LeftButton)
        assert shift.drawer_result.text().startswith("✗")
        with ev.seeder.db.read() as conn:
            assert list_closeouts(conn) == []  # a bad count changes nothing
        shift.counted_edit.clear()
        _type(app, shift.counted_edit, "10900", clock)  # ¥100 short of 10,000 + 1,000
        with qtbot.wait_signal(shift.drawer_closed, timeout=10_000) as closed:
            qtbot.mouseClick(shift.drawer_button, Qt.MouseButton.LeftButton)
        decision = closed.args[0]
        assert decision.approved and decision.params["difference"] == -100
        assert "Expected ¥11,000, counted ¥10,900, difference -¥100" in shift.drawer_result.text()
        shot(app.window, "shift_drawer_en")
        app.i18n.set_language("ja")
        assert "釣銭準備金" in shift.float_caption.text() and "お預かり合計" in shift.text.toPlainText()
        app.i18n.set_language("en")
        qtbot.wait_until(lambda: _imbalance(ev) == -100, timeout=15_000)  # the background push booked it
        with ev.seeder.db.read() as conn:
            (row,) = list_closeouts(conn)
        assert (row["expected"], row["counted"], row["difference"]) == (11_000, 10_900, -100)
    finally:
        close_app(app)


def test_a_cash_desk_pays_out_the_whole_balance_or_a_part(qtbot: Any, tmp_path: Path, desk_event: Event) -> None:
    ev = desk_event
    whole, part = ev.seeder.wallet(), ev.seeder.wallet()
    ev.seeder.topup(whole, 2500)
    ev.seeder.topup(part, 3000)
    app = make_app(qtbot, tmp_path)
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        enroll(qtbot, app, ev, "topup")
        app.camera.stop()
        form = app.window.login.form
        _type(app, form.typed.edit, format_short_id(ev.staff["topup"]), clock)
        qtbot.wait_until(lambda: form.badge is not None, timeout=3000)
        for digit in PIN:
            qtbot.mouseClick(form.keypad.buttons[digit], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(form.submit, Qt.MouseButton.LeftButton)
        qtbot.wait_until(lambda: app.window.current.name == "topup", timeout=10_000)
        assert app.window.nav_buttons["nav.cashout"].isVisible()
        qtbot.mouseClick(app.window.nav_buttons["nav.cashout"], Qt.MouseButton.LeftButton)
        screen = app.window.cashout
        assert app.window.current is screen and "whole balance" in screen.change_label.text()
        overlay = app.window.overlay
        overlay.auto_hide_ms = 0
        with qtbot.wait_signal(screen.done_signal, timeout=15_000) as blocker:
            _type(app, screen.typed.edit, format_short_id(whole), clock)
        decision = blocker.args[0]
        assert decision.approved and decision.kind == "cashout" and decision.amount == 2500, decision
        assert overlay.headline.text() == "Pay out ¥2,500 in cash"
        shot(app.window, "cashout_en")
        qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(screen.amount_buttons[1000], Qt.MouseButton.LeftButton)
        assert "Pay out ¥1,000" in screen.change_label.text()
        with qtbot.wait_signal(screen.done_signal, timeout=15_000) as blocker:
            _type(app, screen.typed.edit, format_short_id(part), clock)
        assert blocker.args[0].approved and blocker.args[0].amount == 1000, blocker.args[0]
        a = t.accounts

        def balances() -> dict[int, tuple[int, bool]]:
            with ev.seeder.db.read() as conn:
                return {int(r.ref): (int(r.balance), bool(r.blocked)) for r in conn.execute(
                    select(a.c.ref, a.c.balance, a.c.blocked).where(a.c.kind == "wallet", a.c.ref.in_([whole, part])))}

        qtbot.wait_until(lambda: balances() == {whole: (0, True), part: (2000, False)}, timeout=15_000)
    finally:
        close_app(app)

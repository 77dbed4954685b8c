"""The real top-up screen when the server's answers are lost: never "failed", held in doubt, then settled.

A real uvicorn server on loopback behind the fault proxy (``lose_responses``:
the server books the top-up, the answer never arrives); the real app offscreen,
driven by mouse clicks and key events; only the camera and the network's
failures are fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hid_keys import FakeClock, type_like_person
from loopback_proxy import FaultProxy
from PySide6.QtCore import Qt
from sqlalchemy import select
from ui_helpers import PIN, Event, close_app, enroll, make_app, shot

from server.db import tables as t
from server.testing import Seeder, init_test_event, run_server_in_thread
from sync.ids import format_short_id
from sync.schemas import EventSettings
from terminal.decisions import DeclineReason


@pytest.fixture
def lossy_event(tmp_path: Path) -> Iterator[tuple[Event, FaultProxy]]:
    """An event whose terminals reach the server through a fault proxy."""
    settings, _ = init_test_event(tmp_path / "event", event=EventSettings(
        authorize_timeout_ms=500, push_debounce_ms=50, pull_interval_s=30, staff_idle_logout_s=86400))
    seeder = Seeder(settings)
    url, stop = run_server_in_thread(settings)
    proxy = FaultProxy(int(urlsplit(url).port or 0))
    ev = Event(tmp_path, settings, seeder, proxy.url, stop)
    ev.staff = {"topup": seeder.staff("Yui", pin=PIN, roles=[("topup", "event", None)])}
    yield ev, proxy
    proxy.close()
    ev.stop_server()
    seeder.close()


def _topups(ev: Event) -> list[Any]:
    r = t.records
    with ev.seeder.db.read() as conn:
        return list(conn.execute(select(r.c.id, r.c.wallet_id, r.c.amount).where(r.c.kind == "topup")))


def _balance(ev: Event, wallet_id: int) -> int:
    a = t.accounts
    with ev.seeder.db.read() as conn:
        return int(conn.execute(select(a.c.balance).where(a.c.kind == "wallet", a.c.ref == wallet_id)).scalar_one())


def _type(app: Any, edit: Any, text: str, clock: FakeClock) -> None:
    app.window.activateWindow()
    edit.setFocus()
    type_like_person(edit, text, clock)  # a person typing the printed code, then Enter


def test_a_lost_answer_shows_in_doubt_then_the_settlement_on_screen_and_in_the_shift_report(
        qtbot: Any, tmp_path: Path, lossy_event: tuple[Event, FaultProxy]) -> None:
    ev, proxy = lossy_event
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
        overlay = app.window.overlay
        overlay.auto_hide_ms = 0  # the result stays until tapped
        wallet_id = ev.seeder.wallet()
        qtbot.mouseClick(screen.amount_buttons[1000], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(screen.cash_buttons[5000], Qt.MouseButton.LeftButton)
        assert "¥4,000" in screen.change_label.text()

        proxy.set_mode("lose_responses")  # every answer from here on is lost after the server acted
        with qtbot.wait_signal(screen.done_signal, timeout=20_000) as blocker:
            _type(app, screen.typed.edit, format_short_id(wallet_id), clock)
        decision = blocker.args[0]
        assert decision.reason is DeclineReason.TOPUP_IN_DOUBT, decision
        assert overlay.isVisible() and overlay.in_doubt and overlay.icon.text() == "?"
        assert overlay.headline.text() == "In doubt: do not hand back the cash yet"
        assert "Not paid" not in overlay.headline.text() and "¥1,000" in overlay.amount.text()
        assert "Keep the ¥5,000 received" in overlay.detail.text()
        assert len(_topups(ev)) == 1  # the server did book it: "failed" would have been a lie
        qtbot.wait_until(lambda: screen.doubt_panel.isVisible(), timeout=5000)
        assert "Do not hand back the cash yet" in screen.doubt_text.text()
        assert not screen.doubt_confirm.isVisible()  # nothing to confirm while in doubt
        app.i18n.set_language("ja")
        assert "まだ現金を返さないでください" in screen.doubt_text.text()
        app.i18n.set_language("en")
        shot(app.window, "topup_in_doubt_en")
        qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton)
        assert not overlay.isVisible()

        proxy.set_mode("pass")  # the next contact: the background push settles it
        qtbot.wait_until(lambda: "Settled" in screen.doubt_text.text(), timeout=20_000)
        assert "¥1,000 was loaded onto" in screen.doubt_text.text() and "Keep the cash" in screen.doubt_text.text()
        assert "change ¥4,000" in screen.doubt_text.text()
        assert screen.doubt_confirm.isVisible()
        assert len(_topups(ev)) == 1 and _balance(ev, wallet_id) == 1000  # booked once
        shot(app.window, "topup_doubt_settled_en")

        app.window.nav_buttons["nav.shift"].click()
        shift = app.window.shift
        qtbot.wait_until(lambda: shift.report is not None, timeout=5000)
        report = shift.report
        assert (report.doubts_booked_count, report.doubts_booked_amount, report.doubts_open_count) == (1, 1000, 0)
        assert (report.topups_amount, report.cash_received, report.change_given) == (1000, 5000, 4000)
        text = shift.text.toPlainText()
        assert "Doubt → booked" in text and "Tendered" in text and "Change given" in text
        assert "¥5,000" in text and "-¥4,000" in text

        app.window.nav_buttons["nav.topup"].click()
        qtbot.wait_until(lambda: screen.doubt_confirm.isVisible(), timeout=5000)
        qtbot.mouseClick(screen.doubt_confirm, Qt.MouseButton.LeftButton)  # the cashier did what it says
        qtbot.wait_until(lambda: not screen.doubt_panel.isVisible(), timeout=5000)
    finally:
        close_app(app)

"""USB barcode scanners as real key events: Shift presses, US/JIS layouts, Enter/Tab/none, Caps Lock, key repeat.

Every key goes to the real window offscreen as a ``QKeyEvent`` press/release
(with the Shift presses a HID scanner makes, see hid_keys.py) through
``QApplication.sendEvent``, so the application-wide ``WedgeFilter`` sees what
it sees from hardware.  Key times come from a clock the test moves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hid_keys import FakeClock, send_keys, type_like_scanner
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QWidget
from ui_helpers import Event, close_app, enroll, login, make_app

CASES = [
    # scanner country, host layout, suffix, Caps Lock on the host
    ("us", "us", "\r", False),
    ("us", "us", "", False),
    ("us", "us", "\t", False),
    ("us", "jis", "\r", False),
    ("jis", "us", "", False),
    ("jis", "jis", "\t", False),
    ("us", "us", "\r", True),
    ("us", "jis", "", True),
]


def _target(app: Any) -> QWidget:
    focus = QApplication.focusWidget()
    return focus if focus is not None else app.window


@pytest.fixture()
def scanner_app(qtbot: Any, tmp_path: Path, event: Event) -> Any:
    app = make_app(qtbot, tmp_path)
    clock = FakeClock()
    app.wedge.set_clock(clock)
    scans: list[str] = []
    app.wedge.scanned.connect(lambda text, _t: scans.append(text))
    enroll(qtbot, app, event)
    app.camera.stop()  # from here on only the USB scanner
    yield app, clock, scans
    close_app(app)


def test_badge_scanned_through_shift_presses_on_every_layout(qtbot: Any, scanner_app: Any, event: Event) -> None:
    app, clock, scans = scanner_app
    badge = event.badge("cashier")
    assert any(ch.isupper() for ch in badge[4:]) and ":" in badge  # Shift is pressed inside the code
    form = app.window.login.form
    for scanner, host, suffix, caps in CASES:
        form.reset()
        scans.clear()
        type_like_scanner(_target(app), badge, clock, scanner=scanner, host=host, suffix=suffix, caps_lock=caps)
        if not suffix:
            clock.advance(0.3)  # the scanner just stops: the burst ends after a silence
        qtbot.wait_until(lambda: form.badge is not None, timeout=3000)
        assert scans == [badge], (scanner, host, suffix, caps, scans)
        assert form.badge == badge


def test_scan_never_leaks_into_the_focused_field_and_typing_still_works(
        qtbot: Any, scanner_app: Any, event: Event) -> None:
    app, clock, scans = scanner_app
    login(qtbot, app, event, "cashier")
    qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
    edit = app.window.sale.manual_edit
    app.window.activateWindow()
    edit.setFocus()
    target = edit
    wallet = event.wallet(500)
    scans.clear()
    type_like_scanner(target, wallet, clock, suffix="")
    clock.advance(0.3)
    qtbot.wait_until(lambda: scans == [wallet], timeout=3000)
    assert edit.text() == ""

    # A person typing (a key every 0.3 s) reaches the field, Shift and all.
    scans.clear()
    type_like_scanner(target, "K7m2", clock, suffix="", gap=0.3)
    clock.advance(0.3)
    qtbot.wait_until(lambda: edit.text() == "K7m2", timeout=3000)

    # A key held down repeats every 30 ms, as fast as a scanner: still a person.
    edit.clear()
    events = [(QEvent.Type.KeyPress, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier, "1")]
    send_keys(target, iter(events), clock)
    for _ in range(9):
        send_keys(target, iter(events), clock, gap=0.03, repeat=True)
    send_keys(target, iter([(QEvent.Type.KeyRelease, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier, "1")]), clock)
    clock.advance(0.3)
    qtbot.wait_until(lambda: edit.text() == "1" * 10, timeout=3000)
    assert scans == []


def test_enrollment_code_from_a_usb_scanner_with_caps_lock_on(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        code = event.enrollment_code()
        type_like_scanner(_target(app), code, clock, caps_lock=True)  # arrives as "ee1:…@HTTP://127.0.0.1:…"
        qtbot.wait_until(lambda: app.window.current.name == "login", timeout=15_000)
        assert app.backend.terminal.mode == "stall"
    finally:
        close_app(app)

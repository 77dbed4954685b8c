"""Typed codes where a code is scanned (no camera, no scanner): staff code at login, wallet code at the top-up desk.

Keys are real key events sent to the focused field at a person's pace; the
check character catches a typo with a sentence in the user's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hid_keys import FakeClock, type_like_person
from ui_helpers import PIN, Event, close_app, enroll, make_app

from sync.ids import format_short_id


def _typo(code: str) -> str:
    """``code`` with its first character changed (the check character no longer matches)."""
    first = "1" if code[0] != "1" else "2"
    return first + code[1:]


def _type(qtbot: Any, app: Any, edit: Any, text: str, clock: FakeClock) -> None:
    app.window.activateWindow()
    edit.setFocus()
    type_like_person(edit, text, clock)  # a person: 0.3 s a key, then Enter


def test_staff_code_typed_at_login_with_typo_caught(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path, language="ja")
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        enroll(qtbot, app, event)
        app.camera.stop()
        form = app.window.login.form
        code = format_short_id(event.staff["cashier"])
        _type(qtbot, app, form.typed.edit, _typo(code), clock)
        qtbot.wait_until(lambda: form.typed.error.text() != "", timeout=3000)
        assert "確認文字が一致しません" in form.typed.error.text()
        assert form.badge is None
        app.i18n.set_language("en")
        assert "check character does not match" in form.typed.error.text()
        form.typed.edit.clear()
        _type(qtbot, app, form.typed.edit, code.lower().replace("-", ""), clock)
        qtbot.wait_until(lambda: form.badge == code, timeout=3000)
        assert not form.typed.isVisible()  # the PIN step now
        for digit in PIN:
            form.keypad.buttons[digit].click()
        form.submit.click()
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        assert "Hana" in app.window.status_bar.staff.text()
    finally:
        close_app(app)


def test_wallet_code_typed_at_the_topup_desk(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        enroll(qtbot, app, event, "topup")
        app.camera.stop()
        form = app.window.login.form
        _type(qtbot, app, form.typed.edit, format_short_id(event.staff["topup"]), clock)
        qtbot.wait_until(lambda: form.badge is not None, timeout=3000)
        for digit in PIN:
            form.keypad.buttons[digit].click()
        form.submit.click()
        qtbot.wait_until(lambda: app.window.current.name == "topup", timeout=10_000)
        screen = app.window.topup
        wallet_id = event.seeder.wallet()
        screen.amount_buttons[1000].click()
        _type(qtbot, app, screen.typed.edit, _typo(format_short_id(wallet_id)), clock)
        qtbot.wait_until(lambda: "check character" in screen.typed.error.text(), timeout=3000)
        screen.typed.edit.clear()
        with qtbot.wait_signal(screen.done_signal, timeout=15_000) as blocker:
            _type(qtbot, app, screen.typed.edit, format_short_id(wallet_id), clock)
        assert blocker.args[0].approved, blocker.args[0]
        assert screen.typed.error.text() == ""
    finally:
        close_app(app)


def test_staff_without_a_role_here_is_refused_with_words_that_say_so(
        qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path, language="ja")
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        enroll(qtbot, app, event)  # the stall's terminal
        app.camera.stop()
        form = app.window.login.form
        _type(qtbot, app, form.typed.edit, format_short_id(event.staff["gate"]), clock)  # the gatekeeper
        qtbot.wait_until(lambda: form.badge is not None, timeout=3000)
        for digit in PIN:
            form.keypad.buttons[digit].click()
        form.submit.click()
        qtbot.wait_until(lambda: form.message.text() != "", timeout=10_000)
        assert app.window.current.name == "login" and app.backend.staff is None
        # a stall terminal is not sent the names of other places' staff: the words say why, without the name
        assert "役割がない" in form.message.text() and "Sora" not in form.message.text()
        assert "残高" not in form.message.text()  # not a payment decline
    finally:
        close_app(app)

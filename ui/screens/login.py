"""Staff login: scan the badge, type the PIN on the big keypad; clear words for a wrong PIN and a lockout.

``BadgeAndPin`` is the same two-step widget used for a supervisor's approval
(refunds, settings): it collects a badge and a PIN and emits them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from sync.permissions import Permission
from terminal.decisions import LoginResult
from terminal.sessions import staff_allowed
from ui.backend import StaffView
from ui.i18n import local_time_text, tr
from ui.screens.base import Screen
from ui.widgets import BigButton, CodeEntry, Keypad, heading

__all__ = ["BadgeAndPin", "LoginScreen", "login_message", "staff_view"]

TERMINAL_PERMISSIONS = (Permission.SELL, Permission.REFUND, Permission.TOPUP, Permission.CASHOUT, Permission.GATE,
                        Permission.SHIFT_CLOSE, Permission.TERMINAL_SETTINGS, Permission.PRODUCT_SOLD_OUT)


def staff_view(engine: Any) -> StaffView | None:
    """Return who is logged in and what they may do on this terminal (runs on the worker)."""
    from sync.permissions import Scope

    staff = engine.current_staff()
    if staff is None:
        return None
    me = engine.identity()
    scope = Scope()
    if me is not None and me.stall_id is not None:
        scope = Scope.stall(me.stall_id)
    elif me is not None and me.gate_id is not None:
        scope = Scope.gate(me.gate_id)
    now_s = engine.clock.now_ms() // 1000
    allowed = frozenset(str(p) for p in TERMINAL_PERMISSIONS if staff_allowed(staff, p, scope, now_s=now_s))
    return StaffView(staff.staff_id, staff.name, allowed)


def login_message(result: LoginResult) -> str:
    """Return the plain words for a refused login."""
    if result.reason == "wrong_pin":
        if result.attempts_left is not None:
            return tr("login.wrong_pin", left=result.attempts_left)
        return tr("login.wrong_pin_plain")
    if result.reason == "locked":
        until = "—"
        if result.locked_until_ms:
            until = local_time_text(result.locked_until_ms)
        return tr("login.locked", until=until)
    if result.reason == "not_here":
        return tr("login.not_here", name=result.name) if result.name else tr("login.not_here_unnamed")
    if result.reason == "clock_skew":  # a genuine badge; this laptop's clock is off
        direction = tr(f"clock.{result.clock_direction}") if result.clock_direction in ("slow", "fast") else "—"
        return tr("login.refused", why=tr("login.reason.clock_skew", minutes=result.clock_minutes or "—",
                                          direction=direction))
    key = f"login.reason.{result.reason}"
    why = tr(key) if tr(key) != key else str(result.reason)
    return tr("login.refused", why=why)


class BadgeAndPin(QWidget):
    """Step 1: a badge scan; step 2: a PIN on the keypad; emits ``submitted(badge, pin)``."""

    submitted = Signal(str, str)

    def __init__(self, *, prompt_key: str = "login.scan_badge", submit_key: str = "login.submit",
                 parent: QWidget | None = None) -> None:
        """Create the widget, waiting for a badge; ``submit_key`` names what the button does."""
        super().__init__(parent)
        self.prompt_key = prompt_key
        self.submit_key = submit_key
        self.badge: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.prompt = heading("", "hint")
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = heading("", "error")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # No camera, no scanner: the staff code printed on the badge, typed (checked by its check character).
        self.typed = CodeEntry(placeholder_key="login.typed", button_key="login.use_code", tr=tr)
        self.typed.setMaximumWidth(640)
        self.typed.entered.connect(self.take_badge)
        self.pin_display = QLabel()
        self.pin_display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pin_display.setStyleSheet("font-size: 40px; letter-spacing: 8px; min-height: 48px;")
        self.keypad = Keypad(max_len=12, masked=True)
        self.keypad.changed.connect(lambda _t: self.pin_display.setText(self.keypad.display()))
        self.keypad.setMaximumWidth(420)
        self.submit = BigButton(role="primary")
        self.submit.setMaximumWidth(420)
        self.submit.clicked.connect(self._submit)
        layout.addWidget(self.prompt)
        layout.addWidget(self.message)
        typed_row = QHBoxLayout()
        typed_row.addStretch(1)
        typed_row.addWidget(self.typed, 4)
        typed_row.addStretch(1)
        layout.addLayout(typed_row)
        layout.addWidget(self.pin_display)
        pad_row = QHBoxLayout()
        pad_row.addStretch(1)
        pad_col = QVBoxLayout()
        pad_col.addWidget(self.keypad)
        pad_col.addWidget(self.submit)
        pad_row.addLayout(pad_col)
        pad_row.addStretch(1)
        layout.addLayout(pad_row)
        layout.addStretch(1)
        self.reset()

    def reset(self, message: str = "") -> None:
        """Forget the badge and PIN; show ``message`` (an error) if any."""
        self.badge = None
        self.keypad.set_text("")
        self.message.setText(message)
        self._steps()

    def _steps(self) -> None:
        waiting_pin = self.badge is not None
        self.keypad.setEnabled(waiting_pin)
        # One step at a time (and it fits a 1280x720 laptop): the badge (scanned or typed), then the PIN.
        self.typed.setVisible(not waiting_pin)
        self.keypad.setVisible(waiting_pin)
        self.pin_display.setVisible(waiting_pin)
        self.submit.setVisible(waiting_pin)
        layout = self.layout()
        if layout is not None:
            layout.invalidate()  # hidden parts stop counting even while this screen is not the one showing
        self.updateGeometry()
        self.submit.setEnabled(waiting_pin)
        self.prompt.setText(tr("login.enter_pin") if waiting_pin else tr(self.prompt_key))
        self.submit.setText(tr(self.submit_key))

    def refused(self, result: LoginResult) -> None:
        """Show why a login was refused; a wrong PIN keeps the badge so only the PIN is typed again."""
        if result.reason == "wrong_pin" and self.badge is not None:
            self.keypad.set_text("")
            self.message.setText(login_message(result))
        else:
            self.reset(login_message(result))

    def take_badge(self, text: str) -> None:
        """Accept a scanned badge and ask for the PIN."""
        self.badge = text
        self.keypad.set_text("")
        self.message.setText("")
        self._steps()

    def type_pin(self, pin: str) -> None:
        """Enter ``pin`` as if typed on the keypad."""
        self.keypad.set_text(pin)

    def _submit(self) -> None:
        if self.badge is None or not self.keypad.text:
            return
        self.submitted.emit(self.badge, self.keypad.text)

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.typed.retranslate()
        self._steps()


class LoginScreen(Screen):
    """Waits for a badge, then a PIN; on success hands the StaffView to ``logged_in``."""

    name = "login"
    needs_login = False
    logged_in = Signal(object)  # StaffView

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the screen."""
        super().__init__(backend, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 8, 40, 8)
        layout.setSpacing(4)
        self.title = heading()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.terminal_label = heading("", "hint")
        self.terminal_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.form = BadgeAndPin()
        self.form.submitted.connect(self._login)
        layout.addWidget(self.title)
        layout.addWidget(self.terminal_label)
        layout.addWidget(self.form, 1)
        self.busy = False
        self.retranslate()

    def activate(self) -> None:
        """Start over, waiting for a badge."""
        self.form.reset(self.form.message.text())

    def show_notice(self, text: str) -> None:
        """Show ``text`` (e.g. an idle logout) under the prompt."""
        self.form.reset(text)

    def on_scan(self, text: str, captured_at: float) -> None:
        """A scanned code is taken as a badge."""
        if not self.busy:
            self.form.take_badge(text)

    def _login(self, badge: str, pin: str) -> None:
        self.busy = True

        def work(engine: Any) -> tuple[LoginResult, StaffView | None]:
            result = engine.login(badge, pin)
            if result.reason == "unknown_staff" and engine.syncing and engine.status().online:
                # Added on the dashboard since the last pull: fetch the staff list once and try again.
                engine.sync_now()
                result = engine.login(badge, pin)
            return result, staff_view(engine) if result.ok else None

        def done(outcome: tuple[LoginResult, StaffView | None]) -> None:
            self.busy = False
            result, staff = outcome
            if result.ok and staff is not None:
                self.form.reset()
                self.backend.set_staff(staff)
                self.logged_in.emit(staff)
                return
            self.form.refused(result)
            self.backend.sounds.play("decline")

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.form.reset()
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(work, on_done=done, on_error=failed)

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.title.setText(self.tr("login.title"))
        name = self.backend.terminal.name
        self.terminal_label.setText(self.tr("settings.terminal", name=name) if name else "")
        self.form.retranslate()

"""The main window only composes: navigation bar, a stack of screens, the result overlay, the status bar.

It routes scans to the screen showing, moves between screens, logs out when
idle, and refuses to close unless an authorized shutdown asked for it.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from scanner.status import CameraState, CameraStatus
from sync.permissions import Permission
from ui.backend import Backend, StaffView, TerminalView
from ui.i18n import tr
from ui.screens.base import Screen
from ui.screens.cashout import CashOutScreen
from ui.screens.enroll import EnrollScreen
from ui.screens.gate import GateScreen
from ui.screens.login import LoginScreen
from ui.screens.recent import RecentScreen
from ui.screens.refund import RefundScreen
from ui.screens.result import ResultOverlay
from ui.screens.sale import SaleScreen
from ui.screens.settings import SettingsScreen
from ui.screens.shift_close import ShiftCloseScreen
from ui.screens.soldout import SoldOutScreen
from ui.screens.topup import TopUpScreen
from ui.status_bar import StatusBar
from ui.widgets import STYLE, BigButton

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)

# nav button -> (screen, permission needed, terminal modes where it shows)
NAV: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "nav.sale": ("sale", Permission.SELL, ("stall",)),
    "nav.recent": ("recent", None, ("stall", "topup")),
    "nav.topup": ("topup", Permission.TOPUP, ("topup", "stall")),
    "nav.cashout": ("cashout", Permission.CASHOUT, ("topup",)),
    "nav.gate": ("gate", Permission.GATE, ("gate",)),
    "nav.soldout": ("soldout", Permission.PRODUCT_SOLD_OUT, ("stall",)),
    "nav.shift": ("shift", Permission.SHIFT_CLOSE, ("stall", "topup", "gate")),
    "nav.settings": ("settings", None, ("stall", "topup", "gate")),
}


class MainWindow(QMainWindow):
    """Composes the screens; owns no domain logic."""

    screen_changed = Signal(str)

    def __init__(self, backend: Backend, *, reports_dir: Any = None, kiosk: bool = True) -> None:
        """Build every screen; call ``start(enrolled)`` to pick the first one."""
        super().__init__()
        self.backend = backend
        self.kiosk = kiosk
        self.allow_close = False
        self.last_activity = backend.clock.monotonic()
        self.setWindowTitle(tr("app.title"))
        self.setStyleSheet(STYLE)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.banner = QLabel()
        self.banner.setObjectName("bug-banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff3c4; color: #5a4400; padding: 8px 16px; font-size: 18px;")
        self.banner.hide()
        self.banner.mousePressEvent = lambda _e: self.banner.hide()  # type: ignore[method-assign]
        self.nav_bar = QWidget()
        self.nav_bar.setStyleSheet("background: #e9e4da;")
        nav_row = QHBoxLayout(self.nav_bar)
        nav_row.setContentsMargins(12, 4, 12, 4)
        self.nav_buttons: dict[str, BigButton] = {}
        for key, (screen, _perm, _modes) in NAV.items():
            button = BigButton(role="nav")
            button.clicked.connect(lambda _=False, s=screen: self.go(s))
            nav_row.addWidget(button)
            self.nav_buttons[key] = button
        nav_row.addStretch(1)
        self.logout_button = BigButton(role="danger")
        self.logout_button.clicked.connect(lambda: self.logout())
        nav_row.addWidget(self.logout_button)
        self.stack = QStackedWidget()
        self.status_bar = StatusBar(backend)
        column.addWidget(self.banner)
        column.addWidget(self.nav_bar)
        column.addWidget(self.stack, 1)
        column.addWidget(self.status_bar)
        self.setCentralWidget(central)

        self.screens: dict[str, Screen] = {}
        self.enroll = self._add(EnrollScreen(backend))
        self.login = self._add(LoginScreen(backend))
        self.sale = self._add(SaleScreen(backend))
        self.recent = self._add(RecentScreen(backend))
        self.refund = self._add(RefundScreen(backend))
        self.shift = self._add(ShiftCloseScreen(backend, reports_dir=reports_dir))
        self.soldout = self._add(SoldOutScreen(backend))
        self.topup = self._add(TopUpScreen(backend))
        self.cashout = self._add(CashOutScreen(backend))
        self.gate = self._add(GateScreen(backend))
        self.settings = self._add(SettingsScreen(backend))
        self.overlay = ResultOverlay(central)
        for shown in self.screens.values():
            shown.overlay = self.overlay  # type: ignore[attr-defined]
        self.overlay.tapped.connect(self.gate.forget_repeat)

        self.login.logged_in.connect(self._logged_in)
        self.enroll.enrolled.connect(lambda _row: self.enrolled.emit())
        self.recent.refund_requested.connect(self._refund)
        self.refund.finished.connect(lambda _d: self.go("recent"))
        self.shift.close_requested.connect(lambda: self.logout())
        self.settings.shutdown_requested.connect(self.shutdown)
        backend.tasks.bug.connect(self.show_bug)
        backend.tasks.user_error.connect(self.show_notice)
        backend.i18n.language_changed.connect(lambda _l: self.retranslate())
        backend.staff_changed.connect(lambda _s: self._update_nav())
        backend.terminal_changed.connect(self._terminal_changed)
        self._bug_shown = False
        self.idle_timer = QTimer(self)
        self.idle_timer.setInterval(1000)
        self.idle_timer.timeout.connect(self.check_idle)
        self.retranslate()

    enrolled = Signal()

    def _add(self, screen: Screen) -> Any:
        self.screens[screen.name] = screen
        self.stack.addWidget(screen)
        return screen

    # ------------------------------------------------------------------ navigation
    @property
    def current(self) -> Screen:
        """Return the screen showing."""
        widget = self.stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def go(self, name: str) -> None:
        """Show the screen called ``name``; screens that need a login fall back to the login screen."""
        screen = self.screens[name]
        if screen.needs_login and self.backend.staff is None:
            screen = self.login
        self.overlay.dismiss()
        previous = self.stack.currentWidget()
        if isinstance(previous, Screen) and previous is not screen:
            previous.deactivate()
        self.stack.setCurrentWidget(screen)
        screen.activate()
        self._update_nav()
        self.screen_changed.emit(screen.name)

    def home(self) -> str:
        """Return the main screen for this terminal's mode."""
        mode = self.backend.terminal.mode
        return {"gate": "gate", "topup": "topup"}.get(mode, "sale")

    def start(self, *, enrolled: bool) -> None:
        """Show enrollment or login."""
        self.go("login" if enrolled else "enroll")
        self.idle_timer.start()

    def _logged_in(self, staff: StaffView) -> None:
        self.touch()
        self.go(self.home())

    def logout(self, *, notice: str = "") -> None:
        """End the session and return to the login screen."""
        self.backend.run(lambda engine: engine.logout())
        self.backend.set_staff(None)
        self.sale.clear_cart()
        self.go("login")
        if notice:
            self.login.show_notice(notice)

    def _refund(self, sale: Any) -> None:
        self.refund.set_sale(sale)
        self.go("refund")

    def _terminal_changed(self, view: TerminalView) -> None:
        self.setWindowTitle(f"{tr('app.title')} — {view.name}" if view.name else tr('app.title'))
        self._update_nav()

    def _update_nav(self) -> None:
        staff = self.backend.staff
        logged_in = staff is not None and self.current.needs_login
        self.nav_bar.setVisible(logged_in)
        mode = self.backend.terminal.mode
        for key, (screen, permission, modes) in NAV.items():
            allowed = logged_in and mode in modes and (permission is None or self.backend.may(permission))
            if key == "nav.settings":
                allowed = logged_in
            button = self.nav_buttons[key]
            button.setVisible(allowed)
            button.setProperty("role", "toggle")
            button.setCheckable(True)
            button.setChecked(self.current.name == screen)
        self.logout_button.setVisible(logged_in)

    # ------------------------------------------------------------------ scans, activity, idle
    def route_scan(self, text: str, captured_at: float) -> None:
        """Give a scanned code to the screen showing."""
        self.touch()
        self.current.on_scan(text, captured_at)

    def route_preview(self, image: QImage) -> None:
        """Show the camera picture on the screen showing, if it has a preview."""
        preview = getattr(self.current, "preview", None)
        if preview is not None:
            preview.show_image(image)

    def route_camera_status(self, status: CameraStatus) -> None:
        """Show the camera's state in the preview of the screen showing when there is no picture."""
        preview = getattr(self.current, "preview", None)
        if preview is not None and status.state is not CameraState.LIVE:
            text = status.message_ja if self.backend.i18n.language == "ja" else status.message
            preview.show_message(text)

    def touch(self) -> None:
        """Note activity (a key, a tap, a scan) for the idle logout."""
        self.last_activity = self.backend.clock.monotonic()

    def check_idle(self) -> None:
        """Log out after the event's idle time without activity."""
        if self.backend.staff is None:
            return
        if self.backend.clock.monotonic() - self.last_activity > self.backend.terminal.idle_logout_s:
            self.logout(notice=tr("login.idle_logout"))

    # ------------------------------------------------------------------ messages
    def show_bug(self, summary: str) -> None:
        """Show the non-blocking bug banner (once per run; details are in the log)."""
        if self._bug_shown:
            return
        self._bug_shown = True
        self.banner.setText("⚠ " + tr("common.bug"))
        self.banner.show()

    def show_notice(self, text: str) -> None:
        """Show a safe user-facing message in the banner."""
        self.banner.setText("ⓘ " + text)
        self.banner.show()

    def retranslate(self) -> None:
        """Set the window's own texts."""
        for key, button in self.nav_buttons.items():
            button.setText(tr(key))
        self.logout_button.setText(tr("nav.logout"))
        if self.banner.isVisible() and self._bug_shown:
            self.banner.setText("⚠ " + tr("common.bug"))

    # ------------------------------------------------------------------ kiosk
    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the overlay over the whole window."""
        super().resizeEvent(event)
        parent = self.overlay.parentWidget()
        if parent is not None:
            self.overlay.setGeometry(parent.rect())

    def shutdown(self) -> None:
        """Close the app: only reachable from settings, behind the settings permission."""
        self.allow_close = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Refuse to close by accident in kiosk mode."""
        if self.kiosk and not self.allow_close:
            event.ignore()
            return
        event.accept()

    def keyPressEvent(self, event: Any) -> None:
        """Swallow Escape in kiosk mode (no leaving full screen)."""
        if self.kiosk and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return
        super().keyPressEvent(event)

"""The one place the UI talks to the terminal engine: every call runs on the task runner's worker.

Screens call ``backend.run(lambda engine: engine.sell(cart, text), on_done=...)``
or the named helpers below; the engine object is only ever touched on the
database worker thread.  ``Backend`` also keeps what the screens need to know
without asking again (who is logged in and what they may do, the terminal's
mode, the catalog) and refreshes the sync status on a timer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from sync.money import JPY, Currency, MoneyError, currency_for
from terminal.clock import Clock, SystemClock
from ui.i18n import I18n
from ui.sounds import Sounds
from ui.tasks import TaskRunner

__all__ = ["Backend", "StaffView", "SyncView", "TerminalView"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncView:
    """What the status bar shows about the network."""

    online: bool = False
    offline_since_ms: int | None = None
    unsynced_count: int = 0
    last_sync_ms: int | None = None
    revoked: bool = False
    topups_in_doubt: int = 0
    doubts_to_show: int = 0  # in doubt, or settled and not yet confirmed by the cashier

    @classmethod
    def of(cls, status: Any) -> SyncView:
        """Adapt the engine's status object (``sync.loop.SyncStatus`` or a dict)."""
        get = status.get if isinstance(status, dict) else lambda name, default=None: getattr(status, name, default)
        return cls(
            online=bool(get("online", False)),
            offline_since_ms=get("offline_since_ms"),
            unsynced_count=int(get("unsynced_count", 0) or 0),
            last_sync_ms=get("last_sync_ms"),
            revoked=bool(get("revoked", False)),
            topups_in_doubt=int(get("topups_in_doubt", 0) or 0),
            doubts_to_show=int(get("doubts_to_show", 0) or 0),
        )


@dataclass(frozen=True)
class StaffView:
    """The logged-in staff member and the terminal permissions they hold here."""

    staff_id: int
    name: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    def may(self, permission: str) -> bool:
        """Return True when the staff member holds ``permission`` on this terminal."""
        return str(permission) in self.permissions


@dataclass(frozen=True)
class TerminalView:
    """The terminal's identity and mode, as enrollment and the last pull left them."""

    name: str = ""
    mode: str = "stall"  # stall, gate, topup
    stall_name: str = ""
    allow_free_amount: bool = False
    currency: str = "JPY"
    timezone: str = "Asia/Tokyo"  # the event's: every time a screen shows
    idle_logout_s: int = 900
    server_url: str = ""  # where customers' phones reach My page (the receipt QR on a sale's result)


class Backend(QObject):
    """Runs engine work off the UI thread and keeps the UI's view of the terminal."""

    sync_changed = Signal(object)  # SyncView
    staff_changed = Signal(object)  # StaffView | None
    terminal_changed = Signal(object)  # TerminalView

    def __init__(
        self,
        engine: Any,
        *,
        i18n: I18n,
        sounds: Sounds,
        tasks: TaskRunner | None = None,
        clock: Clock | None = None,
        status_interval_ms: int = 1000,
        parent: QObject | None = None,
    ) -> None:
        """Adapt ``engine`` (a ``terminal`` engine facade) for the screens."""
        super().__init__(parent)
        self.engine = engine
        self.i18n = i18n
        self.sounds = sounds
        self.tasks = tasks or TaskRunner(self)
        self.clock: Clock = clock or SystemClock()
        self.staff: StaffView | None = None
        self.terminal = TerminalView()
        self.sync = SyncView()
        self._status_busy = False
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(status_interval_ms)
        self._status_timer.timeout.connect(self.refresh_status)

    @property
    def currency(self) -> Currency:
        """Return the event's currency."""
        try:
            return currency_for(self.terminal.currency)
        except MoneyError:
            return JPY

    def money(self, amount: int) -> str:
        """Format ``amount`` (minor units) for people."""
        return self.currency.format(amount)

    def time(self, ms: int, fmt: str = "%H:%M") -> str:
        """Format a Unix-ms instant as the event's local time (its zone, not this laptop's)."""
        return self.i18n.time(ms, fmt)

    def run(
        self,
        fn: Callable[[Any], Any],
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        network: bool = False,
    ) -> None:
        """Run ``fn(engine)`` on the worker; callbacks on the UI thread."""
        engine = self.engine
        self.tasks.run(lambda: fn(engine), on_done=on_done, on_error=on_error, network=network)

    # ------------------------------------------------------------------ status
    def start_status_timer(self) -> None:
        """Poll the sync status every second (the query runs on the worker)."""
        self._status_timer.start()
        self.refresh_status()

    def stop_status_timer(self) -> None:
        """Stop polling."""
        self._status_timer.stop()

    def refresh_status(self) -> None:
        """Ask the engine for its sync status, unless a request is still out."""
        if self._status_busy:
            return
        self._status_busy = True

        def done(status: Any) -> None:
            self._status_busy = False
            self.sync = SyncView.of(status)
            self.sync_changed.emit(self.sync)

        def failed(exc: BaseException) -> None:
            self._status_busy = False
            self.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.run(lambda e: e.status(), on_done=done, on_error=failed)

    # ------------------------------------------------------------------ identity
    def set_terminal(self, view: TerminalView) -> None:
        """Record the terminal's identity and tell the screens."""
        self.terminal = view
        self.i18n.set_zone(view.timezone)
        self.terminal_changed.emit(view)

    def set_staff(self, staff: StaffView | None) -> None:
        """Record who is logged in and tell the screens."""
        self.staff = staff
        self.staff_changed.emit(staff)

    def may(self, permission: str) -> bool:
        """Return True when the logged-in staff member holds ``permission``."""
        return self.staff is not None and self.staff.may(permission)

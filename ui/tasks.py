"""Run engine work off the UI thread and hand the result back on it (after Anki's ``taskman``).

Everything that touches SQLite goes to one single-worker executor, so the
engine's connection has one owner and records are written in order.  Slow
network-only work (enrollment) goes to a second executor so it never holds
up a sale.  Results come back through a queued Qt signal carrying a closure,
so ``on_done`` and ``on_error`` always run on the UI thread.

Errors: a ``TerminalError`` (safe to show) goes to ``on_error`` when given,
else to the ``user_error`` signal; anything else is a bug: logged with its
traceback and sent to the ``bug`` signal (the window shows one banner).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

from terminal.errors import TerminalError

__all__ = ["TaskRunner"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskRunner(QObject):
    """Posts functions to worker threads and their results back to the UI thread."""

    _deliver = Signal(object)
    user_error = Signal(str)  # a safe message for the kiosk
    bug = Signal(str)  # a one-line summary; the traceback is in the log

    def __init__(self, parent: QObject | None = None) -> None:
        """Create the database executor and the network executor."""
        super().__init__(parent)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ennichi-db")
        self._net = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ennichi-net")
        self._pending = 0
        self._lock = threading.Lock()
        self._closed = False
        self._deliver.connect(self._on_deliver)

    @property
    def pending(self) -> int:
        """Return how many tasks have not yet reported back."""
        with self._lock:
            return self._pending

    def run(
        self,
        fn: Callable[[], T],
        *,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        network: bool = False,
    ) -> Future[T] | None:
        """Run ``fn`` on the database (or network) worker; callbacks run on the UI thread."""
        if self._closed:
            return None
        with self._lock:
            self._pending += 1
        executor = self._net if network else self._db
        future: Future[T] = executor.submit(fn)
        future.add_done_callback(lambda f: self._deliver.emit(lambda: self._finish(f, on_done, on_error)))
        return future

    def _finish(
        self,
        future: Future[Any],
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        """Call the right callback for a finished future (on the UI thread)."""
        with self._lock:
            self._pending -= 1
        exc = future.exception()
        if exc is None:
            if on_done is not None:
                self._guard(on_done, future.result())
            return
        if isinstance(exc, TerminalError):
            if on_error is not None:
                self._guard(on_error, exc)
            else:
                self.user_error.emit(str(exc))
            return
        if on_error is not None and getattr(on_error, "handles_bugs", False):
            self._guard(on_error, exc)
            return
        self.report_bug(exc)

    def _guard(self, callback: Callable[[Any], None], value: Any) -> None:
        """Run a UI callback; a crash in it is a bug, reported, never fatal."""
        try:
            callback(value)
        except Exception as exc:
            self.report_bug(exc)

    def report_bug(self, exc: BaseException) -> None:
        """Log ``exc`` with its traceback and emit ``bug``."""
        log.error("bug in the terminal app", exc_info=(type(exc), exc, exc.__traceback__))
        self.bug.emit(f"{type(exc).__name__}: {exc}")

    @Slot(object)
    def _on_deliver(self, closure: Callable[[], None]) -> None:
        closure()

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop accepting work and let the workers finish what they hold."""
        self._closed = True
        self._db.shutdown(wait=wait, cancel_futures=False)
        self._net.shutdown(wait=wait, cancel_futures=True)

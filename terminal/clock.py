"""The clock the terminal reads: wall time for records and tokens, a monotonic one for idle timers.

Injected everywhere so tests can move time by hand (``FakeClock``).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """Wall time in Unix milliseconds and a monotonic time in seconds."""

    def now_ms(self) -> int:
        """Return the wall time in Unix milliseconds."""
        ...

    def monotonic(self) -> float:
        """Return a monotonic time in seconds (only differences mean anything)."""
        ...


class SystemClock:
    """The real clock."""

    def now_ms(self) -> int:
        """Return the wall time in Unix milliseconds."""
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to; both readings move together."""

    def __init__(self, now_ms: int = 1_780_000_000_000) -> None:
        self._now_ms = now_ms
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """Return the fake wall time."""
        with self._lock:
            return self._now_ms

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        """Move both readings forward by ``seconds``."""
        with self._lock:
            self._now_ms += int(seconds * 1000)
            self._mono += seconds

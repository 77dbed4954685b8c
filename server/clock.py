"""The server's clock seam: a callable returning Unix milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "system_clock"]

Clock = Callable[[], int]


def system_clock() -> int:
    """Return the wall-clock time in Unix milliseconds."""
    return time.time_ns() // 1_000_000

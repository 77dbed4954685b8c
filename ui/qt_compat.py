"""Work-arounds for bugs in the Qt binding, each with the reason and how to tell it is fixed.

PySide6 6.12 on Python 3.11: ``SignalInstance.emit()`` returns ``True`` without
taking a reference, so every signal emitted from Python drops one reference to
``True``.  A kiosk emits a few signals a second; after a few thousand emits the
interpreter aborts with "bool_dealloc: deallocating True or False" (seen in
bench/terminal_ui.py after ~900 sales).  ``True`` and ``False`` are never freed
legitimately, so the fix is to give them a large reserve of references once at
start-up.  On Python 3.12+ they are immortal and nothing is needed.
``tests/ui/test_ui_qt_compat.py`` shows whether the binding still has the bug.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["RESERVE", "protect_bool_refcounts"]

RESERVE = 1 << 40  # ~10^12 emits: far beyond any festival


def protect_bool_refcounts() -> bool:
    """Add ``RESERVE`` references to True and False (CPython < 3.12 only); return True when done."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field of every object
        if refcnt.value < RESERVE:
            refcnt.value += RESERVE
    return True

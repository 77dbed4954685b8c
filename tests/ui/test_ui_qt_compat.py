"""The binding bug ui.qt_compat works around: emitting a signal drops a reference to True."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal

from ui.qt_compat import RESERVE, protect_bool_refcounts


class _Emitter(QObject):
    ping = Signal()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="True is immortal on 3.12+")
def test_emits_do_not_exhaust_true_after_protection() -> None:
    protect_bool_refcounts()
    before = sys.getrefcount(True)
    assert before > RESERVE
    emitter = _Emitter()
    for _ in range(1000):
        emitter.ping.emit()
    lost = before - sys.getrefcount(True)
    # 1000 while the binding leaks a reference per emit, 0 once it is fixed (then ui.qt_compat can go).  True's
    # count is process-wide: another thread holding a reference for a moment moves it by a few (seen: 999).
    assert abs(lost) <= 10 or abs(lost - 1000) <= 10
    assert sys.getrefcount(True) > RESERVE - 1000

"""The window fits common laptop screens (1280x720, 1366x768): nothing clipped, the status bar visible.

Each screen is shown in the real app offscreen at each size; every visible
widget's rectangle must lie inside the window, the window must take exactly
the size it was given (not grow past the screen because its layout needs more),
and the status bar must be on screen.  Screenshots at 1366x768 go into
docs/screenshots/ for docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QWidget
from ui_helpers import Event, close_app, enroll, login, make_app, shot

from terminal.decisions import RefundableItem

SIZES = [(1280, 720), (1366, 768)]


def _scrolled(widget: QWidget) -> bool:
    """True inside a scroll area's contents: reached by scrolling (the area itself must fit)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def clipped(window: QWidget) -> list[str]:
    """Return the visible widgets of ``window`` that do not lie wholly inside it (with their rectangles)."""
    bounds = window.rect()
    out = []
    for child in window.findChildren(QWidget):
        if not child.isVisible() or child.isWindow():
            continue
        rect = QRect(child.mapTo(window, QPoint(0, 0)), child.size())
        if not bounds.contains(rect) and not _scrolled(child):
            out.append(f"{type(child).__name__} {child.objectName() or ''} {rect.getRect()} in {bounds.getRect()}")
        # Words must fit whole: a button or a label with text needs its hint.  Anything else (a camera picture
        # that rescales) needs what Qt's layouts give it: an explicit minimum wins over the hint.
        hint, explicit = child.minimumSizeHint(), child.minimumSize()
        worded = isinstance(child, QPushButton) or (isinstance(child, QLabel) and bool(child.text()))
        need = hint if worded else QSize(explicit.width() or hint.width(), explicit.height() or hint.height())
        if child.width() < need.width() or child.height() < need.height():  # squeezed: its words are cut
            text = child.text() if isinstance(child, (QPushButton, QLabel)) else ""
            out.append(f"{type(child).__name__} {text!r} squeezed to {child.size().toTuple()}, needs {need.toTuple()}")
    return out


def check_fits(qtbot: Any, app: Any, size: tuple[int, int], label: str) -> None:
    window = app.window
    qtbot.wait(10)  # pending layout requests first (what was just shown or hidden), as before a paint
    # On a loaded machine the layout requests of a screen just shown may land after the first resize
    # and grow the window again: resize until the size holds (a window that cannot fit never gets there).
    for _ in range(50):
        window.resize(*size)
        for _ in range(3):
            qtbot.wait(10)
        if window.size().toTuple() == size:
            break
    needs = {name: screen.minimumSizeHint().toTuple() for name, screen in window.screens.items()}
    assert window.size().toTuple() == size, (label, window.minimumSizeHint().toTuple(), needs,
                                             window.nav_bar.minimumSizeHint().toTuple(),
                                             window.status_bar.minimumSizeHint().toTuple())
    assert window.minimumSizeHint().height() <= size[1], (label, window.minimumSizeHint())
    assert window.minimumSizeHint().width() <= size[0], (label, window.minimumSizeHint())
    bar = window.status_bar
    assert bar.isVisible(), label
    assert QRect(bar.mapTo(window, QPoint(0, 0)), bar.size()).bottom() <= size[1] - 1, label
    assert clipped(window) == [], label


def test_every_screen_fits_laptop_screens(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        for size in SIZES:
            check_fits(qtbot, app, size, f"enroll {size}")
        shot(app.window, "fit_enroll_1366x768_en")
        enroll(qtbot, app, event)
        for size in SIZES:
            check_fits(qtbot, app, size, f"login {size}")
        shot(app.window, "fit_login_1366x768_en")
        login(qtbot, app, event, "supervisor")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        for name in ("sale", "recent", "topup", "soldout", "shift", "settings"):
            app.window.go(name)
            for size in SIZES:
                check_fits(qtbot, app, size, f"{name} {size}")
            shot(app.window, f"fit_{name}_1366x768_en")
        # The refund screen at its tallest: the customer's confirmation, then the supervisor's PIN pad.
        refund = app.window.refund
        refund.set_sale(SimpleNamespace(id="x", amount=800, created_at=0))
        app.window.go("refund")
        refund.void_button.click()
        for size in SIZES:
            check_fits(qtbot, app, size, f"refund confirm {size}")
        refund.ask_supervisor("void", 800)  # what the confirm button does for a cashier without the permission
        refund.supervisor.take_badge("badge")
        assert refund.supervisor.submit.text() == "Approve this void"
        for size in SIZES:
            check_fits(qtbot, app, size, f"refund supervisor {size}")
        shot(app.window, "fit_refund_supervisor_1366x768_en")
        # By item, a basket of six lines (the list scrolls past its height).
        refund.set_sale(SimpleNamespace(id="x", amount=800, created_at=0))
        qtbot.wait_until(lambda: refund.items_loaded_for == "x", timeout=5000)  # none: a sale it did not make
        refund._set_items([RefundableItem(i, f"Item number {i} with a long name", 100 * i, 3, 3) for i in range(1, 7)])
        refund.set_by_item(True)
        for size in SIZES:
            check_fits(qtbot, app, size, f"refund by item {size}")
        shot(app.window, "fit_refund_items_1366x768_en")
        refund.set_sale(SimpleNamespace(id="x", amount=800, created_at=0))
        app.i18n.set_language("ja")
        for name in ("sale", "soldout", "shift"):
            app.window.go(name)
            for size in SIZES:
                check_fits(qtbot, app, size, f"{name} ja {size}")
            shot(app.window, f"fit_{name}_1366x768_ja")
    finally:
        close_app(app)


def test_gate_screen_fits(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event, "gate")
        login(qtbot, app, event, "gate")
        qtbot.wait_until(lambda: app.window.current.name == "gate", timeout=10_000)
        for size in SIZES:
            check_fits(qtbot, app, size, f"gate {size}")
        shot(app.window, "fit_gate_1366x768_en")
    finally:
        close_app(app)

"""The result that fills the screen: green with a tick, or red with a cross, the reason and the next step.

Colour is never the only signal: a large ✓ or ✗, a headline in words, and a
distinct sound go with it.  A tap anywhere (or a new product tap, or the
timer) dismisses it, so the next customer can start at once.
"""

from __future__ import annotations

import io
import time

import segno
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.i18n import tr

__all__ = ["ResultOverlay"]

_GREEN = "#0f7b3a"
_RED = "#b3141b"
_AMBER = "#8a4b00"  # in doubt: neither paid nor refused yet (white text stays readable on it)


class ResultOverlay(QWidget):
    """A full-window overlay; ``show_result`` fills it, a tap or the timer hides it."""

    shown_result = Signal(object)  # approved? (object: PySide6 6.12 leaks a reference of bool on Signal(bool))
    dismissed = Signal()
    tapped = Signal()  # staff tapped the result away (a deliberate "next"), not the timer

    def __init__(self, parent: QWidget, *, auto_hide_ms: int = 4000) -> None:
        """Create the (hidden) overlay over ``parent``."""
        super().__init__(parent)
        self.setObjectName("result-overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.approved: bool | None = None
        self.in_doubt = False
        self.shown_at: float | None = None
        self.auto_hide_ms = auto_hide_ms
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 40, 40, 40)
        layout.setSpacing(16)
        self.icon = QLabel()
        self.headline = QLabel()
        self.amount = QLabel()
        self.detail = QLabel()
        self.next_step = QLabel()
        self.footer = QLabel()
        sizes = {self.icon: 180, self.headline: 54, self.amount: 44, self.detail: 34, self.next_step: 30,
                 self.footer: 20}
        for label, size in sizes.items():
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            label.setStyleSheet(f"color: white; font-size: {size}px; font-weight: bold; background: transparent;")
            layout.addWidget(label)
        # A sale's receipt for the customer's phone: a QR of My page's receipt of this record, with a caption.
        self.receipt_qr = QLabel()
        self.receipt_qr.setObjectName("receipt-qr")
        self.receipt_qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.receipt_qr.setStyleSheet("background: transparent;")
        self.receipt_caption = QLabel()
        self.receipt_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.receipt_caption.setStyleSheet("color: white; font-size: 18px; background: transparent;")
        layout.insertWidget(layout.indexOf(self.footer), self.receipt_qr)
        layout.insertWidget(layout.indexOf(self.footer), self.receipt_caption)
        self.receipt_url = ""
        self.receipt_qr.hide()
        self.receipt_caption.hide()
        layout.insertStretch(0, 1)
        layout.insertStretch(layout.count() - 1, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.hide()

    def show_result(
        self,
        *,
        approved: bool,
        headline: str,
        amount: str = "",
        detail: str = "",
        next_step: str = "",
        in_doubt: bool = False,
        receipt_url: str = "",
    ) -> None:
        """Fill the window with one result; ✓ and green when approved, ✗ and red when not, ? and amber in doubt."""
        self.approved = approved
        self.in_doubt = in_doubt and not approved
        colour = _GREEN if approved else _AMBER if self.in_doubt else _RED
        self.setStyleSheet(f"#result-overlay {{ background: {colour}; }}")
        self.icon.setText("✓" if approved else "?" if self.in_doubt else "✗")
        self.icon.setAccessibleName("approved" if approved else "in doubt" if self.in_doubt else "declined")
        self.headline.setText(headline)
        self.amount.setText(amount)
        self.amount.setVisible(bool(amount))
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.next_step.setText(next_step)
        self.next_step.setVisible(bool(next_step))
        self.footer.setText(tr("common.tap_to_continue"))
        self._show_receipt(receipt_url if approved else "")
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()
        self.shown_at = time.monotonic()
        if self.auto_hide_ms:
            self._timer.start(self.auto_hide_ms if approved else self.auto_hide_ms * 2)
        self.shown_result.emit(approved)

    def _show_receipt(self, url: str) -> None:
        """A QR of ``url`` (dark on white, with its quiet zone, so phone cameras read it), or nothing."""
        self.receipt_url = url
        if url:
            png = io.BytesIO()
            segno.make(url, error="m").save(png, kind="png", scale=4, border=4)  # about a millisecond
            pixmap = QPixmap()
            pixmap.loadFromData(png.getvalue(), "PNG")
            self.receipt_qr.setPixmap(pixmap)
            self.receipt_caption.setText(tr("result.receipt_qr"))
        else:
            self.receipt_qr.clear()
        self.receipt_qr.setVisible(bool(url))
        self.receipt_caption.setVisible(bool(url))

    def dismiss(self) -> None:
        """Hide the overlay (idempotent)."""
        self._timer.stop()
        if self.isVisible():
            self.hide()
            self.dismissed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A tap anywhere dismisses the result."""
        if self.isVisible():
            self.tapped.emit()
        self.dismiss()
        event.accept()

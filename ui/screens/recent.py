"""The last transactions of this terminal, newest first; pick a sale to refund or void it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ui.screens.base import Screen
from ui.widgets import BigButton, heading

__all__ = ["RecentScreen", "describe_row"]


def describe_row(screen: Screen, row: Any) -> str:
    """Return one line for a ledger row: time, kind, amount, sync mark."""
    when = screen.backend.time(row.created_at, "%H:%M:%S")
    kind = screen.tr(f"kind.{row.kind}")
    synced = "☁✓" if row.ack_status in ("applied", "duplicate") else "…"
    amount = screen.backend.money(row.amount) if row.kind != "checkin" else ""
    sign = "−" if row.kind in ("refund", "void", "deposit_return") else ""
    return f"{when}   {kind:<6}   {sign}{amount}   {synced}"


class RecentScreen(Screen):
    """A list of the newest records and a refund/void button."""

    name = "recent"
    refund_requested = Signal(object)  # the LedgerRow of a sale

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the (empty) list."""
        super().__init__(backend, parent)
        self.rows: list[Any] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        self.title = heading()
        self.list = QListWidget()
        self.list.setStyleSheet("font-family: monospace; font-size: 22px;")
        self.message = heading("", "hint")
        self.refund_button = BigButton(role="primary")
        self.refund_button.clicked.connect(self._refund)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.refund_button)
        self.retranslate()

    def activate(self) -> None:
        """Load the newest records on the worker."""
        self.backend.run(lambda engine: engine.recent(30), on_done=self.set_rows)

    def set_rows(self, rows: list[Any]) -> None:
        """Show ``rows`` (newest first)."""
        self.rows = list(rows)
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        for row in self.rows:
            item = QListWidgetItem(describe_row(self, row))
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.list.addItem(item)
        self.message.setText("" if self.rows else self.tr("recent.none"))

    def select(self, record_id: str) -> None:
        """Select the row of ``record_id``."""
        for i, row in enumerate(self.rows):
            if row.id == record_id:
                self.list.setCurrentRow(i)

    def _refund(self) -> None:
        index = self.list.currentRow()
        if index < 0 or index >= len(self.rows) or self.rows[index].kind != "sale":
            self.message.setText(self.tr("recent.select_first"))
            return
        self.refund_requested.emit(self.rows[index])

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.title.setText(self.tr("recent.title"))
        self.refund_button.setText(self.tr("recent.refund"))
        self._fill()

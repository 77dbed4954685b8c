"""Sold out at the till: a supervisor marks a product of this stall sold out, or back on sale.

One row per product of the stall: its name, whether it is on sale (and how many are left when
it is counted), and one button that says what it does ("Mark sold out" / "Back on sale").  The
server sets the flag (``terminal.soldout``), so the answer comes from the worker; offline the
screen says in words that it needs the server.  Shown only to people holding
``product.sold_out`` for this stall (the navigation bar hides it from everyone else).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ui.messages import explain_reason
from ui.screens.base import Screen
from ui.widgets import BigButton, clear_layout, heading

__all__ = ["SoldOutScreen"]


def _load(engine: Any) -> list[Any]:
    """The stall's products that are sold by the piece (deposits and discounts are never sold out), with stock left."""
    products = [p for p in engine.catalog() if str(getattr(p, "kind", "normal") or "normal") == "normal"]
    if hasattr(engine, "store"):
        from terminal.reports import stock_left

        products = stock_left(engine.store, products)
    return products


class SoldOutScreen(Screen):
    """The stall's products, each with its state and a button to change it."""

    name = "soldout"
    changed = Signal()  # a product's sold-out flag changed here: the sale screen's buttons follow

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the (empty) list."""
        super().__init__(backend, parent)
        self.products: list[Any] = []
        self.rows: dict[int, tuple[QLabel, QLabel, BigButton]] = {}
        self.busy = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        self.title = heading()
        self.hint = heading("", "hint")
        self.message = heading("", "hint")
        self.message.setObjectName("soldout-message")
        self.list = QWidget()
        self.grid = QGridLayout(self.list)
        self.grid.setColumnStretch(0, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.list)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message)
        self.retranslate()

    def activate(self) -> None:
        """Read the stall's products on the worker."""
        self.message.setText("")
        self.backend.run(_load, on_done=self.set_products)

    def set_products(self, products: list[Any]) -> None:
        """Show one row per product (the same products again: the rows stay, their states follow)."""
        same = [(p.id, p.name) for p in products] == [(p.id, p.name) for p in self.products]
        self.products = list(products)
        if same and self.rows:
            self._fill()
            return
        clear_layout(self.grid)
        self.rows = {}
        for row, product in enumerate(self.products):
            name = QLabel(product.name)
            name.setWordWrap(True)
            name.setStyleSheet("font-size: 22px; font-weight: bold;")
            state = QLabel()
            state.setStyleSheet("font-size: 20px;")
            button = BigButton(role="primary")
            button.setObjectName(f"soldout-{product.id}")
            button.setMinimumWidth(260)
            button.clicked.connect(lambda _=False, p=product.id: self._press(p))
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(state, row, 1)
            self.grid.addWidget(button, row, 2)
            if self.isVisible():  # a visible parent: shown now, not on the next event loop turn
                for widget in (name, state, button):
                    widget.show()
            self.rows[product.id] = (name, state, button)
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        self.grid.setRowStretch(len(self.products), 1)  # rows keep their height; the space stays below them
        self._fill()

    def _sold_out(self, product: Any) -> bool:
        return bool(product.sold_out)

    def _fill(self) -> None:
        for product in self.products:
            _name, state, button = self.rows[product.id]
            if self._sold_out(product):
                state.setText("✗ " + self.tr("soldout.is_sold_out"))
                button.setText(self.tr("soldout.back_on_sale"))
                button.setProperty("role", "primary")
            else:
                left = getattr(product, "stock", None)
                state.setText("✓ " + (self.tr("soldout.on_sale_left", left=left) if isinstance(left, int)
                                      else self.tr("soldout.on_sale")))
                button.setText(self.tr("soldout.mark"))
                button.setProperty("role", "danger")
            button.restyle()
            button.setEnabled(not self.busy)
        if not self.products:
            self.message.setText(self.tr("soldout.none"))

    def _press(self, product_id: int) -> None:
        product = next((p for p in self.products if p.id == product_id), None)
        if product is None or self.busy:
            return
        want = not self._sold_out(product)
        self.busy = True
        self.message.setText(self.tr("soldout.asking"))
        self._fill()

        def done(decision: Any) -> None:
            self.busy = False
            if decision.approved:
                key = "soldout.done_sold_out" if decision.params.get("sold_out") else "soldout.done_on_sale"
                self.message.setText(self.tr(key, name=decision.params.get("name", product.name)))
                self.backend.sounds.play("approve")
                self.changed.emit()
                self.activate_keep_message()
            else:
                words = explain_reason(decision.reason, decision.params, currency=self.backend.currency)
                self.message.setText(f"{words.headline}\n{words.next_step}")
                self.backend.sounds.play("decline")
                self._fill()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self._fill()
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.set_sold_out(product_id, want), on_done=done, on_error=failed)

    def activate_keep_message(self) -> None:
        """Read the products again, keeping the message of what just changed."""
        self.backend.run(_load, on_done=self.set_products)

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.title.setText(self.tr("soldout.title"))
        self.hint.setText(self.tr("soldout.hint"))
        if self.rows:
            self._fill()
        self.title.setAlignment(Qt.AlignmentFlag.AlignLeft)

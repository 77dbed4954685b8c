"""Refund part of a sale (by amount or by item) or void all of it; a supervisor's badge and PIN if the cashier may not.

By item: the sale's product lines with a − and + for each, never above what is left of the
line (earlier refunds by item counted); the amount follows the items picked.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from sync.permissions import Permission
from terminal.decisions import Decision, LoginResult, RefundableItem
from ui.screens.base import Screen
from ui.screens.login import BadgeAndPin
from ui.screens.sale import show_decision
from ui.screens.supervisor import as_supervisor
from ui.widgets import BigButton, Keypad, clear_layout, heading

__all__ = ["RefundScreen"]


class RefundScreen(Screen):
    """Shows one sale; refunds an amount or voids it."""

    name = "refund"
    finished = Signal(object)  # Decision

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the screen with no sale chosen."""
        super().__init__(backend, parent)
        self.sale: Any | None = None
        self.pending: tuple[str, int] | None = None  # ("refund"|"void", amount) waiting for a supervisor
        self.confirming: tuple[str, int] | None = None  # ("refund"|"void", amount) shown to the customer
        self.busy = False
        self.items: list[RefundableItem] = []  # what of the sale may come back by item (empty: by amount only)
        self.picked: dict[int, int] = {}  # product -> qty picked
        self.by_item = False
        self.pending_items: dict[int, int] | None = None  # the items of the refund being confirmed / approved
        self.item_rows: dict[int, tuple[QLabel, BigButton, QLabel, BigButton, QLabel]] = {}
        self.items_loaded_for: str | None = None  # the sale whose refundable items were read (tests wait on it)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 16, 24, 16)
        left = QVBoxLayout()
        self.title = heading()
        self.sale_label = heading("", "hint")
        self.amount_caption = heading("", "hint")
        self.amount_label = heading("", "total")
        self.keypad = Keypad(max_len=6)
        self.keypad.changed.connect(lambda _t: self._show_amount())
        self.refund_button = BigButton(role="primary")
        self.refund_button.clicked.connect(lambda: self.request("refund"))
        self.void_button = BigButton(role="danger")
        self.void_button.clicked.connect(lambda: self.request("void"))
        self.message = heading("", "error")
        # By amount or by item: two toggles, shown when the sale has product lines.
        self.mode_row = QWidget()
        modes = QHBoxLayout(self.mode_row)
        modes.setContentsMargins(0, 0, 0, 0)
        self.by_amount_button = BigButton(role="toggle")
        self.by_amount_button.setCheckable(True)
        self.by_amount_button.clicked.connect(lambda: self.set_by_item(False))
        self.by_item_button = BigButton(role="toggle")
        self.by_item_button.setCheckable(True)
        self.by_item_button.clicked.connect(lambda: self.set_by_item(True))
        modes.addWidget(self.by_amount_button)
        modes.addWidget(self.by_item_button)
        self.mode_row.hide()
        self.items_area = QScrollArea()
        self.items_area.setWidgetResizable(True)
        self.items_area.setFrameShape(QFrame.Shape.NoFrame)
        self.items_area.setMaximumHeight(300)
        self.items_widget = QWidget()
        self.items_grid = QGridLayout(self.items_widget)
        self.items_grid.setContentsMargins(0, 0, 0, 0)
        self.items_area.setWidget(self.items_widget)
        self.items_area.hide()
        # The customer sees what will happen before anything is booked.
        self.confirm_box = QWidget()
        confirm = QVBoxLayout(self.confirm_box)
        confirm.setContentsMargins(0, 0, 0, 0)
        self.confirm_label = heading("", "h1")
        confirm_row = QHBoxLayout()
        self.confirm_button = BigButton(role="primary")
        self.confirm_button.clicked.connect(self._confirmed)
        self.back_button = BigButton()
        self.back_button.clicked.connect(self._cancel_confirm)
        confirm_row.addWidget(self.confirm_button, 2)
        confirm_row.addWidget(self.back_button, 1)
        confirm.addWidget(self.confirm_label)
        confirm.addLayout(confirm_row)
        self.confirm_box.hide()
        left.addWidget(self.title)
        left.addWidget(self.sale_label)
        left.addWidget(self.amount_caption)
        left.addWidget(self.amount_label)
        left.addWidget(self.mode_row)
        pad_row = QHBoxLayout()
        pad_row.addWidget(self.keypad, 1)
        pad_row.addWidget(self.items_area, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.refund_button)
        buttons.addWidget(self.void_button)
        buttons.addStretch(1)
        pad_row.addLayout(buttons, 1)
        left.addLayout(pad_row)
        left.addWidget(self.confirm_box)
        left.addWidget(self.message)
        outer.addLayout(left, 1)
        self.supervisor = BadgeAndPin(prompt_key="refund.need_supervisor", submit_key="refund.approve")
        self.supervisor.submitted.connect(self._with_supervisor)
        self.supervisor.hide()
        outer.addWidget(self.supervisor, 1)
        self.retranslate()

    def set_sale(self, sale: Any) -> None:
        """Choose the sale (a LedgerRow) to refund or void; the amount starts at the whole sale.

        What of it may come back by item is read on the worker; until then (and for a sale
        without product lines) the screen refunds by amount.
        """
        self.sale = sale
        self.pending = None
        self.pending_items = None
        self.items_loaded_for = None
        self.by_item = False
        self.supervisor.hide()
        self._set_items([])
        self._cancel_confirm()
        self.message.setText("")
        self.keypad.set_text(str(sale.amount))
        self.retranslate()
        sale_id = str(sale.id)

        def got(items: list[RefundableItem]) -> None:
            if self.sale is not None and str(self.sale.id) == sale_id:
                self._set_items(items)
                self.items_loaded_for = sale_id

        self.backend.run(lambda engine: engine.refundable_items(sale_id), on_done=got)

    def _set_items(self, items: list[RefundableItem]) -> None:
        """Lay out one row per refundable line: name and price, −, the qty picked, +, what is left."""
        self.items = list(items)
        self.picked = {}
        clear_layout(self.items_grid)
        self.item_rows = {}
        for row, item in enumerate(self.items):
            name = QLabel(item.name)
            name.setWordWrap(True)
            minus = BigButton("−")
            minus.clicked.connect(lambda _c=False, p=item.product_id: self.change_item(p, -1))
            qty = QLabel("0")
            qty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            qty.setProperty("role", "total")
            plus = BigButton("+")
            plus.clicked.connect(lambda _c=False, p=item.product_id: self.change_item(p, 1))
            left = QLabel("")
            left.setWordWrap(True)
            for column, widget in enumerate((name, minus, qty, plus, left)):
                self.items_grid.addWidget(widget, row, column)
            self.item_rows[item.product_id] = (name, minus, qty, plus, left)
        for row in range(len(self.items) + 1):
            self.items_grid.setRowStretch(row, 1 if row == len(self.items) else 0)
        self.items_grid.setColumnStretch(0, 3)
        self.items_grid.setColumnStretch(4, 2)
        self.mode_row.setVisible(bool(self.items) and self.confirming is None)
        self.set_by_item(self.by_item and bool(self.items))

    def set_by_item(self, on: bool) -> None:
        """Refund by item (the items pick the amount) or by amount (the keypad)."""
        self.by_item = on and bool(self.items)
        self.by_item_button.setChecked(self.by_item)
        self.by_amount_button.setChecked(not self.by_item)
        if self.confirming is None:
            self.keypad.setVisible(not self.by_item)
            self.items_area.setVisible(self.by_item)
        self.message.setText("")
        self._paint_items()
        self.retranslate()

    def change_item(self, product_id: int, step: int) -> None:
        """One more (``step`` 1) or one fewer (−1) of a line, within 0 and what is left of it."""
        item = next((i for i in self.items if i.product_id == product_id), None)
        if item is None:
            return
        qty = self.picked.get(product_id, 0) + step
        if qty > item.left:
            self.message.setText(self.tr("refund.item_max", name=item.name, left=item.left))
            return
        self.message.setText("")
        self.picked[product_id] = max(0, qty)
        self._paint_items()
        self._show_amount()

    def _paint_items(self) -> None:
        for item in self.items:
            row = self.item_rows.get(item.product_id)
            if row is None:
                continue
            name, minus, qty, plus, left = row
            picked = self.picked.get(item.product_id, 0)
            name.setText(f"{item.name}  {self.backend.money(item.unit_price)}")
            qty.setText(str(picked))
            minus.setEnabled(picked > 0)
            plus.setEnabled(picked < item.left)
            left.setText(self.tr("refund.item_left", left=item.left, sold=item.sold))

    def items_amount(self) -> int:
        """Return the amount of the items picked, at the sale's prices."""
        return sum(i.unit_price * self.picked.get(i.product_id, 0) for i in self.items)

    def amount(self) -> int:
        """Return the refund amount: typed, or the items picked."""
        if self.by_item:
            return self.items_amount()
        return int(self.keypad.text or 0)

    def _show_amount(self) -> None:
        self.amount_label.setText(self.backend.money(self.amount()))

    def on_scan(self, text: str, captured_at: float) -> None:
        """A badge scanned while a supervisor is needed."""
        if self.supervisor.isVisible():
            self.supervisor.take_badge(text)

    def request(self, kind: str) -> None:
        """Refund or void: first the customer's confirmation (``confirm_button``), then the booking."""
        if self.sale is None or self.busy:
            return
        amount = self.amount() if kind == "refund" else self.sale.amount
        if amount <= 0:
            if kind == "refund" and self.by_item:
                self.message.setText(self.tr("refund.no_items"))
            else:  # zero in the event's currency (¥0, $0.00), as every amount on this screen
                self.message.setText(self.tr("refund.zero", zero=self.backend.money(0)))
            return
        self.pending_items = {p: q for p, q in self.picked.items() if q} if kind == "refund" and self.by_item \
            else None
        self.confirming = (kind, amount)
        self.message.setText("")
        self._paint_confirm()
        self.confirm_box.show()
        for widget in (self.keypad, self.items_area, self.mode_row, self.refund_button,
                       self.void_button):  # one step at a time
            widget.hide()

    def _paint_confirm(self) -> None:
        if self.confirming is None:
            return
        kind, amount = self.confirming
        money = self.backend.money(amount)
        void = kind == "void"
        text = self.tr("refund.confirm_void" if void else "refund.confirm", amount=money)
        if not void and self.pending_items:
            names = {i.product_id: i.name for i in self.items}
            picked = ", ".join(f"{names.get(p, p)} × {q}" for p, q in self.pending_items.items())
            text = self.tr("refund.confirm_items", items=picked, amount=money)
        self.confirm_label.setText(text)
        self.confirm_button.setText(self.tr("refund.confirm_yes_void" if void else "refund.confirm_yes", amount=money))
        self.back_button.setText(self.tr("common.back"))

    def _cancel_confirm(self) -> None:
        self.confirming = None
        self.confirm_box.hide()
        for widget in (self.refund_button, self.void_button):
            widget.show()
        self.mode_row.setVisible(bool(self.items))
        self.keypad.setVisible(not self.by_item)
        self.items_area.setVisible(self.by_item)

    def _confirmed(self) -> None:
        """The customer agreed: book it, or ask for a supervisor when the cashier lacks the permission."""
        if self.confirming is None or self.busy:
            return
        kind, amount = self.confirming
        self.confirm_box.hide()
        if self.backend.may(Permission.REFUND):
            self._run(kind, amount, None)
            return
        self.ask_supervisor(kind, amount)

    def ask_supervisor(self, kind: str, amount: int) -> None:
        """Show the supervisor's badge + PIN step for ``kind`` of ``amount`` (the customer has confirmed)."""
        self.confirm_box.hide()
        self.pending = (kind, amount)
        self.message.setText(self.tr("refund.need_supervisor"))
        self.supervisor.submit_key = "refund.approve_void" if kind == "void" else "refund.approve"
        self.supervisor.reset()
        self.supervisor.show()

    def _with_supervisor(self, badge: str, pin: str) -> None:
        if self.pending is not None:
            kind, amount = self.pending
            self._run(kind, amount, (badge, pin))

    def _run(self, kind: str, amount: int, supervisor: tuple[str, str] | None) -> None:
        sale_id = self.sale.id if self.sale is not None else ""
        items = dict(self.pending_items) if kind == "refund" and self.pending_items else None

        def action(engine: Any) -> Decision:
            if kind == "void":
                return engine.void(sale_id)  # type: ignore[no-any-return]
            if items is not None:
                return engine.refund(sale_id, amount, items=items)  # type: ignore[no-any-return]
            return engine.refund(sale_id, amount)  # type: ignore[no-any-return]

        def work(engine: Any) -> Decision | LoginResult:
            if supervisor is None:
                return action(engine)
            return as_supervisor(engine, supervisor[0], supervisor[1], Permission.REFUND, action)

        def done(outcome: Decision | LoginResult) -> None:
            self.busy = False
            if isinstance(outcome, LoginResult):
                self.supervisor.refused(outcome)
                self.backend.sounds.play("decline")
                return
            self.pending = None
            self.supervisor.hide()
            self._cancel_confirm()
            show_decision(self, outcome, ok_key="result.void_ok" if kind == "void" else "result.refund_ok")
            self.finished.emit(outcome)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.busy = True
        self.backend.run(work, on_done=done, on_error=failed)

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.title.setText(self.tr("refund.title"))
        if self.sale is not None:
            when = self.backend.time(self.sale.created_at)
            self.sale_label.setText(self.tr("refund.of", time=when, amount=self.backend.money(self.sale.amount)))
        self._show_amount()
        self.refund_button.setText(self.tr("refund.do_refund_items" if self.by_item else "refund.do_refund"))
        self.amount_caption.setText(self.tr("refund.amount_items" if self.by_item else "refund.amount"))
        self.by_amount_button.setText(self.tr("refund.by_amount"))
        self.by_item_button.setText(self.tr("refund.by_item"))
        self._paint_items()
        self.void_button.setText(self.tr("refund.do_void"))
        self._paint_confirm()
        self.supervisor.retranslate()

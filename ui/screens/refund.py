"""Refund part of a sale or void all of it; a supervisor's badge and PIN when the cashier may not."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from sync.permissions import Permission
from terminal.decisions import Decision, LoginResult
from ui.screens.base import Screen
from ui.screens.login import BadgeAndPin
from ui.screens.sale import show_decision
from ui.screens.supervisor import as_supervisor
from ui.widgets import BigButton, Keypad, heading

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
        pad_row = QHBoxLayout()
        pad_row.addWidget(self.keypad, 1)
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
        """Choose the sale (a LedgerRow) to refund or void; the amount starts at the whole sale."""
        self.sale = sale
        self.pending = None
        self.supervisor.hide()
        self._cancel_confirm()
        self.message.setText("")
        self.keypad.set_text(str(sale.amount))
        self.retranslate()

    def amount(self) -> int:
        """Return the refund amount typed."""
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
            self.message.setText(self.tr("refund.zero"))
            return
        self.confirming = (kind, amount)
        self.message.setText("")
        self._paint_confirm()
        self.confirm_box.show()
        for widget in (self.keypad, self.refund_button, self.void_button):  # one step at a time
            widget.hide()

    def _paint_confirm(self) -> None:
        if self.confirming is None:
            return
        kind, amount = self.confirming
        money = self.backend.money(amount)
        void = kind == "void"
        self.confirm_label.setText(self.tr("refund.confirm_void" if void else "refund.confirm", amount=money))
        self.confirm_button.setText(self.tr("refund.confirm_yes_void" if void else "refund.confirm_yes", amount=money))
        self.back_button.setText(self.tr("common.back"))

    def _cancel_confirm(self) -> None:
        self.confirming = None
        self.confirm_box.hide()
        for widget in (self.keypad, self.refund_button, self.void_button):
            widget.show()

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

        def action(engine: Any) -> Decision:
            if kind == "void":
                return engine.void(sale_id)  # type: ignore[no-any-return]
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
        self.amount_caption.setText(self.tr("refund.amount"))
        self._show_amount()
        self.refund_button.setText(self.tr("refund.do_refund"))
        self.void_button.setText(self.tr("refund.do_void"))
        self._paint_confirm()
        self.supervisor.retranslate()

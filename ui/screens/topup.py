"""Top-up mode: amount keys, cash received, the change, then the wallet scan (online only)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from terminal.decisions import Decision
from ui.screens.base import Screen
from ui.screens.sale import show_decision
from ui.widgets import BigButton, CameraPreview, CodeEntry, heading

__all__ = ["TopUpScreen"]

AMOUNTS = (500, 1000, 2000, 3000, 5000, 10000)
CASH = (1000, 2000, 5000, 10000)


class TopUpScreen(Screen):
    """Choose an amount, take the cash, scan the wallet."""

    name = "topup"
    done_signal = Signal(object)  # Decision

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the screen with no amount chosen."""
        super().__init__(backend, parent)
        self.amount = 0
        self.cash = 0
        self.busy = False
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 16, 24, 16)
        left = QVBoxLayout()
        self.title = heading()
        self.amount_caption = heading("", "hint")
        amounts = QGridLayout()
        self.amount_buttons: dict[int, BigButton] = {}
        for i, value in enumerate(AMOUNTS):
            button = BigButton(role="toggle")
            button.setCheckable(True)
            button.setMinimumHeight(88)
            button.clicked.connect(lambda _=False, v=value: self.set_amount(v))
            amounts.addWidget(button, i // 3, i % 3)
            self.amount_buttons[value] = button
        self.cash_caption = heading("", "hint")
        cash = QHBoxLayout()
        self.cash_buttons: dict[int, BigButton] = {}
        for value in (0, *CASH):
            button = BigButton(role="toggle")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, v=value: self.set_cash(v))
            cash.addWidget(button)
            self.cash_buttons[value] = button
        left.addWidget(self.title)
        left.addWidget(self.amount_caption)
        left.addLayout(amounts)
        left.addWidget(self.cash_caption)
        left.addLayout(cash)
        self.change_label = heading("", "total")
        self.hint = heading("", "hint")
        left.addWidget(self.change_label)
        left.addWidget(self.hint)
        # No camera: the wallet code printed on the card, typed and checked (the same path as a scan).
        self.typed = CodeEntry(placeholder_key="topup.typed", button_key="topup.use_code", tr=self.tr)
        self.typed.entered.connect(lambda code: self.on_scan(code, time.monotonic()))
        left.addWidget(self.typed)
        left.addStretch(1)
        outer.addLayout(left, 3)
        self.preview = CameraPreview()
        outer.addWidget(self.preview, 2)
        self.retranslate()

    def set_amount(self, amount: int) -> None:
        """Choose the top-up amount."""
        self.amount = amount
        self.retranslate()

    def set_cash(self, cash: int) -> None:
        """Record the cash received (0: exactly the amount)."""
        self.cash = cash
        self.retranslate()

    def cash_received(self) -> int:
        """Return the cash taken (the amount itself when 'exact')."""
        return self.cash or self.amount

    def on_scan(self, text: str, captured_at: float) -> None:
        """Load the chosen amount onto the wallet shown."""
        overlay = getattr(self, "overlay", None)
        if self.busy or (overlay is not None and overlay.isVisible()):
            return
        if self.amount <= 0:
            self.hint.setText(self.tr("topup.pick_amount"))
            return
        if self.cash_received() < self.amount:
            return
        amount, cash = self.amount, self.cash_received()
        self.busy = True

        def done(decision: Decision) -> None:
            self.busy = False
            if decision.approved:
                self.amount, self.cash = 0, 0
            show_decision(self, decision, ok_key="result.topup_ok")
            self.retranslate()
            self.done_signal.emit(decision)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.topup(text, amount, cash_received=cash), on_done=done,
                         on_error=failed)

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        money = self.backend.money
        self.title.setText(self.tr("topup.title"))
        self.typed.retranslate()
        self.amount_caption.setText(self.tr("topup.amount"))
        self.cash_caption.setText(self.tr("topup.cash"))
        for value, button in self.amount_buttons.items():
            button.setText(money(value))
            button.setChecked(value == self.amount)
        for value, button in self.cash_buttons.items():
            button.setText(self.tr("topup.exact") if value == 0 else money(value))
            button.setChecked(value == self.cash)
        change = self.cash_received() - self.amount
        if self.amount <= 0:
            self.change_label.setText("")
            self.hint.setText(self.tr("topup.pick_amount"))
        elif change < 0:
            self.change_label.setText("✗ " + self.tr("topup.short", amount=money(-change)))
            self.hint.setText("")
        else:
            self.change_label.setText(f"{self.tr('topup.change')}: {money(change)}")
            self.hint.setText(self.tr("topup.scan"))

"""Cash-out at a top-up desk: the whole balance (or a part) of the wallet shown, paid back in cash.

The same desk layout as the top-up screen (amount keys, the typed wallet code, the camera, the
panel of doubts): "All" pays the whole balance out and closes the wallet.  The result says how
much cash to hand over; a cash-out whose answer was lost is amber and stays on the panel ("do not
pay out yet") until the next push settles it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from terminal.decisions import Decision
from ui.screens.sale import show_decision
from ui.screens.topup import TopUpScreen

__all__ = ["CashOutScreen"]

PARTS = (500, 1000, 2000, 3000, 5000)


class CashOutScreen(TopUpScreen):
    """Choose all or a part, scan the wallet, hand over the cash the result names."""

    name = "cashout"

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the screen with "all of the balance" chosen."""
        super().__init__(backend, parent)
        for button in self.cash_buttons.values():
            button.hide()
        self.cash_caption.hide()
        self.part_buttons = self.amount_buttons  # 500 ... 10,000 as parts; 0 below is "all"
        self.amount = 0
        self.retranslate()

    def set_amount(self, amount: int) -> None:
        """Choose a part; the same key again goes back to the whole balance."""
        self.amount = 0 if amount == self.amount else amount
        self.retranslate()

    def cash_received(self) -> int:
        """No cash is received at a cash-out."""
        return self.amount

    def on_scan(self, text: str, captured_at: float) -> None:
        """Pay out the chosen part (or all) of the wallet shown."""
        overlay = getattr(self, "overlay", None)
        if self.busy or (overlay is not None and overlay.isVisible()):
            return
        amount = self.amount or None
        self.busy = True

        def done(decision: Decision) -> None:
            self.busy = False
            if decision.params.get("in_doubt"):
                self.refresh_doubts()
            if decision.approved or decision.params.get("in_doubt"):
                self.amount = 0
            show_decision(self, decision, ok_key="result.cashout_ok")
            self.retranslate()
            self.done_signal.emit(decision)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.cash_out(text, amount), on_done=done, on_error=failed)

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        super().retranslate()
        if not hasattr(self, "part_buttons"):
            return
        self.title.setText(self.tr("cashout.title"))
        self.amount_caption.setText(self.tr("cashout.amount", all=self.tr("cashout.all")))
        self.change_label.setText(self.tr("cashout.all") if self.amount == 0 else
                                  self.tr("cashout.part", amount=self.backend.money(self.amount)))
        self.hint.setText(self.tr("topup.scan"))

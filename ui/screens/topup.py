"""Top-up mode: amount keys, cash received, the change, then the wallet scan (online only).

A visitor with no wallet gets one here: "New wallet" asks the server for an empty wallet
(``Terminal.issue_wallet``, online only), shows its one-time My page link as a QR for the
visitor's phone with the wallet's code, and goes straight on to top it up with the amount
and cash chosen (the same top-up as a scanned wallet, in-doubt handling included).
Offline it says that a new wallet needs the server and suggests a pre-printed card.

A top-up whose answer was lost is never shown as failed: the result is amber
("in doubt: do not hand back the cash yet"), and a panel on this screen keeps
every top-up in doubt until the next push settles it, then says what to do
(keep the cash, or hand it back) until the cashier confirms it.
"""

from __future__ import annotations

import io
import time
from typing import Any

import segno
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from sync.ids import format_short_id
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
    doubts_shown = Signal(object)  # the list of TopUpDoubt now on the panel
    issued_signal = Signal(object)  # Decision of "New wallet" (approved: the wallet's QR is on screen)

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
        self.new_button = BigButton(role="primary")
        self.new_button.clicked.connect(self.issue_wallet)
        left.addWidget(self.new_button)
        self.new_wallet: Decision | None = None  # the wallet issued here, shown until "Done"
        self.new_loaded = 0  # what was loaded onto it so far
        self.doubts: list[Any] = []
        self._doubts_busy = False
        self.doubt_panel = QWidget()
        self.doubt_panel.setObjectName("doubt-panel")
        self.doubt_panel.setStyleSheet("#doubt-panel { background: #8a4b00; border-radius: 8px; }")
        panel = QVBoxLayout(self.doubt_panel)
        self.doubt_text = QLabel()
        self.doubt_text.setWordWrap(True)
        self.doubt_text.setStyleSheet("color: white; font-size: 20px; font-weight: bold; background: transparent;")
        self.doubt_confirm = BigButton(role="primary")
        self.doubt_confirm.clicked.connect(self.confirm_doubts)
        panel.addWidget(self.doubt_text)
        panel.addWidget(self.doubt_confirm)
        self.doubt_panel.hide()
        left.addWidget(self.doubt_panel)
        backend.sync_changed.connect(self._on_sync)
        left.addStretch(1)
        outer.addLayout(left, 3)
        right = QVBoxLayout()
        self.preview = CameraPreview()
        right.addWidget(self.preview, 1)
        self.new_panel = QWidget()
        self.new_panel.setObjectName("new-wallet")
        self.new_panel.setStyleSheet("#new-wallet { background: white; border-radius: 8px; } "
                                     "#new-wallet QLabel { color: black; background: transparent; }")
        panel = QVBoxLayout(self.new_panel)
        self.new_title = heading("", "h1")
        self.new_qr = QLabel()
        self.new_qr.setObjectName("new-wallet-qr")
        self.new_qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.new_caption = heading("", "hint")
        self.new_status = heading("", "hint")
        self.new_topup = BigButton(role="primary")
        self.new_topup.clicked.connect(self.top_up_new)
        self.new_done = BigButton()
        self.new_done.clicked.connect(self.close_new_wallet)
        for widget in (self.new_title, self.new_qr, self.new_caption, self.new_status, self.new_topup,
                       self.new_done):
            panel.addWidget(widget)
        self.new_panel.hide()
        right.addWidget(self.new_panel, 1)
        outer.addLayout(right, 2)
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
            if decision.params.get("in_doubt"):
                self.refresh_doubts()
            new = self.new_wallet
            if decision.approved and new is not None and decision.wallet_id == new.wallet_id:
                self.new_loaded += decision.amount
            if decision.approved or decision.params.get("in_doubt"):  # in doubt: held on the panel, not redone
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

    # ------------------------------------------------------------ a new wallet for a visitor

    def issue_wallet(self) -> None:
        """Ask the server for a new wallet on the worker; then show its QR and top it up."""
        overlay = getattr(self, "overlay", None)
        if self.busy or (overlay is not None and overlay.isVisible()):
            return
        self.busy = True
        self.hint.setText(self.tr("topup.new_asking"))

        def done(decision: Decision) -> None:
            self.busy = False
            self.issued_signal.emit(decision)
            if not decision.approved:
                show_decision(self, decision)
                self.retranslate()
                return
            self.new_wallet = decision
            self.new_loaded = 0
            self.new_qr.clear()  # this wallet's link, not the previous visitor's
            self._render_new_wallet()
            if self.amount > 0 and self.cash_received() >= self.amount:
                self.top_up_new()  # straight on: the amount and cash are chosen
            else:
                self.retranslate()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.issue_wallet(), on_done=done, on_error=failed)

    def top_up_new(self) -> None:
        """Top up the wallet issued here with the amount and cash chosen (the same path as a scan)."""
        wallet = self.new_wallet
        if wallet is None:
            return
        if self.amount <= 0 or self.cash_received() < self.amount:
            self.hint.setText(self.tr("topup.new_pick"))
            return
        self.on_scan(str(wallet.params.get("token", "")), time.monotonic())

    def close_new_wallet(self) -> None:
        """The visitor has their wallet: take its QR off the screen."""
        self.new_wallet = None
        self.new_loaded = 0
        self.new_qr.clear()
        self._render_new_wallet()
        self.retranslate()

    def _render_new_wallet(self) -> None:
        wallet = self.new_wallet
        self.new_panel.setVisible(wallet is not None)
        self.preview.setVisible(wallet is None)
        if wallet is None:
            return
        code = str(wallet.params.get("display_id", ""))
        url = str(wallet.params.get("signin_url", ""))
        self.new_title.setText(self.tr("topup.new_title", code=code))
        if url and self.new_qr.pixmap().isNull():
            png = io.BytesIO()
            segno.make(url, error="m").save(png, kind="png", scale=5, border=4)  # dark on white, quiet zone
            pixmap = QPixmap()
            pixmap.loadFromData(png.getvalue(), "PNG")
            self.new_qr.setPixmap(pixmap)
        self.new_qr.setVisible(bool(url))
        self.new_caption.setText(self.tr("topup.new_photo") if url else self.tr("topup.new_no_link"))
        self.new_status.setText(self.tr("topup.new_loaded", amount=self.backend.money(self.new_loaded))
                                if self.new_loaded else "")
        self.new_status.setVisible(bool(self.new_loaded))
        self.new_topup.setText(self.tr("topup.new_topup", code=code))
        self.new_done.setText(self.tr("topup.new_done"))

    def activate(self) -> None:
        """Show the top-ups still in doubt (or settled and not yet confirmed)."""
        self.refresh_doubts()

    def _on_sync(self, view: Any) -> None:
        if getattr(view, "doubts_to_show", 0) or self.doubts:
            self.refresh_doubts()

    def refresh_doubts(self) -> None:
        """Read the top-ups in doubt on the worker and show them on the panel."""
        if self._doubts_busy:
            return
        self._doubts_busy = True

        def done(doubts: list[Any]) -> None:
            self._doubts_busy = False
            self.set_doubts(doubts)

        def failed(exc: BaseException) -> None:
            self._doubts_busy = False
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.topup_doubts(), on_done=done, on_error=failed)

    def set_doubts(self, doubts: list[Any]) -> None:
        """Show ``doubts`` (TopUpDoubt rows): what to do with each one's cash."""
        self.doubts = list(doubts)
        self._render_doubts()
        self.doubts_shown.emit(self.doubts)

    def confirm_doubts(self) -> None:
        """The cashier did what the settled lines say: take them off the panel (open doubts stay)."""
        settled = [d.id for d in self.doubts if d.state != "in_doubt"]
        if not settled:
            return

        def work(engine: Any) -> list[Any]:
            for record_id in settled:
                engine.confirm_doubt(record_id)
            return list(engine.topup_doubts())

        self.backend.run(work, on_done=self.set_doubts)

    def _render_doubts(self) -> None:
        money = self.backend.money
        lines = []
        for d in self.doubts:
            prefix = "cashout" if getattr(d, "kind", "topup") == "cashout" else "topup"
            key = {"in_doubt": f"{prefix}.doubt_open", "booked": f"{prefix}.doubt_booked"}.get(
                d.state, f"{prefix}.doubt_refused")
            lines.append(("⏳ " if d.state == "in_doubt" else "✓ " if d.state == "booked" else "✗ ") + self.tr(
                key, amount=money(d.amount), wallet=format_short_id(d.wallet_id), cash=money(d.cash_received),
                change=money(d.cash_received - d.amount)))
        self.doubt_text.setText("\n".join(lines))
        self.doubt_confirm.setText(self.tr("topup.doubt_confirm"))
        self.doubt_confirm.setVisible(any(d.state != "in_doubt" for d in self.doubts))
        states = {d.state for d in self.doubts}
        colour = "#b3141b" if "refused" in states else "#8a4b00" if "in_doubt" in states else "#0f7b3a"
        self.doubt_panel.setStyleSheet(f"#doubt-panel {{ background: {colour}; border-radius: 8px; }}")
        self.doubt_panel.setVisible(bool(self.doubts))

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self._render_doubts()
        self._render_new_wallet()
        self.new_button.setText(self.tr("topup.new_wallet"))
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
            self.hint.setText(self.tr("topup.new_pick") if self.new_wallet is not None else self.tr("topup.scan"))

"""The shift close report: on screen, and saved as a text file in the terminal's data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from sync.money import AmountError, parse_amount
from terminal.decisions import Decision
from ui.messages import explain_reason
from ui.screens.base import Screen
from ui.widgets import BigButton, heading

__all__ = ["ShiftCloseScreen", "format_report"]


def format_report(screen: Screen, report: Any, *, staff: str) -> str:
    """Return the report as plain text in the current language."""
    money = screen.backend.money
    tr = screen.tr
    since = screen.backend.time(report.since_ms, "%Y-%m-%d %H:%M") if report.since_ms else "—"
    until = screen.backend.time(report.until_ms, "%Y-%m-%d %H:%M")
    lines = [
        f"{tr('shift.title')} — {screen.backend.terminal.name}",
        f"{tr('status.staff', name=staff)}",
        f"{since} → {until}",
        "",
        f"{tr('kind.sale'):<10} {report.sales_count:>5}   {money(report.sales_amount):>12}",
        f"{tr('kind.refund'):<10} {report.refunds_count:>5}   {money(-report.refunds_amount):>12}",
        f"{tr('kind.void'):<10} {report.voids_count:>5}   {money(-report.voids_amount):>12}",
        *([f"{tr('kind.deposit_return'):<10} {report.deposit_returns_count:>5}   "
            f"{money(-report.deposit_returns_amount):>12}"] if getattr(report, "deposit_returns_count", 0) else []),
        f"{tr('sale.total'):<10} {'':>5}   {money(report.net_sales):>12}",
        *([tr("shift.approved", n=report.approved_count)] if getattr(report, "approved_count", 0) else []),
        "",
        f"{tr('kind.topup'):<10} {report.topups_count:>5}   {money(report.topups_amount):>12}",
        f"{tr('shift.tendered'):<10} {'':>5}   {money(report.cash_received):>12}",
        f"{tr('shift.change'):<10} {'':>5}   {money(-report.change_given):>12}",
        *([f"{tr('kind.cashout'):<10} {report.cashouts_count:>5}   {money(-report.cashouts_amount):>12}"]
          if getattr(report, "cashouts_count", 0) else []),
        f"{tr('shift.cash_in'):<10} {'':>5}   {money(report.cash_expected):>12}",
        *_doubt_lines(report, tr, money),
        f"{tr('kind.checkin'):<10} {report.checkins_count:>5}",
        "",
        tr("status.unsynced", unsynced=report.unsynced_count) + f"   {money(report.unsynced_amount)}",
    ]
    if report.products:
        lines.append("")
        for product in report.products:
            lines.append(f"  {product.name:<16} × {product.qty:>4}   {money(product.amount):>10}")
    return "\n".join(lines) + "\n"


def _doubt_lines(report: Any, tr: Any, money: Any) -> list[str]:
    """Top-ups whose answer was lost: still in doubt, then booked, then refused (cash back)."""
    out = []
    for key, count, amount in (("shift.doubt_open", report.doubts_open_count, report.doubts_open_amount),
                               ("shift.doubt_booked", report.doubts_booked_count, report.doubts_booked_amount),
                               ("shift.doubt_refused", report.doubts_refused_count, report.doubts_refused_amount)):
        if count:
            out.append(f"{tr(key)}  {count:>3}   {money(amount):>12}")
    return out


class ShiftCloseScreen(Screen):
    """Shows the report; saves it; closes the shift (logs out)."""

    name = "shift"
    saved = Signal(str)  # the path written
    close_requested = Signal()
    drawer_closed = Signal(object)  # Decision of the drawer close-out

    def __init__(self, backend: Any, parent: QWidget | None = None, *, reports_dir: Path | None = None) -> None:
        """Build the screen; reports are written to ``reports_dir``."""
        super().__init__(backend, parent)
        self.reports_dir = reports_dir
        self.report: Any | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        self.title = heading()
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setStyleSheet("font-family: 'Noto Sans Mono CJK JP', monospace; font-size: 22px;")
        self.message = heading("", "hint")
        row = QHBoxLayout()
        self.save_button = BigButton(role="primary")
        self.save_button.clicked.connect(self.save)
        self.close_button = BigButton(role="danger")
        self.close_button.clicked.connect(self.close_requested.emit)
        row.addWidget(self.save_button)
        row.addWidget(self.close_button)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        # A top-up desk counts its drawer: the float it started with and the cash there now.
        self.drawer = QWidget()
        grid = QGridLayout(self.drawer)
        grid.setContentsMargins(0, 0, 0, 0)
        self.float_caption, self.counted_caption = QLabel(), QLabel()
        self.float_edit, self.counted_edit = QLineEdit(), QLineEdit()
        for edit in (self.float_edit, self.counted_edit):
            edit.setMaxLength(20)
            edit.setStyleSheet("font-size: 22px;")
        self.drawer_button = BigButton(role="primary")
        self.drawer_button.clicked.connect(self.close_drawer)
        self.drawer_result = heading("", "hint")
        grid.addWidget(self.float_caption, 0, 0)
        grid.addWidget(self.float_edit, 0, 1)
        grid.addWidget(self.counted_caption, 1, 0)
        grid.addWidget(self.counted_edit, 1, 1)
        grid.addWidget(self.drawer_button, 0, 2, 2, 1)
        grid.addWidget(self.drawer_result, 2, 0, 1, 3)
        self.drawer.setVisible(False)
        layout.addWidget(self.drawer)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.retranslate()

    def activate(self) -> None:
        """Load the current staff member's report on the worker."""
        self.message.setText("")
        self.drawer.setVisible(self.backend.terminal.mode == "topup")
        self.backend.run(lambda engine: engine.shift_report(), on_done=self.set_report)

    def set_report(self, report: Any) -> None:
        """Show ``report``."""
        self.report = report
        self.retranslate()

    def _render(self) -> str:
        staff = self.backend.staff.name if self.backend.staff else "—"
        return format_report(self, self.report, staff=staff) if self.report is not None else ""

    def save(self) -> None:
        """Write the report as a text file (on the worker) and say where."""
        if self.report is None or self.reports_dir is None:
            return
        text = self._render()
        stamp = self.backend.time(self.report.until_ms, "%Y%m%d-%H%M%S")
        path = self.reports_dir / f"shift-{stamp}-{self.report.staff_id or 'all'}.txt"

        def write(_engine: Any) -> str:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return str(path)

        def done(written: str) -> None:
            self.message.setText(self.tr("shift.saved", path=written))
            self.saved.emit(written)

        self.backend.run(write, on_done=done)

    def _amount(self, edit: QLineEdit) -> int | None:
        lang = self.backend.i18n.language
        try:
            value = parse_amount(edit.text(), self.backend.currency, lang=lang, max_minor=10**9)
        except AmountError as exc:
            self.drawer_result.setText("✗ " + exc.message(lang))
            return None
        return value

    def close_drawer(self) -> None:
        """Close the desk's drawer with the float and the counted cash typed (on the worker)."""
        start_float = self._amount(self.float_edit)
        counted = self._amount(self.counted_edit) if start_float is not None else None
        if start_float is None or counted is None:
            return

        def done(decision: Decision) -> None:
            self.show_drawer(decision)
            self.drawer_closed.emit(decision)
            if decision.approved:
                self.activate()

        self.backend.run(lambda engine: engine.close_drawer(start_float=start_float, counted=counted), on_done=done)

    def show_drawer(self, decision: Decision) -> None:
        """Show expected, counted and the difference (or why the drawer could not be closed)."""
        money = self.backend.money
        if not decision.approved:
            words = explain_reason(decision.reason, decision.params, currency=self.backend.currency)
            self.drawer_result.setText(f"✗ {words.headline}. {words.next_step}")
            return
        p = decision.params
        self.drawer_result.setText(self.tr("shift.drawer_done", expected=money(int(p["expected"])),
                                           counted=money(int(p["counted"])), difference=money(int(p["difference"]))))

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.float_caption.setText(self.tr("shift.float"))
        self.counted_caption.setText(self.tr("shift.counted"))
        self.drawer_button.setText(self.tr("shift.close_drawer"))
        self.title.setText(self.tr("shift.title"))
        self.save_button.setText(self.tr("shift.save"))
        self.close_button.setText(self.tr("shift.close_and_logout"))
        self.text.setPlainText(self._render())

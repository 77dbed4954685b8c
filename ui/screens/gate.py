"""Gate mode: an entry/exit toggle, a ticket scan, the result screen, and the people-inside count."""

from __future__ import annotations

from typing import Any, Literal

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from terminal.decisions import GateCounts, GateDecision
from ui.messages import explain_reason
from ui.screens.base import Screen
from ui.widgets import BigButton, CameraPreview, CodeEntry, heading

__all__ = ["REPEAT_S", "GateScreen"]

REPEAT_S = 10.0  # the ticket just decided, read again this soon in the same direction: the same person, ignored


class GateScreen(Screen):
    """Scans tickets in the chosen direction."""

    name = "gate"
    checked = Signal(object)  # GateDecision

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the screen, set to entry."""
        super().__init__(backend, parent)
        self.direction: Literal["in", "out"] = "in"
        self.counts = GateCounts(0, 0, 0)  # from the engine: all gates as far as this terminal knows
        self.busy = False
        self._last: tuple[str, str, float] | None = None  # (ticket text, direction, when decided)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 16, 24, 16)
        left = QVBoxLayout()
        self.title = heading()
        toggle = QHBoxLayout()
        self.entry_button = BigButton(role="toggle")
        self.exit_button = BigButton(role="toggle")
        for button, direction in ((self.entry_button, "in"), (self.exit_button, "out")):
            button.setCheckable(True)
            button.setMinimumHeight(120)
            button.setStyleSheet("font-size: 36px; font-weight: bold;")
            button.clicked.connect(lambda _=False, d=direction: self.set_direction(d))
            toggle.addWidget(button)
        self.inside_label = heading("", "total")
        self.inside_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.here_label = heading("", "hint")
        self.here_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = heading("", "hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count_timer = QTimer(self)
        self.count_timer.setInterval(5000)  # other gates' check-ins arrive with the pull
        self.count_timer.timeout.connect(self.refresh_counts)
        left.addWidget(self.title)
        left.addLayout(toggle)
        left.addStretch(1)
        left.addWidget(self.inside_label)
        left.addWidget(self.here_label)
        left.addWidget(self.hint)
        # No readable QR: the ticket code printed under it, typed and checked, decided from the pulled ticket.
        self.typed = CodeEntry(placeholder_key="gate.typed", button_key="gate.use_code", tr=self.tr)
        self.typed.entered.connect(self.on_typed)
        left.addWidget(self.typed)
        left.addStretch(1)
        outer.addLayout(left, 3)
        self.preview = CameraPreview()
        outer.addWidget(self.preview, 2)
        self.retranslate()

    def activate(self) -> None:
        """Showing: count now and every few seconds."""
        self.refresh_counts()
        self.count_timer.start()

    def deactivate(self) -> None:
        """Hidden: stop counting."""
        self.count_timer.stop()

    def refresh_counts(self) -> None:
        """Ask the engine (on the worker) for people inside and this gate's entries and exits."""
        if self.backend.engine is None or self.backend.terminal.mode != "gate":
            return
        self.backend.run(lambda engine: engine.gate_counts(), on_done=self._set_counts)

    def _set_counts(self, counts: GateCounts) -> None:
        self.counts = counts
        self._paint_counts()

    def _paint_counts(self) -> None:
        self.inside_label.setText(self.tr("gate.inside", count=f"{self.counts.inside:,}"))
        self.here_label.setText(self.tr("gate.here", entries=f"{self.counts.entries_here:,}",
                                        exits=f"{self.counts.exits_here:,}"))

    def set_direction(self, direction: Literal["in", "out"]) -> None:
        """Switch between entry and exit."""
        self.direction = direction
        self._last = None
        self.retranslate()

    def forget_repeat(self) -> None:
        """Staff tapped the result away: the next read of the same ticket is decided again (a deliberate re-check)."""
        self._last = None

    def is_repeat(self, text: str) -> bool:
        """True for the ticket just decided, still held up to the camera (read again within ``REPEAT_S``)."""
        if self._last is None:
            return False
        last_text, last_direction, at = self._last
        return (last_text == text and last_direction == self.direction
                and self.backend.clock.monotonic() - at < REPEAT_S)

    def on_typed(self, code: str) -> None:
        """A ticket code typed by staff: always decided (typing it again is a deliberate re-check)."""
        self._last = None
        self.on_scan(code, self.backend.clock.monotonic())

    def on_scan(self, text: str, captured_at: float) -> None:
        """Check the ticket in the current direction at once, even while the last result still shows.

        The queue never waits for the result screen: a new ticket replaces it.  The ticket just
        decided, still in view, is not decided again (it would read "already inside").
        """
        if self.busy or self.is_repeat(text):
            return
        overlay = getattr(self, "overlay", None)
        if overlay is not None and overlay.isVisible():
            overlay.dismiss()
        self.busy = True
        direction = self.direction

        def done(outcome: tuple[GateDecision, GateCounts]) -> None:
            self.busy = False
            decision, self.counts = outcome
            self._last = (text, direction, self.backend.clock.monotonic())
            self.show_gate_decision(decision)
            self.checked.emit(decision)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        def work(engine: Any) -> tuple[GateDecision, GateCounts]:
            decision = engine.check_in(text, direction)  # durable before it returns; the count comes after
            return decision, engine.gate_counts()

        self.backend.run(work, on_done=done, on_error=failed)

    def show_gate_decision(self, decision: GateDecision) -> None:
        """Fill the result overlay for a ticket and update the count."""
        overlay = getattr(self, "overlay", None)
        if decision.approved:
            self.backend.sounds.play("approve")
            headline = self.tr("result.gate_in" if decision.direction == "in" else "result.gate_out")
            if overlay is not None:
                overlay.show_result(approved=True, headline=headline,
                                    detail=self.tr("gate.inside", count=f"{self.counts.inside:,}"))
        else:
            words = explain_reason(decision.reason, decision.params, currency=self.backend.currency)
            self.backend.sounds.play("decline")
            headline = self.tr("result.gate_refused" if decision.direction == "in" else "result.gate_refused_out")
            if overlay is not None:
                overlay.show_result(approved=False, headline=headline, detail=words.headline,
                                    next_step=words.next_step)
        self.retranslate()

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.title.setText(self.tr("gate.title"))
        self.entry_button.setText("→ " + self.tr("gate.entry"))
        self.exit_button.setText("← " + self.tr("gate.exit"))
        self.entry_button.setChecked(self.direction == "in")
        self.exit_button.setChecked(self.direction == "out")
        self._paint_counts()
        self.hint.setText(self.tr("gate.scan"))
        self.typed.retranslate()

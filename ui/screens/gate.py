"""Gate mode: an entry/exit toggle, a ticket scan, the result screen, and the people-inside count."""

from __future__ import annotations

from typing import Any, Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from terminal.decisions import GateDecision
from ui.messages import explain_reason
from ui.screens.base import Screen
from ui.widgets import BigButton, CameraPreview, heading

__all__ = ["GateScreen"]


class GateScreen(Screen):
    """Scans tickets in the chosen direction."""

    name = "gate"
    checked = Signal(object)  # GateDecision

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the screen, set to entry."""
        super().__init__(backend, parent)
        self.direction: Literal["in", "out"] = "in"
        self.inside = 0  # people let in minus people let out by this terminal since start
        self.busy = False
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
        self.hint = heading("", "hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        left.addWidget(self.title)
        left.addLayout(toggle)
        left.addStretch(1)
        left.addWidget(self.inside_label)
        left.addWidget(self.hint)
        left.addStretch(1)
        outer.addLayout(left, 3)
        self.preview = CameraPreview()
        outer.addWidget(self.preview, 2)
        self.retranslate()

    def set_direction(self, direction: Literal["in", "out"]) -> None:
        """Switch between entry and exit."""
        self.direction = direction
        self.retranslate()

    def on_scan(self, text: str, captured_at: float) -> None:
        """Check the ticket in the current direction."""
        overlay = getattr(self, "overlay", None)
        if self.busy or (overlay is not None and overlay.isVisible()):
            return
        self.busy = True
        direction = self.direction

        def done(decision: GateDecision) -> None:
            self.busy = False
            self.show_gate_decision(decision)
            self.checked.emit(decision)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.check_in(text, direction), on_done=done, on_error=failed)

    def show_gate_decision(self, decision: GateDecision) -> None:
        """Fill the result overlay for a ticket and update the count."""
        overlay = getattr(self, "overlay", None)
        if decision.approved:
            self.inside = max(0, self.inside + (1 if decision.direction == "in" else -1))
            self.backend.sounds.play("approve")
            headline = self.tr("result.gate_in" if decision.direction == "in" else "result.gate_out")
            if overlay is not None:
                overlay.show_result(approved=True, headline=headline,
                                    detail=self.tr("gate.inside", count=self.inside))
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
        self.inside_label.setText(self.tr("gate.inside", count=self.inside))
        self.hint.setText(self.tr("gate.scan"))

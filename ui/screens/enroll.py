"""First run: enroll by showing the enrollment QR to the camera or pasting it; pick the camera and language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from scanner.sources import CameraInfo, list_cameras
from sync.enrollment import EnrollmentCode, EnrollmentCodeError
from terminal.errors import TerminalError
from ui.screens.base import Screen
from ui.widgets import BigButton, CameraPreview, fill_camera_choices, heading, language_buttons

__all__ = ["EnrollScreen"]


class EnrollScreen(Screen):
    """Set up a new terminal: the code, the camera, the language."""

    name = "enroll"
    needs_login = False
    enrolled = Signal(object)  # the TerminalRow the server gave
    camera_chosen = Signal(int)

    def __init__(self, backend: Any, parent: QWidget | None = None,
                 *, cameras: Callable[[], list[CameraInfo]] = list_cameras) -> None:
        """Build the screen; ``cameras`` lists the webcams to offer."""
        super().__init__(backend, parent)
        self.busy = False
        outer = QHBoxLayout(self)
        outer.setContentsMargins(40, 24, 40, 24)
        outer.setSpacing(24)
        left = QVBoxLayout()
        self.title = heading()
        self.intro = heading("", "hint")
        self.code_edit = QLineEdit()
        self.code_edit.returnPressed.connect(self.submit)
        self.submit_button = BigButton(role="primary")
        self.submit_button.clicked.connect(self.submit)
        self.message = heading("", "error")
        self.language_caption = heading("", "hint")
        lang_row, self.lang_buttons = language_buttons(self.backend.i18n.set_language)
        left.addWidget(self.title)
        left.addWidget(self.intro)
        left.addWidget(self.code_edit)
        left.addWidget(self.submit_button)
        left.addWidget(self.message)
        left.addStretch(1)
        left.addWidget(self.language_caption)
        left.addLayout(lang_row)
        outer.addLayout(left, 3)
        right = QVBoxLayout()
        self.camera_caption = heading("", "hint")
        self.camera_combo = QComboBox()
        self._cameras = cameras
        self.camera_combo.currentIndexChanged.connect(self._camera_picked)
        self.preview = CameraPreview()
        right.addWidget(self.camera_caption)
        right.addWidget(self.camera_combo)
        right.addWidget(self.preview, 1)
        outer.addLayout(right, 2)
        self.retranslate()

    def on_scan(self, text: str, captured_at: float) -> None:
        """A scanned enrollment code enrolls at once."""
        if not self.busy:
            self.code_edit.setText(text)
            self.submit()

    def submit(self) -> None:
        """Check the code, then enroll with the server on the worker."""
        text = self.code_edit.text().strip()
        if self.busy or not text:
            return
        try:
            EnrollmentCode.parse(text)
        except EnrollmentCodeError as exc:
            self.message.setText(self.tr("enroll.bad_code", detail=str(exc)))
            self.backend.sounds.play("decline")
            return
        self.busy = True
        self.submit_button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(self.tr("enroll.working"))

        def done(row: Any) -> None:
            self.busy = False
            self.submit_button.setEnabled(True)
            self.message.setText(self.tr("enroll.done", name=getattr(row, "name", "")))
            self.backend.sounds.play("approve")
            self.enrolled.emit(row)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.submit_button.setEnabled(True)
            reason = getattr(exc, "reason", "")
            if isinstance(exc, TerminalError) and reason in ("pin_mismatch", "tls_unreachable"):
                self.message.setText(self.tr(f"enroll.{reason}"))
                self.backend.sounds.play("decline")
            elif isinstance(exc, TerminalError):
                self.message.setText(self.tr("enroll.failed", detail=str(exc)))
                self.backend.sounds.play("decline")
            else:
                self.message.setText(self.tr("enroll.failed", detail=type(exc).__name__))
                self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.enroll(text), on_done=done, on_error=failed)

    def _camera_picked(self, _position: int) -> None:
        device = self.camera_combo.currentData()
        if device is not None:
            self.camera_chosen.emit(int(device))

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.title.setText(self.tr("enroll.title"))
        self.intro.setText(self.tr("enroll.intro"))
        self.code_edit.setPlaceholderText(self.tr("enroll.paste"))
        self.submit_button.setText(self.tr("enroll.submit"))
        self.language_caption.setText(self.tr("enroll.language"))
        self.camera_caption.setText(self.tr("enroll.camera"))
        fill_camera_choices(self.camera_combo, self.tr, self._cameras)
        for code, button in self.lang_buttons.items():
            button.setChecked(code == self.backend.i18n.language)
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft)

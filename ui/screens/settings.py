"""Settings behind ``terminal.settings``: the camera (with a live preview), the language, shutting down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from scanner.sources import CameraInfo, list_cameras
from sync.permissions import Permission
from terminal.decisions import LoginResult
from ui.screens.base import Screen
from ui.screens.login import BadgeAndPin
from ui.screens.supervisor import as_supervisor
from ui.widgets import BigButton, CameraPreview, fill_camera_choices, heading, language_buttons

__all__ = ["SettingsScreen"]


class SettingsScreen(Screen):
    """Locked until someone with the settings permission is logged in or shows a badge."""

    name = "settings"
    camera_chosen = Signal(int)
    shutdown_requested = Signal()

    def __init__(self, backend: Any, parent: QWidget | None = None,
                 *, cameras: Callable[[], list[CameraInfo]] = list_cameras) -> None:
        """Build the screen, locked."""
        super().__init__(backend, parent)
        self.unlocked = False
        self._cameras = cameras
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 16, 24, 16)
        self.panel = QWidget()
        left = QVBoxLayout(self.panel)
        self.title = heading()
        self.terminal_label = heading("", "hint")
        self.camera_caption = heading("", "hint")
        self.camera_combo = QComboBox()
        self.apply_camera = BigButton(role="primary")
        self.apply_camera.clicked.connect(lambda: self.camera_chosen.emit(int(self.camera_combo.currentData() or 0)))
        lang_row, self.lang_buttons = language_buttons(self.backend.i18n.set_language)
        self.shutdown_button = BigButton(role="danger")
        self.shutdown_button.clicked.connect(self.shutdown_requested.emit)
        for widget in (self.title, self.terminal_label, self.camera_caption, self.camera_combo, self.apply_camera):
            left.addWidget(widget)
        left.addLayout(lang_row)
        left.addStretch(1)
        left.addWidget(self.shutdown_button)
        outer.addWidget(self.panel, 3)
        self.preview = CameraPreview()
        outer.addWidget(self.preview, 2)
        self.lock = BadgeAndPin(prompt_key="settings.need_permission", submit_key="settings.unlock")
        self.lock.submitted.connect(self._unlock_with)
        outer.addWidget(self.lock, 3)
        self.retranslate()

    def activate(self) -> None:
        """Lock unless the logged-in staff member holds the settings permission."""
        self.unlocked = self.backend.may(Permission.TERMINAL_SETTINGS)
        self.lock.reset()
        self._show_lock()

    def _show_lock(self) -> None:
        self.panel.setVisible(self.unlocked)
        self.preview.setVisible(self.unlocked)
        self.lock.setVisible(not self.unlocked)

    def on_scan(self, text: str, captured_at: float) -> None:
        """A badge while locked."""
        if not self.unlocked:
            self.lock.take_badge(text)

    def _unlock_with(self, badge: str, pin: str) -> None:
        def done(outcome: Any) -> None:
            if isinstance(outcome, LoginResult):
                self.lock.refused(outcome)
                self.backend.sounds.play("decline")
                return
            self.unlocked = True
            self._show_lock()

        self.backend.run(
            lambda engine: as_supervisor(engine, badge, pin, Permission.TERMINAL_SETTINGS, lambda _e: True),
            on_done=done,
        )

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.title.setText(self.tr("settings.title"))
        self.terminal_label.setText(self.tr("settings.terminal", name=self.backend.terminal.name))
        self.camera_caption.setText(self.tr("settings.camera"))
        fill_camera_choices(self.camera_combo, self.tr, self._cameras)
        self.apply_camera.setText(self.tr("settings.apply_camera"))
        self.shutdown_button.setText(self.tr("settings.shutdown"))
        for code, button in self.lang_buttons.items():
            button.setChecked(code == self.backend.i18n.language)
        self.lock.retranslate()

"""The status bar, always visible: network (calm words when offline), last sync age, camera, staff."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from scanner.status import CameraState, CameraStatus
from ui.backend import StaffView, SyncView
from ui.i18n import tr
from ui.widgets import BigButton

__all__ = ["StatusBar", "age_text"]


def age_text(seconds: int) -> str:
    """Return a short age: 12 s, 4 min, 2 h."""
    if seconds < 60:
        return tr("age.seconds", n=seconds)
    if seconds < 3600:
        return tr("age.minutes", n=seconds // 60)
    return tr("age.hours", n=seconds // 3600)


class StatusBar(QWidget):
    """Shows network, sync age, camera state and who is logged in; language button at the end."""

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Create the bar and follow the backend's signals."""
        super().__init__(parent)
        self.backend = backend
        self.setObjectName("status-bar")
        self.setStyleSheet("#status-bar { background: #1d1b18; } #status-bar QLabel { color: white; font-size: 18px; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 2, 12, 2)
        row.setSpacing(24)
        self.network = QLabel()
        self.network.setObjectName("status-network")
        self.sync_age = QLabel()
        self.camera = QLabel()
        self.staff = QLabel()
        for label in (self.network, self.sync_age, self.camera, self.staff):
            row.addWidget(label)
        row.addStretch(1)
        self.lang_button = BigButton(role="nav")
        self.lang_button.setObjectName("language-button")
        self.lang_button.setMinimumHeight(52)
        self.lang_button.setStyleSheet("min-width: 220px; min-height: 36px; color: #1d1b18;")
        self.lang_button.clicked.connect(backend.i18n.toggle)
        row.addWidget(self.lang_button)
        self.camera_status: CameraStatus | None = None
        self.decoder_missing = False
        backend.sync_changed.connect(lambda _v: self.refresh())
        backend.staff_changed.connect(lambda _v: self.refresh())
        backend.i18n.language_changed.connect(lambda _l: self.refresh())
        self.refresh()

    def set_camera(self, status: CameraStatus) -> None:
        """Show a new camera state."""
        self.camera_status = status
        self.refresh()

    def network_text(self, sync: SyncView) -> str:
        """Return the network part: "● Online" or "▲ Offline since 12:03, 14 unsynced — sales go on"."""
        if sync.online:
            text = "● " + tr("status.online")
            if sync.unsynced_count:
                text += "  " + tr("status.unsynced", unsynced=sync.unsynced_count)
            return text
        if sync.offline_since_ms:
            since = self.backend.time(sync.offline_since_ms)
            text = tr("status.offline", since=since, unsynced=sync.unsynced_count)
        else:
            text = tr("status.offline_short") + "  " + tr("status.unsynced", unsynced=sync.unsynced_count)
        return f"▲ {text} — {tr('status.sales_go_on')}"

    def refresh(self) -> None:
        """Set every part from the backend's latest view."""
        sync: SyncView = self.backend.sync
        colour = "#7fe08f" if sync.online else "#ffd37a"  # amber, not red: offline is not an error
        self.network.setStyleSheet(f"color: {colour}; font-weight: bold; font-size: 18px;")
        text = self.network_text(sync)
        self.network.setText(text)
        bold = QFont(self.network.font())
        bold.setBold(True)
        bold.setPixelSize(18)
        self.network.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(text) + 12)
        if sync.last_sync_ms:
            age = max(0, (self.backend.clock.now_ms() - sync.last_sync_ms) // 1000)
            self.sync_age.setText(tr("status.synced_ago", age=age_text(int(age))))
        else:
            self.sync_age.setText(tr("status.never_synced"))
        if self.decoder_missing:
            state = tr("camera.no_decoder")
        elif self.camera_status is None:
            state = tr("camera.stopped")
        else:
            state = tr(f"camera.{self.camera_status.state.value}")
        ok = self.camera_status is not None and self.camera_status.state is CameraState.LIVE
        self.camera.setText(("◉ " if ok else "○ ") + tr("status.camera", state=state))
        self.lang_button.setText("あ/A  " + tr("common.language"))
        staff: StaffView | None = self.backend.staff
        self.staff.setText(tr("status.staff", name=staff.name) if staff else tr("status.no_staff"))

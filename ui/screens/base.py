"""What every screen shares: the app's services, a retranslate hook, and where scans arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from ui.i18n import tr

if TYPE_CHECKING:
    from ui.backend import Backend

__all__ = ["Screen"]


class Screen(QWidget):
    """A page of the main window's stack; ``name`` is how the window navigates to it."""

    name = "screen"
    needs_login = True
    scan_hint = ""  # what the camera is for on this screen (shown in the status line)

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        """Keep the backend and retranslate whenever the language changes."""
        super().__init__(parent)
        self.backend = backend
        self.setObjectName(f"screen-{self.name}")
        backend.i18n.language_changed.connect(lambda _lang: self.retranslate())

    def tr(self, key: str, **params: object) -> str:  # type: ignore[override]
        """Translate ``key`` in the current language."""
        return tr(key, **params)

    def retranslate(self) -> None:
        """Set every visible text again in the current language."""

    def activate(self) -> None:
        """Called when the screen is shown: refresh what it displays."""

    def deactivate(self) -> None:
        """Called when another screen replaces this one: stop what only matters while it shows."""

    def on_scan(self, text: str, captured_at: float) -> None:
        """Handle a scanned code (camera or USB scanner) while this screen is showing."""

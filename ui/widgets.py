"""Small touch-friendly widgets shared by the screens: big buttons, a keypad, the camera preview."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from scanner.manual import normalize_typed
from scanner.sources import CameraInfo, list_cameras
from sync.ids import ShortIdError, format_short_id, parse_short_id
from sync.schemas import PRODUCT_COLOUR_SHADES

__all__ = ["LANGUAGES", "MIN_TOUCH", "STYLE", "BigButton", "CameraPreview", "Keypad", "clear_layout",
           "fill_camera_choices", "heading", "language_buttons"]

MIN_TOUCH = 64  # px: nothing a finger must hit is smaller
LANGUAGES = (("ja", "日本語"), ("en", "English"))  # each named in itself, so anyone finds their own

STYLE = """
QWidget { font-size: 20px; }
QMainWindow, QStackedWidget > QWidget { background: #f6f4ef; }
QPushButton {
    min-height: 48px; min-width: 48px; border-radius: 10px; padding: 6px 14px;
    background: #ffffff; border: 2px solid #9a948a; color: #1d1b18;
}
QPushButton:pressed { background: #e7e1d6; }
QPushButton:disabled { color: #8a857c; background: #eeeae3; border-color: #cfcac1; }
QPushButton[role="primary"] { background: #1f5fae; color: white; border-color: #174a88; font-weight: bold; }
QPushButton[role="danger"] { background: #ffffff; color: #a31515; border-color: #a31515; font-weight: bold; }
QPushButton[role="product"] { font-size: 22px; font-weight: bold; text-align: center; }
""" + "".join(  # a product's colour (a palette name, sync.schemas): a tint behind the words, a strong left edge
    f'QPushButton[role="product"][colour="{name}"] {{ background: {tint}; border-color: {edge}; '
    f'border-left-width: 12px; }}\n' for name, (tint, edge) in PRODUCT_COLOUR_SHADES.items()) + """\
QPushButton[role="product"][soldout="true"] { background: #d9d5cd; color: #6b665e; border-style: dashed; }
QPushButton[role="nav"] { font-size: 18px; }
QPushButton[role="toggle"]:checked { background: #1d1b18; color: white; }
QLabel[role="h1"] { font-size: 34px; font-weight: bold; color: #1d1b18; }
QLabel[role="total"] { font-size: 56px; font-weight: bold; color: #1d1b18; }
QLabel[role="hint"] { font-size: 22px; color: #3d3a35; }
QLabel[role="error"] { font-size: 22px; color: #a31515; font-weight: bold; }
QListWidget { font-size: 20px; background: white; }
QListWidget::item { min-height: 56px; }
QLineEdit { min-height: 44px; font-size: 24px; padding: 4px 10px; background: white; }
QComboBox { min-height: 48px; font-size: 20px; }
"""


def clear_layout(layout: QLayout) -> None:
    """Take every item out of ``layout`` and delete its widgets (later, on the event loop)."""
    while layout.count():
        taken = layout.takeAt(0)
        widget = taken.widget() if taken is not None else None
        if widget is not None:
            widget.deleteLater()


def heading(text: str = "", role: str = "h1") -> QLabel:
    """Return a label styled as ``role`` (h1, hint, total, error)."""
    label = QLabel(text)
    label.setProperty("role", role)
    label.setWordWrap(True)
    return label


class BigButton(QPushButton):
    """A push button at least ``MIN_TOUCH`` pixels each way, styled by role."""

    def __init__(self, text: str = "", *, role: str = "", parent: QWidget | None = None) -> None:
        """Create the button; ``role`` picks the style (primary, danger, product, nav, toggle)."""
        super().__init__(text, parent)
        if role:
            self.setProperty("role", role)
        # Height only: a layout may not squeeze a button narrower than its words (the style's
        # min-width and padding keep it at least MIN_TOUCH wide).
        self.setMinimumHeight(MIN_TOUCH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the text field or the scanner, never a button

    def restyle(self) -> None:
        """Apply a changed dynamic property to the style."""
        self.style().unpolish(self)
        self.style().polish(self)


class Keypad(QWidget):
    """Digits 0-9, 00, clear and delete; emits the edited text."""

    changed = Signal(str)

    def __init__(self, *, max_len: int = 7, masked: bool = False, parent: QWidget | None = None) -> None:
        """Create the keypad; ``masked`` hides the digits in ``display``."""
        super().__init__(parent)
        self.max_len = max_len
        self.masked = masked
        self._text = ""
        grid = QGridLayout(self)
        grid.setSpacing(6)
        grid.setContentsMargins(0, 0, 0, 0)
        keys = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "C", "0", "⌫"]
        self.buttons: dict[str, BigButton] = {}
        for index, key in enumerate(keys):
            button = BigButton(key)
            button.setMinimumSize(80, MIN_TOUCH)
            button.clicked.connect(lambda _=False, k=key: self.press(k))
            grid.addWidget(button, index // 3, index % 3)
            self.buttons[key] = button

    @property
    def text(self) -> str:
        """Return the digits entered so far."""
        return self._text

    def display(self) -> str:
        """Return what to show: the digits, or dots when masked."""
        return "●" * len(self._text) if self.masked else self._text

    def set_text(self, text: str) -> None:
        """Replace the digits (non-digits are dropped)."""
        self._text = "".join(ch for ch in text if ch.isdigit())[: self.max_len]
        self.changed.emit(self._text)

    def press(self, key: str) -> None:
        """Act on one key: a digit, ``C`` (clear) or ``⌫`` (delete)."""
        if key == "C":
            self.set_text("")
        elif key == "⌫":
            self.set_text(self._text[:-1])
        elif key.isdigit() and len(self._text) < self.max_len:
            self.set_text(self._text + key)


class CameraPreview(QLabel):
    """Shows the newest preview image, scaled to fit, with the camera state as text when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Create an empty preview."""
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(200, 150))
        self.setStyleSheet("background: #222; color: #eee; border-radius: 8px; font-size: 18px;")
        self.setWordWrap(True)
        self.frames_shown = 0

    def show_image(self, image: QImage) -> None:
        """Show ``image`` scaled into the label."""
        if not self.isVisible():
            return
        pixmap = QPixmap.fromImage(image).scaled(
            self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
        self.setPixmap(pixmap)
        self.frames_shown += 1

    def show_message(self, text: str) -> None:
        """Show ``text`` instead of a picture (camera missing, busy...)."""
        self.clear()
        self.setText(text)


def fill_camera_choices(combo: QComboBox, tr: Callable[..., str],
                        cameras: Callable[[], list[CameraInfo]] = list_cameras) -> None:
    """List the webcams the system reports by name (device number as item data), keeping the choice.

    Where the system names none (Windows, macOS, or no camera plugged in yet) device numbers 0-3 are offered.
    """
    chosen = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    found = cameras()
    if found:
        for camera in found:
            combo.addItem(tr("settings.camera_named", n=camera.index, name=camera.name), camera.index)
    else:
        for n in range(4):
            combo.addItem(tr("settings.camera_n", n=n), n)
    combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)
    combo.blockSignals(False)


def language_buttons(set_language: Callable[[str], None]) -> tuple[QHBoxLayout, dict[str, BigButton]]:
    """A row of toggle buttons, one per language; a tap switches the whole app at once."""
    row = QHBoxLayout()
    buttons: dict[str, BigButton] = {}
    for code, label in LANGUAGES:
        button = BigButton(label, role="toggle")
        button.setCheckable(True)
        button.clicked.connect(lambda _=False, c=code: set_language(c))
        row.addWidget(button)
        buttons[code] = button
    return row, buttons


def typed_code_problem(text: str) -> tuple[int | None, str]:
    """Read a typed short code; return (value, "") or (None, the i18n key saying what is wrong)."""
    plain = normalize_typed(text)
    if not plain:
        return None, "code.empty"
    try:
        return parse_short_id(plain), ""
    except ShortIdError as exc:
        message = str(exc)
        if "check character does not" in message:
            return None, "code.check"
        if "characters, got" in message:
            return None, "code.length"
        return None, "code.symbol"


class CodeEntry(QWidget):
    """A typed short code (``K7M2-QX4P-9``) for when there is no camera or scanner: checked before it is used.

    The check character catches a mistyped or swapped character here, with a
    sentence in the current language; only a code that reads is emitted, in its
    canonical grouped form, as ``entered`` (the same path as a scan).
    """

    entered = Signal(str)

    def __init__(self, *, placeholder_key: str, button_key: str, tr: Callable[..., str],
                 parent: QWidget | None = None) -> None:
        """Create the field and its button; texts come from ``tr`` with the two keys."""
        super().__init__(parent)
        self._tr = tr
        self.placeholder_key = placeholder_key
        self.button_key = button_key
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        self.edit = QLineEdit()
        self.edit.setMaxLength(24)
        self.edit.setMinimumWidth(300)
        self.edit.returnPressed.connect(self.submit)
        self.button = BigButton(role="primary")
        self.button.clicked.connect(self.submit)
        self.button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row.addWidget(self.edit, 1)
        row.addWidget(self.button)
        layout.addLayout(row)
        self.error = heading("", "error")
        self.error.hide()
        layout.addWidget(self.error)
        self._error_key = ""
        self.retranslate()

    def submit(self) -> None:
        """Check the typed code; emit it when it reads, else say what is wrong."""
        value, problem = typed_code_problem(self.edit.text())
        self._error_key = problem
        self._show_error()
        if value is None:
            return
        self.edit.clear()
        self.entered.emit(format_short_id(value))

    def retranslate(self) -> None:
        """Set the texts in the current language."""
        self.edit.setPlaceholderText(self._tr(self.placeholder_key))
        self.button.setText(self._tr(self.button_key))
        self._show_error()

    def _show_error(self) -> None:
        self.error.setText(self._tr(self._error_key) if self._error_key else "")
        self.error.setVisible(bool(self._error_key))

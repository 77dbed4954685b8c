"""Key events as a USB (HID) barcode scanner sends them, for the real window offscreen.

A HID scanner is a keyboard: for each character it presses the key it finds in
*its* keyboard-country table, holding Shift for upper case and for ``: $ % * +``;
the host turns each key into text with *its* layout.  ``hid_sequence`` makes
those press/release events (Shift press, key press, key release, Shift release),
with the text the host would produce, so a test sees what Qt delivers from a
real scanner: the US/JIS mismatches and Caps Lock included.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["FakeClock", "hid_sequence", "send_keys", "type_like_scanner"]

# (scanner country, character) -> (physical key as the host names it, shift held, text the host types), where it
# differs from "same key, same character".  US scanner on a JIS host: Shift+; is "+", Shift+8 "(", Shift+= "~".
_MISMATCH = {
    ("us", "jis"): {":": (Qt.Key.Key_Plus, True, "+"), "*": (Qt.Key.Key_ParenLeft, True, "("),
                    "+": (Qt.Key.Key_AsciiTilde, True, "~")},
    # JIS scanner on a US host: the JIS ':' key is the US "'" key; Shift+: is '"'; Shift+; is ':'.
    ("jis", "us"): {":": (Qt.Key.Key_Apostrophe, False, "'"), "*": (Qt.Key.Key_QuoteDbl, True, '"'),
                    "+": (Qt.Key.Key_Colon, True, ":")},
}
_SHIFTED = set(":$%*+") | {chr(c) for c in range(ord("A"), ord("Z") + 1)}
_SYMBOL_KEYS = {":": Qt.Key.Key_Colon, "$": Qt.Key.Key_Dollar, "%": Qt.Key.Key_Percent, "*": Qt.Key.Key_Asterisk,
                "+": Qt.Key.Key_Plus, " ": Qt.Key.Key_Space, "-": Qt.Key.Key_Minus, ".": Qt.Key.Key_Period,
                "/": Qt.Key.Key_Slash, "@": Qt.Key.Key_At, "=": Qt.Key.Key_Equal, "_": Qt.Key.Key_Underscore,
                "\r": Qt.Key.Key_Return, "\t": Qt.Key.Key_Tab}


class FakeClock:
    """A monotonic clock moved by hand: the wedge's key times, without waiting."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def _key_for(ch: str) -> Qt.Key:
    if ch.isascii() and ch.isalnum():
        return Qt.Key(ord(ch.upper()))
    return _SYMBOL_KEYS.get(ch, Qt.Key.Key_unknown)


def hid_sequence(text: str, *, scanner: str = "us", host: str = "us", caps_lock: bool = False,
                 suffix: str = "\r") -> Iterator[tuple[QEvent.Type, Qt.Key, Qt.KeyboardModifier, str]]:
    """Yield (type, key, modifiers, text) for each event a HID scanner sends for ``text`` + ``suffix``."""
    mismatch = _MISMATCH.get((scanner, host), {})
    for ch in text + suffix:
        if ch in mismatch:
            key, shift, out = mismatch[ch]
        else:
            key, shift, out = _key_for(ch), ch in _SHIFTED, ch
            if ch in "\r\t":
                out = "\r" if ch == "\r" else "\t"
        if caps_lock and ch.isascii() and ch.isalpha():
            out = out.swapcase()  # Caps Lock on the host inverts what Shift does to letters
        mods = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
        if shift:
            yield QEvent.Type.KeyPress, Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier, ""
        yield QEvent.Type.KeyPress, key, mods, out
        yield QEvent.Type.KeyRelease, key, mods, out
        if shift:
            yield QEvent.Type.KeyRelease, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier, ""


def send_keys(target: QWidget, events: Iterator[tuple[QEvent.Type, Qt.Key, Qt.KeyboardModifier, str]],
              clock: FakeClock, *, gap: float = 0.004, repeat: bool = False) -> None:
    """Send key events to ``target`` through the application (its event filters see them), ``gap`` s apart."""
    for etype, key, mods, out in events:
        if etype == QEvent.Type.KeyPress:
            clock.advance(gap)
        event = QKeyEvent(etype, key, mods, out, repeat)
        QApplication.sendEvent(target, event)


def type_like_scanner(target: QWidget, text: str, clock: FakeClock, **kwargs: object) -> None:
    """A HID scanner types ``text`` into ``target`` (options as ``hid_sequence``)."""
    gap = float(kwargs.pop("gap", 0.004))  # type: ignore[arg-type]
    send_keys(target, hid_sequence(text, **kwargs), clock, gap=gap)  # type: ignore[arg-type]


def type_like_person(target: QWidget, text: str, clock: FakeClock) -> None:
    """A person types ``text`` into ``target`` at 0.3 s a key (never taken for a scanner's burst), then Enter."""
    type_like_scanner(target, text, clock, suffix="\r", gap=0.3)

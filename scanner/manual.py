"""Manual entry: the short code of a wallet or ticket, typed by hand, checked by its check character.

The parsing itself is ``sync.ids``; this module makes what people really type
readable first (full-width characters from a Japanese IME, long dashes) and
turns a failure into a ``ManualEntryError`` whose text is safe for the kiosk.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from scanner.errors import ManualEntryError
from sync.ids import ShortIdError, format_short_id, parse_short_id

__all__ = ["ShortCode", "format_as_typed", "normalize_typed", "read_short_code"]

# Dashes a Japanese keyboard or IME produces in place of "-".
_DASHES = dict.fromkeys(map(ord, "ー－―‐‑–—−ｰ"), "-")
_MESSAGE_JA = {
    "check": "確認文字が一致しません。入力を確かめてください。",
    "length": "コードは9文字です（例: K7M2-QX4P-9）。",
    "symbol": "コードに使われない文字があります。",
}


@dataclass(frozen=True)
class ShortCode:
    """A short code read from the keyboard: its value and its canonical grouped text."""

    value: int
    text: str


def normalize_typed(text: str) -> str:
    """Return ``text`` with full-width characters and dash look-alikes made plain, upper-cased."""
    return unicodedata.normalize("NFKC", text.translate(_DASHES)).translate(_DASHES).strip().upper()


def read_short_code(text: str) -> ShortCode:
    """Return the short code typed as ``text``; raises ManualEntryError (safe message) when it does not read."""
    try:
        value = parse_short_id(normalize_typed(text))
    except ShortIdError as exc:
        message = str(exc)
        kind = "check" if "check" in message else "length" if "characters" in message else "symbol"
        raise ManualEntryError(f"{message} / {_MESSAGE_JA[kind]}") from exc
    return ShortCode(value, format_short_id(value))


def format_as_typed(text: str) -> str:
    """Return partial input grouped as the person types (``k7m2q`` -> ``K7M2-Q``), for the entry field."""
    chars = "".join(ch for ch in normalize_typed(text) if ch not in " -")[:9]
    groups = [chars[:4], chars[4:8], chars[8:]]
    return "-".join(g for g in groups if g)

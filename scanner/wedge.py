"""USB barcode scanners that type like a keyboard ("keyboard wedge"), as a pure state machine.

A scanner types a whole code in a burst, a few milliseconds per key; a person
types far slower.  ``KeyboardWedge`` is fed every key with its time and holds
keys back until it knows which they are:

* a burst of at least ``min_length`` keys, each within ``max_gap`` seconds of
  the one before, ended by Enter/Tab or by ``end_gap`` seconds of silence,
  is a scan;
* anything else is a person typing, and is handed back as ``release`` so the
  adapter can deliver it to the focused widget, in order.

The Qt event filter in ui/ only does::

    out = wedge.feed_key(event.text(), clock())   # and swallows the key
    out = wedge.poll(clock())                     # from a ~20 ms timer
    for scan in out.scans: ...; if out.release: retype it into the focus

Scanned text is cleaned: control characters, AIM symbology identifiers and
ECI escapes are stripped, and an Ennichi prefix garbled by a US/JIS keyboard
layout mismatch is repaired (see ``repair_layout``).  Other text passes
through as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["KeyboardWedge", "WedgeOutput", "WedgeScan", "clean_scan_text", "repair_layout"]

_END_KEYS = frozenset("\r\n\t")
_BASE45 = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_ENNICHI = re.compile(r"^E[WTS]1")
# A scanner set to a US layout typing into a Japanese (JIS) host: Shift+; gives "+", not ":".
_US_ON_JIS = str.maketrans({"+": ":", "(": "*", "~": "+"})
# A scanner set to JIS typing into a US host: the JIS ":" key is the US "'" key, and so on.
_JIS_ON_US = str.maketrans({"'": ":", '"': "*", ":": "+"})
_AIM_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_ECI = re.compile(r"\\(\d{6})")


@dataclass(frozen=True)
class WedgeScan:
    """A code typed by a barcode scanner, cleaned; ``raw`` is what arrived, for the logs."""

    text: str
    raw: str
    started_at: float
    ended_at: float
    repaired: str | None = None  # "us-on-jis" or "jis-on-us" when the layout was repaired


@dataclass(frozen=True)
class WedgeOutput:
    """What the adapter must do after a key or a poll: report scans, retype released keys."""

    scans: tuple[WedgeScan, ...] = ()
    release: str = ""


@dataclass
class _Burst:
    """The keys held back so far."""

    keys: list[tuple[str, float]] = field(default_factory=list)


def repair_layout(text: str) -> tuple[str, str | None]:
    """Return ``text`` with a US/JIS-garbled Ennichi prefix and body repaired, and which repair applied."""
    if len(text) < 4 or not _ENNICHI.match(text.upper()):
        return text, None
    if text[:3].islower():  # Caps Lock on the host: base45 has no lower case
        text = text.swapcase()
    sep = text[3]
    if sep == ":":
        return text, None
    for marker, table, label in (("+", _US_ON_JIS, "us-on-jis"), ("'", _JIS_ON_US, "jis-on-us")):
        if sep == marker:
            fixed = text.translate(table)
            if set(fixed) <= _BASE45:
                return fixed, label
    return text, None


def clean_scan_text(raw: str) -> str:
    """Strip control characters, a leading AIM identifier (``]Q1``) and ECI escapes (``\\000026``)."""
    text = "".join(ch for ch in raw if ch >= " " and ch != "\x7f")
    text = _AIM_ID.sub("", text, count=1)
    if _ECI.search(text):
        text = _ECI.sub("", text).replace("\\\\", "\\")
    return text


class KeyboardWedge:
    """Separates barcode-scanner bursts from human typing; fed (text, time) events, time injected."""

    def __init__(self, *, max_gap: float = 0.05, end_gap: float = 0.1, min_length: int = 6) -> None:
        """Configure burst detection; raises ValueError when end_gap is shorter than max_gap."""
        if end_gap < max_gap:
            raise ValueError("end_gap must be at least max_gap")
        self.max_gap = max_gap
        self.end_gap = end_gap
        self.min_length = min_length
        self._burst = _Burst()

    @property
    def holding(self) -> bool:
        """Return True while keys are held back (the adapter should keep polling)."""
        return bool(self._burst.keys)

    def feed_key(self, text: str, t: float) -> WedgeOutput:
        """Take one key event's text (``"\\r"`` for Enter, ``"\\t"`` for Tab) at time ``t``."""
        out = self.poll(t)
        scans, release = list(out.scans), out.release
        for ch in text:
            keys = self._burst.keys
            if keys and t - keys[-1][1] > self.max_gap:
                finished = self._finish(ended_by_key=False)
                scans.extend(finished.scans)
                release += finished.release
                keys = self._burst.keys
            if ch in _END_KEYS:
                keys.append((ch, t))
                finished = self._finish(ended_by_key=True)
                scans.extend(finished.scans)
                release += finished.release
                continue
            keys.append((ch, t))
        return WedgeOutput(tuple(scans), release)

    def poll(self, t: float) -> WedgeOutput:
        """Let time pass to ``t``: a burst silent for ``end_gap`` ends (a scan), a lone slow key is released."""
        keys = self._burst.keys
        if not keys:
            return WedgeOutput()
        silence = t - keys[-1][1]
        if silence >= self.end_gap or (silence > self.max_gap and len(keys) < self.min_length):
            return self._finish(ended_by_key=False)
        return WedgeOutput()

    def _finish(self, *, ended_by_key: bool) -> WedgeOutput:
        """Close the held keys: a scan when they form a long enough burst, else released as typing."""
        keys, self._burst = self._burst.keys, _Burst()
        body = keys[:-1] if ended_by_key else keys
        if len(body) < self.min_length:
            return WedgeOutput(release="".join(ch for ch, _ in keys))
        raw = "".join(ch for ch, _ in body)
        text, repaired = repair_layout(clean_scan_text(raw))
        if not text:
            return WedgeOutput(release="".join(ch for ch, _ in keys))
        return WedgeOutput((WedgeScan(text, raw, body[0][1], body[-1][1], repaired),))

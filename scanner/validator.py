"""Turns detections across frames into scans: one code in view, seen stably, not repeated too soon.

Rules, in the stall's words:

* Only one code may be in view.  A frame with two different codes (two
  phones, a phone and a printed card) gives no scan.
* A code counts once it was read in ``stable_frames`` frames, each no more
  than ``stable_gap`` seconds after the one before (a blurred frame in
  between does not break the streak).
* After a code is reported it is not reported again within ``cooldown``
  seconds, unless it left the view: not read for ``leave_after`` seconds and
  ``leave_frames`` decoded frames.  Taken away and shown again is a new scan.
  Held in view past the cooldown, it is reported again (the terminal decides
  whether a repeat means anything); ``cooldown=None`` reports a held code once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ScanValidator"]


@dataclass
class _Seen:
    """What the validator remembers about one code."""

    last_seen: float
    misses: int = 0
    reported_at: float | None = None
    left: bool = False


class ScanValidator:
    """Decides, frame by frame, when a detected code becomes a scan; time is passed in, never read."""

    def __init__(
        self,
        *,
        stable_frames: int = 2,
        stable_gap: float = 0.5,
        cooldown: float | None = 3.0,
        leave_after: float = 0.4,
        leave_frames: int = 3,
    ) -> None:
        """Configure the rules; raises ValueError for a stable_frames below 1."""
        if stable_frames < 1:
            raise ValueError("stable_frames must be at least 1")
        self.stable_frames = stable_frames
        self.stable_gap = stable_gap
        self.cooldown = cooldown
        self.leave_after = leave_after
        self.leave_frames = leave_frames
        self._seen: dict[str, _Seen] = {}
        self._candidate: str | None = None
        self._streak = 0
        self._candidate_at = 0.0

    def feed(self, texts: Iterable[str], now: float) -> str | None:
        """Take the codes read in one frame at time ``now``; return the text when it becomes a scan."""
        in_view = set(texts)
        self._age(in_view, now)
        for text in in_view:
            entry = self._seen.get(text)
            if entry is None:
                self._seen[text] = _Seen(now)
            else:
                entry.last_seen = now
                entry.misses = 0
        if len(in_view) != 1:
            if in_view:  # ambiguous: more than one code in view
                self._candidate, self._streak = None, 0
            return None
        (text,) = in_view
        if text == self._candidate and now - self._candidate_at <= self.stable_gap:
            self._streak += 1
        else:
            self._candidate, self._streak = text, 1
        self._candidate_at = now
        if self._streak < self.stable_frames:
            return None
        entry = self._seen[text]
        if entry.reported_at is not None and not entry.left:
            if self.cooldown is None or now - entry.reported_at < self.cooldown:
                return None
        entry.reported_at = now
        entry.left = False
        return text

    def _age(self, in_view: set[str], now: float) -> None:
        """Count misses for codes out of view, mark those that left, forget the long gone."""
        for text in list(self._seen):
            if text in in_view:
                continue
            entry = self._seen[text]
            entry.misses += 1
            if entry.misses >= self.leave_frames and now - entry.last_seen >= self.leave_after:
                if entry.reported_at is None:
                    del self._seen[text]
                    continue
                entry.left = True
                if self.cooldown is None or now - entry.reported_at >= self.cooldown:
                    del self._seen[text]

    def reset(self) -> None:
        """Forget every code (for example when the stall switches screens)."""
        self._seen.clear()
        self._candidate, self._streak = None, 0

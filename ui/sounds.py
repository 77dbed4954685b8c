"""Distinct approve / decline sounds, generated as small WAV files at start-up; never blocks, never crashes.

PySide6-Essentials has no QtMultimedia, so the players are tried in order:
QSoundEffect (when the full PySide6 is installed), then a system player run
as a detached process (``paplay``/``aplay`` on Linux, ``afplay`` on macOS,
``winsound`` asynchronously on Windows), then ``QApplication.beep``.  Any
failure is logged once and the next player is used; a kiosk without a sound
card simply stays silent.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

__all__ = ["SOUNDS", "Sounds", "make_wav"]

log = logging.getLogger(__name__)
RATE = 22_050
# name -> list of (frequency Hz, seconds); 0 Hz is a pause.  Approve rises, decline is low and doubled.
SOUNDS: dict[str, list[tuple[float, float]]] = {
    "approve": [(880.0, 0.09), (1320.0, 0.16)],
    "decline": [(220.0, 0.18), (0.0, 0.06), (220.0, 0.28)],
    "scan": [(1760.0, 0.04)],
}


def make_wav(path: Path, notes: list[tuple[float, float]], *, volume: float = 0.5) -> Path:
    """Write a 16-bit mono WAV of ``notes`` to ``path`` (short fades, no clicks) and return it."""
    frames = bytearray()
    for freq, seconds in notes:
        count = int(RATE * seconds)
        fade = max(1, int(RATE * 0.008))
        for i in range(count):
            env = min(1.0, i / fade, (count - i) / fade)
            sample = volume * env * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            if freq and freq < 400:  # a square-ish edge makes the decline buzz unmistakable
                sample = volume * env * (1.0 if sample >= 0 else -1.0) * 0.6
            frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


class Sounds:
    """Plays the named sounds; ``played`` records what was asked, for tests and the log."""

    def __init__(self, *, enabled: bool = True, folder: Path | None = None) -> None:
        """Generate the WAV files into ``folder`` (a temporary one by default) and pick a player."""
        self.enabled = enabled
        self.played: list[str] = []
        self._folder = folder or Path(tempfile.mkdtemp(prefix="ennichi-sounds-"))
        self._files: dict[str, Path] = {}
        self._effects: dict[str, Any] = {}
        self._play: Callable[[str], None] = self._beep
        self.backend = "beep"
        if not enabled:
            self.backend = "off"
            return
        try:
            for name, notes in SOUNDS.items():
                self._files[name] = make_wav(self._folder / f"{name}.wav", notes)
        except OSError:
            log.exception("cannot write the sound files; falling back to the system beep")
            return
        self._choose_player()

    def _choose_player(self) -> None:
        """Pick the first player that exists on this machine."""
        try:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QSoundEffect  # type: ignore[import-not-found, unused-ignore]

            for name, path in self._files.items():
                effect = QSoundEffect()
                effect.setSource(QUrl.fromLocalFile(str(path)))
                self._effects[name] = effect
            self._play, self.backend = self._play_effect, "qsoundeffect"
            return
        except ImportError:
            pass
        if sys.platform == "win32":
            self._play, self.backend = self._play_winsound, "winsound"
            return
        for tool in ("paplay", "aplay", "afplay"):
            exe = shutil.which(tool)
            if exe:
                self._tool = [exe] + (["-q"] if tool == "aplay" else [])
                self._play, self.backend = self._play_process, tool
                return

    def play(self, name: str) -> None:
        """Play ``name`` ("approve", "decline", "scan") without waiting; never raises."""
        self.played.append(name)
        del self.played[:-50]
        if not self.enabled:
            return
        try:
            self._play(name)
        except Exception:
            log.exception("sound %s failed on %s; falling back to the system beep", name, self.backend)
            self._play, self.backend = self._beep, "beep"

    def _play_effect(self, name: str) -> None:
        self._effects[name].play()

    def _play_winsound(self, name: str) -> None:  # pragma: no cover - Windows only
        import winsound

        winsound.PlaySound(str(self._files[name]), winsound.SND_FILENAME | winsound.SND_ASYNC)  # type: ignore[attr-defined]

    def _play_process(self, name: str) -> None:
        self._procs = [p for p in getattr(self, "_procs", []) if p.poll() is None]  # reap finished players
        self._procs.append(subprocess.Popen(  # never waited for on the UI thread
            [*self._tool, str(self._files[name])],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        ))

    def _beep(self, name: str) -> None:
        QApplication.beep()
        if name == "decline":
            QApplication.beep()

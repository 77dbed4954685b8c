"""Capture on its own thread, handing over only the newest frame, with status and reconnection.

``Capture.step()`` does one unit of work (try to open, or read one frame) and
is what the thread loops over; tests call it directly with a fake clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scanner.errors import SourceLost, SourceUnavailable
from scanner.sources import FrameSource
from scanner.status import CameraState, CameraStatus

__all__ = ["Capture", "Clock", "Frame", "FrameSlot"]

Image = npt.NDArray[np.uint8]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Frame:
    """One captured image, when it was captured (clock seconds), and its running number."""

    image: Image
    captured_at: float
    index: int


class FrameSlot:
    """Holds only the newest frame: a put replaces whatever was not yet taken (no queue grows)."""

    def __init__(self) -> None:
        """Create an empty slot."""
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        """Store ``frame``, replacing an untaken older one."""
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Frame | None:
        """Return the newest frame and empty the slot; None after ``timeout`` or once closed and empty."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        """Wake every waiter; ``take`` returns what is left, then None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """Return True once the producer has finished."""
        with self._cond:
            return self._closed


class Capture:
    """Reads a source into a FrameSlot; reports status changes; reopens a camera when it returns."""

    def __init__(
        self,
        source: FrameSource,
        *,
        clock: Clock,
        on_status: Callable[[CameraStatus], None] | None = None,
        retry_interval: float = 1.0,
        timestamps: Callable[[], float | None] | None = None,
    ) -> None:
        """Capture from ``source``; ``timestamps`` overrides the clock per frame (media time of files)."""
        self.source = source
        self.slot = FrameSlot()
        self._clock = clock
        self._on_status = on_status
        self._retry_interval = retry_interval
        self._timestamps = timestamps
        self._next_open = 0.0
        self._open = False
        self._index = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = CameraStatus(CameraState.OPENING, clock())

    def _set(self, state: CameraState, detail: str = "") -> None:
        """Record a new state and tell the listener when it changed."""
        if state is self.status.state and detail == self.status.detail:
            return
        self.status = CameraStatus(state, self._clock(), detail)
        if self._on_status is not None:
            self._on_status(self.status)

    @property
    def finished(self) -> bool:
        """Return True when the source has ended or capture was stopped."""
        return self.status.state in (CameraState.ENDED, CameraState.STOPPED)

    def step(self) -> Frame | None:
        """Open the source if needed or read one frame into the slot; return that frame, if any."""
        if self.finished:
            return None
        now = self._clock()
        if not self._open:
            if now < self._next_open:
                return None
            try:
                self.source.open()
            except SourceUnavailable as exc:
                self._next_open = now + self._retry_interval
                if not self.source.reconnects:
                    self._set(CameraState.ENDED, str(exc))
                    self.slot.close()
                elif self.status.state in (CameraState.LOST, CameraState.RECONNECTING):
                    self._set(CameraState.RECONNECTING, str(exc))
                else:
                    self._set(CameraState.BUSY if exc.busy else CameraState.MISSING, str(exc))
                return None
            self._open = True
            self._set(CameraState.LIVE)
        try:
            image = self.source.read()
        except SourceLost as exc:
            if not self.source.reconnects:
                # A broken image in a folder: note it and go on to the next one.
                self._set(CameraState.LIVE, str(exc))
                return None
            self.source.close()
            self._open = False
            self._next_open = now + self._retry_interval
            self._set(CameraState.LOST, str(exc))
            return None
        if image is None:
            self.source.close()
            self._open = False
            self._set(CameraState.ENDED)
            self.slot.close()
            return None
        stamp = self._timestamps() if self._timestamps is not None else None
        frame = Frame(image, stamp if stamp is not None else self._clock(), self._index)
        self._index += 1
        self.slot.put(frame)
        return frame

    def start(self) -> None:
        """Start capturing on a daemon thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"capture {self.source.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Loop over ``step`` until stopped or the source ends; waits out retry intervals."""
        try:
            while not self._stop.is_set() and not self.finished:
                if not self._open:
                    delay = max(0.0, self._next_open - self._clock())
                    if delay and self._stop.wait(min(delay, 0.25)):
                        break
                self.step()
        finally:
            self.source.close()
            self.slot.close()

    def stop(self, timeout: float | None = 2.0) -> None:
        """Stop the thread, release the source, and report STOPPED."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        else:
            self.source.close()
        self.slot.close()
        if self.status.state is not CameraState.ENDED:
            self._set(CameraState.STOPPED)

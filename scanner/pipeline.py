"""The headless scan pipeline: capture thread -> newest frame -> cascade stream -> validator -> on_scan.

The Qt app wraps this: it passes callbacks that emit signals (they are called
on the worker thread, never touch widgets in them).  Tests drive ``step()``
instead of the threads, with a fake clock, and get the same decisions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from scanner.capture import Capture, Clock, Frame
from scanner.cascade import Cascade, CascadeResult, make_cascade
from scanner.decoders import QrDecoder
from scanner.sources import FrameSource
from scanner.status import CameraStatus
from scanner.validator import ScanValidator

__all__ = ["Scan", "ScanPipeline"]


@dataclass(frozen=True)
class Scan:
    """A code the stall should act on: its text, who read it, and when."""

    text: str
    decoder: str
    captured_at: float  # when the frame that completed the scan was captured (clock seconds)
    reported_at: float  # when the scan was handed to on_scan
    decode_ms: float  # time spent decoding that frame


class ScanPipeline:
    """Runs capture and decoding on two threads (``start``) or one step at a time (``step``)."""

    def __init__(
        self,
        source: FrameSource,
        decoder: QrDecoder | Cascade,
        validator: ScanValidator | None = None,
        *,
        clock: Clock = time.monotonic,
        on_scan: Callable[[Scan], None] | None = None,
        on_status: Callable[[CameraStatus], None] | None = None,
        on_frame: Callable[[Frame, CascadeResult, float], None] | None = None,
        interval: float = 0.0,
        retry_interval: float = 1.0,
        timestamps: Callable[[], float | None] | None = None,
    ) -> None:
        """Wire the pieces; ``interval`` is the least time between two decodes (0: every new frame)."""
        self.cascade = decoder if isinstance(decoder, Cascade) else make_cascade(decoder)
        self.stream = self.cascade.stream()  # remembers where the code was, for the fallbacks
        self.validator = validator if validator is not None else ScanValidator()
        self.capture = Capture(
            source, clock=clock, on_status=on_status, retry_interval=retry_interval, timestamps=timestamps
        )
        self._clock = clock
        self._on_scan = on_scan
        self._on_frame = on_frame
        self._interval = interval
        self._last_decode: float | None = None
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self.frames_decoded = 0

    @property
    def status(self) -> CameraStatus:
        """Return the camera's current status."""
        return self.capture.status

    @property
    def frames_dropped(self) -> int:
        """Return how many frames were replaced before the decoder took them."""
        return self.capture.slot.dropped

    def process(self, frame: Frame) -> Scan | None:
        """Decode one frame, feed the validator, and report a scan if this frame completes one."""
        with self._lock:
            started = time.perf_counter()
            result = self.stream.decode(frame.image)
            decode_ms = (time.perf_counter() - started) * 1000.0
            self.frames_decoded += 1
            self._last_decode = self._clock()
            if self._on_frame is not None:
                self._on_frame(frame, result, decode_ms)
            text = self.validator.feed((d.text for d in result.detections), frame.captured_at)
            if text is None:
                return None
            decoder = next(d.decoder for d in result.detections if d.text == text)
            scan = Scan(text, decoder, frame.captured_at, self._clock(), decode_ms)
        if self._on_scan is not None:
            self._on_scan(scan)
        return scan

    def step(self) -> Scan | None:
        """Capture one frame (or try to open the source) and process it; for tests and file decoding."""
        self.capture.step()
        frame = self.capture.slot.take(timeout=0)
        return self.process(frame) if frame is not None else None

    def start(self) -> None:
        """Start the capture thread and the decoding thread."""
        if self._worker is not None:
            return
        self._stop.clear()
        self.capture.start()
        self._worker = threading.Thread(target=self._run, name="scan pipeline", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        """Take the newest frame, respecting the decode interval, until stopped or the source ends."""
        slot = self.capture.slot
        while not self._stop.is_set():
            if self._interval and self._last_decode is not None:
                wait = self._last_decode + self._interval - self._clock()
                if wait > 0 and self._stop.wait(wait):
                    break
            frame = slot.take(timeout=0.1)
            if frame is None:
                if slot.closed:
                    break
                continue
            self.process(frame)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until a finite source is fully processed; return False on timeout."""
        worker = self._worker
        if worker is None:
            return True
        worker.join(timeout)
        return not worker.is_alive()

    def stop(self, timeout: float | None = 2.0) -> None:
        """Stop both threads and release the source."""
        self._stop.set()
        self.capture.stop(timeout)
        if self._worker is not None:
            self._worker.join(timeout)
            self._worker = None

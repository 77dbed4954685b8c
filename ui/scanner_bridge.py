"""Qt adapters for the scanner: the camera pipeline as signals, and USB scanners as an event filter.

``CameraScanner`` wraps ``scanner.pipeline.ScanPipeline`` (capture and decode on
its own threads).  Its callbacks run on those threads and only emit signals;
a small preview image is made there too, at most ~10 times a second.

``WedgeFilter`` is installed on the QApplication, so a USB barcode scanner
works wherever the focus is: every key goes through ``scanner.wedge.KeyboardWedge``;
bursts become ``scanned`` and human typing is re-sent to the focused widget.
Modifier keys (Shift above all: a HID scanner presses it for every upper-case
letter and ``: $ % * +``) neither end a burst nor reach a widget during one;
an auto-repeated key is a person holding it down, never a scan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import cv2
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QApplication

from scanner.capture import Frame
from scanner.cascade import CascadeResult
from scanner.decoders import QrDecoder, make_decoder
from scanner.errors import MissingQrDecoderLib
from scanner.pipeline import Scan, ScanPipeline
from scanner.sources import CameraSource, FrameSource, MemorySource
from scanner.status import CameraState, CameraStatus
from scanner.validator import ScanValidator
from scanner.wedge import KeyboardWedge

__all__ = ["CameraScanner", "ReplaySource", "SourceFactory", "WedgeFilter", "camera_source"]

log = logging.getLogger(__name__)
SourceFactory = Callable[[], FrameSource]
PREVIEW_WIDTH = 480


def camera_source(device: int | str) -> SourceFactory:
    """Return a factory for the webcam ``device``."""
    return lambda: CameraSource(device)


class ReplaySource(MemorySource):
    """The scanner's in-memory source, paced like a camera; then an idle picture, or the end.

    Used by tests, the benchmark and demos: frames come at ``fps`` as a webcam's
    would, so the capture thread and the decoder meet the same timing.
    """

    def __init__(self, frames: list[Any], *, fps: float = 30.0, idle: Any | None = None,
                 name: str = "replay") -> None:
        """Play ``frames`` at ``fps``; then serve ``idle`` forever (None: end like a file)."""
        super().__init__(frames, name=name, fps=fps)
        self._idle = idle
        self._next = 0.0
        self.reconnects = idle is not None

    def read(self) -> Any:
        """Wait for the next frame time, then return the next frame (or the idle one)."""
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + 1.0 / self._fps
        frame = super().read()
        if frame is None and self._idle is not None:
            return self._idle
        return frame


class CameraScanner(QObject):
    """A frame source decoded on worker threads; emits scans, status changes and preview images."""

    scanned = Signal(str, float)  # text, monotonic time the frame was captured
    status_changed = Signal(object)  # CameraStatus
    preview = Signal(QImage)
    decoder_missing = Signal(str)

    def __init__(
        self,
        source_factory: SourceFactory | None,
        *,
        decoder: QrDecoder | None = None,
        preview_interval: float = 0.1,
        parent: QObject | None = None,
    ) -> None:
        """Prepare to scan from ``source_factory`` (None: no camera); nothing opens until ``start``."""
        super().__init__(parent)
        self._factory = source_factory
        self._decoder = decoder
        self._pipeline: ScanPipeline | None = None
        self._preview_interval = preview_interval
        self._last_preview = 0.0
        self.previewing = True
        self.status = CameraStatus(CameraState.STOPPED, time.monotonic())
        self.last_scan: Scan | None = None

    def _get_decoder(self) -> QrDecoder | None:
        if self._decoder is None:
            try:
                self._decoder = make_decoder("auto")
            except MissingQrDecoderLib as exc:
                log.error("no QR decoder: %s", exc)
                self.decoder_missing.emit(str(exc))
                return None
        return self._decoder

    @property
    def running(self) -> bool:
        """Return True while a pipeline is running."""
        return self._pipeline is not None

    def start(self) -> None:
        """Open the source on the capture thread and start decoding (returns at once)."""
        if self._pipeline is not None or self._factory is None:
            return
        decoder = self._get_decoder()
        if decoder is None:
            return
        self._pipeline = ScanPipeline(
            self._factory(),
            decoder,
            ScanValidator(),
            clock=time.monotonic,
            on_scan=self._on_scan,
            on_status=self._on_status,
            on_frame=self._on_frame,
            interval=0.0,
        )
        self._pipeline.start()

    def stop(self) -> None:
        """Stop the threads and release the camera (waits briefly for them)."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.stop(timeout=2.0)

    def set_source(self, factory: SourceFactory | None, *, start: bool = True) -> None:
        """Switch to another source (another camera, or frames played by a test)."""
        self.stop()
        self._factory = factory
        if start:
            self.start()

    def reset(self) -> None:
        """Forget codes seen so far (a held code may be reported again at once)."""
        if self._pipeline is not None:
            self._pipeline.validator.reset()

    # worker-thread callbacks: emit only
    def _on_scan(self, scan: Scan) -> None:
        self.last_scan = scan
        self.scanned.emit(scan.text, scan.captured_at)

    def _on_status(self, status: CameraStatus) -> None:
        self.status = status
        self.status_changed.emit(status)

    def _on_frame(self, frame: Frame, _result: CascadeResult, _decode_ms: float) -> None:
        if not self.previewing:
            return
        now = time.monotonic()
        if now - self._last_preview < self._preview_interval:
            return
        self._last_preview = now
        image = frame.image
        height, width = image.shape[:2]
        scale = PREVIEW_WIDTH / max(1, width)
        small = cv2.resize(image, (PREVIEW_WIDTH, max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
        if small.ndim == 2:
            small = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
        else:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        h, w = small.shape[:2]
        qimage = QImage(small.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.preview.emit(qimage)


_KEY_FOR = {"\r": Qt.Key.Key_Return, "\n": Qt.Key.Key_Return, "\t": Qt.Key.Key_Tab}
# Keys that only change what the next key types: a HID scanner presses Shift around every upper-case
# letter and ':' '$' '%' '*' '+'; they carry no text and must neither end a burst nor reach a widget mid-scan.
MODIFIER_KEYS = frozenset({
    Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_AltGr, Qt.Key.Key_Meta,
    Qt.Key.Key_Super_L, Qt.Key.Key_Super_R, Qt.Key.Key_Hyper_L, Qt.Key.Key_Hyper_R,
    Qt.Key.Key_CapsLock, Qt.Key.Key_NumLock, Qt.Key.Key_ScrollLock, Qt.Key.Key_Mode_switch,
    Qt.Key.Key_Kana_Lock, Qt.Key.Key_Kana_Shift, Qt.Key.Key_Eisu_Shift, Qt.Key.Key_Eisu_toggle,
    Qt.Key.Key_Hiragana_Katakana, Qt.Key.Key_Zenkaku_Hankaku,
})


class WedgeFilter(QObject):
    """An application-wide event filter that turns USB-scanner bursts into ``scanned``."""

    scanned = Signal(str, float)  # text, monotonic time the burst ended
    activity = Signal()  # any key or touch: for the idle logout

    def __init__(self, *, wedge: KeyboardWedge | None = None, clock: Callable[[], float] = time.monotonic,
                 parent: QObject | None = None) -> None:
        """Wrap ``wedge`` (defaults as the scanner package sets them)."""
        super().__init__(parent)
        self.wedge = wedge or KeyboardWedge()
        self._clock = clock
        self._retyping = False
        self._target: QObject | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)

    def install(self, app: QApplication) -> None:
        """Watch every key event of ``app``."""
        app.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Hold keys back for the wedge; pass everything else through."""
        etype = event.type()
        if etype in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self.activity.emit()
            return False
        if self._retyping or etype not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(event, QKeyEvent) or not obj.isWidgetType():
            return False
        if event.key() in MODIFIER_KEYS:
            # Shift & co. carry no text: a scan goes on through them. Swallowed while a burst is held,
            # so nothing of a scan reaches the focused widget; passed through otherwise.
            return self.wedge.holding
        text = event.text()
        key_text = "\r" if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) else text
        if event.key() == Qt.Key.Key_Tab:
            key_text = "\t"
        printable = bool(key_text) and (key_text in "\r\t" or key_text.isprintable())
        if etype == QEvent.Type.KeyRelease:
            return printable  # releases of held keys are swallowed; retyped keys get their own
        self.activity.emit()
        if event.isAutoRepeat():
            # A key held down repeats at ~30 ms, as fast as a scanner: that is a person, never a scan.
            self._flush(force=True)
            return False
        if not printable or event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            self._flush(force=True)  # Backspace, arrows, shortcuts: deliver what is held first, in order
            return False
        self._target = obj
        self._apply(self.wedge.feed_key(key_text, self._clock()))
        if self.wedge.holding:
            self._timer.start()
        return True

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Read key times from ``clock`` from now on (tests give one they move by hand)."""
        self._clock = clock

    def feed(self, text: str, t: float) -> None:
        """Feed keys directly at time ``t`` (for tests and the benchmark)."""
        self._apply(self.wedge.feed_key(text, t))

    def _poll(self) -> None:
        self._apply(self.wedge.poll(self._clock()))
        if not self.wedge.holding:
            self._timer.stop()

    def _flush(self, *, force: bool) -> None:
        if self.wedge.holding:
            self._apply(self.wedge.poll(self._clock() + (self.wedge.end_gap if force else 0.0)))

    def _apply(self, out: object) -> None:
        scans = getattr(out, "scans", ())
        release = getattr(out, "release", "")
        if release:
            self._retype(release)
        for scan in scans:
            self.scanned.emit(scan.text, scan.ended_at)

    def _retype(self, text: str) -> None:
        """Send held human keys to the focused widget, in order."""
        target = QApplication.focusWidget() or self._target
        if target is None:
            return
        self._retyping = True
        try:
            for ch in text:
                key = _KEY_FOR.get(ch)
                if key is None:
                    code = ord(ch.upper()) if len(ch) == 1 and ch.isascii() else 0
                    key = Qt.Key(code) if code else Qt.Key.Key_unknown
                press = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, ch)
                QApplication.sendEvent(target, press)
                release = QKeyEvent(QEvent.Type.KeyRelease, key, Qt.KeyboardModifier.NoModifier, ch)
                QApplication.sendEvent(target, release)
        finally:
            self._retyping = False

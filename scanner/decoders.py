"""QR decoders behind one small abstract class, and the factory that picks one.

A decoder takes one grayscale (or BGR) ``uint8`` image and returns every QR
code it reads, as text.  ``read`` also says where it saw a symbol it could
not decode (zxing-cpp's ``return_errors``): the cascade retries its heavier
steps only there.  It knows nothing of frames, threads or Qt.  The
factory ``make_decoder`` raises ``MissingQrDecoderLib`` when no library loads;
the UI shows that as a clear screen instead of a traceback.

zxing-cpp is the default: on the seeded corpus (docs/scanner.md) it reads
more frames than pyzbar on nearly every bucket and is several times faster
at 1280x720.  Its options are zxing-cpp's own defaults (rotation, downscaled
and inverted retries), so one ``decode`` is exactly one plain
``zxingcpp.read_barcodes(gray, formats=QRCode)`` call.  pyzbar (libzbar) is the fallback; OpenCV's own detector is
available by name for comparison only.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scanner.errors import MissingQrDecoderLib, UnknownDecoder

__all__ = [
    "DECODER_NAMES",
    "Box",
    "Detection",
    "OpenCvDecoder",
    "PyzbarDecoder",
    "QrDecoder",
    "Reading",
    "ZxingCppDecoder",
    "available_decoders",
    "make_decoder",
]

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Detection:
    """One QR code read from one image: its text and the decoder that read it."""

    text: str
    decoder: str


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels


@dataclass(frozen=True)
class Reading:
    """What one decoder call saw: the codes it read, where they were, and symbols it could not read."""

    detections: tuple[Detection, ...]
    found: tuple[Box, ...] = ()  # where the read codes are (when the library says)
    suspects: tuple[Box, ...] = ()  # symbols located but not decoded (checksum, format errors)


NOTHING = Reading(())  # what a decoder saw in a frame with no symbol at all (shared: it is immutable)


class QrDecoder(ABC):
    """Reads QR codes from a single image; has no Qt and no threads."""

    name: str = "abstract"

    @abstractmethod
    def decode(self, image: Image) -> list[Detection]:
        """Return every QR code read from ``image`` (grayscale or BGR); an empty list if none."""

    def read(self, image: Image) -> Reading:
        """Return the codes read from ``image`` and, where the library tells, where symbols were seen."""
        detections = self.decode(image)
        return Reading(tuple(detections)) if detections else NOTHING


class ZxingCppDecoder(QrDecoder):
    """QR decoding with zxing-cpp (the default)."""

    name = "zxing-cpp"

    def __init__(self, *, try_invert: bool = True, try_downscale: bool = True) -> None:
        """Load zxing-cpp; raises MissingQrDecoderLib when it is not installed."""
        try:
            self._lib: Any = importlib.import_module("zxingcpp")
        except ImportError as exc:
            raise MissingQrDecoderLib("zxing-cpp is not installed") from exc
        self._formats = self._lib.BarcodeFormat.QRCode
        # Only what differs from zxing-cpp's defaults is passed, so the default path's first call is
        # the plain reference call keyword for keyword (plus return_errors in ``read``).
        self._options: dict[str, bool] = {}
        if not try_invert:
            self._options["try_invert"] = False
        if not try_downscale:
            self._options["try_downscale"] = False

    def decode(self, image: Image) -> list[Detection]:
        """Return the QR codes zxing-cpp reads in ``image``."""
        found = self._lib.read_barcodes(np.ascontiguousarray(image), formats=self._formats, **self._options)
        return [Detection(str(code.text), self.name) for code in found if code.valid]

    def read(self, image: Image) -> Reading:
        """Return the codes zxing-cpp reads in ``image``, where they are, and the symbols it saw but could not read."""
        found = self._lib.read_barcodes(
            np.ascontiguousarray(image), formats=self._formats, return_errors=True, **self._options
        )
        if not found:  # an idle camera's every frame: nothing to build
            return NOTHING
        valid = [code for code in found if code.valid]
        return Reading(
            tuple(Detection(str(code.text), self.name) for code in valid),
            tuple(_box(code.position) for code in valid),
            tuple(_box(code.position) for code in found if not code.valid),
        )


def _box(position: Any) -> Box:
    """Return the bounding box of a zxing-cpp ``Position`` (four corner points)."""
    points = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    xs = [int(p.x) for p in points]
    ys = [int(p.y) for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


class PyzbarDecoder(QrDecoder):
    """QR decoding with pyzbar over the system libzbar."""

    name = "pyzbar"

    def __init__(self, *, try_invert: bool = True) -> None:
        """Load pyzbar and libzbar; raises MissingQrDecoderLib when either is missing."""
        self._try_invert = try_invert
        try:
            self._lib: Any = importlib.import_module("pyzbar.pyzbar")
        except (ImportError, OSError) as exc:  # pyzbar raises ImportError when libzbar is absent
            raise MissingQrDecoderLib(f"pyzbar/libzbar cannot be loaded: {exc}") from exc
        self._symbols = [self._lib.ZBarSymbol.QRCODE]

    def decode(self, image: Image) -> list[Detection]:
        """Return the QR codes zbar reads in ``image``; light-on-dark codes on a retry with the image inverted."""
        gray = np.ascontiguousarray(image if image.ndim == 2 else _to_gray(image))
        found = self._lib.decode(gray, symbols=self._symbols)
        if not found and self._try_invert:  # zbar reads dark-on-light codes only
            found = self._lib.decode(np.ascontiguousarray(255 - gray), symbols=self._symbols)
        return [Detection(bytes(code.data).decode("utf-8", errors="replace"), self.name) for code in found]


class OpenCvDecoder(QrDecoder):
    """QR decoding with OpenCV's built-in detector; kept for comparison in the benchmark."""

    name = "opencv"

    def __init__(self) -> None:
        """Create the OpenCV detector."""
        import cv2

        self._detector: Any = cv2.QRCodeDetector()

    def decode(self, image: Image) -> list[Detection]:
        """Return the QR code OpenCV reads in ``image`` (at most one)."""
        try:
            text, _points, _straight = self._detector.detectAndDecode(np.ascontiguousarray(image))
        except Exception:  # OpenCV raises cv2.error on degenerate geometry; that is "no code"
            return []
        return [Detection(str(text), self.name)] if text else []


def _to_gray(image: Image) -> Image:
    """Convert a BGR image to grayscale."""
    import cv2

    gray: Image = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return gray


_FACTORIES: dict[str, Callable[[], QrDecoder]] = {
    "zxing-cpp": ZxingCppDecoder,
    "pyzbar": PyzbarDecoder,
    "opencv": OpenCvDecoder,
}
DECODER_NAMES = tuple(_FACTORIES)
# "auto" tries these in order.  OpenCV is left out on purpose: it misses too
# many codes to be trusted at a stall (see docs/scanner.md).
_AUTO_ORDER = ("zxing-cpp", "pyzbar")


def make_decoder(name: str = "auto") -> QrDecoder:
    """Return the decoder called ``name``, or the best one that loads for ``"auto"``.

    Raises MissingQrDecoderLib when the library cannot load (for "auto": none of
    them), UnknownDecoder for a name that does not exist.
    """
    if name == "auto":
        reasons = []
        for candidate in _AUTO_ORDER:
            try:
                return _FACTORIES[candidate]()
            except MissingQrDecoderLib as exc:
                reasons.append(str(exc))
        raise MissingQrDecoderLib("no QR decoder library could be loaded: " + "; ".join(reasons))
    factory = _FACTORIES.get(name)
    if factory is None:
        raise UnknownDecoder(f"unknown decoder {name!r}; choose one of: auto, {', '.join(DECODER_NAMES)}")
    return factory()


def available_decoders() -> list[str]:
    """Return the names of the decoders whose library loads on this machine."""
    names = []
    for name, factory in _FACTORIES.items():
        try:
            factory()
        except MissingQrDecoderLib:
            continue
        names.append(name)
    return names

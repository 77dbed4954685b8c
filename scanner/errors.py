"""Errors raised by the scanner package.

    ScannerError
    ├── MissingQrDecoderLib      no QR decoder library could be loaded
    ├── UnknownDecoder           a decoder or cascade name that does not exist
    ├── SourceError              a frame source cannot give frames
    │   ├── SourceUnavailable    it cannot be opened (missing, busy, bad path)
    │   └── SourceLost           it stopped giving frames mid-session
    └── ManualEntryError         a hand-typed short code that does not read (safe to show)

Errors from OpenCV, zxing-cpp and pyzbar are translated at the boundary, so
callers only ever catch these.
"""

from __future__ import annotations

__all__ = [
    "ManualEntryError",
    "MissingQrDecoderLib",
    "ScannerError",
    "SourceError",
    "SourceLost",
    "SourceUnavailable",
    "UnknownDecoder",
]


class ScannerError(Exception):
    """Base of every error the scanner package raises on purpose."""


class MissingQrDecoderLib(ScannerError):
    """No QR decoder library could be loaded (neither zxing-cpp nor pyzbar/libzbar)."""


class UnknownDecoder(ScannerError, ValueError):
    """A decoder or cascade name that the factory does not know."""


class SourceError(ScannerError):
    """A frame source cannot give frames."""


class SourceUnavailable(SourceError):
    """A frame source cannot be opened; ``busy`` tells a device in use from one that is missing."""

    def __init__(self, message: str, *, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy


class SourceLost(SourceError):
    """A frame source stopped giving frames mid-session (for a camera: unplugged)."""


class ManualEntryError(ScannerError, ValueError):
    """A hand-typed short code that cannot be read; ``str(err)`` is safe to show on the kiosk."""

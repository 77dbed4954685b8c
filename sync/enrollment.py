"""Enrollment codes: the server's URL and a one-time code, in one QR.

Text form: ``EE1:<code>@<url>``, e.g. ``EE1:7Q2M9XKDAB3RPF1Z@http://10.0.0.2:8000``, and for a
venue server with its own certificate ``EE1:<code>@https://10.0.0.2:8443#pin=<sha256 hex>``
(``sync.tls``: the terminal trusts exactly that certificate from then on).
The code is 80 random bits in Crockford base32 (16 characters).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["EnrollmentCode", "EnrollmentCodeError"]

PREFIX = "EE1:"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class EnrollmentCodeError(ValueError):
    """Text that is not an enrollment code; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class EnrollmentCode:
    """Where to enroll and with which one-time code."""

    url: str
    code: str
    pin: str = ""  # SHA-256 (hex) of the server's certificate; empty: the system's CAs decide

    @staticmethod
    def new_code() -> str:
        """Return a fresh random one-time code (80 bits)."""
        return "".join(secrets.choice(_ALPHABET) for _ in range(16))

    def text(self) -> str:
        """Return the text to put in the QR code."""
        return f"{PREFIX}{self.code}@{self.url}" + (f"#pin={self.pin}" if self.pin else "")

    @classmethod
    def parse(cls, text: str) -> EnrollmentCode:
        """Parse a scanned or pasted code; raises EnrollmentCodeError."""
        text = text.strip() if isinstance(text, str) else ""
        if not text.upper().startswith(PREFIX):
            raise EnrollmentCodeError("not an enrollment code")
        code, sep, url = text[len(PREFIX):].partition("@")
        url, _, fragment = url.partition("#")
        pin = ""
        if fragment:
            if not fragment.startswith("pin=") or not _is_pin(fragment[4:].lower()):
                raise EnrollmentCodeError("the enrollment code is damaged")
            pin = fragment[4:].lower()
        code = code.upper().replace("-", "")
        if not sep or len(code) != 16 or any(c not in _ALPHABET for c in code):
            raise EnrollmentCodeError("the enrollment code is damaged")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EnrollmentCodeError("the enrollment code has no server address")
        if pin and parts.scheme != "https":
            raise EnrollmentCodeError("the enrollment code is damaged")
        return cls(url.rstrip("/"), code, pin)


def _is_pin(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)

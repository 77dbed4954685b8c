"""Enrollment codes: the server's URL and a one-time code, in one QR.

Text form: ``EE1:<code>@<url>``, e.g. ``EE1:7Q2M9XKDAB3RPF1Z@http://10.0.0.2:8000``.
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

    @staticmethod
    def new_code() -> str:
        """Return a fresh random one-time code (80 bits)."""
        return "".join(secrets.choice(_ALPHABET) for _ in range(16))

    def text(self) -> str:
        """Return the text to put in the QR code."""
        return f"{PREFIX}{self.code}@{self.url}"

    @classmethod
    def parse(cls, text: str) -> EnrollmentCode:
        """Parse a scanned or pasted code; raises EnrollmentCodeError."""
        text = text.strip() if isinstance(text, str) else ""
        if not text.upper().startswith(PREFIX):
            raise EnrollmentCodeError("not an enrollment code")
        code, sep, url = text[len(PREFIX):].partition("@")
        code = code.upper().replace("-", "")
        if not sep or len(code) != 16 or any(c not in _ALPHABET for c in code):
            raise EnrollmentCodeError("the enrollment code is damaged")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EnrollmentCodeError("the enrollment code has no server address")
        return cls(url.rstrip("/"), code)

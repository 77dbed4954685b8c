"""The errors that cross the sync/ boundary.

    SyncError
    ├── TokenError            a QR token that must not be accepted (has a ``reason``)
    ├── RecordSignatureError  a terminal record whose signature does not verify
    ├── KeyFileError          an issuer or terminal key file that cannot be read
    └── ApiError              the server answered, but not with success
        ├── Unauthorized      401: the terminal's token is unknown or revoked
        ├── Forbidden         403
        ├── Conflict          409
        └── SyncUnavailable   no usable answer: timeout, refused, reset, 5xx, 503

Library errors (httpx, cryptography, base45, json) are translated at the
boundary with ``raise ... from exc``; callers never catch a raw library error.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ApiError",
    "Conflict",
    "Forbidden",
    "KeyFileError",
    "RecordSignatureError",
    "SyncError",
    "SyncUnavailable",
    "TokenError",
    "TokenReason",
    "Unauthorized",
]


class SyncError(Exception):
    """Base of every error raised by the sync package."""


class TokenReason(StrEnum):
    """Why a QR token was refused; the value is stable and used in logs and tests."""

    NOT_A_CODE = "not_a_code"
    BAD_ENCODING = "bad_encoding"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    UNKNOWN_VERSION = "unknown_version"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_KIND = "wrong_kind"


class TokenError(SyncError):
    """A token was refused; ``reason`` says why, ``token`` holds it when the signature was good."""

    def __init__(self, reason: TokenReason, detail: str = "", token: object | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.token = token

    @property
    def is_forgery(self) -> bool:
        """True when the text looked like ours but was altered or signed by a stranger."""
        return self.reason in (TokenReason.BAD_SIGNATURE, TokenReason.UNKNOWN_KEY)


class RecordSignatureError(SyncError):
    """A signed terminal record was altered or signed by another key."""


class KeyFileError(SyncError):
    """A key file is missing, unreadable or not an Ed25519 key."""


class ApiError(SyncError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class Unauthorized(ApiError):
    """401: the terminal is not enrolled, or was revoked."""


class Forbidden(ApiError):
    """403: the terminal or staff member lacks the permission."""


class Conflict(ApiError):
    """409: the request conflicts with the server's state (e.g. a used enrollment code)."""


class SyncUnavailable(SyncError):
    """The server could not be reached or did not answer in time; try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None, maybe_delivered: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # False only when the request certainly never reached the server (refused, busy answer);
        # True when it may have been applied and only the answer was lost (timeout, reset).
        self.maybe_delivered = maybe_delivered

"""Errors the terminal engine raises for things that are not ordinary declines.

    TerminalError            user-facing: the message is safe to show on the kiosk
    ├── NotEnrolled          the terminal has no credentials yet
    ├── AlreadyEnrolled      enrolling twice would orphan the first identity
    ├── EnrollmentFailed     the server refused the code, or could not be reached
    └── TerminalRevoked      the server revoked this terminal; it takes no payments

A declined payment is never an exception: it is a ``Decision`` with a reason.
"""

from __future__ import annotations

__all__ = ["AlreadyEnrolled", "EnrollmentFailed", "NotEnrolled", "TerminalError", "TerminalRevoked"]


class TerminalError(Exception):
    """An error whose message is safe to show to staff."""


class NotEnrolled(TerminalError):
    """The terminal is not enrolled yet: scan an enrollment code first."""


class AlreadyEnrolled(TerminalError):
    """The terminal is already enrolled; use a fresh data directory to enroll again."""


class EnrollmentFailed(TerminalError):
    """The enrollment code was refused or the server could not be reached.

    ``reason`` names the case for the UI's translations (``pin_mismatch``: the server's
    certificate is not the one the code names; empty: the message says it).
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class TerminalRevoked(TerminalError):
    """The server revoked this terminal."""

"""Password and PIN checks with lockout, recorded in the audit log.

Every attempt is an audit entry (``web.signin.ok`` / ``web.signin.failed``,
``my.signin.ok`` / ``my.signin.failed``) under the actor it was made for, so
the log answers "who tried to get in" and the lockout needs no table of its
own: ``lockout_failures`` failures in a row within ``lockout_minutes`` lock the
account until ``lockout_minutes`` after the last of them.  Attempts while
locked are logged as ``*.locked`` and do not extend the lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from server.web import queries

__all__ = ["Outcome", "check_secret", "locked_until"]

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one sign-in attempt."""

    ok: bool
    locked_until_ms: int | None = None


def check_secret(secret: str, stored_hash: str | None) -> bool:
    """Verify a password or PIN against an argon2 hash; a missing hash still costs one verify."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def locked_until(conn: Connection, actor: str, *, area: str, now_ms: int, failures: int,
                 minutes: int) -> int | None:
    """Return when the lock on ``actor`` ends (Unix ms), or None when it is not locked."""
    window_ms = minutes * 60_000
    actions = (f"{area}.signin.ok", f"{area}.signin.failed")
    events = queries.recent_signins(conn, actor, actions=actions, since_ms=now_ms - window_ms, limit=failures)
    if len(events) < failures or any(action.endswith(".ok") for action, _ in events):
        return None
    until = events[0][1] + window_ms
    return until if until > now_ms else None

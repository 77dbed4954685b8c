"""Password and PIN checks with lockout, recorded in the audit log.

Every attempt is an audit entry (``web.signin.ok`` / ``web.signin.failed``,
``my.signin.ok`` / ``my.signin.failed``) under the actor it was made for, so
the log answers "who tried to get in" and the lockout needs no table of its
own: ``lockout_failures`` failures in a row within ``lockout_minutes`` lock the
account until ``lockout_minutes`` after the last of them.  Attempts while
locked are logged as ``*.locked`` and do not extend the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from server.web import queries

__all__ = ["Outcome", "SigninLimiter", "check_secret", "locked_until"]

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


class SigninLimiter:
    """Failed sign-ins per client address, over both sign-in forms (per process, in memory).

    The per-account lockout stops guessing one account; this stops one address spraying a
    common password or PIN over many accounts: after ``limit`` failures within ``window_s``
    the address is refused (429) until its oldest failure leaves the window.  Only failures
    count, so people behind one NAT are not refused for signing in successfully.
    """

    def __init__(self, limit: int, window_s: int, *, max_addresses: int = 10_000) -> None:
        self.limit = limit
        self.window_ms = window_s * 1000
        self.max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, address: str, now_ms: int) -> deque[int]:
        times = self._failures.get(address)
        if times is None:
            return deque()
        while times and times[0] <= now_ms - self.window_ms:
            times.popleft()
        return times

    def retry_after_ms(self, address: str, now_ms: int) -> int:
        """0 when ``address`` may try; otherwise how long until it may (ms)."""
        with self._lock:
            times = self._live(address, now_ms)
            return max(1, times[0] + self.window_ms - now_ms) if len(times) >= self.limit else 0

    def failed(self, address: str, now_ms: int) -> None:
        """Count one failed attempt from ``address``."""
        with self._lock:
            times = self._live(address, now_ms)
            times.append(now_ms)
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

"""Password and PIN checks with lockout, recorded in the audit log.

Every attempt is counted BEFORE its secret is checked: ``begin_attempt``
writes a ``web.signin.attempt`` / ``my.signin.attempt`` audit entry (detail:
the client address) in one write transaction that holds the login's lock
(PostgreSQL: an advisory lock keyed on the login; SQLite: the one writer), so
however many requests race, at most the limit is ever checked per window.
The outcome follows as ``*.signin.ok`` / ``*.signin.failed``; an ``ok``
clears the count.  The lockout needs no table of its own:

* per address first: ``lockout_failures`` attempts from one address on one
  login within ``lockout_minutes`` refuse that address on that login until
  ``lockout_minutes`` after the last of them;
* the account cap: ``lockout_account_attempts`` attempts from all addresses
  together refuse everyone (a ``*.signin.lockout`` entry tells the admin).  A
  stranger at one address therefore cannot lock the owner out, and the
  account-wide lock ends ``lockout_minutes`` after its last counted attempt.

A refused attempt writes nothing: it is counted against the address in
memory (``SigninLimiter``), which refuses the address outright past its limit.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, select, text

from server.audit import audit
from server.db import tables as t

if TYPE_CHECKING:
    from server.db.engine import Database
    from server.web.config import WebSettings

__all__ = ["Lockout", "Outcome", "SigninLimiter", "begin_attempt", "check_secret", "finish_attempt", "locked_until"]

_SIGNIN_LOCKS = 0x5349  # the advisory lock namespace of sign-in attempts ("SI"), keyed by a hash of the login

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


@dataclass(frozen=True, slots=True)
class Lockout:
    """How sign-ins to one kind of login are limited (from ``WebSettings``)."""

    area: str  # "web" (dashboard) or "my" (My page)
    per_address: int
    per_account: int
    minutes: int

    @classmethod
    def of(cls, area: str, settings: WebSettings) -> Lockout:
        """The limits of ``area`` in ``settings``."""
        return cls(area, max(1, settings.lockout_failures),
                   max(settings.lockout_failures, settings.lockout_account_attempts), settings.lockout_minutes)


def _address_detail(address: str) -> str:
    return json.dumps({"address": address}, sort_keys=True, default=str)  # as server.audit.audit stores it


def locked_until(conn: Connection, actor: str, *, address: str, limits: Lockout, now_ms: int) -> int | None:
    """When the lock on ``actor`` for ``address`` ends (Unix ms), or None when it may try now."""
    window_ms = limits.minutes * 60_000
    a = t.audit_log
    since = now_ms - window_ms
    last_ok = conn.execute(select(func.max(a.c.id)).where(
        a.c.actor == actor, a.c.action == f"{limits.area}.signin.ok", a.c.at >= since)).scalar()
    counted = select(a.c.at).where(a.c.actor == actor, a.c.action == f"{limits.area}.signin.attempt",
                                   a.c.at >= since, a.c.id > (last_ok or 0))
    mine = conn.execute(counted.where(a.c.detail == _address_detail(address))
                        .order_by(a.c.id.desc()).limit(limits.per_address)).scalars().all()
    if len(mine) >= limits.per_address:
        return max(int(mine[0]) + window_ms, now_ms + 1)
    everyone = conn.execute(counted.order_by(a.c.id.desc()).limit(limits.per_account)).scalars().all()
    if len(everyone) >= limits.per_account:
        return max(int(everyone[0]) + window_ms, now_ms + 1)
    return None


def begin_attempt(db: Database, actor: str, *, address: str, limits: Lockout, now_ms: int) -> int | None:
    """Count one sign-in attempt on ``actor`` before its secret is checked.

    Returns None when the attempt is counted and may be checked, or when the
    lock ends (Unix ms) when it is refused; a refusal writes nothing.
    """
    with db.read() as conn:  # the common refusal costs a read, not a turn of the writer
        if (until := locked_until(conn, actor, address=address, limits=limits, now_ms=now_ms)) is not None:
            return until
    with db.write() as conn:
        if not db.is_sqlite:  # one attempt at a time per login, across every server process
            key = int.from_bytes(hashlib.sha256(actor.encode("utf-8")).digest()[:4], "big", signed=True)
            conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": _SIGNIN_LOCKS, "key": key})
        if (until := locked_until(conn, actor, address=address, limits=limits, now_ms=now_ms)) is not None:
            return until
        audit(conn, actor=actor, action=f"{limits.area}.signin.attempt", now_ms=now_ms, address=address)
        a = t.audit_log
        last_ok = conn.execute(select(func.max(a.c.id)).where(
            a.c.actor == actor, a.c.action == f"{limits.area}.signin.ok",
            a.c.at >= now_ms - limits.minutes * 60_000)).scalar()
        attempts = conn.execute(select(func.count()).select_from(a).where(
            a.c.actor == actor, a.c.action == f"{limits.area}.signin.attempt",
            a.c.at >= now_ms - limits.minutes * 60_000, a.c.id > (last_ok or 0))).scalar_one()
        if attempts == limits.per_account:  # the account-wide lock starts: the admin sees it in the audit log
            audit(conn, actor=actor, action=f"{limits.area}.signin.lockout", now_ms=now_ms,
                  attempts=int(attempts), minutes=limits.minutes)
    return None


def finish_attempt(db: Database, actor: str, *, area: str, ok: bool, now_ms: int) -> None:
    """Record the outcome of a counted attempt (``ok`` clears the count)."""
    with db.write() as conn:
        audit(conn, actor=actor, action=f"{area}.signin.ok" if ok else f"{area}.signin.failed", now_ms=now_ms)


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

    def begin(self, address: str, now_ms: int) -> int:
        """Count an attempt from ``address`` before it is checked: 0 when it may go on (counted), else the
        ms until it may; ``forgive`` takes a successful one back, so only failures stay counted."""
        with self._lock:
            times = self._live(address, now_ms)
            if len(times) >= self.limit:
                return max(1, times[0] + self.window_ms - now_ms)
            times.append(now_ms)
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)
            return 0

    def forgive(self, address: str, at_ms: int) -> None:
        """Take back the attempt ``begin`` counted at ``at_ms`` (it succeeded)."""
        with self._lock:
            times = self._failures.get(address)
            if times is not None and at_ms in times:
                times.remove(at_ms)

    def failed(self, address: str, now_ms: int) -> None:
        """Count one failed attempt from ``address``."""
        with self._lock:
            times = self._live(address, now_ms)
            times.append(now_ms)
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

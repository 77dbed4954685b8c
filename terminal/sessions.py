"""Staff sessions: badge + PIN checked offline against the synced staff cache.

The PIN is checked with argon2id against ``StaffRow.pin_hash`` (a slow hash,
so a stolen laptop does not give PINs away cheaply).  After ``MAX_FAILURES``
wrong PINs in a row the staff member is locked out for ``LOCKOUT_S``; the
count is kept in the store, so restarting the app does not reset it.  A
session ends after ``staff_idle_logout_s`` without activity (monotonic clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError

from sync.errors import TokenError, TokenReason
from sync.ids import ShortIdError, parse_short_id
from sync.keys import KeySet
from sync.permissions import Override, Permission, RoleAssignment, Scope, is_allowed
from sync.schemas import StaffRow, TerminalRow
from sync.tokens import StaffBadge, decode_token, token_fingerprint
from terminal.authorize import clock_skew
from terminal.clock import Clock
from terminal.decisions import LoginResult
from terminal.store import Store

__all__ = [
    "LOCKOUT_S",
    "MAX_FAILURES",
    "WORK_HERE",
    "Session",
    "Sessions",
    "staff_allowed",
    "typed_staff_id",
    "works_here",
]

MAX_FAILURES = 5
LOCKOUT_S = 300


@dataclass(slots=True)
class Session:
    """The staff member logged in on this terminal."""

    staff_id: int
    name: str
    started_ms: int
    last_active: float  # monotonic seconds


def staff_allowed(staff: StaffRow, permission: Permission, scope: Scope, *, now_s: int) -> bool:
    """Decide a cached staff member's permission for a stall or gate scope."""
    roles = [RoleAssignment(r.role, frozenset(r.permissions), Scope(r.scope_kind, r.scope_id)) for r in staff.roles]
    overrides = [Override(o.permission, o.allow, Scope(o.scope_kind, o.scope_id), o.expires_at)
                 for o in staff.overrides]
    return is_allowed(permission, scope, roles=roles, overrides=overrides, now=now_s)


# What a staff member must be allowed, at least one of, to log in on a terminal of each mode (checked at its
# stall or gate): a gatekeeper cannot open a stall's till, a cashier of one stall cannot open another's.
WORK_HERE: dict[str, tuple[Permission, ...]] = {
    "stall": (Permission.SELL, Permission.REFUND, Permission.TOPUP),
    "topup": (Permission.TOPUP, Permission.CASHOUT),
    "gate": (Permission.GATE,),
}


def works_here(staff: StaffRow, terminal: TerminalRow | None, *, now_s: int) -> bool:
    """Return True when ``staff`` may do this terminal's work (its mode, at its stall or gate)."""
    if terminal is None:
        return False
    mode = str(terminal.mode)
    if mode == "stall" and terminal.stall_id is not None:
        scope = Scope.stall(terminal.stall_id)
    elif mode == "gate" and terminal.gate_id is not None:
        scope = Scope.gate(terminal.gate_id)
    else:
        scope = Scope()
    return any(staff_allowed(staff, p, Scope() if p is Permission.TOPUP else scope, now_s=now_s)
               for p in WORK_HERE.get(mode, ()))


def typed_staff_id(text: str) -> int | None:
    """Return the staff id when ``text`` is a typed staff code (``K7M2-QX4P-9``, check passed), else None."""
    if not isinstance(text, str) or len(text) > 20 or ":" in text:
        return None
    try:
        return parse_short_id(text.strip())
    except ShortIdError:
        return None


class Sessions:
    """Login, logout, idle timeout and lockout for one terminal."""

    def __init__(self, store: Store, clock: Clock, *, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.session: Session | None = None

    def login(self, badge_text: str, pin: str, *, keys: KeySet) -> LoginResult:
        """Check a badge and PIN offline; a refusal is a LoginResult with a reason, never an exception."""
        now_ms = self.clock.now_ms()
        typed = typed_staff_id(badge_text)
        if typed is not None:  # the staff code printed on the badge, typed: no camera, no scanner
            return self._check(typed, None, pin, now_ms)
        try:
            badge = decode_token(badge_text, keys, now=now_ms // 1000, expect=StaffBadge)
        except TokenError as exc:
            if exc.is_forgery:
                self.store.log_security(now_ms=now_ms, event="forged_token", reason=exc.reason.value,
                                        fingerprint=token_fingerprint(badge_text), detail="staff badge")
                return LoginResult(False, "forged")
            if exc.reason in (TokenReason.NOT_A_CODE, TokenReason.WRONG_KIND):
                return LoginResult(False, "not_a_badge")
            skew = clock_skew(exc, now_s=now_ms // 1000, server_skew_ms=self.store.server_skew_ms(
                now_ms=now_ms, mono_s=self.clock.monotonic()))
            if skew is not None:  # a genuine badge refused only because this laptop's clock is off
                return LoginResult(False, "clock_skew", clock_minutes=skew.minutes, clock_direction=skew.direction)
            if exc.reason is TokenReason.EXPIRED:
                return LoginResult(False, "expired")
            if exc.reason is TokenReason.NOT_YET_VALID:
                return LoginResult(False, "not_yet_valid")
            return LoginResult(False, "damaged")
        assert isinstance(badge, StaffBadge)
        return self._check(badge.staff_id, badge.issued_at, pin, now_ms)

    def _check(self, staff_id: int, issued_at: int | None, pin: str, now_ms: int) -> LoginResult:
        """The staff member, the badge's age (None: the code was typed) and the PIN, with the lockout."""
        staff = self.store.staff(staff_id)
        if staff is None:
            return LoginResult(False, "unknown_staff", staff_id=staff_id)
        if self.store.is_revoked("staff", staff.staff_id):
            return LoginResult(False, "revoked", staff_id=staff.staff_id)
        if not staff.active and not staff.pin_hash:
            # the server sends a bare row (no name, no PIN hash) for everyone who may not log in here:
            # no role at this stall, gate or desk, or switched off; this terminal is not told which
            return LoginResult(False, "not_here", staff_id=staff.staff_id)
        if not staff.active:
            return LoginResult(False, "inactive", staff_id=staff.staff_id)
        if issued_at is not None and issued_at < staff.badge_not_before:
            return LoginResult(False, "badge_replaced", staff_id=staff.staff_id)
        failures, locked_until = self.store.login_failures(staff.staff_id)
        if locked_until > now_ms:
            return LoginResult(False, "locked", staff_id=staff.staff_id, locked_until_ms=locked_until)
        if not self._pin_ok(staff.pin_hash, pin):
            failures += 1
            if failures >= MAX_FAILURES:
                until = now_ms + LOCKOUT_S * 1000
                self.store.set_login_failures(staff.staff_id, 0, until)
                return LoginResult(False, "locked", staff_id=staff.staff_id, locked_until_ms=until)
            self.store.set_login_failures(staff.staff_id, failures, 0)
            return LoginResult(False, "wrong_pin", staff_id=staff.staff_id, attempts_left=MAX_FAILURES - failures)
        if failures or locked_until:
            self.store.set_login_failures(staff.staff_id, 0, 0)
        self.session = Session(staff.staff_id, staff.name, now_ms, self.clock.monotonic())
        return LoginResult(True, None, staff_id=staff.staff_id, name=staff.name)

    def _pin_ok(self, pin_hash: str, pin: str) -> bool:
        if not isinstance(pin, str) or not pin or len(pin) > 64:
            return False
        try:
            return bool(self.hasher.verify(pin_hash, pin))
        except (Argon2Error, InvalidHashError):
            return False

    def logout(self) -> None:
        """End the session."""
        self.session = None

    def active(self, *, idle_logout_s: int) -> tuple[Session, StaffRow] | None:
        """Return the live session and its current staff row, touching it; logs out when idle or withdrawn."""
        session = self.session
        if session is None:
            return None
        now = self.clock.monotonic()
        if now - session.last_active > idle_logout_s:
            self.session = None
            return None
        staff = self.store.staff(session.staff_id)
        if staff is None or not staff.active or self.store.is_revoked("staff", session.staff_id):
            self.session = None
            return None
        session.last_active = now
        return session, staff

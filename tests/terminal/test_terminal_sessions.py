"""Staff sessions: badge + PIN offline, lockout, idle logout, permissions per stall."""

from __future__ import annotations

from terminal_helpers import CASHIER, GATEKEEPER, NOBODY, PIN, SUPERVISOR, TOPUPPER, Env

from sync.keys import IssuerKey
from sync.schemas import EventSettings, RevocationKind, RevocationRow, StaffRow, TerminalMode
from sync.tokens import StaffBadge, encode_token
from terminal.sessions import LOCKOUT_S, MAX_FAILURES


def test_login_with_badge_and_pin(env: Env) -> None:
    term = env.seed()
    result = term.login(env.badge(CASHIER), PIN)
    assert result.ok and result.staff_id == CASHIER and result.name == f"staff {CASHIER}"
    assert term.current_staff() is not None


def test_wrong_pin_then_lockout_survives_a_restart(env: Env) -> None:
    term = env.seed()
    badge = env.badge(CASHIER)
    for n in range(1, MAX_FAILURES):
        result = term.login(badge, "0000")
        assert result.reason == "wrong_pin" and result.attempts_left == MAX_FAILURES - n
    assert term.login(badge, "0000").reason == "locked"
    assert term.login(badge, PIN).reason == "locked"  # the right PIN does not help while locked
    term.close()
    term = env.open()
    assert term.login(badge, PIN).reason == "locked"
    env.clock.advance(LOCKOUT_S + 1)
    assert term.login(badge, PIN).ok
    assert term.store.login_failures(CASHIER) == (0, 0)


def test_a_success_resets_the_failure_count(env: Env) -> None:
    term = env.seed()
    badge = env.badge(CASHIER)
    for _ in range(MAX_FAILURES - 1):
        term.login(badge, "9999")
    assert term.login(badge, PIN).ok
    assert term.login(badge, "9999").attempts_left == MAX_FAILURES - 1


def test_idle_logout(env: Env) -> None:
    env.settings = EventSettings(staff_idle_logout_s=60)
    term = env.seed()
    env.login()
    env.clock.advance(59)
    assert term.current_staff() is not None  # activity: the timer starts again
    env.clock.advance(59)
    assert term.current_staff() is not None
    env.clock.advance(61)
    assert term.current_staff() is None


def test_refusals(env: Env) -> None:
    term = env.seed()
    assert term.login("not a badge", PIN).reason == "not_a_badge"
    assert term.login(env.wallet(1, 1, 1), PIN).reason == "not_a_badge"
    assert term.login(env.badge(424242), PIN).reason == "unknown_staff"
    forged = encode_token(StaffBadge(CASHIER, env.now_s, env.now_s + 60), IssuerKey(env.issuer.key_id,
                                                                                   IssuerKey.generate(0).key))
    assert term.login(forged, PIN).reason == "forged"
    assert term.store.security_events()[0]["detail"] == "staff badge"
    expired = encode_token(StaffBadge(CASHIER, env.now_s - 100, env.now_s - 1), env.issuer)
    assert term.login(expired, PIN).reason == "expired"
    assert term.login(env.badge(CASHIER), "").reason == "wrong_pin"


def test_inactive_replaced_badge_and_revoked_staff(env: Env) -> None:
    term = env.seed()
    old_badge = env.badge(CASHIER, issued_at=env.now_s - 1000)
    row = term.store.staff(CASHIER)
    assert row is not None
    env.pull(staff=[row.model_copy(update={"badge_not_before": env.now_s - 500})])
    assert term.login(old_badge, PIN).reason == "badge_replaced"
    assert term.login(env.badge(CASHIER), PIN).ok
    env.pull(staff=[row.model_copy(update={"active": False})])
    assert term.current_staff() is None  # deactivated while logged in: the session ends
    assert term.login(env.badge(CASHIER), PIN).reason == "inactive"
    env.pull(revocations=[RevocationRow(kind=RevocationKind.STAFF, id=SUPERVISOR)])
    assert term.login(env.badge(SUPERVISOR), PIN).reason == "revoked"


def test_a_corrupt_pin_hash_is_a_refusal_not_a_crash(env: Env) -> None:
    term = env.seed()
    env.pull(staff=[StaffRow(staff_id=CASHIER, name="x", pin_hash="not-a-hash")])
    assert term.login(env.badge(CASHIER), PIN).reason == "wrong_pin"


def test_not_enrolled(env: Env) -> None:
    term = env.open()
    assert term.login(env.badge(CASHIER), PIN).reason == "not_enrolled"


def test_typed_staff_code(env: Env) -> None:
    """The staff code printed on the badge, typed (no camera, no scanner): same PIN check, same lockout."""
    from sync.ids import format_short_id

    term = env.seed()
    code = format_short_id(CASHIER)
    typo = ("1" if code[0] != "1" else "2") + code[1:]
    assert term.login(typo, PIN).reason == "not_a_badge"  # the check character catches it
    assert term.login(code.lower().replace("-", " "), "0000").reason == "wrong_pin"
    for _ in range(MAX_FAILURES - 1):
        term.login(code, "0000")
    assert term.login(code, PIN).reason == "locked"
    assert term.login(env.badge(CASHIER), PIN).reason == "locked"  # one count for badge and code
    env.clock.advance(LOCKOUT_S + 1)
    result = term.login(code, PIN)
    assert result.ok and result.staff_id == CASHIER


def test_login_refused_without_a_role_at_this_terminal(env: Env) -> None:
    """Not a payment decline: no role for this mode at this stall/gate means no login (issue 16)."""
    term = env.seed()  # a stall terminal of STALL_ID
    for staff_id in (NOBODY, GATEKEEPER):
        result = term.login(env.badge(staff_id), PIN)
        assert (result.ok, result.reason) == (False, "not_here"), staff_id
        assert term.current_staff() is None
    assert term.login(env.badge(CASHIER), PIN).ok
    assert term.login(env.badge(TOPUPPER), PIN).ok  # a stall terminal also tops up
    env.mode = TerminalMode.GATE
    env.pull()
    assert term.login(env.badge(CASHIER), PIN).reason == "not_here"
    assert term.login(env.badge(GATEKEEPER), PIN).ok

"""A genuine badge or wallet code refused only because this laptop's clock is off says so, with the minutes.

The terminal knows the server's time from its last enrollment or pull, carried forward on its
monotonic clock, so a wall clock that jumps after the pull is caught; with no measurement at
all, a token "from the future" is itself the evidence (the server signed it at ``issued_at``).
"""

from __future__ import annotations

from terminal_helpers import CASHIER, PIN, TOPUPPER, Env

from sync.errors import TokenError, TokenReason
from sync.schemas import TerminalMode
from sync.tokens import StaffBadge, WalletToken, encode_token
from terminal.authorize import ClockSkew, clock_skew
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal

W = 0x12_3456_789A


def _measured(env: Env, term: Terminal, *, server_ahead_ms: int = 0) -> None:
    """As a pull leaves it: the server's time against this terminal's monotonic clock."""
    term.store.put("server_time_ms", str(env.clock.now_ms() + server_ahead_ms))
    term.store.put("server_time_mono", repr(env.clock.monotonic()))


def _unmeasured(term: Terminal) -> None:
    term.store.conn.execute("DELETE FROM settings WHERE key IN ('server_offset_ms', 'server_time_ms', "
                            "'server_time_mono')")


def test_a_wall_clock_that_jumped_back_after_the_pull_is_named_not_a_damaged_badge(env: Env) -> None:
    term = env.seed()
    _measured(env, term)
    badge = env.badge(CASHIER, issued_at=env.now_s)  # signed by the server just now
    env.clock._now_ms -= 7 * 60_000  # the laptop's wall clock jumps 7 minutes back; the monotonic one does not
    result = term.login(badge, PIN)
    assert not result.ok and result.reason == "clock_skew"
    assert (result.clock_minutes, result.clock_direction) == (7, "slow")
    assert result.to_json()["clock_minutes"] == 7
    assert term.current_staff() is None
    env.clock._now_ms += 7 * 60_000  # the clock set right: the same badge logs in
    assert term.login(badge, PIN).ok


def test_with_no_measurement_the_badge_from_the_future_is_the_evidence(env: Env) -> None:
    term = env.seed()
    _unmeasured(term)
    result = term.login(env.badge(CASHIER, issued_at=env.now_s + 7 * 60), PIN)
    assert (result.reason, result.clock_minutes, result.clock_direction) == ("clock_skew", 7, "slow")


def test_a_right_clock_calls_a_badge_from_the_future_not_yet_valid(env: Env) -> None:
    term = env.seed()
    _measured(env, term)
    assert term.login(env.badge(CASHIER, issued_at=env.now_s + 3600), PIN).reason == "not_yet_valid"
    assert term.login(env.badge(CASHIER, issued_at=env.now_s + 4 * 60), PIN).ok  # within the allowed skew


def test_a_fast_clock_explains_an_expired_badge(env: Env) -> None:
    term = env.seed()
    server_now = env.now_s
    badge = encode_token(StaffBadge(CASHIER, server_now - 3600, server_now + 600), env.issuer)
    env.clock.advance(20 * 60)  # this laptop runs 20 minutes ahead of the server ...
    _measured(env, term, server_ahead_ms=-20 * 60_000)  # ... as its last pull measured
    result = term.login(badge, PIN)
    assert (result.reason, result.clock_minutes, result.clock_direction) == ("clock_skew", 20, "fast")
    _measured(env, term)  # a right clock: the badge really expired
    assert term.login(badge, PIN).reason == "expired"


def test_a_damaged_badge_is_still_damaged(env: Env) -> None:
    term = env.seed()
    assert term.login(env.badge(CASHIER)[:-6], PIN).reason == "damaged"


def test_a_wallet_code_refused_for_the_clock_says_how_far_off_it_is(env: Env) -> None:
    term = env.seed()
    env.login()
    _measured(env, term, server_ahead_ms=12 * 60_000)  # the last pull: the server 12 minutes ahead
    token = encode_token(WalletToken(W, 2000, 1, env.now_s + 12 * 60, env.now_s + 3600, 3000), env.issuer)
    decision = term.sell(Cart.amount(300), token)
    assert decision.reason is DeclineReason.CLOCK_SKEW
    assert (decision.params["minutes"], decision.params["direction"]) == (12, "slow")
    assert decision.params["token_reason"] == "not_yet_valid"
    _measured(env, term)
    assert term.sell(Cart.amount(300), token).reason is DeclineReason.NOT_YET_VALID  # a right clock


def test_a_topup_desk_names_the_skew_too(env: Env) -> None:
    env.mode = TerminalMode.TOPUP
    term = env.seed()
    env.login(TOPUPPER)
    _unmeasured(term)
    token = encode_token(WalletToken(W, 0, 1, env.now_s + 6 * 60, env.now_s + 3600, 3000), env.issuer)
    decision = term.topup(token, 1000)
    assert decision.reason is DeclineReason.CLOCK_SKEW and decision.params["minutes"] == 6


def test_clock_skew_rounds_up_and_trusts_the_measurement() -> None:
    future = WalletToken(W, 0, 1, 10_000, 20_000, 3000)
    not_yet = TokenError(TokenReason.NOT_YET_VALID, "", future)
    assert clock_skew(not_yet, now_s=10_000 - 301, server_skew_ms=None) == ClockSkew(6, "slow")
    assert clock_skew(not_yet, now_s=10_000 - 1800, server_skew_ms=30 * 60_000) == ClockSkew(30, "slow")
    assert clock_skew(not_yet, now_s=10_000 - 1800, server_skew_ms=0) is None  # measured right: not valid yet
    expired = TokenError(TokenReason.EXPIRED, "", future)
    assert clock_skew(expired, now_s=20_100, server_skew_ms=None) is None
    assert clock_skew(expired, now_s=20_100, server_skew_ms=-200_000) is None  # within the allowed skew
    assert clock_skew(expired, now_s=20_100, server_skew_ms=-600_000) == ClockSkew(10, "fast")
    assert clock_skew(TokenError(TokenReason.TRUNCATED), now_s=0, server_skew_ms=-600_000) is None

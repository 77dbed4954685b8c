"""A genuine badge or wallet code refused only because this laptop's clock is off says so, with the minutes."""

from __future__ import annotations

from terminal_helpers import CASHIER, PIN, TOPUPPER, Env

from sync.errors import TokenError, TokenReason
from sync.schemas import TerminalMode
from sync.tokens import StaffBadge, WalletToken, encode_token
from terminal.authorize import ClockSkew, clock_skew
from terminal.decisions import Cart, DeclineReason

W = 0x12_3456_789A


def test_a_badge_from_the_future_means_this_clock_is_slow_not_a_damaged_badge(env: Env) -> None:
    term = env.seed()
    badge = env.badge(CASHIER, issued_at=env.now_s + 7 * 60)  # the server signed it 7 minutes "from now"
    result = term.login(badge, PIN)
    assert not result.ok and result.reason == "clock_skew"
    assert (result.clock_minutes, result.clock_direction) == (7, "slow")
    assert result.to_json()["clock_minutes"] == 7
    assert term.current_staff() is None
    env.clock.advance(7 * 60)  # the clock set right: the same badge logs in
    assert term.login(badge, PIN).ok


def test_within_the_allowed_skew_a_badge_logs_in(env: Env) -> None:
    term = env.seed()
    assert term.login(env.badge(CASHIER, issued_at=env.now_s + 4 * 60), PIN).ok


def test_a_fast_clock_measured_at_the_last_sync_explains_an_expired_badge(env: Env) -> None:
    term = env.seed()
    server_now = env.now_s
    badge = encode_token(StaffBadge(CASHIER, server_now - 3600, server_now + 600), env.issuer)
    env.clock.advance(20 * 60)  # this laptop's clock runs 20 minutes ahead of the server's ...
    term.store.put("server_offset_ms", str(-20 * 60_000))  # ... as the last pull measured
    result = term.login(badge, PIN)
    assert (result.reason, result.clock_minutes, result.clock_direction) == ("clock_skew", 20, "fast")
    term.store.put("server_offset_ms", "0")  # a right clock: the badge really expired
    assert term.login(badge, PIN).reason == "expired"


def test_a_damaged_badge_is_still_damaged(env: Env) -> None:
    term = env.seed()
    assert term.login(env.badge(CASHIER)[:-6], PIN).reason == "damaged"


def test_a_wallet_code_refused_for_the_clock_says_how_far_off_it_is(env: Env) -> None:
    term = env.seed()
    env.login()
    token = encode_token(WalletToken(W, 2000, 1, env.now_s + 12 * 60, env.now_s + 3600, 3000), env.issuer)
    decision = term.sell(Cart.amount(300), token)
    assert decision.reason is DeclineReason.CLOCK_SKEW
    assert (decision.params["minutes"], decision.params["direction"]) == (12, "slow")
    assert decision.params["token_reason"] == "not_yet_valid"


def test_a_topup_desk_names_the_skew_too(env: Env) -> None:
    env.mode = TerminalMode.TOPUP
    term = env.seed()
    env.login(TOPUPPER)
    token = encode_token(WalletToken(W, 0, 1, env.now_s + 6 * 60, env.now_s + 3600, 3000), env.issuer)
    decision = term.topup(token, 1000)
    assert decision.reason is DeclineReason.CLOCK_SKEW and decision.params["minutes"] == 6


def test_clock_skew_rounds_up_and_prefers_the_measured_offset() -> None:
    future = WalletToken(W, 0, 1, 10_000, 20_000, 3000)
    not_yet = TokenError(TokenReason.NOT_YET_VALID, "", future)
    assert clock_skew(not_yet, now_s=10_000 - 301, server_offset_ms=None) == ClockSkew(6, "slow")
    assert clock_skew(not_yet, now_s=10_000 - 301, server_offset_ms=30 * 60_000) == ClockSkew(30, "slow")
    expired = TokenError(TokenReason.EXPIRED, "", future)
    assert clock_skew(expired, now_s=20_100, server_offset_ms=None) is None
    assert clock_skew(expired, now_s=20_100, server_offset_ms=-200_000) is None  # within the allowed skew
    assert clock_skew(expired, now_s=20_100, server_offset_ms=-600_000) == ClockSkew(10, "fast")
    assert clock_skew(TokenError(TokenReason.TRUNCATED), now_s=0, server_offset_ms=-600_000) is None

"""The words for a refusal caused by this laptop's clock: the minutes and the direction, in both languages."""

from __future__ import annotations

from typing import Any

from terminal.decisions import DeclineReason, LoginResult
from ui.i18n import I18n, install
from ui.messages import explain_reason
from ui.screens.login import login_message


def test_a_badge_refused_for_the_clock_says_how_far_and_which_way(qtbot: Any) -> None:
    words = install(I18n("en"))
    slow = LoginResult(False, "clock_skew", clock_minutes=7, clock_direction="slow")
    assert "this laptop's clock is 7 minutes slow" in login_message(slow)
    assert "damaged" not in login_message(slow)
    words.set_language("ja")
    assert "この端末の時計が7分遅れています" in login_message(slow)
    fast = LoginResult(False, "clock_skew", clock_minutes=20, clock_direction="fast")
    assert "この端末の時計が20分進んでいます" in login_message(fast)


def test_a_wallet_code_refused_for_the_clock_says_so_on_the_result_screen(qtbot: Any) -> None:
    words = install(I18n("en"))
    explained = explain_reason(DeclineReason.CLOCK_SKEW, {"minutes": 12, "direction": "slow"})
    assert explained.headline == "This laptop's clock is 12 minutes slow"
    assert "clock" in explained.next_step
    words.set_language("ja")
    assert explain_reason(DeclineReason.CLOCK_SKEW, {"minutes": 12, "direction": "fast"}).headline == \
        "この端末の時計が12分進んでいます"

"""Every decline reason, from the terminal or from the server, reads as a sentence in both languages.

The server's reasons are read from its own code (what ``/authorize`` can answer:
``Outcome(..., 200, "<reason>")`` in server/records.py, ``_reject(c, "<reason>...")``
which an online call answers the same way, and the route's own ``reason="..."``),
so a reason added on the server without words on the terminal fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from terminal.decisions import DeclineReason
from ui.i18n import I18n, install
from ui.messages import SERVER_REASONS, explain_reason

ROOT = Path(__file__).resolve().parents[2]
_PATTERNS = [
    re.compile(r'Outcome\(c\.id, None, 200, "([a-z_]+)"'),
    re.compile(r'_reject\(c, f?"([a-z_]+)'),
    re.compile(r'AuthorizeResponse\([^)]*reason="([a-z_]+)"'),
    re.compile(r'^\s*else "([a-z_]+)"\)', re.M),  # the online refusal of a record the authority rules forbid
]


def server_reason_codes() -> set[str]:
    """The reason codes the server's authorize can send back, read from its source."""
    codes: set[str] = set()
    for rel in ("server/records.py", "server/api/routes/authorize.py"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        for pattern in _PATTERNS:
            codes.update(pattern.findall(text))
    return codes


def _japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_server_reasons_are_found() -> None:
    codes = server_reason_codes()
    assert {"insufficient_balance", "wallet_blocked", "forbidden", "unknown_wallet", "conflict"} <= codes


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_server_reason_in_words(language: str) -> None:
    install(I18n(language))
    generic = explain_reason(DeclineReason.SERVER_DECLINED, {"server_reason": "never_heard_of_it"})
    for code in sorted(server_reason_codes()):
        assert code in SERVER_REASONS, f"no words for the server's reason {code!r}"
        words = explain_reason(DeclineReason.SERVER_DECLINED, {"server_reason": code, "status": 200})
        assert code not in words.headline and code not in words.next_step, (code, words)
        assert "reason." not in words.headline and words.next_step, (code, words)
        assert words != generic, code
        assert _japanese(words.headline) == (language == "ja"), (code, words)
    words = explain_reason(DeclineReason.SERVER_DECLINED, {"server_reason": "insufficient_balance"})
    assert ("Top up" in words.next_step) if language == "en" else ("チャージ" in words.next_step)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_server_refusals_by_status_and_every_terminal_reason(language: str) -> None:
    install(I18n(language))
    for status in (403, 409, 422, 429, 500, 503):
        params = {"server_reason": "record body invalid", "status": status}
        words = explain_reason(DeclineReason.SERVER_DECLINED, params)
        assert "record body invalid" not in words.headline and words.next_step, status
        assert _japanese(words.headline) == (language == "ja"), status
    for reason in DeclineReason:
        words = explain_reason(reason, {"available": 300, "server_reason": "insufficient_balance"})
        assert "reason." not in words.headline and reason.value not in words.headline, reason
        assert words.next_step and "{" not in words.headline, reason
        assert _japanese(words.headline) == (language == "ja"), reason


@pytest.mark.parametrize("language", ["en", "ja"])
def test_closed_names_the_next_opening_in_the_events_zone_or_says_the_hours_are_over(language: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    words = I18n(language, zone="Europe/London")
    install(words)
    opens = int(datetime(2026, 7, 4, 10, 0, tzinfo=ZoneInfo("Europe/London")).timestamp() * 1000)  # BST
    later = explain_reason(DeclineReason.CLOSED, {"opens_at": opens})
    assert "07/04 10:00" in later.next_step, later
    over = explain_reason(DeclineReason.CLOSED, {})
    assert over != later and "—" not in over.headline + over.next_step
    assert ("over" in over.headline) if language == "en" else ("終了" in over.headline)

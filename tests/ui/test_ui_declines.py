"""Each kind of decline is shown red, with a cross, the reason in words and the next step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui_helpers import Event, close_app, enroll, login, make_app, pay, shot

from terminal.decisions import DeclineReason
from ui.messages import explain_reason


def test_each_decline_is_shown_with_words_and_next_step(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event)
        login(qtbot, app, event, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        qtbot.wait_until(lambda: len(sale.product_buttons) == 4, timeout=5000)
        takoyaki = event.product_ids[3]
        assert not sale.product_buttons[takoyaki].isEnabled(), "a sold-out product cannot be tapped"
        assert "SOLD OUT" in sale.product_buttons[takoyaki].text()
        cases = [
            ("insufficient_balance", event.wallet(100), DeclineReason.INSUFFICIENT_BALANCE),
            ("expired", event.wallet(2000, ttl_s=600, issued_ago_s=1200), DeclineReason.EXPIRED),
            ("wrong_kind", event.ticket(), DeclineReason.WRONG_KIND),
            ("not_a_code", "HELLO FROM ANOTHER APP", DeclineReason.NOT_A_CODE),
            ("forged", _forged_wallet(event), DeclineReason.FORGED),
        ]
        for name, text, reason in cases:
            app.window.overlay.dismiss()
            sale.product_buttons[event.product_ids[0]].click()
            decision = pay(qtbot, app, text)
            assert not decision.approved
            assert decision.reason == reason, (name, decision)
            overlay = app.window.overlay
            assert overlay.approved is False and overlay.icon.text() == "✗"
            words = explain_reason(reason, decision.params)
            assert overlay.detail.text() == words.headline and overlay.next_step.text() == words.next_step
            assert words.headline and words.next_step and "reason." not in words.headline
            assert sale.total() == 500, "a declined cart stays, so the customer can try another way"
            if name == "insufficient_balance":
                assert "¥100" in overlay.detail.text()
                shot(app.window, "declined_balance_en")
            if name == "expired":
                assert "My page" in overlay.next_step.text()
            sale.clear_cart()
        app.i18n.set_language("ja")
        sale.product_buttons[event.product_ids[0]].click()
        pay(qtbot, app, event.wallet(100))
        assert "残高不足" in app.window.overlay.detail.text()
        shot(app.window, "declined_balance_ja")
    finally:
        close_app(app)


def _forged_wallet(event: Event) -> str:
    import time

    from sync.keys import IssuerKey
    from sync.tokens import WalletToken, encode_token

    now = int(time.time())
    stranger = IssuerKey.generate(event.issuer().key_id)
    return encode_token(WalletToken(123456, 99999, 1, now, now + 600, 3000), stranger)

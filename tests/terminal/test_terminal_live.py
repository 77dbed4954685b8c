"""The engine against a real server on loopback: enrollment, sync, online authorization, revocation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from terminal_live import PIN, Live

from server.terminals import revoke_terminal
from sync.ids import format_short_id
from terminal.decisions import Cart, DeclineReason
from terminal.engine import KEY_NAME, Terminal
from terminal.errors import AlreadyEnrolled, EnrollmentFailed

R = DeclineReason


def test_enrollment_stores_credentials_and_a_private_key_only_the_owner_reads(live: Live, tmp_path: Path) -> None:
    term = Terminal.open(tmp_path / "t")
    code = live.code()
    row = term.enroll(code, name="stall 1")
    assert row.stall_id == live.stall and term.enrolled
    assert stat.S_IMODE((term.data_dir / KEY_NAME).stat().st_mode) == 0o600
    with pytest.raises(AlreadyEnrolled):
        term.enroll(code)
    other = Terminal.open(tmp_path / "u")
    with pytest.raises(EnrollmentFailed):  # a one-time code
        other.enroll(code)
    with pytest.raises(EnrollmentFailed):
        other.enroll("EE1:not a code")
    assert not other.enrolled
    term.close()
    other.close()


def test_enrollment_with_the_server_down_fails_cleanly(live: Live, tmp_path: Path) -> None:
    live.proxy.set_mode("drop")
    term = Terminal.open(tmp_path / "t")
    with pytest.raises(EnrollmentFailed, match="cannot reach"):
        term.enroll(live.code())
    assert not term.enrolled
    term.close()


def test_sales_offline_and_online_reach_the_server_once(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(5000)
    term = live.terminal(tmp_path / "t")
    small = term.sell(Cart.of([(live.products[0], 1)]), format_short_id(wallet))
    big = term.sell(Cart.amount(1500), format_short_id(wallet))
    assert small.approved and small.mode == "offline"
    assert big.approved and big.mode == "online" and big.balance_after == 3000
    refund = term.refund(str(small.record_id), 200)
    assert refund.approved
    status = term.sync_now()
    assert status.online and status.unsynced_count == 0
    identity = term.identity()
    assert identity is not None
    records = {r["id"]: r for r in live.records(identity.terminal_id)}
    assert set(records) == {small.record_id, big.record_id, refund.record_id}
    assert live.wallet(wallet)["balance"] == 5000 - 500 - 1500 + 200
    stored = term.store.record(str(small.record_id))
    assert stored is not None and records[small.record_id]["body"] == stored.body  # byte-identical
    assert term.store.statement(wallet).balance == 3200  # type: ignore[union-attr]
    term.close()


def test_the_server_declines_above_the_floor_limit(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(1200)
    term = live.terminal(tmp_path / "t")
    live.seed.topup(wallet, 1)  # the server knows more than the terminal: still its call
    decision = term.sell(Cart.amount(2000), format_short_id(wallet))
    assert decision.reason is R.SERVER_DECLINED and decision.params["server_reason"]
    assert term.status().unsynced_count == 0
    term.close()


def test_topup_is_booked_online(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(0)
    desk = live.terminal(tmp_path / "desk", mode="topup")
    decision = desk.topup(format_short_id(wallet), 1000, cash_received=5000)
    assert decision.approved and decision.mode == "online" and decision.params["change"] == 4000
    assert decision.balance_after == 1000 and live.wallet(wallet)["balance"] == 1000
    assert desk.sync_now().unsynced_count == 0  # pushed again: a duplicate, booked once
    assert live.wallet(wallet)["balance"] == 1000
    stall = live.terminal(tmp_path / "stall")
    assert stall.sell(Cart.amount(800), format_short_id(wallet)).approved
    stall.sync_now()
    assert live.wallet(wallet)["balance"] == 200
    desk.close()
    stall.close()


def test_a_stalled_server_above_the_floor_limit_falls_back_to_the_offline_limit(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(5000)
    term = live.terminal(tmp_path / "t")
    live.proxy.set_mode("stall")
    decision = term.sell(Cart.amount(2500), format_short_id(wallet))
    assert decision.approved and decision.mode == "offline" and decision.params["server_unreachable"]
    assert term.sell(Cart.amount(1500), format_short_id(wallet)).reason is R.OFFLINE_LIMIT
    live.proxy.set_mode("pass")
    assert term.sync_now().unsynced_count == 0
    assert live.wallet(wallet)["balance"] == 2500
    term.close()


def test_a_lost_authorize_answer_is_pushed_as_a_duplicate_not_charged_twice(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(5000)
    term = live.terminal(tmp_path / "t")
    live.proxy.set_mode("lose_responses")  # the server books it; the answer never arrives
    decision = term.sell(Cart.amount(2000), format_short_id(wallet))
    assert decision.approved and decision.mode == "offline"
    live.proxy.set_mode("pass")
    assert term.sync_now().unsynced_count == 0
    stored = term.store.record(str(decision.record_id))
    assert stored is not None and stored.ack_status == "duplicate"
    assert live.wallet(wallet)["balance"] == 3000
    term.close()


def test_a_revoked_terminal_stops_and_wipes_personal_data(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(5000)
    term = live.terminal(tmp_path / "t")
    assert term.sell(Cart.amount(100), format_short_id(wallet)).approved
    identity = term.identity()
    assert identity is not None
    with live.seed.db.write() as conn:
        revoke_terminal(conn, identity.terminal_id, now_ms=0)
    status = term.sync_now()
    assert status.revoked
    assert term.sell(Cart.amount(100), format_short_id(wallet)).reason is R.TERMINAL_REVOKED
    assert term.store.staff(live.cashier) is None and term.store.statement(wallet) is None
    assert term.login(live.seed.badge(live.cashier), PIN).reason == "terminal_revoked"
    assert any(e["event"] == "terminal_revoked" for e in term.store.security_events())
    term.close()


def test_a_lost_answer_with_decline_fallback_leaves_the_wallet_untouched(tmp_path: Path) -> None:
    from sync.schemas import EventSettings, OfflineFallback

    live = Live(tmp_path, EventSettings(floor_limit=1000, offline_fallback=OfflineFallback.DECLINE,
                                        authorize_timeout_ms=500, staff_idle_logout_s=86400))
    try:
        wallet = live.seed.wallet(5000)
        term = live.terminal(tmp_path / "t")
        live.proxy.set_mode("lose_responses")  # booked at the server, the answer lost
        assert term.sell(Cart.amount(2000), format_short_id(wallet)).reason is R.SERVER_UNREACHABLE
        live.proxy.set_mode("pass")
        assert term.sync_now().unsynced_count == 0
        assert live.wallet(wallet)["balance"] == 5000  # sale and automatic void
        kinds = sorted(r["kind"] for r in live.records())
        assert kinds == ["sale", "void"]
        term.close()
    finally:
        live.close()


def test_forged_tokens_become_anomalies_on_the_server_once(live: Live, tmp_path: Path) -> None:
    """Sightings reach the dashboard's anomalies; a report whose answer is lost is sent again, not doubled."""
    import json
    import time

    from server.api.routes.sync import sighting_key
    from sync.keys import IssuerKey
    from sync.tokens import StaffBadge, WalletToken, encode_token

    term = live.terminal(tmp_path / "t")
    identity = term.identity()
    assert identity is not None
    now = int(time.time())
    stranger = IssuerKey.generate(1)
    forged_wallet = encode_token(WalletToken(live.seed.wallet(0), 90_000, 1, now, now + 600, 3000), stranger)
    assert term.sell(Cart.amount(500), forged_wallet).reason is R.FORGED
    forged_badge = encode_token(StaffBadge(live.cashier, now, now + 600), stranger)
    assert term.login(forged_badge, PIN).reason == "forged"
    local = term.store.security_events()
    assert [e["event"] for e in local] == ["forged_token", "forged_token"]

    live.proxy.set_mode("lose_responses")  # the server takes the report, the answer never arrives
    assert not term.sync_now().online
    assert len(live.anomalies("forged_token")) == 2
    live.proxy.set_mode("pass")
    assert term.sync_now().online
    term.sync_now()
    found = live.anomalies("forged_token")
    assert len(found) == 2  # sent again after the lost answer, booked once
    assert {a["terminal_id"] for a in found} == {identity.terminal_id}
    assert {a["severity"] for a in found} == {"security"}
    assert sorted(a["record_id"] for a in found) == [sighting_key(1), sighting_key(2)]
    assert {e["fingerprint"] for e in local} == {json.loads(a["detail"])["fingerprint"] for a in found}
    assert term.store.security_unreported(10) == []
    term.close()


def test_issuer_key_rotation_and_retirement_reach_the_terminal_by_pull(live: Live, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """rotate-key: new tokens use the new key, old ones still work; retire-key: the old key's tokens read forged."""
    from server.admin_cli import main as admin

    term = live.terminal(tmp_path / "t")
    old_badge = live.seed.badge(live.cashier)  # signed by key 1
    data = ["--data-dir", str(live.settings.data_dir)]
    assert admin([*data, "retire-key", "--key-id", "1"]) == 1  # the only active key: something must sign
    assert "only active key" in capsys.readouterr().err
    assert admin([*data, "rotate-key"]) == 0
    assert "issuer key 2 signs from now on" in capsys.readouterr().out
    new_badge = live.seed.badge(live.cashier)  # signed by key 2
    assert new_badge != old_badge
    assert term.login(new_badge, PIN).reason == "forged"  # not pulled yet: an unknown key
    assert term.sync_now().online
    assert term.login(new_badge, PIN).ok
    assert term.login(old_badge, PIN).ok  # printed badges keep working after a rotation

    assert admin([*data, "retire-key", "--key-id", "1"]) == 0
    assert admin([*data, "retire-key", "--key-id", "1"]) == 1  # already retired: a clear error, nothing changes
    assert "not an active key" in capsys.readouterr().err
    assert term.login(old_badge, PIN).ok  # until the pull
    assert term.sync_now().online
    assert term.login(old_badge, PIN).reason == "forged"
    assert term.login(new_badge, PIN).ok
    term.close()

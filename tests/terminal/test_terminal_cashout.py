"""Cash-outs at a top-up desk against a real server on loopback: whole or partial, offline or online, once.

The desk decides like any spend (offline at or under the floor limit, within the
caps; online above it); the server books wallet −amount / system "cash-outs"
+amount, judged by its record authority (mode and permission), and a whole-balance
cash-out closes the wallet so the old tokens spend nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_helpers import postgres_base_url
from sqlalchemy import select
from terminal_live import PIN, Live

from server.db import tables as t
from server.reconcile import reconcile
from server.records import SYSTEM_CASHOUTS
from server.testing import fresh_postgres_database
from sync.client import SyncClient
from sync.ids import format_short_id, new_record_id
from sync.keys import SigningKey
from sync.records import sign_record
from sync.schemas import CashOutRecord, EventSettings, ItemStatus, SignedRecord
from terminal.decisions import Cart
from terminal.decisions import DeclineReason as R
from terminal.engine import Terminal


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def desk_live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    url, drop = "", None
    if request.param == "postgres":
        url, drop = fresh_postgres_database(postgres_base_url())
    event = EventSettings(floor_limit=1000, offline_limit=3000, push_debounce_ms=50, pull_interval_s=1,
                          authorize_timeout_ms=500, overdraft_tolerance=1000, staff_idle_logout_s=86400)
    live = Live(tmp_path, event, database_url=url)
    live.desker = live.seed.staff("Mio", pin=PIN, roles=[("cashdesk", "event", None)])  # type: ignore[attr-defined]
    yield live
    live.close()
    if drop:
        drop()


def _desk(live: Live, data_dir: Path, *, who: int | None = None) -> Terminal:
    term = Terminal.open(data_dir, pause=lambda _s: None)
    term.enroll(live.code("topup"), name=data_dir.name)
    assert term.sync_now().online
    assert term.login(live.seed.badge(who or live.desker), PIN).ok  # type: ignore[attr-defined]
    return term


def _cashouts(live: Live) -> list[dict[str, object]]:
    return [r for r in live.records() if r["kind"] == "cashout"]


def _system(live: Live) -> int:
    a = t.accounts
    with live.seed.db.read() as conn:
        return int(conn.execute(select(a.c.balance).where(a.c.kind == "system", a.c.ref == SYSTEM_CASHOUTS))
                   .scalar_one_or_none() or 0)


def _reconciled(live: Live) -> dict[str, int]:
    with live.seed.db.read() as conn:
        report = reconcile(conn)
    assert report.ok, report.text()
    return report.summary


def test_a_partial_then_a_whole_cash_out_empty_the_wallet_and_close_it(desk_live: Live, tmp_path: Path) -> None:
    live = desk_live
    wallet = live.seed.wallet(0)
    live.seed.topup(wallet, 2500)
    desk = _desk(live, tmp_path / "desk")
    desk.sync_now()
    part = desk.cash_out(format_short_id(wallet), 800)  # at or under the floor limit: decided offline
    assert part.approved and part.kind == "cashout" and part.mode == "offline" and part.balance_after == 1700
    assert desk.sync_now().unsynced_count == 0
    assert live.wallet(wallet)["balance"] == 1700 and not live.wallet(wallet)["blocked"]
    whole = desk.cash_out(format_short_id(wallet))  # the rest, 1,700: above the floor limit, online
    assert whole.approved and whole.mode == "online" and whole.amount == 1700 and whole.params["close"]
    assert live.wallet(wallet)["balance"] == 0 and live.wallet(wallet)["blocked"]  # closed by the server
    assert desk.sync_now().unsynced_count == 0  # pushed again: a duplicate, booked once
    rows = _cashouts(live)
    assert {r["amount"]: json.loads(str(r["body"]))["close"] for r in rows} == {800: False, 1700: True}
    assert _system(live) == 2500
    summary = _reconciled(live)
    assert summary["cash_outs"] == 2500 and summary["wallets"] == 0
    report = desk.shift_report()
    assert (report.cashouts_count, report.cashouts_amount) == (2, 2500)
    assert report.cash_expected == -2500  # the drawer paid out 2,500 this shift
    assert desk.cash_out(format_short_id(wallet)).reason is R.WALLET_REVOKED  # closed: nothing more
    stall = live.terminal(tmp_path / "stall")  # a stall that pulled after: the old token spends nothing
    assert stall.sell(Cart.amount(100), format_short_id(wallet)).reason is R.WALLET_REVOKED
    desk.close()
    stall.close()


def test_offline_cash_outs_stay_within_the_caps_and_book_once(desk_live: Live, tmp_path: Path) -> None:
    live = desk_live
    wallet = live.seed.wallet(0)
    live.seed.topup(wallet, 5000)
    desk = _desk(live, tmp_path / "desk")
    desk.sync_now()
    live.proxy.set_mode("drop")  # the network is gone: decided offline, within the caps
    first = desk.cash_out(format_short_id(wallet), 1000)
    assert first.approved and first.mode == "offline"
    assert desk.cash_out(format_short_id(wallet), 1000).approved
    assert desk.cash_out(format_short_id(wallet), 1000).approved
    assert desk.cash_out(format_short_id(wallet), 500).reason is R.OFFLINE_LIMIT  # 3,000 offline per wallet
    live.proxy.set_mode("pass")
    assert desk.sync_now().unsynced_count == 0
    assert live.wallet(wallet)["balance"] == 2000 and len(_cashouts(live)) == 3
    assert live.anomalies() == []  # an honest desk within the caps raises nothing
    _reconciled(live)
    desk.close()


def test_a_lost_cash_out_answer_is_held_in_doubt_and_the_cash_is_not_paid_until_it_settles(
        desk_live: Live, tmp_path: Path) -> None:
    live = desk_live
    wallet = live.seed.wallet(0)
    live.seed.topup(wallet, 4000)
    desk = _desk(live, tmp_path / "desk")
    desk.sync_now()
    live.proxy.set_mode("lose_responses")  # booked at the server; every answer lost
    lost = desk.cash_out(format_short_id(wallet), 2500)  # within the offline limit: the fallback pays it
    assert lost.approved and lost.mode == "offline" and lost.params["server_unreachable"]
    decision = desk.cash_out(format_short_id(wallet), 1500)  # past the offline limit: nobody can tell
    assert decision.reason is R.CASHOUT_IN_DOUBT and decision.params["in_doubt"]
    (doubt,) = desk.topup_doubts()
    assert (doubt.kind, doubt.state, doubt.amount) == ("cashout", "in_doubt", 1500)
    assert desk.shift_report().cashouts_amount == 2500  # the one in doubt is not paid yet
    live.proxy.set_mode("pass")
    desk.sync_now()
    (doubt,) = desk.topup_doubts()
    assert doubt.state == "booked"  # now pay it out
    assert live.wallet(wallet)["balance"] == 0 and len(_cashouts(live)) == 2  # each booked once
    assert desk.shift_report().cashouts_amount == 4000
    _reconciled(live)
    desk.close()


def test_the_server_refuses_cash_outs_from_a_stall_terminal_or_without_the_permission(
        desk_live: Live, tmp_path: Path) -> None:
    """The terminal's mode and the person's permission are the server's call, whatever the client decided."""
    live = desk_live
    wallet = live.seed.wallet(0)
    live.seed.topup(wallet, 3000)
    topupper = live.seed.staff("Yui", pin=PIN, roles=[("topup", "event", None)])  # top-ups, but no cash-outs
    desk = _desk(live, tmp_path / "desk", who=topupper)
    assert desk.cash_out(format_short_id(wallet), 500).reason is R.NOT_PERMITTED  # the desk's own check
    stall = live.terminal(tmp_path / "stall")
    for term, staff_id in ((stall, live.cashier), (desk, topupper)):
        identity = term.identity()
        assert identity is not None
        body = CashOutRecord(id=new_record_id(), terminal_id=identity.terminal_id, staff_id=staff_id,
                             created_at=term.clock.now_ms(), wallet_id=wallet, amount=500, token_seq=1,
                             close=False).model_dump(mode="json")
        key = term._key  # a tampered client signs with the terminal's own key: the signature is good
        assert isinstance(key, SigningKey)
        creds = term.store.credentials()
        assert creds is not None
        with SyncClient(creds.server_url, creds.api_token) as client:
            (result,) = client.push([SignedRecord(body=body, sig=sign_record(body, key))]).results
        assert result.status is ItemStatus.REJECTED and result.code == 422
        assert result.reason is not None and "forbidden" in result.reason
    assert _cashouts(live) == [] and live.wallet(wallet)["balance"] == 3000
    refused = live.anomalies("record_refused")
    assert len(refused) == 2 and {a["severity"] for a in refused} == {"security"}
    reasons = " ".join(json.loads(a["detail"])["reason"] for a in refused)
    assert "wrong_mode" in reasons and "permission" in reasons
    desk.close()
    stall.close()


def test_a_terminal_from_before_cash_outs_upgrades_with_its_ledger_intact(tmp_path: Path) -> None:
    """0005 rebuilds the ledger (a new kind in its CHECK) under its sale lines, outbox, voids and doubts."""
    import sqlite3

    from sqlite_utils import Database

    from terminal.migrations import MIGRATIONS
    from terminal.store import Store

    path = tmp_path / "t.db"
    db = Database(str(path))
    MIGRATIONS.apply(db, stop_before="0005_cashout")
    sale, void = str(new_record_id()), str(new_record_id())
    for rid, kind, ref in ((sale, "sale", None), (void, "void", sale)):
        db.execute("INSERT INTO ledger (id, kind, mode, staff_id, wallet_id, stall_id, amount, ref_id, created_at, "
                   "body, sig) VALUES (?, ?, 'offline', 1, 7, 1, 500, ?, 5, '{}', 's')", [rid, kind, ref])
        db.execute("INSERT INTO outbox (record_id, amount, offline_amount) VALUES (?, 500, 0)", [rid])
    db.execute("INSERT INTO sale_lines (record_id, line, product_id, qty, unit_price) VALUES (?, 0, 3, 1, 500)", [sale])
    db.execute("INSERT INTO pending_authorizations (id, kind, body, sig, created_at, state) "
               "VALUES ('p1', 'topup', '{}', 's', 5, 'sending')")
    db.conn.commit()
    db.close()
    store = Store(path)
    assert "0005_cashout" in [m.name for m in MIGRATIONS.applied(store.db)]
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [r[0] for r in store.conn.execute("SELECT id FROM ledger ORDER BY rowid")] == [sale, void]
    assert store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 2
    assert store.conn.execute("SELECT kind FROM pending_authorizations").fetchall() == [("topup",)]
    indexes = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                                "AND tbl_name = 'ledger'")}
    assert {"ledger_wallet", "ledger_ref", "ledger_created"} <= indexes
    store.conn.execute("INSERT INTO ledger (id, kind, mode, staff_id, wallet_id, amount, created_at, body, sig) "
                       "VALUES ('c1', 'cashout', 'offline', 1, 7, 100, 6, '{}', 's')")
    with pytest.raises(sqlite3.IntegrityError):  # the foreign keys hold again after the rebuild
        store.conn.execute("INSERT INTO outbox (record_id, amount, offline_amount) VALUES ('nope', 1, 0)")
    store.close()
    Store(path).close()  # opening again runs nothing twice

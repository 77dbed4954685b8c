"""Cups brought back on their own at a real terminal against a real server: decided here within what this
terminal's own ledger took in deposits, asked online beyond that, never paid twice, and pushed as facts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select
from terminal_live import Live

from server.db import tables as t
from server.reconcile import reconcile
from sync.ids import format_short_id
from terminal import sales
from terminal.decisions import Cart, DeclineReason

R = DeclineReason


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.05)


def _held(live: Live) -> int:
    a = t.accounts
    with live.seed.db.read() as conn:
        return int(conn.execute(select(a.c.balance).where(a.c.kind == "stall_deposit", a.c.ref == live.stall))
                   .scalar_one())


def test_cups_back_are_decided_here_within_this_tills_deposits_and_online_beyond(live: Live, tmp_path: Path) -> None:
    beer = live.seed.product(live.stall, "Beer", 600)
    cup = live.seed.product(live.stall, "Cup deposit", 200, kind="deposit")
    buyer, friend = live.seed.wallet(5000), live.seed.wallet(100)
    bar = live.terminal(tmp_path / "bar", sync_timeout=httpx.Timeout(1.0))
    assert bar.sell(Cart.of([(beer, 1), (cup, 2)]), format_short_id(buyer)).approved  # two cups out
    assert bar.store.deposits_held_here(live.stall) == 400

    service = bar.sync_service()
    service.start()
    try:
        live.proxy.set_mode("stall")  # the network is gone, and the sync loop knows it
        service.poke()
        _wait_for(lambda: not bar.status().online)
        back = bar.sell(Cart.of([(cup, -1)]), format_short_id(friend))  # still decided here
        assert back.approved and back.kind == "deposit_return" and back.mode == "offline" and back.amount == 200
        assert back.balance_after == 300
        assert bar.store.deposits_held_here(live.stall) == 200
        beyond = bar.sell(Cart.of([(cup, -2)]), format_short_id(friend))  # more than this till took: not here
        assert not beyond.approved and beyond.reason == R.DEPOSIT_NOT_HELD and beyond.params["server_unreachable"]
        assert bar.store.pending_authorizations() == []  # never sent
        assert [r.kind for r in bar.store.recent(50)].count("deposit_return") == 1  # the decline recorded nothing
        live.proxy.set_mode("pass")
        _wait_for(lambda: bar.status().online and bar.status().unsynced_count == 0)
    finally:
        service.stop()
    assert live.wallet(friend)["balance"] == 300 and _held(live) == 200

    # another till of the bar took no cups itself: it asks the server, which holds one cup's deposit
    other = live.terminal(tmp_path / "other")
    assert other.store.deposits_held_here(live.stall) == 0
    first = other.sell(Cart.of([(cup, -1)]), format_short_id(friend))
    assert first.approved and first.mode == "online" and first.balance_after == 500, first
    second = other.sell(Cart.of([(cup, -1)]), format_short_id(friend))
    assert not second.approved and second.reason == R.DEPOSIT_NOT_HELD
    assert second.params["server_reason"] == "deposit_not_held"
    assert live.wallet(friend)["balance"] == 500 and _held(live) == 0

    # the first till still counts one cup of its own: decided here, pushed, booked as a fact and flagged
    late = bar.sell(Cart.of([(cup, -1)]), format_short_id(friend))
    assert late.approved and late.mode == "offline"
    assert bar.sync_now().unsynced_count == 0
    assert _held(live) == -200 and live.wallet(friend)["balance"] == 700
    assert [a["record_id"] for a in live.anomalies("deposit_not_held")] == [late.record_id]
    report = bar.shift_report()
    assert (report.deposit_returns_count, report.deposit_returns_amount) == (2, 400)
    assert report.net_sales == 1000 - 400
    with live.seed.db.read() as conn:
        checked = reconcile(conn)
    assert checked.ok, checked.text()
    bar.close()
    other.close()


def test_a_return_whose_answer_was_lost_is_kept_and_booked_once(live: Live, tmp_path: Path) -> None:
    cup = live.seed.product(live.stall, "Cup deposit", 200, kind="deposit")
    buyer, friend = live.seed.wallet(5000), live.seed.wallet(0)
    seller = live.terminal(tmp_path / "seller")
    assert seller.sell(Cart.of([(cup, 3)]), format_short_id(buyer)).approved
    assert seller.sync_now().unsynced_count == 0
    till = live.terminal(tmp_path / "till")
    live.proxy.set_mode("lose_responses")  # asked online (this till took no cups); booked there, the answer lost
    lost = till.sell(Cart.of([(cup, -1)]), format_short_id(friend))
    assert lost.approved and lost.params["in_doubt"], lost  # kept: the server may have paid it
    live.proxy.set_mode("pass")
    assert till.sync_now().unsynced_count == 0
    again = till.store.record(str(lost.record_id))
    assert again is not None and again.ack_status == "duplicate"  # paid once
    assert live.wallet(friend)["balance"] == 200 and _held(live) == 400

    prepared = till._prepare("deposit_return")
    assert not isinstance(prepared, sales.Decision)
    ctx, staff = prepared
    # the terminal stopped after sending an online return and before its answer: the note is all that is left
    row = ctx.sign(sales.DepositReturnRecord(
        id=sales.new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=staff.staff_id,
        created_at=ctx.clock.now_ms(), stall_id=live.stall, wallet_id=friend, amount=400,
        lines=[sales.ReturnLine(product_id=cup, qty=2, unit_price=200)]), mode="online")
    till.store.begin_authorization(row)
    assert ctx.client is not None
    assert ctx.client.authorize(row.signed(), timeout_s=5).approved  # booked; the answer never reached the till
    assert sales.recover(ctx) == 1  # kept: the push settles it (duplicate), never a second credit
    assert till.sync_now().unsynced_count == 0
    kept = till.store.record(row.id)
    assert kept is not None and kept.kind == "deposit_return" and kept.ack_status == "duplicate"
    assert json.loads(kept.body)["lines"] == [{"product_id": cup, "qty": 2, "unit_price": 200}]
    assert live.wallet(friend)["balance"] == 600 and _held(live) == 0
    seller.close()
    till.close()


def test_a_terminal_from_before_deposit_returns_keeps_its_ledger_and_takes_them(tmp_path: Path) -> None:
    import sqlite3

    import pytest
    from sqlite_utils import Database

    from sync.ids import new_record_id
    from terminal.migrations import MIGRATIONS
    from terminal.store import Store

    path = tmp_path / "t.db"
    db = Database(str(path))
    MIGRATIONS.apply(db, stop_before="0009_deposit_returns")
    sale = str(new_record_id())
    db.execute("INSERT INTO ledger (id, kind, mode, staff_id, wallet_id, stall_id, amount, ref_id, created_at, "
               "body, sig) VALUES (?, 'sale', 'offline', 1, 7, 1, 400, NULL, 5, '{}', 's')", [sale])
    db.execute("INSERT INTO sale_lines (record_id, line, product_id, qty, unit_price) VALUES (?, 0, 3, 2, 200)", [sale])
    db.execute("INSERT INTO products (id, stall_id, name, price, sold_out, active, sort, kind) "
               "VALUES (3, 1, 'Cup', 200, 0, 1, 0, 'deposit')")
    db.execute("INSERT INTO outbox (record_id, amount, offline_amount) VALUES (?, 400, 400)", [sale])
    db.conn.commit()
    db.close()
    store = Store(path)
    assert "0009_deposit_returns" in [m.name for m in MIGRATIONS.applied(store.db)]
    assert store.conn.execute("SELECT id, amount FROM ledger").fetchall() == [(sale, 400)]
    assert store.conn.execute("SELECT record_id FROM outbox").fetchall() == [(sale,)]  # still to be sent
    assert store.deposits_held_here(1) == 400
    back = str(new_record_id())
    store.conn.execute("INSERT INTO ledger (id, kind, mode, staff_id, wallet_id, stall_id, amount, ref_id, "
                       "created_at, body, sig) VALUES (?, 'deposit_return', 'offline', 1, 8, 1, 200, NULL, 6, "
                       "'{}', 's')", [back])
    store.conn.execute("INSERT INTO pending_authorizations (id, kind, body, sig, created_at, state) "
                       "VALUES (?, 'deposit_return', '{}', 's', 6, 'sending')", [str(new_record_id())])
    assert store.deposits_held_here(1) == 200
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("INSERT INTO ledger (id, kind, mode, staff_id, amount, created_at, body, sig) "
                           "VALUES ('x', 'giveaway', 'offline', 1, 1, 7, '{}', 's')")
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    store.close()


def test_a_cart_naming_a_cup_twice_is_one_line_and_too_many_cups_are_refused(live: Live, tmp_path: Path) -> None:
    cup = live.seed.product(live.stall, "Cup deposit", 100, kind="deposit")
    buyer, friend = live.seed.wallet(50_000), live.seed.wallet(0)
    bar = live.terminal(tmp_path / "bar")
    for _ in range(2):
        assert bar.sell(Cart.of([(cup, 99)]), format_short_id(buyer)).approved
    twice = bar.sell(Cart.of([(cup, -2), (cup, -3)]), format_short_id(friend))
    assert twice.approved and twice.amount == 500, twice
    record = bar.store.record(str(twice.record_id))
    assert record is not None and json.loads(record.body)["lines"] == [{"product_id": cup, "qty": 5,
                                                                         "unit_price": 100}]
    tray = bar.sell(Cart.of([(cup, -99), (cup, -2)]), format_short_id(friend))  # 101 cups: more than a basket
    assert not tray.approved and tray.reason == R.INVALID_CART
    assert bar.store.deposits_held_here(live.stall) == 198 * 100 - 500
    bar.close()

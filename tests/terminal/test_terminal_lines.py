"""The engine against a real server: a bar sells a beer with a cup deposit, then takes the cup back.

Offline and online decisions of baskets with deposit and discount lines, pushed and
authorized, land in the stall's revenue, deposit and discount accounts on the server.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from terminal_live import Live

from server.db import tables as t
from server.reconcile import reconcile
from sync.ids import format_short_id
from terminal.decisions import Cart, DeclineReason

R = DeclineReason


def _stall_accounts(live: Live) -> dict[str, int]:
    a = t.accounts
    with live.seed.db.read() as conn:
        return {str(k): int(b) for k, b in conn.execute(
            select(a.c.kind, a.c.balance).where(a.c.ref == live.stall,
                                                a.c.kind.in_(("stall_revenue", "stall_deposit", "stall_discount"))))}


def test_a_bar_sells_a_cup_deposit_offline_and_takes_it_back_online(live: Live, tmp_path: Path) -> None:
    beer = live.seed.product(live.stall, "Beer", 600)
    cup = live.seed.product(live.stall, "Cup deposit", 200, kind="deposit")
    staff = live.seed.product(live.stall, "Staff discount", 100, kind="discount")
    wallet = format_short_id(live.seed.wallet(5000))
    term = live.terminal(tmp_path / "t")
    kinds = {p.id: p.kind for p in term.store.products(live.stall)}
    assert (kinds[beer], kinds[cup], kinds[staff]) == ("normal", "deposit", "discount")  # pulled with the catalog

    first = term.sell(Cart.of([(beer, 1), (cup, 1)]), wallet)  # 800: under the floor limit, decided here
    assert first.approved and first.mode == "offline" and first.amount == 800
    # the next round: three beers, the cup back, a staff discount: 1800 - 200 - 100 = 1500, asked online
    second = term.sell(Cart.of([(beer, 3), (cup, -1), (staff, -1)]), wallet)
    assert second.approved and second.mode == "online" and second.amount == 1500
    assert second.balance_after == 5000 - 800 - 1500

    # what the terminal refuses before asking anyone: a sale is never negative, a beer never comes back
    # a cup back alone is a deposit return: this stall holds no deposit any more (taken once, given back once)
    assert term.sell(Cart.of([(cup, -1)]), wallet).reason == R.DEPOSIT_NOT_HELD
    assert term.sell(Cart.of([(beer, -1), (beer, 2)]), wallet).reason == R.INVALID_CART
    assert term.sell(Cart.of([(staff, 1), (beer, 1)]), wallet).reason == R.INVALID_CART
    assert term.sell(Cart.of([(cup, 1), (staff, -1)]), wallet).reason == R.DISCOUNT_TOO_LARGE

    status = term.sync_now()
    assert status.online and status.unsynced_count == 0
    assert _stall_accounts(live) == {"stall_revenue": 2400, "stall_deposit": 0, "stall_discount": -100}
    bodies = {r["id"]: r["body"] for r in live.records()}
    assert '"qty":-1' in bodies[str(second.record_id)].replace(" ", "")
    with live.seed.db.read() as conn:
        report = reconcile(conn)
    assert report.ok, report.text()
    assert not [a for a in live.anomalies() if a["severity"] == "security"]
    term.close()


def test_a_terminal_from_before_lines_keeps_its_sale_lines_and_takes_negative_ones(tmp_path: Path) -> None:
    import sqlite3

    import pytest
    from sqlite_utils import Database

    from sync.ids import new_record_id
    from terminal.migrations import MIGRATIONS
    from terminal.store import Store

    path = tmp_path / "t.db"
    db = Database(str(path))
    MIGRATIONS.apply(db, stop_before="0006_lines")
    sale = str(new_record_id())
    db.execute("INSERT INTO ledger (id, kind, mode, staff_id, wallet_id, stall_id, amount, ref_id, created_at, "
               "body, sig) VALUES (?, 'sale', 'offline', 1, 7, 1, 500, NULL, 5, '{}', 's')", [sale])
    db.execute("INSERT INTO sale_lines (record_id, line, product_id, qty, unit_price) VALUES (?, 0, 3, 1, 500)", [sale])
    db.execute("INSERT INTO products (id, stall_id, name, price, sold_out, active, sort) "
               "VALUES (3, 1, 'Beer', 500, 0, 1, 0)")
    db.conn.commit()
    db.close()
    store = Store(path)
    assert "0006_lines" in [m.name for m in MIGRATIONS.applied(store.db)]
    assert store.conn.execute("SELECT qty FROM sale_lines").fetchall() == [(1,)]
    assert [p.kind for p in store.products(1)] == ["normal"]
    store.conn.execute("INSERT INTO sale_lines (record_id, line, product_id, qty, unit_price) "
                       "VALUES (?, 1, 3, -1, 500)", [sale])  # a cup back
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("INSERT INTO sale_lines (record_id, line, product_id, qty, unit_price) "
                           "VALUES (?, 2, 3, 0, 500)", [sale])
    store.close()

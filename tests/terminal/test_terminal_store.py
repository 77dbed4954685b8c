"""The local store: STRICT schema from migrations, durability settings, atomic sync-apply."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database
from terminal_helpers import CASHIER, STALL_ID, Env

from sync.ids import new_record_id
from sync.schemas import ItemStatus, PushItemResult, SaleRecord, StatementRow
from terminal.decisions import Cart, DeclineReason
from terminal.migrations import MIGRATIONS
from terminal.sales import reverse
from terminal.store import Store

ALL_MIGRATIONS = ["0001_initial", "0002_security_reported", "0003_ack_epoch", "0004_topup_doubts", "0005_cashout",
                  "0006_lines", "0007_gate_tickets", "0009_deposit_returns", "0010_desk_wallets",
                  "0011_product_look"]


def test_every_table_is_declared_strict(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    rows = store.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'").fetchall()
    assert {name for name, _ in rows} >= {"settings", "issuer_keys", "stalls", "products", "staff", "statements",
                                          "revocations", "ledger", "outbox", "checkins", "sync_cursors",
                                          "security_log", "login_failures", "sale_lines", "gates", "ticket_types"}
    assert all(sql.rstrip().endswith("STRICT") for _, sql in rows)


def test_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_migrations_run_once(tmp_path: Path) -> None:
    Store(tmp_path / "t.db").close()
    store = Store(tmp_path / "t.db")
    assert [m.name for m in MIGRATIONS.applied(store.db)] == ALL_MIGRATIONS
    assert MIGRATIONS.pending(store.db) == []


def test_products_pulled_before_categories_upgrade_as_plain_and_uncategorised(tmp_path: Path) -> None:
    """A laptop's catalog from before 0011 keeps its products: no category, a plain button; bad values refused."""
    path = tmp_path / "t.db"
    db = Database(str(path))
    MIGRATIONS.apply(db, stop_before="0011_product_look")
    db.execute("INSERT INTO products (id, stall_id, name, price, stock, sold_out, active, sort, kind) "
               "VALUES (7, 1, 'Tea', 150, NULL, 0, 1, 0, 'normal')")
    db.conn.commit()
    db.close()
    store = Store(path)
    try:
        (tea,) = store.products()
        assert (tea.name, tea.category, tea.colour) == ("Tea", "", None)
        with pytest.raises(sqlite3.IntegrityError):  # the table's own check: only palette names
            store.conn.execute("UPDATE products SET colour = 'magenta' WHERE id = 7")
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("UPDATE products SET category = ? WHERE id = 7", ("x" * 41,))
    finally:
        store.close()


def test_a_terminal_from_before_sighting_reports_upgrades_and_reports_its_old_sightings(tmp_path: Path) -> None:
    """A laptop that ran 0001 only keeps its security log and reports its forged-token sightings after upgrading."""
    path = tmp_path / "t.db"
    db = Database(str(path))
    MIGRATIONS.apply(db, stop_before="0002_security_reported")
    db.execute("INSERT INTO security_log (at_ms, event, reason, fingerprint, detail) "
               "VALUES (5, 'forged_token', 'forged', 'ab12', 'EW1:...')")
    db.execute("INSERT INTO security_log (at_ms, event, reason, fingerprint, detail) "
               "VALUES (6, 'record_refused', 'bad', '', '')")
    db.conn.commit()
    db.close()
    store = Store(path)
    assert [m.name for m in MIGRATIONS.applied(store.db)] == ALL_MIGRATIONS
    assert store.security_count() == 2
    [sighting] = store.security_unreported(10)
    assert (sighting.at_ms, sighting.reason, sighting.fingerprint) == (5, "forged", "ab12")
    store.mark_security_reported([sighting.n])
    assert store.security_unreported(10) == []


def test_strict_types_and_constraints_hold(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("INSERT INTO statements (wallet_id, balance, seq, blocked) VALUES (1, '12.5', 1, 0)")
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute("INSERT INTO statements (wallet_id, balance, seq, blocked) VALUES (1, 1.5, 1, 0)")
    with pytest.raises(sqlite3.OperationalError):
        store.conn.execute("INSERT INTO no_such_table (x) VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError):  # an outbox row needs its record
        store.conn.execute("INSERT INTO outbox (record_id, amount, offline_amount) VALUES ('nope', 1, 0)")


def test_a_failed_pull_page_leaves_cursor_and_data_untouched(env: Env) -> None:
    term = env.seed(statements=[StatementRow(wallet_id=1, balance=100, seq=1)])
    before = term.store.pull_cursor()
    term.store.conn.execute("CREATE TRIGGER boom BEFORE INSERT ON checkins BEGIN SELECT RAISE(ABORT, 'disk'); END")
    from sync.schemas import CheckInRow

    with pytest.raises(sqlite3.IntegrityError):
        env.pull(cursor="c2", statements=[StatementRow(wallet_id=1, balance=50, seq=2)],
                 checkins=[CheckInRow(id="a", gate_id=1, terminal_id=2, ticket_id=3, direction="in", created_at=1)])
    assert term.store.pull_cursor() == before
    assert term.store.statement(1) == StatementRow(wallet_id=1, balance=100, seq=1)


def test_an_interrupted_first_pull_resumes_from_its_cursor(env: Env) -> None:
    term = env.seed()
    env.pull(cursor="page-2", more=True)
    term.close()
    reopened = env.open()
    assert reopened.store.pull_cursor() == "page-2"


def test_record_and_outbox_are_one_transaction(env: Env) -> None:
    term = env.seed(statements=[StatementRow(wallet_id=9, balance=5000, seq=1)])
    env.login()
    term.store.conn.execute("CREATE TRIGGER boom BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'full'); END")
    with pytest.raises(sqlite3.IntegrityError):
        term.sell(Cart.amount(100), env.wallet(9, 5000, 1))
    assert term.recent() == []  # the ledger row rolled back with the outbox row


def test_push_results_clear_the_outbox_and_keep_the_ack(env: Env) -> None:
    term = env.seed(statements=[StatementRow(wallet_id=9, balance=5000, seq=1)])
    env.login()
    ids = [term.sell(Cart.amount(100), env.wallet(9, 5000, 1)).record_id for _ in range(3)]
    assert [r.body for r in term.store.outbox_batch(10)] == [term.store.record(str(i)).body for i in ids]  # type: ignore[union-attr]
    results = [PushItemResult(id=str(ids[0]), status=ItemStatus.APPLIED, code=200, wallet_id=9, balance=4900, seq=2),
               PushItemResult(id=str(ids[1]), status=ItemStatus.CONFLICT, code=422, reason="different body")]
    assert term.store.apply_push_results(results, now_ms=env.clock.now_ms()) == 1
    assert [r.id for r in term.store.outbox_batch(10)] == [ids[2]]
    first = term.store.record(str(ids[0]))
    assert first is not None and (first.ack_status, first.ack_seq, first.ack_balance) == ("applied", 2, 4900)
    assert term.store.security_events()[0]["event"] == "record_conflict"
    assert term.shift_report(whole_terminal=True).refused_count == 1


def test_the_stored_body_is_exactly_what_was_signed(env: Env) -> None:
    from sync.keys import load_private_key
    from sync.records import verify_record
    from terminal.engine import KEY_NAME

    term = env.seed(statements=[StatementRow(wallet_id=9, balance=5000, seq=1)])
    env.login()
    term.sell(Cart.of([(1, 1)]), env.wallet(9, 5000, 1))
    signed = term.store.outbox_batch(1)[0].signed()
    verify_record(signed.body, signed.sig, load_private_key(term.data_dir / KEY_NAME).public)
    assert signed.body["lines"] == [{"product_id": 1, "qty": 1, "unit_price": 500}]


def test_a_batch_never_ends_between_a_sale_and_its_reversal_void(env: Env) -> None:
    term = env.seed(statements=[StatementRow(wallet_id=9, balance=5000, seq=1)])
    env.login()
    first = term.sell(Cart.amount(100), env.wallet(9, 5000, 1))
    assert first.approved
    ctx = term._context()
    assert not isinstance(ctx, DeclineReason)
    sale = SaleRecord(id=new_record_id(), terminal_id=ctx.terminal.terminal_id, staff_id=CASHIER,
                      created_at=env.clock.now_ms(), stall_id=STALL_ID, wallet_id=9, amount=2000, lines=[],
                      token_seq=1)
    row = ctx.sign(sale, mode="online")
    void_id = reverse(ctx, json.loads(row.body), row.sig, why="no answer in time")
    assert [r.kind for r in term.store.outbox_batch(10)] == ["sale", "sale", "void"]
    assert [r.id for r in term.store.outbox_batch(2)] == [first.record_id]  # not the sale without its void
    assert [r.id for r in term.store.outbox_batch(3)] == [first.record_id, row.id, void_id]


def test_a_new_server_epoch_queues_acknowledged_records_again_in_order(env: Env) -> None:
    term = env.seed(statements=[StatementRow(wallet_id=9, balance=5000, seq=1)])
    env.login()
    store, now = term.store, env.clock.now_ms()
    ids = [str(term.sell(Cart.amount(100), env.wallet(9, 5000, 1)).record_id) for _ in range(4)]
    assert store.note_server_epoch("0", now_ms=now) is None  # the first epoch seen is adopted
    store.apply_push_results([
        PushItemResult(id=ids[0], status=ItemStatus.APPLIED, code=200, wallet_id=9, balance=4900, seq=2),
        PushItemResult(id=ids[1], status=ItemStatus.REJECTED, code=422, reason="bad"),
        PushItemResult(id=ids[2], status=ItemStatus.APPLIED, code=200, wallet_id=9, balance=4800, seq=3),
    ], now_ms=now)
    assert [r.id for r in store.outbox_batch(10)] == [ids[3]]
    assert store.note_server_epoch("0", now_ms=now) is None  # the same epoch: nothing to do
    assert [r.id for r in store.outbox_batch(10)] == [ids[3]]
    assert store.note_server_epoch("1-00ab", now_ms=now) == 2  # restored: the two booked ones go again
    assert [r.id for r in store.outbox_batch(10)] == [ids[0], ids[2], ids[3]]  # in decision order
    assert store.pull_cursor() == "" and store.statement(9) is None and store.server_epoch() == "1-00ab"
    assert store.security_events()[0]["event"] == "server_restored"
    store.apply_push_results([PushItemResult(id=i, status=ItemStatus.DUPLICATE, code=200) for i in ids[::2]],
                             now_ms=now)
    assert [r.id for r in store.outbox_batch(10)] == [ids[3]]
    assert store.note_server_epoch("1-00ab", now_ms=now) is None

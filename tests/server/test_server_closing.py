"""The close of the event on both engines: payout requests and runs, the closing rule, where the money is.

Real SQLite files and the real PostgreSQL; a sale pushed through the real API by a test terminal
between the request and the run; concurrent requests and runs from threads on their own connections.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pg_helpers import postgres_base_url
from sqlalchemy import select, update

from server import closing
from server.db import tables as t
from server.db.engine import Database
from server.reconcile import reconcile
from server.testing import MovableClock, Seeder, fresh_postgres_database, init_test_event, run_server_in_thread
from server.web.customers import set_customer

T0 = 1_785_200_400_000
BANK = closing.BankDetails.parse(holder="ﾔﾏﾀﾞ ﾊﾅｺ", bank="0001", branch="123", account_type="ordinary", number="12345")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def event(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Seeder, Database, MovableClock, bool]]:
    url, drop = "", None
    if request.param == "postgres":
        url, drop = fresh_postgres_database(postgres_base_url())
    clock = MovableClock(T0)
    settings, _ = init_test_event(tmp_path / "server", database_url=url, clock=clock)
    seed = Seeder(settings, clock=clock)
    yield seed, seed.db, clock, request.param == "postgres"
    seed.close()
    if drop:
        drop()


def _open(db: Database, clock: MovableClock, **changes: object) -> None:
    with db.write() as conn:
        closing.save_close_settings(conn, closing.CloseSettings(**{"payouts_open": True, **changes}),  # type: ignore[arg-type]
                                    now_ms=clock())


def _balance(db: Database, wallet: int) -> tuple[int, bool]:
    with db.read() as conn:
        row = conn.execute(select(t.accounts.c.balance, t.accounts.c.blocked)
                           .where(t.accounts.c.kind == "wallet", t.accounts.c.ref == wallet)).one()
    return int(row.balance), bool(row.blocked)


def test_bank_details_are_checked_and_normalised() -> None:
    assert BANK.holder_kana == "ヤマダ ハナコ" and BANK.account_number == "0012345"
    for field, kwargs in (("holder", {"holder": "Yamada"}), ("bank", {"bank": "12"}), ("branch", {"branch": "1a3"}),
                          ("number", {"number": "12345678"}), ("account_type", {"account_type": "gold"})):
        args = {"holder": "ヤマダ", "bank": "0001", "branch": "123", "account_type": "ordinary", "number": "1"} | kwargs
        with pytest.raises(closing.CloseError) as caught:
            closing.BankDetails.parse(**args)
        assert caught.value.code == field
    # full-width digits, as a Japanese phone keyboard types them
    assert closing.BankDetails.parse(holder="ヤマダ", bank="０００１", branch="１２３", account_type="savings",
                                     number="７").bank_code == "0001"


def test_a_payout_takes_the_balance_at_the_run_and_closes_the_wallet(event) -> None:
    seed, db, clock, pg = event
    stall = seed.stall("Yatai")
    cashier = seed.staff("Hana", roles=[("cashier", "stall", stall)])
    wallet, donor, idle = seed.wallet(5000), seed.wallet(700), seed.wallet(300)
    with db.write() as conn:
        with pytest.raises(closing.CloseError, match="not open"):
            closing.request_payout(conn, wallet, method="bank", bank=BANK, now_ms=clock())
    _open(db, clock)
    with db.write() as conn:
        closing.request_payout(conn, wallet, method="bank", bank=BANK, now_ms=clock())
        closing.request_payout(conn, donor, method="donate", bank=None, now_ms=clock())
        with pytest.raises(closing.CloseError) as again:
            closing.request_payout(conn, wallet, method="bank", bank=BANK, now_ms=clock())
        assert again.value.code == "pending"
    # the customer still spends after asking: a sale through the real API
    url, stop = run_server_in_thread(seed.settings, clock=clock)
    try:
        term = seed.terminal("stall", stall_id=stall)
        body = term.sale(wallet_id=wallet, amount=1200, staff_id=cashier, stall_id=stall)
        answer = httpx.post(f"{url}/api/v1/push", json={"records": [body]}, headers=term.headers, timeout=10)
        assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "applied", answer.text
    finally:
        stop()
    assert _balance(db, wallet) == (3800, False)
    with db.write() as conn:
        run_id = closing.make_payout_run(conn, actor="admin:test", lock=pg, now_ms=clock())
    assert _balance(db, wallet) == (0, True) and _balance(db, donor) == (0, True) and _balance(db, idle) == (300, False)
    with db.read() as conn:
        lines = closing.run_csv(conn, run_id).splitlines()
        summary = closing.money_summary(conn)
        held = closing.balances_held(conn)
        status = closing.payout_status(conn, wallet)
        assert reconcile(conn).ok
        with pytest.raises(closing.CloseError) as empty:
            closing.make_payout_run(conn, actor="admin:test", lock=pg, now_ms=clock())
        assert empty.value.code == "nothing"
    assert len(lines) == 2 and lines[1].endswith(",0001,123,ordinary,0012345,ヤマダ ハナコ,3800")
    assert status is not None and status["status"] == "paid" and status["amount"] == 3800
    assert summary["payouts"] == 3800 and summary["donations"] == 700 and summary["money_in"] == summary["accounted"]
    assert held["total"] == 300 and held["per_kind"]["card"] == {"wallets": 1, "total": 300}
    with db.write() as conn:
        with pytest.raises(closing.CloseError) as done:
            closing.request_payout(conn, wallet, method="donate", bank=None, now_ms=clock())
        assert done.value.code in ("done", "empty")
        # reconcile sees a payout whose request disagrees, and a paid-out wallet opened again
        conn.execute(update(closing.payout_requests).where(closing.payout_requests.c.wallet_id == wallet)
                     .values(amount=3000))
        conn.execute(update(t.accounts).where(t.accounts.c.kind == "wallet", t.accounts.c.ref == donor)
                     .values(blocked=False))
        report = reconcile(conn)
    assert not report.ok and report.summary["payouts"] == 3800
    assert any("is claimed by" in b for b in report.breaks) and any("open again" in b for b in report.breaks)


def test_the_closing_rule_donates_what_nobody_claimed(event) -> None:
    seed, db, clock, pg = event
    asked, silent, empty = seed.wallet(1000), seed.wallet(2500), seed.wallet(0)
    with db.write() as conn:
        set_customer(conn, silent, holder_name="Ren", pin="1234", student=True, guest_quota=0,
                     guest_ticket_type=None, now_ms=clock())
    _open(db, clock, claim_until=T0 + 3_600_000, unclaimed_rule="keep")
    with db.write() as conn:
        closing.request_payout(conn, asked, method="bank", bank=BANK, now_ms=clock())
        assert closing.balances_held(conn)["per_kind"]["student"] == {"wallets": 1, "total": 2500}
        with pytest.raises(closing.CloseError) as keep:
            closing.apply_unclaimed_rule(conn, lock=pg, now_ms=clock())
        assert keep.value.code == "rule_keep"
    _open(db, clock, claim_until=T0 + 3_600_000, unclaimed_rule="donate")
    with db.write() as conn:
        with pytest.raises(closing.CloseError) as early:
            closing.apply_unclaimed_rule(conn, lock=pg, now_ms=clock())
        assert early.value.code == "too_early"
    clock.advance(3601)
    with db.write() as conn:
        assert closing.apply_unclaimed_rule(conn, lock=pg, now_ms=clock()) == (1, 2500)
        assert closing.apply_unclaimed_rule(conn, lock=pg, now_ms=clock()) == (0, 0)  # never twice
    assert _balance(db, silent) == (0, True) and _balance(db, asked) == (1000, False) and _balance(db, empty)[0] == 0
    with db.read() as conn:
        assert reconcile(conn).ok and closing.money_summary(conn)["donations"] == 2500


def test_concurrent_requests_and_runs_pay_each_wallet_once(event) -> None:
    seed, db, clock, pg = event
    wallets = seed.wallets(12, balance=1000)
    _open(db, clock)
    barrier = threading.Barrier(6)
    errors: list[str] = []

    def ask(wallet: int) -> None:
        barrier.wait()
        try:
            with db.write() as conn:
                closing.request_payout(conn, wallet, method="bank", bank=BANK, now_ms=clock())
        except closing.CloseError as exc:
            errors.append(exc.code)

    threads = [threading.Thread(target=ask, args=(wallets[0],)) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(errors) == ["pending"] * 5  # six identical requests at once: one is kept
    with db.write() as conn:
        for wallet in wallets[1:]:
            closing.request_payout(conn, wallet, method="donate" if wallet % 2 else "bank",
                                   bank=None if wallet % 2 else BANK, now_ms=clock())
    runs: list[int] = []
    refused: list[str] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            with db.write() as conn:
                runs.append(closing.make_payout_run(conn, actor="admin:test", lock=pg, now_ms=clock()))
        except closing.CloseError as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with db.read() as conn:
        summary = closing.money_summary(conn)
        paid = conn.execute(select(t.transactions.c.id).where(t.transactions.c.kind.in_(("payout", "donation")))).all()
        assert reconcile(conn).ok
    assert len(paid) == 12 and summary["payouts"] + summary["donations"] == 12_000 and summary["wallets"] == 0
    assert len(runs) >= 1 and set(refused) <= {"nothing"}

"""Crash safety with real processes: SIGKILL a selling headless terminal at random moments.

A headless terminal sells against a real server (offline below the floor
limit, online above it) while background sync pushes; it is killed with
SIGKILL at a seeded random moment, restarted, and at the end synced.  Every
sale it reported as approved must then be on the server exactly once, and the
server must hold nothing the terminal did not record.  An online sale whose
answer was lost to the kill is reversed on restart (the sale and an automatic
void are pushed), so the customer is never charged for a sale nobody saw.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from terminal_live import PIN, Live
from terminal_process import HeadlessProcess

from server.db import tables as t
from server.reconcile import reconcile
from sync.ids import format_short_id
from sync.schemas import EventSettings
from terminal.engine import Terminal

SEED = 20261122
KILLS = int(os.environ.get("ENNICHI_CRASH_KILLS", "50"))
pytestmark = pytest.mark.slow


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    event = EventSettings(floor_limit=1000, offline_limit=1_000_000, unsynced_cap=10**8, push_debounce_ms=20,
                          pull_interval_s=1, authorize_timeout_ms=2000, staff_idle_logout_s=86400)
    live = Live(tmp_path, event)
    try:
        wallets = live.seed.wallets(6, balance=10**7)
        data = tmp_path / "term"
        log = tmp_path / "terminal.log"
        first = HeadlessProcess(data, log=log)
        assert first.call({"cmd": "enroll", "code": live.code()})["ok"]
        assert first.call({"cmd": "sync"})["ok"]
        first.quit()

        reported: dict[str, int] = {}
        kills = 0
        for _ in range(KILLS):
            proc = HeadlessProcess(data, log=log)
            badge = live.seed.badge(live.cashier)
            sells = [{"cmd": "sell", "wallet": format_short_id(rng.choice(wallets)),
                      "amount": rng.choice([100, 300, 500, 800, 1000, 1500, 2500])} for _ in range(300)]
            proc.send({"cmd": "login", "badge": badge, "pin": PIN})
            feeder = threading.Thread(target=proc.send, args=tuple(sells), daemon=True)
            feeder.start()
            if rng.random() < 0.2:  # a random moment during startup, recovery or login
                time.sleep(rng.uniform(0.05, 0.6))
            else:  # a random moment while selling and pushing
                proc.wait_results(1)
                time.sleep(rng.uniform(0.0, 0.4))
            proc.kill()
            kills += 1
            feeder.join(10)
            for result in proc.results:
                if result.get("approved"):
                    reported[result["id"]] = result["amount"]

        # Restart once more and let it sync everything.
        final = HeadlessProcess(data, log=log, sync=False)
        status = final.call({"cmd": "sync"})
        assert status["ok"] and status["status"]["unsynced_count"] == 0, status
        final.quit()
    finally:
        live.stop_server()

    assert kills >= KILLS
    assert len(reported) > 50  # it sold between the kills, not only during startup
    term = Terminal.open(data)
    local = {r.id: r for r in term.recent(100_000)}
    identity = term.identity()
    term.close()
    assert identity is not None
    assert set(reported) <= set(local), "an approved sale was lost"
    assert all(local[i].amount == amount for i, amount in reported.items())
    server = {r["id"]: r for r in live.records(identity.terminal_id)}
    assert set(server) == set(local), "server and terminal disagree on what was sold"
    assert all(local[i].body == server[i]["body"] for i in local)
    with live.seed.db.read() as conn:
        txn_ids = [row.record_id for row in conn.execute(select(t.transactions.c.record_id)
                                                         .where(t.transactions.c.record_id.is_not(None)))]
        assert len(txn_ids) == len(set(txn_ids)) == len(local)  # each applied exactly once
        report = reconcile(conn)
    assert report.ok, report.text()
    sign = {"sale": -1, "void": 1, "refund": 1}
    for wallet in wallets:
        net = sum(sign[r.kind] * r.amount for r in local.values() if r.wallet_id == wallet)
        assert live.wallet(wallet)["balance"] == 10**7 + net
    # A sale killed between the server's "approved" and the local commit was reversed, never reported.
    reversed_sales = {r.ref_id for r in local.values() if r.kind == "void"}
    assert not reversed_sales & set(reported)
    live.proxy.close()
    live.seed.close()

"""Outages: the server stops, the network drops, stalls and loses answers; every approved record arrives once."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select
from terminal_live import Live

from server.db import tables as t
from server.reconcile import reconcile
from sync.ids import format_short_id
from sync.loop import Backoff, SyncStatus
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal


def wait_for(what: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll a condition (bounded); raises TimeoutError.  Not a timing assertion: only a deadline."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def test_sales_through_an_outage_arrive_exactly_once(live: Live, tmp_path: Path) -> None:
    rng = random.Random(7)
    wallets = live.seed.wallets(12, balance=100_000)
    term = live.terminal(tmp_path / "t", sync_timeout=httpx.Timeout(2.0),
                         backoff=lambda: Backoff(base=0.05, cap=0.3))
    statuses: list[SyncStatus] = []
    service = term.sync_service(on_status=statuses.append)
    service.start()
    approved: dict[str, int] = {}
    declined: list[DeclineReason] = []

    def sell_some(count: int) -> None:
        for _ in range(count):
            amount = rng.choice([200, 500, 800, 1200])  # 1200 is above the floor limit: online or fallback
            decision = term.sell(Cart.amount(amount), format_short_id(rng.choice(wallets)))
            if decision.approved:
                assert decision.record_id is not None
                approved[decision.record_id] = decision.amount
            else:
                assert decision.reason is not None
                declined.append(decision.reason)
            time.sleep(0.01)

    try:
        sell_some(10)
        for mode in ("stall", "drop", "lose_responses"):
            live.proxy.set_mode(mode)  # type: ignore[arg-type]
            sell_some(15)
            time.sleep(0.5)  # let the sync loop run into the fault
        live.proxy.set_mode("pass")
        live.stop_server()  # the whole server is gone: connections refused
        sell_some(15)
        wait_for(lambda: not term.status().online)
        down = term.status()
        assert down.offline_since_ms is not None and down.last_error and down.unsynced_count > 0
        live.start_server()  # a new port behind the same proxy address
        wait_for(lambda: term.status().online and term.status().unsynced_count == 0)
    finally:
        service.stop()
    assert len(approved) >= 40
    assert set(declined) <= {DeclineReason.OFFLINE_LIMIT, DeclineReason.INSUFFICIENT_BALANCE}
    identity = term.identity()
    assert identity is not None
    local = {r.id: r for r in term.recent(10_000)}
    term.close()
    assert set(approved) <= set(local)
    server = {r["id"]: r for r in live.records(identity.terminal_id)}
    assert set(server) == set(local)
    with live.seed.db.read() as conn:
        txns = [row.record_id for row in conn.execute(select(t.transactions.c.record_id)
                                                      .where(t.transactions.c.terminal_id == identity.terminal_id))]
        assert len(txns) == len(set(txns)) == len(local)
        assert reconcile(conn).ok
    assert any(not s.online for s in statuses) and statuses[-1].online
    assert any(r.ack_status == "duplicate" for r in local.values())  # answers were lost and records re-sent


def test_double_spend_across_two_offline_terminals_is_bounded_and_flagged(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(4000)
    first = live.terminal(tmp_path / "a")
    second = live.terminal(tmp_path / "b")
    live.proxy.set_mode("drop")  # both offline, each with the same statement
    results: dict[Terminal, list[bool]] = {}
    for term in (first, second):
        decisions = [term.sell(Cart.amount(1000), format_short_id(wallet)) for _ in range(4)]
        assert [d.approved for d in decisions] == [True, True, True, False]
        assert decisions[-1].reason is DeclineReason.OFFLINE_LIMIT  # 3000 per wallet per terminal
        results[term] = [d.approved for d in decisions]
    live.proxy.set_mode("pass")
    for term in (first, second):
        assert term.sync_now().unsynced_count == 0
    state = live.wallet(wallet)
    assert state["balance"] == 4000 - 6000  # both terminals' sales are facts: booked
    assert state["blocked"]  # past the overdraft tolerance
    kinds = {a["kind"] for a in live.anomalies() if a["wallet_id"] == wallet}
    assert {"overdraft", "overdraft_blocked"} <= kinds
    first.sync_now()  # the pull brings the block
    assert first.sell(Cart.amount(100), format_short_id(wallet)).reason is DeclineReason.WALLET_REVOKED
    first.close()
    second.close()

"""One "available" online and offline (issue 23), against a real uvicorn server on SQLite and PostgreSQL.

An online authorization carries the terminal's unsynced records of the wallet; the
server books them (once) and decides on the balance that includes them.  A sale
and the void that reverses it are one unit at the server: no overdraft, no block,
no permission anomaly, whatever order they arrive in; a block that a later
record makes undeserved is lifted and audited as the server's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pg_helpers import postgres_base_url
from sqlalchemy import select
from terminal_live import Live

from server.db import tables as t
from server.testing import fresh_postgres_database
from server.web import queries
from sync.ids import format_short_id, new_record_id
from sync.records import REVERSAL_REASON
from sync.schemas import EventSettings, ItemStatus, SaleRecord, SignedRecord, VoidRecord
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    drop: Callable[[], None] | None = None
    url = ""
    if request.param == "postgres":
        url, drop = fresh_postgres_database(postgres_base_url())
    event = EventSettings(floor_limit=1000, offline_limit=3000, push_debounce_ms=50, pull_interval_s=1,
                          authorize_timeout_ms=2000, overdraft_tolerance=500, staff_idle_logout_s=86400)
    live = Live(tmp_path, event, database_url=url)
    try:
        yield live
    finally:
        live.close()
        if drop is not None:
            drop()


def _terminal_id(term: Terminal) -> int:
    identity = term.identity()
    assert identity is not None
    return identity.terminal_id


def test_an_online_sale_is_decided_on_the_balance_minus_the_terminals_unsynced_sales(
        live_db: Live, tmp_path: Path) -> None:
    live = live_db
    wallet = live.seed.wallet(2000)  # 20.00
    term = live.terminal(tmp_path / "t")  # pulled: the statement says 20.00
    local = term.sell(Cart.amount(900), format_short_id(wallet))  # 9.00, under the floor: decided here
    assert local.approved and local.mode == "offline"
    assert term.status().unsynced_count == 1  # not pushed yet (no background sync in this test)
    big = term.sell(Cart.amount(1500), format_short_id(wallet))  # 15.00 > 20.00 - 9.00
    assert not big.approved and big.reason is DeclineReason.SERVER_DECLINED
    assert big.params["server_reason"] == "insufficient_balance"
    assert live.wallet(wallet)["balance"] == 1100  # the carried sale is booked once, nothing else
    assert term.status().unsynced_count == 0  # and acknowledged by the authorization's answer
    fits = term.sell(Cart.amount(1100), format_short_id(wallet))
    assert fits.approved and fits.mode == "online" and fits.balance_after == 0
    term.sync_now()  # the push finds the carried sale booked: not counted twice
    assert live.wallet(wallet)["balance"] == 0
    sales = [r for r in live.records(_terminal_id(term)) if r["kind"] == "sale"]
    assert sorted(r["amount"] for r in sales) == [900, 1100]
    assert live.anomalies("overdraft") == []
    term.close()


def test_carried_records_must_be_of_the_same_wallet(live_db: Live, tmp_path: Path) -> None:
    live = live_db
    mine, other = live.seed.wallet(2000), live.seed.wallet(2000)
    term = live.terminal(tmp_path / "t")
    assert term.sell(Cart.amount(900), format_short_id(other)).approved  # another wallet's unsynced sale
    big = term.sell(Cart.amount(1500), format_short_id(mine))
    assert big.approved and big.balance_after == 500  # the other wallet's sale is not carried nor counted
    assert live.wallet(other)["balance"] == 2000
    assert term.status().unsynced_count == 2  # both still to push (the online sale is queued as a duplicate)
    term.sync_now()
    assert live.wallet(other)["balance"] == 1100 and live.wallet(mine)["balance"] == 500
    term.close()


def _signed(term: Terminal, record: SaleRecord | VoidRecord) -> SignedRecord:
    ctx = term._context()  # the terminal's own signer, as sales.reverse uses it
    assert not isinstance(ctx, DeclineReason)
    row = ctx.sign(record, mode="online")
    return SignedRecord(body=json.loads(row.body), sig=row.sig)


def _pair(term: Terminal, live: Live, wallet: int, amount: int) -> tuple[SignedRecord, SignedRecord]:
    identity = term.identity()
    assert identity is not None
    sale_id = new_record_id()
    now = live.seed.clock()
    sale = SaleRecord(id=sale_id, terminal_id=identity.terminal_id, staff_id=live.cashier, created_at=now,
                      stall_id=live.stall, wallet_id=wallet, amount=amount, lines=[], token_seq=1)
    void = VoidRecord(id=new_record_id(), terminal_id=identity.terminal_id, staff_id=live.cashier,
                      created_at=now + 1, stall_id=live.stall, wallet_id=wallet, amount=amount, ref_id=sale_id,
                      reason=f"{REVERSAL_REASON}: no answer in time")
    return _signed(term, sale), _signed(term, void)


@pytest.mark.parametrize("order", ["sale_first", "void_first"])
def test_a_reversed_sale_and_its_void_are_one_unit(live_db: Live, tmp_path: Path, order: str) -> None:
    live = live_db
    wallet = live.seed.wallet(1000)
    cashier_only = live.seed.staff("Kenta", pin="1234", roles=[("cashier", "stall", live.stall)])
    live.cashier = cashier_only  # the reversal is the cashier's, who may sell but not refund
    term = live.terminal(tmp_path / "t")
    sale, void = _pair(term, live, wallet, 4000)  # far beyond the balance and the tolerance
    records = [sale, void] if order == "sale_first" else [void, sale]
    client = term.sync_service().client
    results = client.push(records).results
    assert [r.status for r in results] == [ItemStatus.APPLIED, ItemStatus.APPLIED]
    assert [r.id for r in results] == [rec.body["id"] for rec in records]
    w = live.wallet(wallet)
    assert w["balance"] == 1000 and not w["blocked"] and not w["overdrawn"]
    assert live.anomalies() == []  # no overdraft, no block, no permission anomaly
    again = client.push(records).results  # a re-send changes nothing
    assert {r.status for r in again} == {ItemStatus.DUPLICATE}
    assert live.wallet(wallet)["balance"] == 1000
    assert term.sell(Cart.of([(live.products[0], 1)]), format_short_id(wallet)).approved  # a real sale, 500
    term.sync_now()
    with live.seed.db.read() as conn:  # the settlement shows the real sale only: no sale+refund for the pair
        takings = queries.stall_takings(conn, since_ms=0)
        products = queries.product_sales(conn, since_ms=None)
    assert [(kind, stall, amount) for kind, stall, _, amount in takings] == [("sale", live.stall, 500)]
    assert [(p["product_id"], p["qty"]) for p in products] == [(live.products[0], 1)]
    term.close()


def test_a_block_the_reversal_makes_undeserved_is_lifted_and_audited(live_db: Live, tmp_path: Path) -> None:
    live = live_db
    wallet = live.seed.wallet(1000)
    term = live.terminal(tmp_path / "t")
    sale, void = _pair(term, live, wallet, 4000)
    client = term.sync_service().client
    assert client.push([sale]).results[0].status is ItemStatus.APPLIED  # split batches
    w = live.wallet(wallet)
    assert w["blocked"] and w["balance"] == -3000
    # alone, the sale looks like an offline approval beyond the offline limit: flagged until its reversal explains it
    assert {a["kind"] for a in live.anomalies() if a["resolved_at"] is None} == {"overdraft", "overdraft_blocked",
                                                                                 "offline_limit"}
    assert client.push([void]).results[0].status is ItemStatus.APPLIED
    w = live.wallet(wallet)
    assert w["balance"] == 1000 and not w["blocked"] and not w["overdrawn"]
    assert [a for a in live.anomalies() if a["resolved_at"] is None] == []
    with live.seed.db.read() as conn:
        rv = t.revocations
        revoked = conn.execute(select(rv.c.revoked).where(rv.c.kind == "wallet", rv.c.ref == wallet)).scalar()
        al = t.audit_log
        actions = [(a, d) for a, d in conn.execute(select(al.c.actor, al.c.action).where(al.c.actor == "server"))]
    assert revoked is not None and not revoked
    assert ("server", "wallet.unblock") in actions
    term.sync_now()  # the terminal pulls the lifted block: the customer can pay again
    assert term.sell(Cart.amount(500), format_short_id(wallet)).approved
    term.close()


def test_an_admin_block_is_not_lifted_by_a_covering_record(live_db: Live, tmp_path: Path) -> None:
    live = live_db
    wallet = live.seed.wallet(1000)
    term = live.terminal(tmp_path / "t")
    sale, void = _pair(term, live, wallet, 400)
    client = term.sync_service().client
    assert client.push([sale]).results[0].status is ItemStatus.APPLIED
    with live.seed.db.write() as conn:  # an admin blocks the wallet for another reason
        a, rv = t.accounts, t.revocations
        conn.execute(a.update().where(a.c.kind == "wallet", a.c.ref == wallet).values(blocked=True))
        conn.execute(rv.insert().values(kind="wallet", ref=wallet, revoked=True, reason="lost card",
                                        created_at=live.seed.clock(), change_seq=10**9))
    assert client.push([void]).results[0].status is ItemStatus.APPLIED
    assert live.wallet(wallet)["blocked"]
    term.close()


def _wait_for(what: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll a condition (bounded); raises TimeoutError.  Not a timing assertion: only a deadline."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def test_while_the_sync_loop_knows_the_server_is_down_an_above_floor_sale_falls_back_at_once(
        live_db: Live, tmp_path: Path) -> None:
    live = live_db
    wallet = live.seed.wallet(5000)
    term = live.terminal(tmp_path / "t", sync_timeout=httpx.Timeout(1.0))
    service = term.sync_service()
    service.start()
    try:
        live.proxy.set_mode("stall")  # a blackhole: an authorize would wait for its whole timeout
        term.sync_service().poke()
        _wait_for(lambda: not term.status().online)
        down = term.sell(Cart.amount(1500), format_short_id(wallet))
        assert down.approved and down.mode == "offline"  # the event's fallback: approve within the offline limit
        assert down.params["server_unreachable"] is True
        assert "sync service is retrying" in str(down.params["error"])
        assert term.store.pending_authorizations() == []  # never sent: nothing to reverse
        live.proxy.set_mode("pass")
        _wait_for(lambda: term.status().online)  # the loop's probe found the server again
        up = term.sell(Cart.amount(1500), format_short_id(wallet))
        assert up.approved and up.mode == "online" and up.balance_after == 2000
    finally:
        service.stop()
    term.close()

"""Concurrency against a real uvicorn on loopback: no overdraw, no double booking."""

from __future__ import annotations

import asyncio

import httpx
from server_harness import Event
from sqlalchemy import func, select

from server.db import tables as t
from server.reconcile import reconcile
from server.wallets import wallet_view


async def _authorize_all(base_url: str, headers: dict[str, str], records: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(records), max_keepalive_connections=len(records))
    clients = [httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60, limits=limits)
               for _ in range(len(records))]
    try:
        return await asyncio.gather(*(c.post("/api/v1/authorize", json={"record": r})
                                      for c, r in zip(clients, records, strict=True)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def test_fifty_concurrent_authorizations_approve_exactly_what_the_balance_covers(event: Event, live: str) -> None:
    _stall, cashier, wallet, term = event.stall_setup(balance=10 * 1500)
    records = [term.sale(wallet_id=wallet, amount=1500, staff_id=cashier) for _ in range(50)]
    responses = asyncio.run(_authorize_all(live, term.headers, records))
    assert [r.status_code for r in responses] == [200] * 50, [r.text for r in responses if r.status_code != 200]
    answers = [r.json() for r in responses]
    approved = [a for a in answers if a["approved"]]
    assert len(approved) == 10
    assert {a["reason"] for a in answers if not a["approved"]} == {"insufficient_balance"}
    assert sorted(a["seq"] for a in approved) == list(range(2, 12))  # one seq each, no gap
    with event.seed.db.read() as conn:
        view = wallet_view(conn, wallet)
        booked = conn.execute(select(func.count()).select_from(t.records)).scalar_one()
        assert reconcile(conn).ok
    assert (view.balance, view.seq, booked) == (0, 11, 10)
    # retrying every request after the fact changes nothing and returns the stored answers
    again = asyncio.run(_authorize_all(live, term.headers, records))
    assert sorted(r.json()["approved"] for r in again) == sorted(a["approved"] for a in answers)
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 0


async def _push_all(base_url: str, headers: dict[str, str], batch: list[dict], times: int) -> list[httpx.Response]:
    clients = [httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) for _ in range(times)]
    try:
        return await asyncio.gather(*(c.post("/api/v1/push", json={"records": batch}) for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def test_same_batch_pushed_five_times_in_parallel_books_each_record_once(event: Event, live: str) -> None:
    _stall, cashier, wallet, term = event.stall_setup(balance=100_000)
    gate = event.seed.gate()
    ttype = event.seed.ticket_type()
    gate_term = event.seed.terminal("gate", gate_id=gate)
    keeper = event.seed.staff("Keeper", roles=[("gatekeeper", "event", None)])
    batch = [term.sale(wallet_id=wallet, amount=100 + i, staff_id=cashier) for i in range(40)]
    checkins = [gate_term.checkin(ticket_id=1000 + i, ticket_type=ttype, staff_id=keeper) for i in range(20)]
    responses = asyncio.run(_push_all(live, term.headers, batch, 5))
    responses += asyncio.run(_push_all(live, gate_term.headers, checkins, 5))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    sale_statuses = [[item["status"] for item in r.json()["results"]] for r in responses[:5]]
    for i in range(40):
        column = sorted(statuses[i] for statuses in sale_statuses)
        assert column == ["applied", "duplicate", "duplicate", "duplicate", "duplicate"]
    # every answer for one record names the same balance and seq
    for i in range(40):
        assert len({(r.json()["results"][i]["balance"], r.json()["results"][i]["seq"]) for r in responses[:5]}) == 1
    with event.seed.db.read() as conn:
        sales = conn.execute(select(func.count()).select_from(t.transactions)
                             .where(t.transactions.c.kind == "sale")).scalar_one()
        stored_checkins = conn.execute(select(func.count()).select_from(t.checkins)).scalar_one()
        view = wallet_view(conn, wallet)
        report = reconcile(conn)
    assert (sales, stored_checkins) == (40, 20)
    assert view.balance == 100_000 - sum(100 + i for i in range(40)) and view.seq == 41
    assert report.ok, report.text()


async def _push_each(base_url: str, pushes: list[tuple[dict[str, str], list[dict]]]) -> list[httpx.Response]:
    clients = [httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) for headers, _ in pushes]
    try:
        return await asyncio.gather(*(c.post("/api/v1/push", json={"records": batch})
                                      for c, (_, batch) in zip(clients, pushes, strict=True)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def test_gates_pushing_the_same_tickets_at_once_see_each_others_entries(event: Event, live: str) -> None:
    gate = event.seed.gate()
    single = event.seed.ticket_type("Day pass", "single")
    reentry = event.seed.ticket_type("Re-entry", "reentry")
    keeper = event.seed.staff("Keeper", roles=[("gatekeeper", "event", None)])
    gates = [event.seed.terminal("gate", gate_id=gate) for _ in range(6)]
    batches = [[g.checkin(ticket_id=2000 + k, ticket_type=single, staff_id=keeper) for k in range(5)]
               + [g.checkin(ticket_id=3000 + k, ticket_type=reentry, staff_id=keeper) for k in range(5)]
               for g in gates]  # six gates, each admitted the same ten tickets while offline
    responses = asyncio.run(_push_each(live, [(g.headers, b) for g, b in zip(gates, batches, strict=True)]))
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert {item["status"] for r in responses for item in r.json()["results"]} == {"applied"}
    a = t.anomalies
    with event.seed.db.read() as conn:
        rows = conn.execute(select(a.c.kind, a.c.record_id)).all()
    # single: every entry after the first terminal's; re-entry: every entry but the earliest (no exits)
    later_reentries = []
    for k in range(5, 10):  # the timeline is the gates' decision times (ties: record id)
        entries = sorted((b[k]["body"]["created_at"], b[k]["body"]["id"]) for b in batches)
        later_reentries += [rid for _, rid in entries[1:]]
    assert sum(1 for kind, _ in rows if kind == "duplicate_entry") == 5 * 5
    assert sorted(rid for kind, rid in rows if kind == "passback") == sorted(later_reentries)

"""Cups brought back without a purchase (``deposit_return``), and the deposits nobody came back for closed out.

A bar takes cup deposits with its drinks; customers bring cups back on their own and get the
deposit onto their wallet, from the stall's deposit account, never beyond what it holds.  At the
close the deposits still held go to the stall's revenue, and the ledger still sums to zero.
Both engines (the ``event`` fixture), online (authorize) and offline (push) through the real app.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import func, select

from server import closing
from server.anomalies import list_anomalies
from server.db import tables as t
from server.reconcile import reconcile
from server.testing import TestTerminal
from server.wallets import wallet_view
from server.web.routes.close import stall_settlement


def _authorize(client: TestClient, term: TestTerminal, record: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/authorize", json={"record": record}, headers=term.headers)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def _push(client: TestClient, term: TestTerminal, *records: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/api/v1/push", json={"records": list(records)}, headers=term.headers)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def _accounts(event: Event, stall: int) -> dict[str, int]:
    a = t.accounts
    with event.seed.db.read() as conn:
        return {str(k): int(b) for k, b in conn.execute(
            select(a.c.kind, a.c.balance).where(a.c.ref == stall,
                                                a.c.kind.in_(("stall_revenue", "stall_deposit", "stall_discount"))))}


def _wallet(event: Event, wallet: int) -> tuple[int, int]:
    a = t.accounts
    with event.seed.db.read() as conn:
        row = conn.execute(select(a.c.balance, a.c.seq).where(a.c.kind == "wallet", a.c.ref == wallet)).one()
    return int(row.balance), int(row.seq)


def _bar(event: Event, client: TestClient, cups: int) -> tuple[int, int, TestTerminal, int, int, int]:
    """A bar that sold ``cups`` beers with a cup each (600 + 200 deposit): (stall, cashier, till, beer, cup, wallet)."""
    stall, cashier, buyer, term = event.stall_setup(10_000)
    beer = event.seed.product(stall, "Beer", 600)
    cup = event.seed.product(stall, "Cup deposit", 200, kind="deposit")
    if cups:
        sale = term.sale(wallet_id=buyer, amount=800 * cups, staff_id=cashier,
                         lines=[{"product_id": beer, "qty": cups, "unit_price": 600},
                                {"product_id": cup, "qty": cups, "unit_price": 200}])
        assert _push(client, term, sale)[0]["status"] == "applied"
    return stall, cashier, term, beer, cup, buyer


def test_cups_back_online_are_paid_from_the_deposits_held_and_never_beyond(event: Event, client: TestClient) -> None:
    stall, cashier, term, beer, cup, _buyer = _bar(event, client, cups=2)
    friend = event.seed.wallet(0)
    back = term.deposit_return(wallet_id=friend, staff_id=cashier, lines=[(cup, 1, 200)])
    answer = _authorize(client, term, back)
    assert answer["approved"] and answer["balance"] == 200, answer
    again = _authorize(client, term, back)  # the same record asked twice (a lost answer): paid once
    assert again["approved"] and again["balance"] == 200
    assert _wallet(event, friend) == (200, 1)
    assert _accounts(event, stall) == {"stall_revenue": 1200, "stall_deposit": 200, "stall_discount": 0}

    too_many = term.deposit_return(wallet_id=friend, staff_id=cashier, lines=[(cup, 2, 200)])
    answer = _authorize(client, term, too_many)
    assert not answer["approved"] and answer["reason"] == "deposit_not_held"
    for lines in ([(beer, 1, 600)], [(cup, 1, 150)]):  # a beer never "comes back"; the deposit's own price
        answer = _authorize(client, term, term.deposit_return(wallet_id=friend, staff_id=cashier, lines=lines))
        assert not answer["approved"] and answer["reason"] == "line_refused", lines
    other = event.seed.stall("Kakigori")
    their_cup = event.seed.product(other, "Their cup", 200, kind="deposit")
    answer = _authorize(client, term, term.deposit_return(wallet_id=friend, staff_id=cashier,
                                                          lines=[(their_cup, 1, 200)]))
    assert not answer["approved"] and answer["reason"] == "line_refused"
    assert _wallet(event, friend) == (200, 1)  # the declines booked nothing
    assert _accounts(event, stall)["stall_deposit"] == 200

    with event.seed.db.read() as conn:
        view = wallet_view(conn, friend)
        report = reconcile(conn)
    assert [(h["kind"], h["amount"]) for h in view.history] == [("deposit_return", 200)]
    assert report.ok, report.text()


def test_cups_back_pushed_are_facts_beyond_what_is_held_and_refused_when_no_honest_till_makes_them(
        event: Event, client: TestClient) -> None:
    stall, cashier, term, beer, cup, _buyer = _bar(event, client, cups=1)
    friend = event.seed.wallet(0)
    # decided offline on the till's own ledger, but another till of the bar had paid the cup back already
    over = term.deposit_return(wallet_id=friend, staff_id=cashier, lines=[(cup, 2, 200)])
    [res] = _push(client, term, over)
    assert res["status"] == "applied" and res["balance"] == 400
    assert _accounts(event, stall)["stall_deposit"] == -200
    with event.seed.db.read() as conn:
        flagged = [a for a in list_anomalies(conn) if a["record_id"] == res["id"]]
    assert [(a["kind"], a["severity"]) for a in flagged] == [("deposit_not_held", "warning")]
    assert _push(client, term, over)[0]["status"] == "duplicate"  # idempotent by record id
    altered = term.sign(over["body"] | {"amount": 200, "lines": [{"product_id": cup, "qty": 1, "unit_price": 200}]})
    assert _push(client, term, altered)[0]["status"] == "conflict"

    before = _wallet(event, friend)
    bad = term.deposit_return(wallet_id=friend, staff_id=cashier, lines=[(beer, 1, 600)])
    [res] = _push(client, term, bad)
    assert res["status"] == "rejected" and res["code"] == 422 and "not_a_deposit" in res["reason"]
    with event.seed.db.read() as conn:
        assert [a["kind"] for a in list_anomalies(conn) if a["record_id"] == res["id"]] == ["record_refused"]
    assert _wallet(event, friend) == before
    with event.seed.db.read() as conn:
        report = reconcile(conn)
    assert report.ok, report.text()


@pytest.mark.parametrize("lines, why", [
    ([{"product_id": 1, "qty": 0, "unit_price": 200}], "qty"),
    ([{"product_id": 1, "qty": 101, "unit_price": 200}], "qty"),
    ([{"product_id": 1, "qty": -1, "unit_price": 200}], "qty"),
    ([{"product_id": 1, "qty": 60, "unit_price": 200}, {"product_id": 2, "qty": 41, "unit_price": 200}], "at most"),
    ([{"product_id": 1, "qty": 1, "unit_price": 0}], "unit_price"),
    ([], "lines"),
])
def test_a_returns_only_basket_out_of_bounds_is_refused_and_changes_nothing(
        event: Event, client: TestClient, lines: list[dict[str, int]], why: str) -> None:
    stall, cashier, wallet, term = event.stall_setup(0)
    body = term.deposit_return(wallet_id=wallet, staff_id=cashier, lines=[(1, 1, 200)])["body"]
    amount = abs(sum(ln["qty"] * ln["unit_price"] for ln in lines)) or 200
    [res] = _push(client, term, term.sign(body | {"lines": lines, "amount": amount}))
    assert res["status"] == "rejected" and res["code"] == 422 and why in res["reason"], res
    assert _wallet(event, wallet) == (0, 0)
    assert stall


def test_the_close_moves_the_deposits_never_returned_to_the_stall_and_the_ledger_sums_to_zero(
        event: Event, client: TestClient) -> None:
    stall, cashier, term, _beer, cup, _buyer = _bar(event, client, cups=3)
    friend = event.seed.wallet(0)
    assert _authorize(client, term, term.deposit_return(wallet_id=friend, staff_id=cashier,
                                                        lines=[(cup, 1, 200)]))["approved"]
    with event.seed.db.read() as conn:
        before = stall_settlement(conn, stall, 500)  # 5 % on sales
    assert (before["deposits_taken"], before["deposits_returned"], before["deposits_held"]) == (600, 200, 400)
    assert (before["net"], before["fee"], before["owed"], before["deposits_kept"]) == (1800, 90, 1710, 0)

    with event.seed.db.write() as conn:
        done = closing.close_out_deposits(conn, lock=event.engine == "postgres", now_ms=event.seed.clock())
    assert done == {"stalls": 1, "total": 400, "moved": {str(stall): 400}}
    assert _accounts(event, stall) == {"stall_revenue": 2200, "stall_deposit": 0, "stall_discount": 0}
    with event.seed.db.read() as conn:
        after = stall_settlement(conn, stall, 500)
        report = reconcile(conn)
        total = conn.execute(select(func.coalesce(func.sum(t.postings.c.amount), 0))).scalar_one()
        summary = closing.money_summary(conn)
    # the fee stays on sales; the two cups that never came back are the bar's, on top of what it is owed
    assert (after["net"], after["fee"], after["owed"]) == (1800, 90, 1710 + 400)
    assert (after["deposits_returned"], after["deposits_kept"], after["deposits_held"]) == (200, 400, 0)
    assert total == 0 and report.ok, report.text()
    assert summary["deposits_held"] == 0 and summary["money_in"] == summary["accounted"]
    with event.seed.db.write() as conn, pytest.raises(closing.CloseError):  # nothing left: said so, nothing booked
        closing.close_out_deposits(conn, lock=False, now_ms=event.seed.clock())
    # after the close a cup brought back is declined: the stall holds nothing
    late = _authorize(client, term, term.deposit_return(wallet_id=friend, staff_id=cashier, lines=[(cup, 1, 200)]))
    assert not late["approved"] and late["reason"] == "deposit_not_held"

"""Deposit and discount lines in a basket: the ledger legs, the sign rules, refunds and voids, the settlement.

A bar sells a beer with a cup deposit, the customer brings the cup back with the next
order; a staff discount takes money off the stall's sales.  Both engines (the ``event``
fixture), online (authorize) and offline (push) through the real app.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from server_harness import Event
from sqlalchemy import select

from server.anomalies import list_anomalies
from server.catalog import CatalogError, create_product
from server.db import tables as t
from server.reconcile import reconcile
from server.testing import TestTerminal
from server.wallets import wallet_view
from server.web.actions import refund_sale
from server.web.routes.close import stall_settlement
from sync.schemas import SaleLine


def _basket(term: TestTerminal, wallet: int, cashier: int, lines: list[tuple[int, int, int]]) -> dict[str, Any]:
    body_lines = [{"product_id": p, "qty": q, "unit_price": u} for p, q, u in lines]
    return term.sale(wallet_id=wallet, amount=sum(q * u for _, q, u in lines), staff_id=cashier, lines=body_lines)


def _authorize(client: TestClient, term: TestTerminal, record: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/authorize", json={"record": record}, headers=term.headers)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def _push(client: TestClient, term: TestTerminal, *records: dict[str, Any]) -> list[str]:
    r = client.post("/api/v1/push", json={"records": list(records)}, headers=term.headers)
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


def _balances(event: Event, stall: int) -> dict[str, int]:
    a = t.accounts
    with event.seed.db.read() as conn:
        return {str(k): int(b) for k, b in conn.execute(
            select(a.c.kind, a.c.balance).where(a.c.ref == stall,
                                                a.c.kind.in_(("stall_revenue", "stall_deposit", "stall_discount"))))}


def _bar(event: Event, balance: int = 5000) -> tuple[int, int, int, TestTerminal, int, int, int]:
    stall, cashier, wallet, term = event.stall_setup(balance)
    beer = event.seed.product(stall, "Beer", 600)
    cup = event.seed.product(stall, "Cup deposit", 200, kind="deposit")
    staff = event.seed.product(stall, "Staff discount", 100, kind="discount")
    return stall, cashier, wallet, term, beer, cup, staff


def test_a_bar_sells_a_cup_deposit_and_takes_it_back(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term, beer, cup, _ = _bar(event)
    first = _authorize(client, term, _basket(term, wallet, cashier, [(beer, 2, 600), (cup, 2, 200)]))
    assert first["approved"] and first["balance"] == 5000 - 1600
    assert _balances(event, stall) == {"stall_revenue": 1200, "stall_deposit": 400, "stall_discount": 0}
    # the next round: one beer, both cups back
    second = _authorize(client, term, _basket(term, wallet, cashier, [(beer, 1, 600), (cup, -2, 200)]))
    assert second["approved"] and second["balance"] == 3400 - 200
    assert _balances(event, stall) == {"stall_revenue": 1800, "stall_deposit": 0, "stall_discount": 0}
    with event.seed.db.read() as conn:
        d = stall_settlement(conn, stall, 0)
        report = reconcile(conn)
        x = t.transactions
        amounts = sorted(int(a) for a in conn.execute(select(x.c.amount).where(x.c.kind == "sale")).scalars())
    assert amounts == [200, 1600]  # the transaction's amount is what the wallet paid, not its largest leg
    assert (d["sales"], d["discounts"], d["refunds"], d["net"], d["owed"]) == (1800, 0, 0, 1800, 1800)
    assert (d["deposits_taken"], d["deposits_returned"], d["deposits_held"]) == (400, 400, 0)
    assert d["units"] == 3  # beers; cups are not units sold
    assert report.ok, report.text()
    assert report.summary["deposits_held"] == 0


def test_a_discount_lowers_the_stalls_sales_in_its_own_account(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term, beer, cup, staff = _bar(event)
    answer = _authorize(client, term, _basket(term, wallet, cashier, [(beer, 1, 600), (cup, 1, 200), (staff, -1, 100)]))
    assert answer["approved"] and answer["balance"] == 5000 - 700
    assert _balances(event, stall) == {"stall_revenue": 600, "stall_deposit": 200, "stall_discount": -100}
    with event.seed.db.read() as conn:
        d = stall_settlement(conn, stall, 1000)  # a 10 % fee, on the net after discounts
        report = reconcile(conn)
    assert (d["sales"], d["discounts"], d["net"], d["fee"], d["owed"]) == (600, 100, 500, 50, 450)
    assert (d["deposits_taken"], d["deposits_held"]) == (200, 200)
    assert report.ok, report.text()
    assert (report.summary["discounts"], report.summary["deposits_held"]) == (100, 200)


@pytest.mark.parametrize("lines, reason", [
    ([("beer", -1, 600), ("beer", 2, 600)], "line_refused"),  # a normal product is never given back
    ([("beer", 1, 600), ("staff", 1, 100)], "line_refused"),  # a discount is never a positive line
    ([("cup", 1, 200), ("staff", -1, 100)], "line_refused"),  # a discount never eats a deposit
    ([("beer", 1, 600), ("cup", -1, 150)], "line_refused"),  # a deposit's price is the catalogue's
    ([("beer", 1, 600), ("cup", -1, 200)], "deposit_not_held"),  # no cup was ever taken here
])
def test_online_the_sign_rules_decline_and_book_nothing(event: Event, client: TestClient,
                                                        lines: list[tuple[str, int, int]], reason: str) -> None:
    stall, cashier, wallet, term, beer, cup, staff = _bar(event)
    ids = {"beer": beer, "cup": cup, "staff": staff}
    answer = _authorize(client, term, _basket(term, wallet, cashier, [(ids[n], q, u) for n, q, u in lines]))
    assert (answer["approved"], answer["reason"]) == (False, reason)
    assert _balances(event, stall) == {"stall_revenue": 0, "stall_deposit": 0, "stall_discount": 0}
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000


def test_offline_the_same_rules_book_the_fact_and_flag_it(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term, beer, cup, _ = _bar(event)
    negative = _basket(term, wallet, cashier, [(beer, -1, 600), (beer, 2, 600)])
    unheld = _basket(term, wallet, cashier, [(beer, 1, 600), (cup, -1, 200)])
    assert _push(client, term, negative, unheld) == ["applied", "applied"]  # handed over: facts
    with event.seed.db.read() as conn:
        kinds = {a["kind"]: a for a in list_anomalies(conn)}
        report = reconcile(conn)
    assert kinds["negative_line"]["severity"] == "security"
    assert kinds["deposit_not_held"]["record_id"] == unheld["body"]["id"]
    assert _balances(event, stall)["stall_deposit"] == -200  # the stall paid back a cup it never took
    assert report.ok, report.text()  # a fact, flagged: the ledger itself is whole


def test_a_void_reverses_every_leg_and_a_refund_takes_revenue_then_deposit(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term, beer, cup, staff = _bar(event)
    sale = _basket(term, wallet, cashier, [(beer, 1, 600), (cup, 1, 200), (staff, -1, 100)])
    other = _basket(term, wallet, cashier, [(beer, 1, 600), (cup, 1, 200)])
    assert _push(client, term, sale, other) == ["applied", "applied"]
    boss = event.seed.staff("Boss", roles=[("supervisor", "stall", stall)])
    void = term.refund(wallet_id=wallet, amount=700, staff_id=boss, ref_id=sale["body"]["id"], void=True)
    part = term.refund(wallet_id=wallet, amount=500, staff_id=boss, ref_id=other["body"]["id"])
    assert _push(client, term, void, part) == ["applied", "applied"]
    assert _balances(event, stall) == {"stall_revenue": 100, "stall_deposit": 200, "stall_discount": 0}
    with event.seed.db.write() as conn:  # the rest from the dashboard: the beer's last 100, then the cup
        txn_id = conn.execute(select(t.records.c.txn_id).where(t.records.c.id == other["body"]["id"])).scalar_one()
        refund_sale(conn, wallet, txn_id, 300, lock=event.engine == "postgres", now_ms=event.seed.clock(),
                    reason="cup back, beer spilt", staff_id=boss)
    assert _balances(event, stall) == {"stall_revenue": 0, "stall_deposit": 0, "stall_discount": 0}
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000
        d = stall_settlement(conn, stall, 0)
        report = reconcile(conn)
    assert (d["net"], d["deposits_held"], d["discounts"]) == (0, 0, 0)
    assert report.ok, report.text()


def test_the_record_and_the_catalogue_refuse_what_cannot_be_money(event: Event) -> None:
    with pytest.raises(ValidationError):
        SaleLine(product_id=1, qty=0, unit_price=100)
    with pytest.raises(ValidationError):
        SaleLine(product_id=None, qty=-1, unit_price=100)  # a free amount is never given back
    with pytest.raises(ValidationError):
        SaleLine(product_id=1, qty=-1000, unit_price=100)
    stall = event.seed.stall("Bar")
    with event.seed.db.write() as conn:
        for kwargs in ({"kind": "coupon"}, {"kind": "deposit", "price": 0}, {"kind": "discount", "stock": 5}):
            with pytest.raises(CatalogError):
                create_product(conn, stall_id=stall, name="Cup", **({"price": 100} | kwargs))  # type: ignore[arg-type]


def test_a_basket_of_returns_only_is_refused_never_a_negative_sale(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term, beer, cup, _ = _bar(event)
    assert _authorize(client, term, _basket(term, wallet, cashier, [(beer, 1, 600), (cup, 1, 200)]))["approved"]
    only_back = term.sale(wallet_id=wallet, amount=200, staff_id=cashier,
                          lines=[{"product_id": cup, "qty": -1, "unit_price": 200}])  # the sum is -200
    r = client.post("/api/v1/authorize", json={"record": only_back}, headers=term.headers)
    assert r.status_code == 422 or not r.json()["approved"]
    assert _balances(event, stall)["stall_deposit"] == 200


def test_a_deposit_or_discount_product_keeps_a_price_and_no_stock_when_edited(event: Event) -> None:
    from server.web.actions import update_product

    stall = event.seed.stall("Bar")
    cup = event.seed.product(stall, "Cup", 200, kind="deposit")
    beer = event.seed.product(stall, "Beer", 600)
    with event.seed.db.write() as conn:
        for price, stock in ((0, None), (200, 10)):
            with pytest.raises(CatalogError):
                update_product(conn, cup, name="Cup", price=price, stock=stock, sold_out=False, active=True)
        update_product(conn, cup, name="Cup", price=300, stock=None, sold_out=False, active=True)
        update_product(conn, beer, name="Beer", price=0, stock=5, sold_out=False, active=True)  # normal: as before
        assert conn.execute(select(t.products.c.price).where(t.products.c.id == cup)).scalar_one() == 300

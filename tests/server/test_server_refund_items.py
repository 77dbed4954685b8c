"""Refunds by item: the server holds the lines against the sale, counts earlier refunds by item, puts stock back.

Both engines (the ``event`` fixture); two refunds of the same last item in parallel are
in tests/concurrency/test_races.py.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import select

from server.anomalies import list_anomalies
from server.db import tables as t
from server.reconcile import reconcile
from server.testing import TestTerminal
from server.wallets import wallet_view


def _line(product: int, qty: int, price: int) -> dict[str, Any]:
    return {"product_id": product, "qty": qty, "unit_price": price}


def _push(client: TestClient, term: TestTerminal, *records: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/api/v1/push", json={"records": list(records)}, headers=term.headers)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def _stock(event: Event, product: int) -> int | None:
    with event.seed.db.read() as conn:
        value = conn.execute(select(t.products.c.stock).where(t.products.c.id == product)).scalar_one()
    return None if value is None else int(value)


def _basket(event: Event, client: TestClient) -> tuple[TestTerminal, int, int, int, int, dict[str, Any]]:
    """A sale of 2 yakisoba (500, counted: 10) and 3 ramune (200, not counted); returns (term, boss, wallet, ...)."""
    stall, cashier, wallet, term = event.stall_setup(5000)
    boss = event.seed.staff("Boss", roles=[("supervisor", "stall", stall)])
    soba = event.seed.product(stall, "Yakisoba", 500, stock=10)
    ramune = event.seed.product(stall, "Ramune", 200)
    sale = term.sale(wallet_id=wallet, amount=1600, staff_id=cashier,
                     lines=[_line(soba, 2, 500), _line(ramune, 3, 200)])
    assert [x["status"] for x in _push(client, term, sale)] == ["applied"]
    assert _stock(event, soba) == 8
    return term, boss, wallet, soba, ramune, sale


def test_a_refund_by_item_gives_the_items_money_back_and_puts_counted_stock_back(event: Event,
                                                                                 client: TestClient) -> None:
    term, boss, wallet, soba, ramune, sale = _basket(event, client)
    ref = sale["body"]["id"]
    one_soba = term.refund(wallet_id=wallet, amount=500, staff_id=boss, ref_id=ref, lines=[_line(soba, 1, 500)])
    two_ramune = term.refund(wallet_id=wallet, amount=400, staff_id=boss, ref_id=ref,
                             lines=[_line(ramune, 2, 200)])
    assert [x["status"] for x in _push(client, term, one_soba, two_ramune)] == ["applied", "applied"]
    assert _stock(event, soba) == 9  # counted: one back on the shelf
    assert _stock(event, ramune) is None  # not counted: stays so
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000 - 1600 + 900
        assert [a["kind"] for a in list_anomalies(conn)] == []
        report = reconcile(conn)
    assert report.ok, report.text()


def test_a_refund_by_item_is_refused_beyond_what_is_left_of_the_line(event: Event, client: TestClient) -> None:
    term, boss, wallet, soba, _ramune, sale = _basket(event, client)
    ref = sale["body"]["id"]
    first = term.refund(wallet_id=wallet, amount=500, staff_id=boss, ref_id=ref, lines=[_line(soba, 1, 500)])
    again = term.refund(wallet_id=wallet, amount=1000, staff_id=boss, ref_id=ref, lines=[_line(soba, 2, 500)])
    last = term.refund(wallet_id=wallet, amount=500, staff_id=boss, ref_id=ref, lines=[_line(soba, 1, 500)])
    results = _push(client, term, first, again, last)
    assert [x["status"] for x in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"] == f"exceeds_item: product {soba}: 1 of 2 left to refund"
    # a later push counts the refunds by item already booked (read from the stored records)
    late = term.refund(wallet_id=wallet, amount=500, staff_id=boss, ref_id=ref, lines=[_line(soba, 1, 500)])
    results = _push(client, term, late)
    assert (results[0]["status"], results[0]["reason"]) == ("rejected", f"exceeds_item: product {soba}: "
                                                                       "0 of 2 left to refund")
    assert _stock(event, soba) == 10
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000 - 1600 + 1000
        kinds = [a["kind"] for a in list_anomalies(conn)]
    assert kinds.count("refund_line_mismatch") == 2


def test_refund_lines_that_are_not_the_sales_are_refused_and_change_nothing(event: Event,
                                                                           client: TestClient) -> None:
    term, boss, wallet, soba, ramune, sale = _basket(event, client)
    other = event.seed.product(event.seed.stall(), "Elsewhere", 500, stock=5)
    ref = sale["body"]["id"]
    cheaper = term.refund(wallet_id=wallet, amount=100, staff_id=boss, ref_id=ref, lines=[_line(soba, 1, 100)])
    foreign = term.refund(wallet_id=wallet, amount=500, staff_id=boss, ref_id=ref, lines=[_line(other, 1, 500)])
    results = _push(client, term, cheaper, foreign)
    assert [x["status"] for x in results] == ["rejected", "rejected"]
    assert results[0]["reason"] == f"line_not_in_sale: product {soba} at 100 is not a line of the sale"
    assert results[1]["reason"].startswith(f"line_not_in_sale: product {other}")
    # the amount is the lines' sum, and every count is bounded: the record itself is invalid
    body = term.refund(wallet_id=wallet, amount=600, staff_id=boss, ref_id=ref, lines=[_line(soba, 1, 500)])["body"]
    for bad in ({"lines": [_line(soba, 1, 500)], "amount": 600}, {"lines": [_line(soba, 1000, 500)], "amount": 500000},
                {"lines": [_line(soba, 0, 500)], "amount": 1}, {"lines": [_line(ramune, -1, 200)], "amount": 1},
                {"lines": [_line(1 << 40, 1, 500)], "amount": 500}):
        results = _push(client, term, term.sign(body | bad))
        assert results[0]["status"] == "rejected" and results[0]["reason"].startswith("invalid:"), (bad, results)
    assert _stock(event, soba) == 8 and _stock(event, other) == 5
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000 - 1600


def test_a_refund_by_amount_still_works_alongside_refunds_by_item(event: Event, client: TestClient) -> None:
    term, boss, wallet, soba, ramune, sale = _basket(event, client)
    ref = sale["body"]["id"]
    by_item = term.refund(wallet_id=wallet, amount=1000, staff_id=boss, ref_id=ref, lines=[_line(soba, 2, 500)])
    by_amount = term.refund(wallet_id=wallet, amount=600, staff_id=boss, ref_id=ref)
    over = term.refund(wallet_id=wallet, amount=200, staff_id=boss, ref_id=ref, lines=[_line(ramune, 1, 200)])
    results = _push(client, term, by_item, by_amount, over)
    assert [x["status"] for x in results] == ["applied", "applied", "rejected"]
    assert results[2]["reason"].startswith("exceeds_refundable: 0 left of 1600")  # the sale's total still caps it
    assert "lines" not in by_amount["body"]
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000
        report = reconcile(conn)
    assert report.ok, report.text()

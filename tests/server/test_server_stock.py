"""Counted stock on the server: an online sale beyond what is left is declined; an offline one is a fact, flagged.

Both engines (the ``event`` fixture); the same decision under parallel requests is in
tests/concurrency/test_races.py.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import select

from server.anomalies import list_anomalies
from server.catalog import set_stock
from server.db import tables as t
from server.testing import TestTerminal
from server.wallets import wallet_view


def _sale(term: TestTerminal, wallet: int, cashier: int, product: int, price: int, qty: int) -> dict[str, Any]:
    body = term.sale(wallet_id=wallet, amount=price * qty, staff_id=cashier)["body"]
    return term.sign(body | {"lines": [{"product_id": product, "qty": qty, "unit_price": price}]})


def _authorize(client: TestClient, term: TestTerminal, record: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/authorize", json={"record": record}, headers=term.headers)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def _stock(event: Event, product: int) -> tuple[int | None, bool]:
    p = t.products
    with event.seed.db.read() as conn:
        row = conn.execute(select(p.c.stock, p.c.sold_out).where(p.c.id == product)).one()
    return row.stock, bool(row.sold_out)


def test_an_online_sale_beyond_the_stock_left_is_declined_and_books_nothing(event: Event,
                                                                           client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(5000)
    ramune = event.seed.product(stall, "Ramune", 200, stock=2)
    free = event.seed.product(stall, "Water", 100)  # not counted: never short
    assert _authorize(client, term, _sale(term, wallet, cashier, ramune, 200, 3))["reason"] == "sold_out"
    assert _stock(event, ramune) == (2, False)
    first = _authorize(client, term, _sale(term, wallet, cashier, ramune, 200, 2))
    assert first["approved"] and first["balance"] == 4600
    assert _stock(event, ramune) == (0, True)
    late = _authorize(client, term, _sale(term, wallet, cashier, ramune, 200, 1))
    assert (late["approved"], late["reason"], late["balance"]) == (False, "sold_out", 4600)
    assert _authorize(client, term, _sale(term, wallet, cashier, free, 100, 30))["approved"]
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 4600 - 3000
        assert [a["kind"] for a in list_anomalies(conn)] == []


def test_a_product_switched_to_sold_out_is_declined_online(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(5000)
    ice = event.seed.product(stall, "Ice", 300)
    with event.seed.db.write() as conn:
        set_stock(conn, ice, stock=None, sold_out=True)
    answer = _authorize(client, term, _sale(term, wallet, cashier, ice, 300, 1))
    assert (answer["approved"], answer["reason"]) == (False, "sold_out")
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000


def test_an_offline_sale_beyond_the_stock_is_booked_and_flagged(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(5000)
    taco = event.seed.product(stall, "Takoyaki", 500, stock=1)
    first, second = (_sale(term, wallet, cashier, taco, 500, n) for n in (1, 2))
    r = client.post("/api/v1/push", json={"records": [first, second]}, headers=term.headers)
    assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"]  # handed over: facts
    assert _stock(event, taco) == (-2, True)
    with event.seed.db.read() as conn:
        flagged = [a for a in list_anomalies(conn) if a["kind"] == "oversold"]
    assert [(a["record_id"], a["terminal_id"]) for a in flagged] == [(second["body"]["id"], term.terminal_id)]
    assert json.loads(flagged[0]["detail"]) == {"product_id": taco, "stock": 0, "qty": 2, "stall_id": stall}
    again = client.post("/api/v1/push", json={"records": [second]}, headers=term.headers).json()["results"]
    assert again[0]["status"] == "duplicate"
    with event.seed.db.read() as conn:  # a re-send flags nothing more
        assert len([a for a in list_anomalies(conn) if a["kind"] == "oversold"]) == 1

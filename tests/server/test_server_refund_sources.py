"""Refunds from the dashboard and from terminals share one limit: never more than the sale."""

from __future__ import annotations

from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import select

from server.db import tables as t
from server.reconcile import reconcile
from server.wallets import wallet_view
from server.web.actions import refund_sale


def test_terminal_refund_counts_what_the_dashboard_already_gave_back(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(1000)
    supervisor = event.seed.staff("Boss", roles=[("supervisor", "stall", stall)])
    sale = term.sale(wallet_id=wallet, amount=600, staff_id=cashier)
    r = client.post("/api/v1/push", json={"records": [sale]}, headers=term.headers)
    assert r.json()["results"][0]["status"] == "applied"
    with event.seed.db.read() as conn:
        txn_id = conn.execute(select(t.records.c.txn_id).where(t.records.c.id == sale["body"]["id"])).scalar_one()
    with event.seed.db.write() as conn:
        refund_sale(conn, wallet, txn_id, 400, lock=event.engine == "postgres", now_ms=event.seed.clock(),
                    reason="burnt", staff_id=supervisor)

    too_much = term.refund(wallet_id=wallet, amount=300, staff_id=supervisor, ref_id=sale["body"]["id"])
    fits = term.refund(wallet_id=wallet, amount=200, staff_id=supervisor, ref_id=sale["body"]["id"])
    results = client.post("/api/v1/push", json={"records": [too_much, fits]}, headers=term.headers).json()["results"]
    assert [x["status"] for x in results] == ["rejected", "applied"]
    assert results[0]["reason"].startswith("exceeds_refundable: 200 left")
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 1000 - 600 + 400 + 200
        report = reconcile(conn)
    assert report.ok, report.text()

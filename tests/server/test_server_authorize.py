"""Online authorization: decline or book, idempotent on the record id."""

from __future__ import annotations

from fastapi.testclient import TestClient
from server_harness import Event

from server.wallets import wallet_view


def _authorize(client: TestClient, term, record) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/authorize", json={"record": record}, headers=term.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_approval_books_once_and_a_retry_returns_the_stored_answer(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(3000)
    sale = term.sale(wallet_id=wallet, amount=2000, staff_id=cashier)
    first = _authorize(client, term, sale)
    assert first == {"id": sale["body"]["id"], "approved": True, "reason": None, "balance": 1000, "seq": 2,
                     "carried": []}
    assert _authorize(client, term, sale) == first
    pushed = client.post("/api/v1/push", json={"records": [sale]}, headers=term.headers).json()["results"][0]
    assert (pushed["status"], pushed["balance"], pushed["seq"]) == ("duplicate", 1000, 2)
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 1000


def test_decline_books_nothing_and_a_later_offline_push_books_the_fact(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    sale = term.sale(wallet_id=wallet, amount=1500, staff_id=cashier)
    answer = _authorize(client, term, sale)
    assert (answer["approved"], answer["reason"], answer["balance"]) == (False, "insufficient_balance", 1000)
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).seq == 1
    pushed = client.post("/api/v1/push", json={"records": [sale]}, headers=term.headers).json()["results"][0]
    assert (pushed["status"], pushed["balance"]) == ("applied", -500)


def test_blocked_wallet_and_missing_permission_are_declined(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(5000)
    gatekeeper = event.seed.staff("Gate", roles=[("gatekeeper", "event", None)])
    answer = _authorize(client, term, term.sale(wallet_id=wallet, amount=100, staff_id=gatekeeper))
    assert (answer["approved"], answer["reason"]) == (False, "forbidden")
    other = event.seed.stall("Other")
    answer = _authorize(client, term, term.sale(wallet_id=wallet, amount=100, staff_id=cashier, stall_id=other))
    assert (answer["approved"], answer["reason"]) == (False, "forbidden")
    from server.wallets import set_blocked

    with event.seed.db.write() as conn:
        set_blocked(conn, wallet, blocked=True, reason="lost card", now_ms=event.seed.clock())
    answer = _authorize(client, term, term.sale(wallet_id=wallet, amount=100, staff_id=cashier))
    assert (answer["approved"], answer["reason"]) == (False, "wallet_blocked")
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000
    del stall


def test_topup_through_authorize_needs_a_topup_terminal(event: Event, client: TestClient) -> None:
    _stall, _cashier, wallet, stall_term = event.stall_setup(0)
    clerk = event.seed.staff("Desk", roles=[("topup", "event", None)])
    desk = event.seed.terminal("topup")
    answer = _authorize(client, desk, desk.topup(wallet_id=wallet, amount=3000, staff_id=clerk))
    assert (answer["approved"], answer["balance"], answer["seq"]) == (True, 3000, 1)
    answer = _authorize(client, stall_term, stall_term.topup(wallet_id=wallet, amount=3000, staff_id=clerk))
    assert (answer["approved"], answer["reason"]) == (False, "forbidden")


def test_bad_records_are_422(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    sale = term.sale(wallet_id=wallet, amount=100, staff_id=cashier)
    altered = {"body": {**sale["body"], "amount": 1}, "sig": sale["sig"]}
    r = client.post("/api/v1/authorize", json={"record": altered}, headers=term.headers)
    assert r.status_code == 422 and r.json()["detail"].startswith("bad_signature")
    refund = term.refund(wallet_id=wallet, amount=100, staff_id=cashier, ref_id=sale["body"]["id"])
    r = client.post("/api/v1/authorize", json={"record": refund}, headers=term.headers)
    assert r.status_code == 422 and "sale and topup" in r.json()["detail"]
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 1000


def test_conflicting_body_under_an_approved_id_is_refused(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    sale = term.sale(wallet_id=wallet, amount=100, staff_id=cashier)
    assert _authorize(client, term, sale)["approved"]
    other = term.sale(wallet_id=wallet, amount=900, staff_id=cashier, record_id=sale["body"]["id"])
    answer = _authorize(client, term, other)
    assert (answer["approved"], answer["reason"]) == (False, "conflict")
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 900

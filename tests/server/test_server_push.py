"""Push: each record applied at most once, per-item results, offline facts booked."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import func, select

from server.anomalies import list_anomalies
from server.db import tables as t
from server.reconcile import reconcile
from server.wallets import wallet_view


def _push(client: TestClient, term, *records) -> list[dict]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/push", json={"records": list(records)}, headers=term.headers)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _balance(event: Event, wallet: int) -> tuple[int, int]:
    with event.seed.db.read() as conn:
        view = wallet_view(conn, wallet)
    return view.balance, view.seq


def _count(event: Event, table) -> int:  # type: ignore[no-untyped-def]
    with event.seed.db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _assert_reconciled(event: Event) -> None:
    with event.seed.db.read() as conn:
        report = reconcile(conn)
    assert report.ok, report.text()


def test_sale_is_booked_with_balance_and_seq(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    [res] = _push(client, term, term.sale(wallet_id=wallet, amount=300, staff_id=cashier))
    assert res["status"] == "applied" and res["code"] == 200
    assert (res["wallet_id"], res["balance"], res["seq"]) == (wallet, 700, 2)
    assert _balance(event, wallet) == (700, 2)
    _assert_reconciled(event)


def test_resent_record_is_a_duplicate_with_the_stored_result(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    sale = term.sale(wallet_id=wallet, amount=300, staff_id=cashier)
    first = _push(client, term, sale)[0]
    later = term.sale(wallet_id=wallet, amount=100, staff_id=cashier)
    _push(client, term, later)
    again = _push(client, term, sale, sale)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert again[0]["balance"] == first["balance"] == 700 and again[0]["seq"] == first["seq"]
    assert _balance(event, wallet) == (600, 3)
    assert _count(event, t.transactions) == 3  # admin top-up + two sales


def test_known_id_with_another_body_is_a_conflict_and_changes_nothing(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    sale = term.sale(wallet_id=wallet, amount=300, staff_id=cashier)
    _push(client, term, sale)
    forged = term.sale(wallet_id=wallet, amount=30, staff_id=cashier, record_id=sale["body"]["id"])
    [res] = _push(client, term, forged)
    assert res["status"] == "conflict" and res["code"] == 422
    assert _balance(event, wallet) == (700, 2)
    with event.seed.db.read() as conn:
        assert [a["record_id"] for a in list_anomalies(conn, kind="record_conflict")] == [sale["body"]["id"]]


def test_record_with_bad_signature_is_refused_and_changes_nothing(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(1000)
    sale = term.sale(wallet_id=wallet, amount=300, staff_id=cashier)
    altered = {"body": {**sale["body"], "amount": 3}, "sig": sale["sig"]}
    stranger = event.seed.terminal("stall", stall_id=stall)
    foreign = {"body": sale["body"], "sig": stranger.sign(sale["body"])["sig"]}
    before = (_count(event, t.records), _count(event, t.transactions), _balance(event, wallet))
    results = _push(client, term, altered, foreign)
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert all(r["code"] == 422 and r["reason"].startswith("bad_signature") for r in results)
    assert (_count(event, t.records), _count(event, t.transactions), _balance(event, wallet)) == before
    with event.seed.db.read() as conn:
        refused = list_anomalies(conn, kind="record_refused")
    assert len(refused) == 2 and {a["severity"] for a in refused} == {"security"}
    # the genuine record still books afterwards: the refusal stored nothing under its id
    assert _push(client, term, sale)[0]["status"] == "applied"


def test_one_bad_item_does_not_block_the_rest(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    bad_body = term.sign({"id": str(uuid.uuid4()), "kind": "sale", "terminal_id": term.terminal_id})
    other_terminal = term.sign({**term.sale(wallet_id=wallet, amount=5, staff_id=cashier)["body"],
                                "terminal_id": term.terminal_id + 100})
    results = _push(client, term, term.sale(wallet_id=wallet, amount=100, staff_id=cashier), bad_body,
                    other_terminal, term.sale(wallet_id=wallet, amount=200, staff_id=cashier))
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert results[1]["reason"].startswith("invalid:")
    assert results[2]["reason"].startswith("wrong_terminal")
    assert _balance(event, wallet) == (700, 3)


def test_offline_sale_overdraws_then_blocks_past_tolerance(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(500)  # tolerance is 1000 by default
    r1 = _push(client, term, term.sale(wallet_id=wallet, amount=800, staff_id=cashier))[0]
    assert r1["status"] == "applied" and r1["balance"] == -300
    with event.seed.db.read() as conn:
        assert [a["kind"] for a in list_anomalies(conn)] == ["overdraft"]
        assert not wallet_view(conn, wallet).blocked
    r2 = _push(client, term, term.sale(wallet_id=wallet, amount=900, staff_id=cashier))[0]
    assert r2["status"] == "applied" and r2["balance"] == -1200
    with event.seed.db.read() as conn:
        view = wallet_view(conn, wallet)
        kinds = [a["kind"] for a in list_anomalies(conn)]
        revoked = conn.execute(select(t.revocations.c.revoked).where(t.revocations.c.ref == wallet)).scalar()
    assert view.blocked and view.overdrawn and kinds == ["overdraft", "overdraft_blocked"]
    assert revoked
    # still a fact: a sale made offline before the block reached the terminal is booked
    assert _push(client, term, term.sale(wallet_id=wallet, amount=10, staff_id=cashier))[0]["balance"] == -1210
    _assert_reconciled(event)


def test_refunds_never_exceed_the_sale(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(1000)
    supervisor = event.seed.staff("Boss", roles=[("supervisor", "stall", stall)])
    sale = term.sale(wallet_id=wallet, amount=600, staff_id=cashier)
    sale_id = sale["body"]["id"]
    results = _push(
        client, term, sale,
        term.refund(wallet_id=wallet, amount=200, staff_id=supervisor, ref_id=sale_id),
        term.refund(wallet_id=wallet, amount=300, staff_id=supervisor, ref_id=sale_id),
        term.refund(wallet_id=wallet, amount=101, staff_id=supervisor, ref_id=sale_id),
        term.refund(wallet_id=wallet, amount=600, staff_id=supervisor, ref_id=sale_id, void=True),
        term.refund(wallet_id=wallet, amount=100, staff_id=supervisor, ref_id=str(uuid.uuid4())),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "rejected", "rejected"]
    assert results[3]["reason"].startswith("exceeds_refundable: 100 left")
    assert results[4]["reason"].startswith("void_mismatch")
    assert results[5]["reason"].startswith("unknown_sale")
    assert _balance(event, wallet)[0] == 1000 - 600 + 500
    with event.seed.db.read() as conn:
        assert {a["kind"] for a in list_anomalies(conn)} == {"refund_exceeds_sale", "void_mismatch",
                                                            "refund_unknown_sale"}
    _assert_reconciled(event)


def test_void_cancels_a_whole_sale_once(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    supervisor = event.seed.staff("Boss", roles=[("supervisor", "event", None)])
    sale = term.sale(wallet_id=wallet, amount=400, staff_id=cashier)
    void = term.refund(wallet_id=wallet, amount=400, staff_id=supervisor, ref_id=sale["body"]["id"], void=True)
    again = term.refund(wallet_id=wallet, amount=400, staff_id=supervisor, ref_id=sale["body"]["id"], void=True)
    results = _push(client, term, sale, void, again)
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    assert _balance(event, wallet) == (1000, 3)  # top-up, sale, void


def test_staff_without_permission_is_booked_with_an_anomaly(event: Event, client: TestClient) -> None:
    _stall, _cashier, wallet, term = event.stall_setup(1000)
    other_stall = event.seed.stall("Kakigori")
    outsider = event.seed.staff("Outsider", roles=[("cashier", "stall", other_stall)])
    [res] = _push(client, term, term.sale(wallet_id=wallet, amount=100, staff_id=outsider))
    assert res["status"] == "applied"
    with event.seed.db.read() as conn:
        [anomaly] = list_anomalies(conn)
    assert anomaly["kind"] == "permission" and anomaly["record_id"] == res["id"]


def test_sales_count_down_stock_and_mark_sold_out(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(5000)
    product = event.seed.product(stall, "Ramune", 200, stock=3)
    lines = [{"product_id": product, "qty": 2, "unit_price": 200}]
    _push(client, term, term.sale(wallet_id=wallet, amount=400, staff_id=cashier, lines=lines))
    _push(client, term, term.sale(wallet_id=wallet, amount=400, staff_id=cashier, lines=lines))
    with event.seed.db.read() as conn:
        row = conn.execute(select(t.products.c.stock, t.products.c.sold_out)
                           .where(t.products.c.id == product)).one()
    assert row.stock == -1 and bool(row.sold_out)


def test_topup_record_moves_cash_drawer_to_wallet(event: Event, client: TestClient) -> None:
    desk = event.seed.terminal("topup")
    clerk = event.seed.staff("Desk", roles=[("topup", "event", None)])
    wallet = event.seed.wallet(0)
    [res] = _push(client, desk, desk.topup(wallet_id=wallet, amount=2000, staff_id=clerk))
    assert (res["status"], res["balance"], res["seq"]) == ("applied", 2000, 1)
    with event.seed.db.read() as conn:
        drawer = conn.execute(select(t.accounts.c.balance).where(
            t.accounts.c.kind == "cash_drawer", t.accounts.c.ref == desk.terminal_id)).scalar_one()
    assert drawer == -2000
    _assert_reconciled(event)


def test_duplicate_entry_on_single_ticket_is_an_anomaly_not_an_error(event: Event, client: TestClient) -> None:
    north, south = event.seed.gate("North"), event.seed.gate("South")
    keeper = event.seed.staff("Gate", roles=[("gatekeeper", "event", None)])
    single = event.seed.ticket_type("Day pass", "single")
    a = event.seed.terminal("gate", gate_id=north)
    b = event.seed.terminal("gate", gate_id=south)
    assert _push(client, a, a.checkin(ticket_id=42, ticket_type=single, staff_id=keeper))[0]["status"] == "applied"
    assert _push(client, b, b.checkin(ticket_id=42, ticket_type=single, staff_id=keeper))[0]["status"] == "applied"
    assert _push(client, b, b.checkin(ticket_id=43, ticket_type=single, staff_id=keeper))[0]["status"] == "applied"
    with event.seed.db.read() as conn:
        dups = list_anomalies(conn, kind="duplicate_entry")
    assert len(dups) == 1 and _count(event, t.checkins) == 3


def test_batch_limits_are_enforced(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    r = client.post("/api/v1/push", json={"records": []}, headers=term.headers)
    assert r.status_code == 422 and "records" in r.json()["detail"]
    many = [term.sale(wallet_id=wallet, amount=1, staff_id=cashier) for _ in range(501)]
    r = client.post("/api/v1/push", json={"records": many}, headers=term.headers)
    assert r.status_code == 422
    assert _balance(event, wallet) == (1000, 1)


def test_security_events_become_anomalies_once_and_bad_reports_change_nothing(event: Event,
                                                                               client: TestClient) -> None:
    _stall, _cashier, _wallet, term = event.stall_setup(0)
    sighting = {"n": 7, "at_ms": 1_780_000_000_000, "event": "forged_token", "reason": "bad_signature",
                "fingerprint": "0123456789abcdef", "detail": "wallet token"}
    before = _count(event, t.anomalies)
    bad_reports = [
        {"events": []},  # nothing to report
        {"events": [sighting | {"event": "record_conflict"}]},  # only forged-token sightings are taken
        {"events": [sighting | {"reason": "Bad Signature"}]},
        {"events": [sighting | {"fingerprint": "EW1:THE-TOKEN-ITSELF"}]},  # a hash, never the token
        {"events": [sighting | {"n": 0}]},
        {"events": [sighting | {"n": i} for i in range(1, 102)]},  # over 100 in one report
        {"events": [sighting | {"extra": 1}]},
    ]
    for body in bad_reports:
        r = client.post("/api/v1/security-events", json=body, headers=term.headers)
        assert r.status_code == 422, (body, r.text)
    assert client.post("/api/v1/security-events", json={"events": [sighting]}).status_code == 401
    assert _count(event, t.anomalies) == before

    first = client.post("/api/v1/security-events", json={"events": [sighting, sighting | {"n": 8}]},
                        headers=term.headers)
    assert first.status_code == 200 and first.json() == {"accepted": 2, "known": 0}
    again = client.post("/api/v1/security-events", json={"events": [sighting, sighting | {"n": 9}]},
                        headers=term.headers)
    assert again.json() == {"accepted": 1, "known": 1}
    with event.seed.db.read() as conn:
        mine = [a for a in list_anomalies(conn, kind="forged_token") if a["terminal_id"] == term.terminal_id]
    assert sorted(a["record_id"] for a in mine) == ["sighting:7", "sighting:8", "sighting:9"]
    assert _count(event, t.anomalies) == before + 3

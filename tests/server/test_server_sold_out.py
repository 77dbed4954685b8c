"""Sold out from a stall's till (``POST /api/v1/products/{id}/sold-out``) on SQLite and PostgreSQL, on a real uvicorn.

Who may (the ``product_sold_out`` rule of ``server.authority.ACTIONS``: a stall terminal of the
product's own stall, for a person holding ``product.sold_out`` for that stall), as a table of
caller x person x product; that it sets a value (asked again: nothing more), is audited, reaches the
stall's other tills through the pull, refuses to put a product with no stock back on sale; bounds;
and parallel calls from two tills that end in exactly what the audit log says.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
from server_harness import Event
from sqlalchemy import func, select, update

from server.db import tables as t
from server.staff import add_override
from server.terminals import revoke_terminal
from sync.permissions import Permission, Scope

# caller x person x product -> the answer; "ok" sets the flag, anything else changes nothing
AUTHORITY: dict[tuple[str, str, str], str] = {
    ("till_a", "lead_a", "a"): "ok",  # a supervisor of stall A at a till of stall A
    ("till_a", "boss", "a"): "ok",  # a supervisor of the whole event
    ("till_a", "granted", "a"): "ok",  # a cashier given product.sold_out for stall A (a per-person exception)
    ("till_a", "cashier", "a"): "403",  # sells, may not mark sold out
    ("till_a", "denied", "a"): "403",  # a supervisor whose product.sold_out is taken away for stall A
    ("till_a", "lead_b", "a"): "403",  # a supervisor of stall B only
    ("till_a", "inactive", "a"): "403",  # switched off
    ("till_a", "unknown", "a"): "403",  # no such person
    ("till_a", "boss", "b"): "403",  # another stall's product: not from this till, whoever asks
    ("till_b", "boss", "a"): "403",
    ("till_b", "lead_b", "b"): "ok",
    ("gate", "boss", "a"): "403",  # a gate or a top-up desk marks nothing sold out
    ("topup", "boss", "a"): "403",
    ("revoked", "lead_a", "a"): "401",  # a revoked till of stall A
    ("none", "lead_a", "a"): "401",  # no API token
    ("admin_token", "boss", "a"): "403",  # a staff API token: this call is for enrolled tills
    ("till_a", "lead_a", "missing"): "404",
}


def _url(product_id: int) -> str:
    return f"/api/v1/products/{product_id}/sold-out"


def _state(event: Event, product_id: int) -> tuple[bool, int, int]:
    """(sold out?, its change number, audit entries of sold-out changes)."""
    with event.seed.db.read() as conn:
        row = conn.execute(select(t.products.c.sold_out, t.products.c.change_seq)
                           .where(t.products.c.id == product_id)).one()
        audits = conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action.in_(("product.sold_out", "product.on_sale")))).scalar_one()
        return bool(row.sold_out), int(row.change_seq), int(audits)


def _ask(http: httpx.Client, headers: dict[str, str], product_id: int, staff_id: int, sold_out: bool) -> httpx.Response:
    return http.post(_url(product_id), json={"staff_id": staff_id, "sold_out": sold_out}, headers=headers)


def _shop(event: Event) -> dict[str, Any]:
    seed = event.seed
    stall_a, stall_b = seed.stall("Yakisoba"), seed.stall("Crepes")
    gate = seed.gate()
    products = {"a": seed.product(stall_a, "Yakisoba", 500), "b": seed.product(stall_b, "Crepe", 400),
                "a_counted": seed.product(stall_a, "Ramune", 200, stock=3), "missing": 987654}
    people = {
        "lead_a": seed.staff("Lead A", roles=[("supervisor", "stall", stall_a)]),
        "lead_b": seed.staff("Lead B", roles=[("supervisor", "stall", stall_b)]),
        "boss": seed.staff("Boss", roles=[("supervisor", "event", None)]),
        "cashier": seed.staff("Cashier", roles=[("cashier", "stall", stall_a)]),
        "granted": seed.staff("Granted", roles=[("cashier", "stall", stall_a)]),
        "denied": seed.staff("Denied", roles=[("supervisor", "stall", stall_a)]),
        "inactive": seed.staff("Gone", roles=[("supervisor", "stall", stall_a)]),
        "unknown": 12345678,
    }
    revoked = seed.terminal("stall", stall_id=stall_a)
    with seed.db.write() as conn:
        add_override(conn, people["granted"], Permission.PRODUCT_SOLD_OUT, allow=True, scope=Scope.stall(stall_a))
        add_override(conn, people["denied"], Permission.PRODUCT_SOLD_OUT, allow=False, scope=Scope.stall(stall_a))
        conn.execute(update(t.staff).where(t.staff.c.id == people["inactive"]).values(active=False))
        revoke_terminal(conn, revoked.terminal_id, now_ms=seed.clock())
    tills = {"till_a": seed.terminal("stall", stall_id=stall_a), "till_a2": seed.terminal("stall", stall_id=stall_a),
             "till_b": seed.terminal("stall", stall_id=stall_b)}
    headers = {name: till.headers for name, till in tills.items()} | {
        "gate": seed.terminal("gate", gate_id=gate).headers, "topup": seed.terminal("topup").headers,
        "revoked": revoked.headers, "none": {},
        "admin_token": {"Authorization": f"Bearer {seed.api_token(event.admin.admin_staff_id)}"}}
    return {"products": products, "people": people, "headers": headers, "tills": tills}


def test_who_may_mark_a_product_sold_out(event: Event, live: str) -> None:
    shop = _shop(event)
    products, people, headers = shop["products"], shop["people"], shop["headers"]
    seen = {}
    with httpx.Client(base_url=live, timeout=10) as http:
        for (caller, person, product), want in AUTHORITY.items():
            pid = products[product]
            if product != "missing":
                with event.seed.db.write() as conn:  # every case starts on sale
                    conn.execute(update(t.products).where(t.products.c.id == pid).values(sold_out=False))
                before = _state(event, pid)
            response = _ask(http, headers[caller], pid, people[person], True)
            seen[(caller, person, product)] = "ok" if response.status_code == 200 else str(response.status_code)
            if product == "missing":
                assert response.json()["reason"] == "unknown_product"
                continue
            after = _state(event, pid)
            if want == "ok":
                assert response.json()["changed"] is True and response.json()["product"]["sold_out"] is True
                assert after[0] is True and after[1] > before[1] and after[2] == before[2] + 1
            else:
                assert after == before, (caller, person, product)  # refused: nothing changed, nothing audited
                assert response.json()["detail"], response.text
        assert seen == AUTHORITY
        refused = _ask(http, headers["till_a"], products["a"], people["cashier"], True).json()
        assert refused["detail"] == "forbidden: permission" and refused["reason"] == "forbidden"
        other = _ask(http, headers["till_a"], products["b"], people["boss"], True).json()
        assert other["detail"] == "forbidden: stall_mismatch"
        assert _ask(http, headers["gate"], products["a"], people["boss"], True).json()["detail"] == \
            "forbidden: wrong_mode"


def test_it_sets_a_value_is_audited_and_reaches_the_other_till(event: Event, live: str) -> None:
    shop = _shop(event)
    pid, lead, tills = shop["products"]["a"], shop["people"]["lead_a"], shop["tills"]
    with httpx.Client(base_url=live, timeout=10) as http:
        cursor = http.post("/api/v1/pull", json={"cursor": ""}, headers=tills["till_a2"].headers).json()["cursor"]
        first = _ask(http, tills["till_a"].headers, pid, lead, True)
        assert first.status_code == 200 and first.json()["changed"] is True
        product = first.json()["product"]
        assert (product["id"], product["name"], product["price"], product["sold_out"]) == (pid, "Yakisoba", 500, True)
        again = _ask(http, tills["till_a"].headers, pid, lead, True)  # a retry after a lost answer
        assert again.status_code == 200 and again.json()["changed"] is False
        assert _state(event, pid)[0] is True and _state(event, pid)[2] == 1  # one change, one audit entry
        pulled = http.post("/api/v1/pull", json={"cursor": cursor}, headers=tills["till_a2"].headers).json()
        assert [(p["id"], p["sold_out"]) for p in pulled["products"]] == [(pid, True)]  # the other till sees it
        back = _ask(http, tills["till_a"].headers, pid, lead, False)
        assert back.json()["changed"] is True and _state(event, pid)[0] is False
    with event.seed.db.read() as conn:
        entries = conn.execute(select(t.audit_log.c.actor, t.audit_log.c.action).where(
            t.audit_log.c.action.in_(("product.sold_out", "product.on_sale"))).order_by(t.audit_log.c.id)).all()
    actor = f"terminal:{tills['till_a'].terminal_id}"
    assert [tuple(e) for e in entries] == [(actor, "product.sold_out"), (actor, "product.on_sale")]


def test_a_counted_product_with_nothing_left_stays_sold_out(event: Event, live: str) -> None:
    shop = _shop(event)
    pid, lead, till = shop["products"]["a_counted"], shop["people"]["lead_a"], shop["tills"]["till_a"]
    with event.seed.db.write() as conn:
        conn.execute(update(t.products).where(t.products.c.id == pid).values(stock=0, sold_out=True))
    before = _state(event, pid)
    with httpx.Client(base_url=live, timeout=10) as http:
        response = _ask(http, till.headers, pid, lead, False)
        assert response.status_code == 409 and response.json()["reason"] == "no_stock_left"
        assert _state(event, pid) == before
        with event.seed.db.write() as conn:  # stock set on the dashboard: now it may go back on sale
            conn.execute(update(t.products).where(t.products.c.id == pid).values(stock=5))
        assert _ask(http, till.headers, pid, lead, False).json()["changed"] is True


def test_bad_requests_are_refused_and_change_nothing(event: Event, live: str) -> None:
    shop = _shop(event)
    pid, lead, till = shop["products"]["a"], shop["people"]["lead_a"], shop["tills"]["till_a"]
    before = _state(event, pid)
    with httpx.Client(base_url=live, timeout=10) as http:
        for product_id in ("0", "-1", str(1 << 31), "abc", "1.5"):
            response = http.post(f"/api/v1/products/{product_id}/sold-out", json={"staff_id": lead, "sold_out": True},
                                 headers=till.headers)
            assert response.status_code == 422, (product_id, response.text)
        for body in ({"staff_id": lead}, {"sold_out": True}, {"staff_id": lead, "sold_out": "yes"},
                     {"staff_id": lead, "sold_out": 1}, {"staff_id": str(lead), "sold_out": True},
                     {"staff_id": -1, "sold_out": True}, {"staff_id": 1 << 40, "sold_out": True},
                     {"staff_id": lead, "sold_out": True, "stock": 99}):
            response = http.post(_url(pid), json=body, headers=till.headers)
            assert response.status_code == 422, (body, response.text)
    assert _state(event, pid) == before


def test_parallel_calls_from_two_tills_end_as_the_audit_log_says(event: Event, live: str) -> None:
    """12 calls at once, sold out and back on sale mixed, from two tills of the stall: every change is one
    audit entry and one change number, and the product ends as the last entry says."""
    shop = _shop(event)
    pid, lead, tills = shop["products"]["a"], shop["people"]["lead_a"], shop["tills"]
    before = _state(event, pid)
    barrier = threading.Barrier(12)
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def call(i: int) -> None:
        till = tills["till_a" if i % 2 else "till_a2"]
        with httpx.Client(base_url=live, timeout=30) as http:
            barrier.wait(timeout=30)
            response = _ask(http, till.headers, pid, lead, i % 3 != 0)
        with lock:
            answers.append(response.json() | {"status": response.status_code})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [a["status"] for a in answers] == [200] * 12
    changed = sum(a["changed"] for a in answers)
    sold_out, change_seq, audits = _state(event, pid)
    assert audits - before[2] == changed >= 1
    with event.seed.db.read() as conn:
        last = conn.execute(select(t.audit_log.c.action).where(t.audit_log.c.action.in_(
            ("product.sold_out", "product.on_sale"))).order_by(t.audit_log.c.id.desc()).limit(1)).scalar_one()
    assert sold_out is (last == "product.sold_out") and change_seq > before[1]

"""Record authority (server/authority.py): every record kind pushed from every terminal mode, in and out of
its stall or gate, by staff in and out of scope, on SQLite and PostgreSQL, against ONE table of outcomes.

Outcomes:
    booked   applied, and no security anomaly names the record
    anomaly  applied (a fact: the goods were handed over, the person walked in) and a security anomaly
             names the record and the terminal
    refused  422 for the item, nothing booked (the wallet's balance and seq unchanged), and a
             ``record_refused`` security anomaly names the terminal
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import select

from server.anomalies import list_anomalies
from server.authority import FLOOD_CAP, RULES
from server.db import tables as t
from server.staff import add_override
from server.testing import TestTerminal
from sync.permissions import Permission, Scope
from sync.schemas import UNSYNCED_CAP_DEFAULTS, TerminalMode

# columns: the record names the terminal's own stall/gate ("home") or another ("away"), by a person
# holding the kind's permission in the record's stall/gate ("in") or only elsewhere ("out").
# A top-up desk has no stall or gate: "home" and "away" name stall A / gate N and stall B / gate S.
COLUMNS = ("home/in", "home/out", "away/in", "away/out")
OUTCOMES: dict[tuple[str, str], str] = {
    ("sale", "stall"): "booked anomaly anomaly anomaly",
    ("sale", "gate"): "anomaly anomaly anomaly anomaly",
    ("sale", "topup"): "anomaly anomaly anomaly anomaly",
    ("refund", "stall"): "booked refused refused refused",
    ("refund", "gate"): "refused refused refused refused",
    ("refund", "topup"): "refused refused refused refused",
    ("void", "stall"): "booked refused refused refused",
    ("void", "gate"): "refused refused refused refused",
    ("void", "topup"): "refused refused refused refused",
    ("topup", "stall"): "refused refused refused refused",
    ("topup", "gate"): "refused refused refused refused",
    ("topup", "topup"): "booked refused booked refused",  # a top-up acts for the event: no home or away
    ("cashout", "stall"): "refused refused refused refused",  # cash leaves only at a desk
    ("cashout", "gate"): "refused refused refused refused",
    ("cashout", "topup"): "booked refused booked refused",  # by someone holding "cashout" (event-wide)
    ("drawer", "stall"): "refused refused refused refused",  # a drawer close-out is a desk's
    ("drawer", "gate"): "refused refused refused refused",
    ("drawer", "topup"): "booked refused booked refused",  # by someone who may close a shift for the event
    ("checkin", "stall"): "anomaly anomaly anomaly anomaly",
    ("checkin", "gate"): "booked anomaly anomaly anomaly",
    ("checkin", "topup"): "anomaly anomaly anomaly anomaly",
    # cups back without a purchase: money leaves a stall's deposits for a wallet, so a breach is refused
    ("deposit_return", "stall"): "booked refused refused refused",
    ("deposit_return", "gate"): "refused refused refused refused",
    ("deposit_return", "topup"): "refused refused refused refused",
}


def test_the_table_covers_every_kind_and_mode() -> None:
    assert {k for k, _m in OUTCOMES} == set(RULES)
    assert {m for _k, m in OUTCOMES} == {m.value for m in TerminalMode}
    assert len(OUTCOMES) == len(RULES) * len(TerminalMode)
    for row in OUTCOMES.values():
        assert len(row.split()) == len(COLUMNS) and set(row.split()) <= {"booked", "anomaly", "refused"}
    for (kind, mode), row in OUTCOMES.items():  # refused only where the rule is not a fact
        assert ("refused" in row) == (not RULES[kind].fact), (kind, mode)


@dataclass
class World:
    """Two stalls, two gates, a terminal of each mode (plus stall B's own), and people per scope."""

    stalls: tuple[int, int]
    gates: tuple[int, int]
    terms: dict[str, TestTerminal]
    stall_b: TestTerminal
    people: dict[str, tuple[int, int]]  # permission key -> (holder for place A/N, holder for place B/S)
    wallet: int
    ticket_type: int
    cups: tuple[int, int] = (0, 0)  # each stall's cup deposit (100)


def _world(event: Event) -> World:
    seed = event.seed
    a, b = seed.stall("A"), seed.stall("B")
    n, s = seed.gate("North"), seed.gate("South")

    def pair(role: str, kind: str, scopes: tuple[int, int], names: tuple[str, str]) -> tuple[int, int]:
        return (seed.staff(names[0], roles=[(role, kind, scopes[0])]),
                seed.staff(names[1], roles=[(role, kind, scopes[1])]))

    sell = pair("cashier", "stall", (a, b), ("Sell A", "Sell B"))
    refund = pair("cashier", "stall", (a, b), ("Refund A", "Refund B"))
    with seed.db.write() as conn:
        add_override(conn, refund[0], Permission.REFUND, allow=True, scope=Scope.stall(a))
        add_override(conn, refund[1], Permission.REFUND, allow=True, scope=Scope.stall(b))
    gate = pair("gatekeeper", "gate", (n, s), ("Gate N", "Gate S"))
    topup = (seed.staff("Desk", roles=[("topup", "event", None)]),
             seed.staff("Not a desk", roles=[("cashier", "stall", a)]))
    cashout = (seed.staff("Cash desk", roles=[("cashdesk", "event", None)]),
               seed.staff("Top-ups only", roles=[("topup", "event", None)]))
    terms = {"stall": seed.terminal("stall", stall_id=a), "gate": seed.terminal("gate", gate_id=n),
             "topup": seed.terminal("topup")}
    return World((a, b), (n, s), terms, seed.terminal("stall", stall_id=b),
                 {"sale": sell, "refund": refund, "void": refund, "checkin": gate, "topup": topup,
                  "cashout": cashout, "drawer": (cashout[0], sell[0]), "deposit_return": sell},
                 seed.wallet(1_000_000), seed.ticket_type("Day", "unlimited"),
                 (seed.product(a, "Cup A", 100, kind="deposit"), seed.product(b, "Cup B", 100, kind="deposit")))


def _push(client: TestClient, term: TestTerminal, *records: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/api/v1/push", json={"records": list(records)}, headers=term.headers)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def _wallet(event: Event, wallet: int) -> tuple[int, int]:
    a = t.accounts
    with event.seed.db.read() as conn:
        row = conn.execute(select(a.c.balance, a.c.seq).where(a.c.kind == "wallet", a.c.ref == wallet)).one()
    return int(row.balance), int(row.seq)


def _security(event: Event, terminal_id: int, record_id: str) -> list[str]:
    with event.seed.db.read() as conn:
        return sorted(x["kind"] for x in list_anomalies(conn) if x["severity"] == "security"
                      and x["terminal_id"] == terminal_id and x["record_id"] == record_id)


def _record(client: TestClient, w: World, kind: str, term: TestTerminal, place: int, staff: int,
            n: int) -> dict[str, Any]:
    stall, gate = w.stalls[place], w.gates[place]
    if kind == "sale":
        return term.sale(wallet_id=w.wallet, amount=100, staff_id=staff, stall_id=stall)
    if kind in ("refund", "void"):  # a sale of that stall, made honestly by its own terminal and cashier
        maker = w.terms["stall"] if place == 0 else w.stall_b
        sale = maker.sale(wallet_id=w.wallet, amount=100, staff_id=w.people["sale"][place], stall_id=stall)
        assert _push(client, maker, sale)[0]["status"] == "applied"
        return term.refund(wallet_id=w.wallet, amount=100 if kind == "void" else 40, staff_id=staff,
                           ref_id=sale["body"]["id"], void=kind == "void", stall_id=stall)
    if kind == "deposit_return":  # a cup of that stall, taken honestly by its own terminal and cashier first
        maker = w.terms["stall"] if place == 0 else w.stall_b
        sale = maker.sale(wallet_id=w.wallet, amount=100, staff_id=w.people["sale"][place], stall_id=stall,
                          lines=[{"product_id": w.cups[place], "qty": 1, "unit_price": 100}])
        assert _push(client, maker, sale)[0]["status"] == "applied"
        return term.deposit_return(wallet_id=w.wallet, staff_id=staff, lines=[(w.cups[place], 1, 100)],
                                   stall_id=stall)
    if kind == "topup":
        return term.topup(wallet_id=w.wallet, amount=500, staff_id=staff)
    if kind == "cashout":
        return term.cashout(wallet_id=w.wallet, amount=300, staff_id=staff)
    if kind == "drawer":
        return term.drawer(staff_id=staff, counted=0)
    return term.checkin(ticket_id=10_000 + n, ticket_type=w.ticket_type, staff_id=staff, gate_id=gate)


def test_every_kind_from_every_mode_in_and_out_of_scope(event: Event, client: TestClient) -> None:
    w = _world(event)
    wrong: list[str] = []
    n = 0
    for (kind, mode), row in OUTCOMES.items():
        term = w.terms[mode]
        for column, want in zip(COLUMNS, row.split(), strict=True):
            n += 1
            where, who = column.split("/")
            place = 0 if where == "home" else 1
            holders = w.people[kind]
            if kind in ("topup", "cashout", "drawer"):
                staff = holders[0] if who == "in" else holders[1]
            else:  # "out": the holder for the other place
                staff = holders[place] if who == "in" else holders[1 - place]
            record = _record(client, w, kind, term, place, staff, n)
            before = _wallet(event, w.wallet)
            [res] = _push(client, term, record)
            flagged = _security(event, term.terminal_id, res["id"])
            if res["status"] == "rejected":
                got = "refused"
                if res["code"] != 422 or not res["reason"].startswith("forbidden:") or \
                        _wallet(event, w.wallet) != before or flagged != ["record_refused"]:
                    wrong.append(f"{kind} from {mode} {column}: refused badly {res} {flagged}")
            elif res["status"] == "applied":
                got = "anomaly" if flagged else "booked"
            else:
                got = res["status"]
            if got != want:
                wrong.append(f"{kind} from {mode} {column}: want {want}, got {got} ({res['reason']}, {flagged})")
    assert n == len(OUTCOMES) * len(COLUMNS)
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------- time, offline honesty, authorize


def test_permission_is_judged_when_received_too_and_times_outside_the_clock_window(event: Event,
                                                                                client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(10_000)
    desk = event.seed.terminal("topup")
    temp = event.seed.staff("Temp desk")
    now_s = event.seed.clock() // 1000
    with event.seed.db.write() as conn:  # a grant that ended a minute ago
        add_override(conn, temp, Permission.TOPUP, allow=True, expires_at=now_s - 60)
    backdated = desk.topup(wallet_id=wallet, amount=5000, staff_id=temp)
    backdated["body"]["created_at"] = (now_s - 120) * 1000  # "made while the grant held"
    backdated = desk.sign(backdated["body"])
    [res] = _push(client, desk, backdated)
    assert res["status"] == "rejected" and "permission" in res["reason"]
    assert _wallet(event, wallet) == (10_000, 1)

    for created_at in (0, 140_000_000_000_000):  # 1970 and the year 6400-something
        body = term.sale(wallet_id=wallet, amount=100, staff_id=cashier)["body"] | {"created_at": created_at}
        [res] = _push(client, term, term.sign(body))
        assert res["status"] == "applied"  # a sale is a fact
        assert _security(event, term.terminal_id, res["id"]) == ["clock_window"]
    assert stall


def test_an_offline_sale_no_honest_terminal_could_approve_is_booked_and_flagged(event: Event,
                                                                               client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(200_000)
    other = event.seed.stall("Kakigori")
    mine = event.seed.product(stall, "Ramune", 200, stock=10)
    theirs = event.seed.product(other, "Ice", 300, stock=10)
    cases = [
        ({"amount": 90_000}, ["offline_limit"]),  # floor 1,000, offline limit 3,000
        ({"amount": 300, "lines": [{"product_id": theirs, "qty": 1, "unit_price": 300}]}, ["foreign_product"]),
        ({"amount": 100, "lines": [{"product_id": mine, "qty": 1, "unit_price": 100}]}, ["price_mismatch"]),
        ({"amount": 50, "lines": [{"product_id": None, "qty": 1, "unit_price": 50}]}, ["free_amount_not_allowed"]),
        ({"amount": 400, "lines": [{"product_id": mine, "qty": 2, "unit_price": 200}]}, []),  # honest
    ]
    for extra, flags in cases:
        body = term.sale(wallet_id=wallet, amount=1, staff_id=cashier)["body"] | extra
        [res] = _push(client, term, term.sign(body))
        assert res["status"] == "applied", res
        assert _security(event, term.terminal_id, res["id"]) == flags, extra
    p = t.products
    with event.seed.db.read() as conn:
        stock = dict(conn.execute(select(p.c.id, p.c.stock)).all())
    assert stock[theirs] == 10 and stock[mine] == 10 - 1 - 2  # another stall's stock is not touched

    # the unsynced cap over one batch (the JPY default, 300,000): 110 sales of 2,900 on 110 wallets
    # = 319,000; the 104th (301,600) and later are over it
    cap = UNSYNCED_CAP_DEFAULTS["JPY"]
    wallets = event.seed.wallets(110, balance=3000)
    results = _push(client, term, *[term.sale(wallet_id=x, amount=2900, staff_id=cashier) for x in wallets])
    assert all(r["status"] == "applied" for r in results)
    capped = [i for i, r in enumerate(results, 1) if "unsynced_cap" in _security(event, term.terminal_id, r["id"])]
    assert capped == [i for i in range(1, 111) if 2900 * i > cap] == list(range(104, 111))


def test_an_automatic_reversal_void_needs_no_refund_permission(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(10_000)
    sale = term.sale(wallet_id=wallet, amount=5000, staff_id=cashier)  # above the offline limit: was online
    void = term.refund(wallet_id=wallet, amount=5000, staff_id=cashier, ref_id=sale["body"]["id"], void=True)
    void = term.sign(void["body"] | {"reason": "automatic reversal: no answer in time"})
    results = _push(client, term, sale, void)
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert _security(event, term.terminal_id, results[0]["id"]) == []  # not an offline-limit breach
    assert _wallet(event, wallet)[0] == 10_000
    plain = term.sale(wallet_id=wallet, amount=300, staff_id=cashier)
    not_auto = term.refund(wallet_id=wallet, amount=300, staff_id=cashier, ref_id=plain["body"]["id"], void=True)
    results = _push(client, term, plain, not_auto)
    assert results[1]["status"] == "rejected" and "permission" in results[1]["reason"]


def test_authorize_declines_what_the_terminal_may_not_do(event: Event, client: TestClient) -> None:
    stall, _cashier, wallet, term = event.stall_setup(5000)
    clerk = event.seed.staff("Desk", roles=[("topup", "event", None)])
    for record in (term.topup(wallet_id=wallet, amount=50_000, staff_id=clerk),  # a stall is no desk
                   term.sale(wallet_id=wallet, amount=2000, staff_id=clerk)):  # a desk clerk does not sell
        r = client.post("/api/v1/authorize", json={"record": record}, headers=term.headers)
        assert r.status_code == 200 and (r.json()["approved"], r.json()["reason"]) == (False, "forbidden")
    gate = event.seed.terminal("gate", gate_id=event.seed.gate())
    r = client.post("/api/v1/authorize", json={"record": gate.topup(wallet_id=wallet, amount=50_000,
                                                                     staff_id=clerk)}, headers=gate.headers)
    assert r.json()["approved"] is False
    assert _wallet(event, wallet) == (5000, 1)
    assert stall


# ---------------------------------------------------------------- pull, floods, enrollment, bounds


def test_pull_gives_each_terminal_only_what_its_mode_needs(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(700)
    other = event.seed.stall("Kakigori")
    outsider = event.seed.staff("Other stall", roles=[("cashier", "stall", other)])
    gate_id = event.seed.gate()
    keeper = event.seed.staff("Keeper", roles=[("gatekeeper", "gate", gate_id)])
    gate = event.seed.terminal("gate", gate_id=gate_id)
    desk = event.seed.terminal("topup")
    admin = event.admin.admin_staff_id

    def pulled(who: TestTerminal) -> dict[str, Any]:
        r = client.post("/api/v1/pull", json={}, headers=who.headers)
        assert r.status_code == 200, r.text
        page: dict[str, Any] = r.json()
        return page

    def working(page: dict[str, Any]) -> set[int]:
        return {s["staff_id"] for s in page["staff"] if s["active"] and s["pin_hash"]}

    at_stall, at_gate, at_desk = pulled(term), pulled(gate), pulled(desk)
    assert working(at_stall) == {cashier} and working(at_gate) == {keeper} and working(at_desk) == set()
    for page in (at_stall, at_gate, at_desk):
        bare = [s for s in page["staff"] if s["staff_id"] in {admin, outsider} | ({keeper} - working(page))]
        assert bare and all((s["name"], s["pin_hash"], s["roles"], s["active"]) == ("", "", [], False)
                            for s in bare)
        assert admin not in working(page)
    assert at_gate["statements"] == [] and wallet in {s["wallet_id"] for s in at_stall["statements"]}
    assert wallet in {s["wallet_id"] for s in at_desk["statements"]}
    assert stall


def test_security_events_and_refusals_are_capped_per_terminal_and_folded(event: Event, client: TestClient) -> None:
    gate = event.seed.terminal("gate", gate_id=event.seed.gate())
    for start in (1, 101, 201):  # 300 sightings in three calls
        events = [{"n": i, "at_ms": 1_780_000_000_000, "event": "forged_token", "reason": "bad_signature"}
                  for i in range(start, start + 100)]
        r = client.post("/api/v1/security-events", json={"events": events}, headers=gate.headers)
        assert r.status_code == 200 and r.json()["accepted"] == 100
    wallet = event.seed.wallet(0)
    clerk = event.seed.staff("Desk", roles=[("topup", "event", None)])
    refused = _push(client, gate, *[gate.topup(wallet_id=wallet, amount=50_000, staff_id=clerk) for _ in range(500)])
    assert all(r["status"] == "rejected" for r in refused)
    with event.seed.db.read() as conn:
        mine = [x for x in list_anomalies(conn) if x["terminal_id"] == gate.terminal_id]
    by_kind: dict[str, int] = {}
    for x in mine:
        by_kind[x["kind"]] = by_kind.get(x["kind"], 0) + 1
    assert by_kind == {"forged_token": FLOOD_CAP, "record_refused": FLOOD_CAP, "flood": 2}
    floods = {json.loads(x["detail"])["kind"]: json.loads(x["detail"]) for x in mine if x["kind"] == "flood"}
    assert floods["forged_token"]["count"] == 300 - FLOOD_CAP and floods["record_refused"]["count"] == 500 - FLOOD_CAP
    assert floods["forged_token"]["first_seen"] <= floods["forged_token"]["last_seen"]
    assert "body" not in floods["record_refused"]
    assert _wallet(event, wallet) == (0, 0)

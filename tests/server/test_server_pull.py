"""Pull: paged, resumable deltas of everything a terminal needs."""

from __future__ import annotations

from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import select

from server.db import tables as t
from server.wallets import set_blocked


def _pull(client: TestClient, term, cursor: str = "", limit: int = 1000, **status) -> dict:  # type: ignore[no-untyped-def]
    body = {"cursor": cursor, "limit": limit}
    if status:
        body["status"] = status
    r = client.post("/api/v1/pull", json=body, headers=term.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_first_pull_pages_and_resumes_without_loss_or_repeat(event: Event, client: TestClient) -> None:
    stall, _cashier, _wallet, term = event.stall_setup(100)
    event.seed.product(stall, "Ramune", 200)
    wallets = set(event.seed.wallets(2500))
    seen: list[int] = []
    cursor, pages = "", 0
    while True:
        page = _pull(client, term, cursor, limit=700)
        pages += 1
        seen.extend(s["wallet_id"] for s in page["statements"])
        assert len(page["statements"]) + len(page["staff"]) + len(page["stalls"]) + len(page["products"]) <= 700
        assert page["settings"]["currency"] == "JPY" and page["issuer_keys"] and page["terminal"]["terminal_id"]
        if pages == 2:
            resumed = _pull(client, term, cursor, limit=700)  # an interrupted page, asked again
            assert resumed["cursor"] == page["cursor"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 2501 and wallets <= set(seen)
    empty = _pull(client, term, cursor)
    assert (empty["statements"], empty["more"], empty["cursor"]) == ([], False, cursor)


def test_changes_after_the_cursor_arrive(event: Event, client: TestClient) -> None:
    stall, cashier, wallet, term = event.stall_setup(1000)
    cursor = _pull(client, term)["cursor"]
    client.post("/api/v1/push", json={"records": [term.sale(wallet_id=wallet, amount=300, staff_id=cashier)]},
                headers=term.headers)
    with event.seed.db.write() as conn:
        set_blocked(conn, wallet, blocked=True, reason="lost", now_ms=event.seed.clock())
    page = _pull(client, term, cursor)
    assert page["statements"] == [{"wallet_id": wallet, "balance": 700, "seq": 2, "blocked": True}]
    assert page["revocations"] == [{"kind": "wallet", "id": wallet, "revoked": True}]
    staff_id = event.seed.staff("New", roles=[("cashier", "stall", stall)])
    [row] = _pull(client, term, page["cursor"])["staff"]
    assert row["staff_id"] == staff_id and row["pin_hash"].startswith("$argon2id$")
    assert row["roles"] == [{"role": "cashier", "permissions": ["sell", "shift.close"], "scope_kind": "stall",
                             "scope_id": stall}]


def test_checkins_of_other_gates_only(event: Event, client: TestClient) -> None:
    gate = event.seed.gate()
    ttype = event.seed.ticket_type(policy="reentry")
    keeper = event.seed.staff("Keeper", roles=[("gatekeeper", "event", None)])
    a, b = event.seed.terminal("gate", gate_id=gate), event.seed.terminal("gate", gate_id=gate)
    mine = a.checkin(ticket_id=7, ticket_type=ttype, staff_id=keeper)
    theirs = b.checkin(ticket_id=8, ticket_type=ttype, staff_id=keeper)
    client.post("/api/v1/push", json={"records": [mine]}, headers=a.headers)
    client.post("/api/v1/push", json={"records": [theirs]}, headers=b.headers)
    page = _pull(client, a)
    assert [c["id"] for c in page["checkins"]] == [theirs["body"]["id"]]
    assert page["ticket_types"][0]["policy"] == "reentry" and page["gates"][0]["id"] == gate


def test_status_is_recorded_and_a_bad_cursor_is_422(event: Event, client: TestClient) -> None:
    _stall, _cashier, _wallet, term = event.stall_setup()
    now = event.seed.clock()
    _pull(client, term, app_version="1.2.3", clock_ms=now - 5000, unsynced_count=3, unsynced_amount=900)
    with event.seed.db.read() as conn:
        row = conn.execute(select(t.terminals).where(t.terminals.c.id == term.terminal_id)).one()
    assert (row.app_version, row.unsynced_count, row.unsynced_amount) == ("1.2.3", 3, 900)
    assert row.clock_skew_ms >= 5000 and row.last_seen_ms >= now
    r = client.post("/api/v1/pull", json={"cursor": "abc"}, headers=term.headers)
    assert r.status_code == 422 and "cursor" in r.json()["detail"]


def test_tickets_go_to_gates_only_paged(event: Event, client: TestClient) -> None:
    """A gate pulls every ticket (id, type, window, revoked) to decide a typed ticket id; a stall never does."""
    from server.issuer import IssuerKeys
    from server.tickets import TicketRequest, issue_tickets, revoke_ticket

    gate = event.seed.gate()
    ttype = event.seed.ticket_type(policy="single")
    gate_term = event.seed.terminal("gate", gate_id=gate)
    _stall, _cashier, _wallet, stall_term = event.stall_setup(100)
    with event.seed.db.write() as conn:
        issuer = IssuerKeys(event.settings.issuer_key_path).active(conn)
        issued = issue_tickets(conn, [TicketRequest(ttype)] * 1500, issuer=issuer, now_ms=event.seed.clock())
    seen: list[int] = []
    cursor, pages = "", 0
    while True:
        page = _pull(client, gate_term, cursor, limit=600)
        pages += 1
        assert "statements" not in page or page["statements"] == []
        seen.extend(k["ticket_id"] for k in page["tickets"])
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert pages >= 3 and len(seen) == len(set(seen)) == 1500 and set(seen) == {k.ticket_id for k in issued}
    first = issued[0]
    with event.seed.db.write() as conn:
        revoke_ticket(conn, first.ticket_id, now_ms=event.seed.clock())
    page = _pull(client, gate_term, cursor)
    assert page["tickets"] == [{"ticket_id": first.ticket_id, "ticket_type": ttype, "policy": "single",
                                "valid_from": first.valid_from, "valid_until": first.valid_until, "flags": 0,
                                "revoked": True}]
    stall_cursor = ""
    while True:  # a stall terminal: no ticket at all
        stall_page = _pull(client, stall_term, stall_cursor)
        assert stall_page["tickets"] == []
        stall_cursor = stall_page["cursor"]
        if not stall_page["more"]:
            break


def test_guest_tickets_from_my_page_go_to_gates_like_any_ticket(event: Event, client: TestClient) -> None:
    """A guest invited on My page (its forms, in-process) is a ticket row in the gate's pull: GUEST flag,
    no guest name; cancelling it on My page re-sends the row revoked, with a revocation; a stall gets none."""
    import re

    from server.web.customers import set_customer
    from sync.ids import format_short_id, parse_short_id

    def csrf(html: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', html)
        assert found
        return found.group(1)

    gate = event.seed.gate()
    ttype = event.seed.ticket_type("Guest pass", policy="reentry")
    gate_term = event.seed.terminal("gate", gate_id=gate)
    _stall, _cashier, _wallet, stall_term = event.stall_setup(100)
    student = event.seed.wallet()
    with event.seed.db.write() as conn:
        set_customer(conn, student, holder_name="Ren", pin="482916", student=True, guest_quota=1,
                     guest_ticket_type=ttype, now_ms=event.seed.clock())
    first = _pull(client, gate_term)
    signin = client.get("/my/signin")
    assert client.post("/my/signin", data={"code": format_short_id(student), "pin": "482916",
                                           "csrf": csrf(signin.text)}).url.path == "/my"
    guest_page = client.post("/my/guests", data={"guest_name": "Grandma", "csrf": csrf(client.get("/my").text)})
    code = re.search(r'id="ticket-code">([^<]+)<', guest_page.text)
    assert guest_page.status_code == 200 and code
    ticket_id = parse_short_id(code.group(1))
    page = _pull(client, gate_term, first["cursor"])
    [row] = page["tickets"]
    assert row["ticket_id"] == ticket_id and row["ticket_type"] == ttype and row["policy"] == "reentry"
    assert row["flags"] == 1 and not row["revoked"] and "holder" not in row  # GUEST; the name stays here
    assert row["valid_from"] < event.seed.clock() // 1000 < row["valid_until"]  # from a few minutes back

    invitation = guest_page.url.path.rsplit("/", 1)[1]
    done = client.post(f"/my/guests/{invitation}/cancel", data={"csrf": csrf(client.get("/my").text)})
    assert "done=cancelled" in str(done.url)
    after = _pull(client, gate_term, page["cursor"])
    assert [(k["ticket_id"], k["revoked"]) for k in after["tickets"]] == [(ticket_id, True)]
    assert [(r["kind"], r["id"], r["revoked"]) for r in after["revocations"]] == [("ticket", ticket_id, True)]
    stall_cursor = ""
    while True:  # a stall terminal: no ticket, guest or not
        stall_page = _pull(client, stall_term, stall_cursor)
        assert stall_page["tickets"] == []
        stall_cursor = stall_page["cursor"]
        if not stall_page["more"]:
            break

"""New wallets issued at a top-up desk (``POST /api/v1/desk/wallets``, ``server.desk``) on SQLite and PostgreSQL.

Who may (the ``wallet_issue`` rule of ``server.authority.ACTIONS``: a top-up terminal, for a person
holding ``topup`` for the event), the same wallet for a request id asked again, the per-terminal
caps, bounds, and the one-time My page link that comes with the wallet.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import httpx
from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import func, select, update

from server.api.app import create_app
from server.db import tables as t
from server.desk import desk_wallets
from server.staff import add_override
from server.terminals import revoke_terminal
from server.testing import MovableClock, run_server_in_thread
from server.web.tables import customers, people
from sync.ids import new_record_id
from sync.permissions import Permission, Scope

URL = "/api/v1/desk/wallets"

# caller x person -> the answer; "ok" is a 201 with a new wallet, anything else changes nothing
AUTHORITY: dict[tuple[str, str], str] = {
    ("topup", "desk"): "ok",  # a top-up terminal, for someone holding topup (event-wide)
    ("topup", "cashier"): "403",  # holds sell at a stall, not topup
    ("topup", "denied"): "403",  # topup through a role, taken away by a denial
    ("topup", "inactive"): "403",  # switched off
    ("topup", "unknown"): "403",  # no such person
    ("stall", "desk"): "403",  # the right person at the wrong kind of terminal
    ("gate", "desk"): "403",
    ("revoked", "desk"): "401",  # a revoked desk
    ("none", "desk"): "401",  # not enrolled: no API token
    ("admin_token", "desk"): "403",  # a staff API token: this call is for enrolled terminals
}


def _count(event: Event) -> tuple[int, int, int]:
    with event.seed.db.read() as conn:
        wallets = conn.execute(select(func.count()).select_from(t.accounts).where(t.accounts.c.kind == "wallet"))
        desk = conn.execute(select(func.count()).select_from(desk_wallets))
        audits = conn.execute(select(func.count()).select_from(t.audit_log)
                              .where(t.audit_log.c.action == "wallet.desk_issue"))
        return int(wallets.scalar_one()), int(desk.scalar_one()), int(audits.scalar_one())


def _ask(client: Any, headers: dict[str, str], staff_id: int, request_id: str | None = None) -> httpx.Response:
    body = {"request_id": request_id or str(new_record_id()), "staff_id": staff_id}
    response: httpx.Response = client.post(URL, json=body, headers=headers)
    return response


def test_who_may_issue_a_wallet_at_a_desk(event: Event, client: TestClient) -> None:
    seed = event.seed
    stall, gate = seed.stall(), seed.gate()
    people_ = {
        "desk": seed.staff("Desk", roles=[("topup", "event", None)]),
        "cashier": seed.staff("Cashier", roles=[("cashier", "stall", stall)]),
        "denied": seed.staff("Denied", roles=[("topup", "event", None)]),
        "inactive": seed.staff("Gone", roles=[("topup", "event", None)]),
        "unknown": 12345678,
    }
    with seed.db.write() as conn:
        add_override(conn, people_["denied"], Permission.TOPUP, allow=False, scope=Scope())
        conn.execute(update(t.staff).where(t.staff.c.id == people_["inactive"]).values(active=False))
    revoked = seed.terminal("topup")
    with seed.db.write() as conn:
        revoke_terminal(conn, revoked.terminal_id, now_ms=seed.clock())
    headers = {"topup": seed.terminal("topup").headers, "stall": seed.terminal("stall", stall_id=stall).headers,
               "gate": seed.terminal("gate", gate_id=gate).headers, "revoked": revoked.headers, "none": {},
               "admin_token": {"Authorization": f"Bearer {seed.api_token(event.admin.admin_staff_id)}"}}
    seen = {}
    for (caller, person), want in AUTHORITY.items():
        before = _count(event)
        response = _ask(client, headers[caller], people_[person])
        seen[(caller, person)] = "ok" if response.status_code == 201 else str(response.status_code)
        if want == "ok":
            assert _count(event) == (before[0] + 1, before[1] + 1, before[2] + 1)
        else:
            assert _count(event) == before, (caller, person)  # refused: nothing made, nothing audited
            assert response.json()["detail"], response.text
    assert seen == AUTHORITY
    refused = _ask(client, headers["topup"], people_["cashier"]).json()
    assert refused["detail"] == "forbidden: permission" and refused["reason"] == "forbidden"
    assert _ask(client, headers["stall"], people_["desk"]).json()["detail"] == "forbidden: wrong_mode"


def test_a_lost_answer_asked_again_gives_the_same_wallet_and_a_fresh_link(event: Event) -> None:
    seed = event.seed
    desk = seed.staff("Desk", roles=[("topup", "event", None)])
    term, other = seed.terminal("topup"), seed.terminal("topup")
    app = create_app(event.settings)
    with TestClient(app) as client:
        request_id = str(new_record_id())
        first = _ask(client, term.headers, desk, request_id)
        assert first.status_code == 201, first.text
        one = first.json()
        assert one["repeated"] is False and one["token"]["balance"] == 0 and one["token"]["token"].startswith("EW1:")
        assert one["signin_url"].startswith(event.settings.base_url + "/my/link/")
        again = _ask(client, term.headers, desk, request_id).json()
        assert again["wallet_id"] == one["wallet_id"] and again["repeated"] is True
        assert again["signin_url"] != one["signin_url"]  # a new link; the first was never seen by anyone
        assert _count(event) == (1, 1, 2)  # one wallet, one desk row; both answers audited
        stolen = _ask(client, other.headers, desk, request_id)  # another terminal cannot take this wallet over
        assert stolen.status_code == 409 and stolen.json()["reason"] == "request_conflict"
        assert _count(event) == (1, 1, 2)
        # the wallet has My page access, no PIN yet: the latest link signs in, the one replaced does not
        old_path, new_path = (u.removeprefix(event.settings.base_url) for u in (one["signin_url"],
                                                                                  again["signin_url"]))
        assert client.get(old_path).status_code == 404
        page = client.get(new_path)
        assert page.status_code == 200
        with seed.db.read() as conn:
            holder = conn.execute(select(people.c.kind, people.c.batch).where(
                people.c.wallet_id == one["wallet_id"])).one()
            pin = conn.execute(select(customers.c.pin_hash).where(customers.c.wallet_id == one["wallet_id"])).scalar()
        assert (holder.kind, holder.batch) == ("visitor", f"desk-{term.terminal_id}") and pin == "!unset"


def test_a_desk_stops_at_its_caps_and_a_retry_is_not_counted(event: Event) -> None:
    seed = event.seed
    desk = seed.staff("Desk", roles=[("topup", "event", None)])
    term = seed.terminal("topup")
    clock = MovableClock(seed.clock())
    settings = replace(event.settings, desk_wallets_per_hour=3, desk_wallets_per_terminal=5)
    with TestClient(create_app(settings, clock=clock)) as client:
        ids = [str(new_record_id()) for _ in range(3)]
        assert [_ask(client, term.headers, desk, i).status_code for i in ids] == [201, 201, 201]
        capped = _ask(client, term.headers, desk)
        assert capped.status_code == 403 and capped.json()["reason"] == "issue_cap"
        assert "in the last hour" in capped.json()["detail"]
        assert _ask(client, term.headers, desk, ids[0]).status_code == 201  # the same wallet again: not a new one
        assert _count(event)[:2] == (3, 3)
        clock.advance(3601)  # a new hour: two more, then the desk's total cap
        assert [_ask(client, term.headers, desk).status_code for _ in range(3)] == [201, 201, 403]
        assert _count(event)[:2] == (5, 5)
        other = seed.terminal("topup")  # the cap is per desk
        assert _ask(client, other.headers, desk).status_code == 201


def test_two_requests_at_once_do_not_pass_the_cap_together(event: Event) -> None:
    seed = event.seed
    desk = seed.staff("Desk", roles=[("topup", "event", None)])
    term = seed.terminal("topup")
    settings = replace(event.settings, desk_wallets_per_hour=1)
    base_url, stop = run_server_in_thread(settings)
    statuses: list[int] = []
    same = str(new_record_id())
    try:
        def worker(request_id: str) -> None:
            with httpx.Client(base_url=base_url, timeout=10) as http:
                statuses.append(_ask(http, term.headers, desk, request_id).status_code)

        threads = [threading.Thread(target=worker, args=(rid,)) for rid in (same, same, str(new_record_id()),
                                                                           str(new_record_id()))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        stop()
    assert _count(event)[:2] == (1, 1)  # one wallet in all, whoever won
    assert sorted(statuses).count(201) in (1, 2) and all(s in (201, 403) for s in statuses)


def test_bad_requests_are_refused_and_change_nothing(event: Event, client: TestClient) -> None:
    seed = event.seed
    desk = seed.staff("Desk", roles=[("topup", "event", None)])
    term = seed.terminal("topup")
    for body in ({"request_id": "not-a-uuid", "staff_id": desk}, {"request_id": str(new_record_id())},
                 {"request_id": str(new_record_id()), "staff_id": 1 << 40},
                 {"request_id": str(new_record_id()), "staff_id": -1},
                 {"request_id": str(new_record_id()), "staff_id": str(desk)},
                 {"request_id": str(new_record_id()), "staff_id": desk, "balance": 5000}):
        response = client.post(URL, json=body, headers=term.headers)
        assert response.status_code == 422, (body, response.text)
    assert _count(event) == (0, 0, 0)

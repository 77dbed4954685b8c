"""The authorization matrix (tests/security/matrix.py), every cell against a real server, on SQLite and PostgreSQL.

Each row is one request built so that a caller who is allowed succeeds (a throwaway stall,
terminal, wallet, person... per row, so the allowed calls change nothing the other rows need);
every role sends it with every credential it holds.  A row about a scoped object is sent twice:
with the object in the scoped roles' scope (the event's stall, a person within hr's authority)
and with one outside it (another stall's product, terminal, sale, anomaly; a person with more
authority).  Where two roles may do a one-time thing (resolve an anomaly, remove a role), each
gets its own object.  A route without a row fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from matrix import MATRIX, expected, size, wheres
from pg_helpers import postgres_base_url
from security_harness import ROLES, Event
from sqlalchemy import select

from server.api.app import create_app
from server.db import tables as t
from server.staff import add_override, grant_role
from server.testing import fresh_postgres_database
from server.web import include_web
from server.web.config import WebSettings
from server.web.customers import invite_guest
from sync.ids import new_record_id
from sync.keys import SigningKey
from sync.permissions import Permission, Scope
from sync.schemas import EnrollRequest

KEYS = sorted(MATRIX)
CASES = [(key, where) for key in KEYS for where in wheres(key)]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def event(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The whole matrix on each engine (overrides conftest's SQLite-only event)."""
    url, drop = fresh_postgres_database(postgres_base_url()) if request.param == "postgres" else ("", None)
    ev = Event(tmp_path_factory.mktemp(f"matrix-{request.param}"), WebSettings(poll_interval_s=1), database_url=url)
    try:
        yield ev
    finally:
        ev.close()
        if drop is not None:
            drop()


@dataclass
class Targets:
    """Throwaway objects an allowed call may change."""

    ev: Event
    stall: int = 0
    product: int = 0
    terminal: int = 0
    wallet: int = 0
    refund_wallet: int = 0
    sale_txn: int = 0
    person: int = 0
    assignment: int = 0
    override: int = 0
    anomaly: int = 0
    invitation: int = 0
    cancel_invitation: int = 0
    other_invitation: int = 0
    ticket: int = 0
    probe_login: str = "probe-admin"
    probe_wallet: int = 0
    made: list[str] = field(default_factory=list)
    ran: set[tuple[tuple[str, str, str], str]] = field(default_factory=set)  # the matrix rows run on these targets
    # in the scoped roles' scope (the event's stall ``ev.stall``), and per role where several may act once
    product_in: int = 0
    terminal_in: int = 0
    out_sale_txn: int = 0
    anomaly_in: dict[str, int] = field(default_factory=dict)
    person_in: dict[str, int] = field(default_factory=dict)
    assignment_in: dict[str, int] = field(default_factory=dict)
    override_in: dict[str, int] = field(default_factory=dict)
    boss: int = 0  # a person with the admin role: above hr
    boss_assignment: int = 0
    boss_override: int = 0


@pytest.fixture(scope="module")
def targets(event: Event) -> Targets:
    ev = event
    tg = Targets(ev)
    tg.stall = ev.seed.stall("Throwaway")
    tg.product = ev.seed.product(tg.stall, "Throwaway", 100)
    tg.terminal = ev.seed.terminal("stall", stall_id=tg.stall, name="throwaway").terminal_id
    tg.wallet = ev.seed.wallet(1000)
    tg.refund_wallet = ev.seed.wallet(1000)
    term = ev.terminals["t_stall"]
    sale = term.sale(wallet_id=tg.refund_wallet, amount=500, staff_id=ev.staff["cashier"])
    bad = term.sale(wallet_id=tg.refund_wallet, amount=1, staff_id=ev.staff["cashier"])
    bad["sig"] = term.sign(bad["body"] | {"amount": 2})["sig"]  # a security anomaly to resolve
    with httpx.Client(base_url=ev.url, headers=term.headers) as client:
        results = client.post("/api/v1/push", json={"records": [sale, bad]}).json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"], results
    tg.person = ev.person("Throwaway person", role="cashier", kind="stall", scope_id=tg.stall)
    _scoped_targets(ev, tg)
    with ev.db.write() as conn:
        add_override(conn, tg.person, Permission.REFUND, allow=True)
        tg.sale_txn = conn.execute(select(t.transactions.c.id).where(
            t.transactions.c.record_id == sale["body"]["id"])).scalar_one()
        tg.assignment = conn.execute(select(t.staff_roles.c.id).where(
            t.staff_roles.c.staff_id == tg.person)).scalar_one()
        tg.override = conn.execute(select(t.staff_overrides.c.id).where(
            t.staff_overrides.c.staff_id == tg.person)).scalar_one()
        tg.anomaly = conn.execute(select(t.anomalies.c.id).order_by(t.anomalies.c.id.desc())).scalars().first()
        now = ev.clock()
        tg.invitation = invite_guest(conn, ev.customer_wallet, guest_name="Viewed", now_ms=now)
        tg.cancel_invitation = invite_guest(conn, ev.customer_wallet, guest_name="Cancelled", now_ms=now)
    other = ev.seed.wallet(0)
    ev.set_customer(other, "5555", student=True)
    with ev.db.write() as conn:
        tg.other_invitation = invite_guest(conn, other, guest_name="Not yours", now_ms=ev.clock())
    ev.person("Probe admin", role="admin", login=tg.probe_login)
    tg.probe_wallet = ev.seed.wallet(0)
    with httpx.Client(base_url=ev.url, headers={"Authorization": f"Bearer {ev.creds['admin'].bearer}"}) as client:
        issued = client.post("/api/v1/tickets", json={"ticket_type": ev.ticket_type, "count": 1})
    tg.ticket = int(issued.json()[0]["ticket_id"]) if issued.status_code == 201 else 0
    ev.set_customer(tg.probe_wallet, "9753")
    return tg


def _scoped_targets(ev: Event, tg: Targets) -> None:
    """Objects in the lead's stall, another stall's sale and anomaly, people within and above hr."""
    tg.product_in = ev.seed.product(ev.stall, "In scope", 100)
    tg.terminal_in = ev.seed.terminal("stall", stall_id=ev.stall, name="in-scope").terminal_id
    inside, outside = ev.terminals["t_stall"], ev.seed.terminal("stall", stall_id=tg.stall, name="out-of-scope")
    records = [outside.sale(wallet_id=tg.refund_wallet, amount=300, staff_id=tg.person)]
    for term, staff in ((inside, ev.staff["cashier"]), (inside, ev.staff["cashier"]), (outside, tg.person)):
        bad = term.sale(wallet_id=tg.refund_wallet, amount=1, staff_id=staff)
        bad["sig"] = term.sign(bad["body"] | {"amount": 2})["sig"]
        records.append(bad)
    results = []
    for term, batch in ((outside, records[:1]), (inside, records[1:3]), (outside, records[3:])):
        with httpx.Client(base_url=ev.url, headers=term.headers) as client:
            results += client.post("/api/v1/push", json={"records": batch}).json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected"], results
    an, x = t.anomalies, t.transactions
    with ev.db.write() as conn:
        tg.out_sale_txn = conn.execute(select(x.c.id).where(x.c.record_id == records[0]["body"]["id"])).scalar_one()
        ids = {r: conn.execute(select(an.c.id).where(an.c.record_id == records[i]["body"]["id"])).scalar_one()
               for i, r in ((1, "admin"), (2, "lead"), (3, "out"))}
    tg.anomaly_in = {"admin": ids["admin"], "lead": ids["lead"]}
    tg.anomaly = ids["out"]
    for role in ROLES:  # each may act once on their own person: hr's and the admin's calls must both succeed
        pid = ev.person(f"In scope {role}", role="cashier", kind="stall", scope_id=ev.stall)
        with ev.db.write() as conn:
            add_override(conn, pid, Permission.SELL, allow=True, scope=Scope.stall(ev.stall))
            tg.person_in[role] = pid
            tg.assignment_in[role] = conn.execute(select(t.staff_roles.c.id).where(
                t.staff_roles.c.staff_id == pid)).scalar_one()
            tg.override_in[role] = conn.execute(select(t.staff_overrides.c.id).where(
                t.staff_overrides.c.staff_id == pid)).scalar_one()
    tg.boss = ev.person("Boss", role="admin")
    with ev.db.write() as conn:
        grant_role(conn, tg.boss, "supervisor")
        add_override(conn, tg.boss, Permission.SELL, allow=True)
        tg.boss_assignment = conn.execute(select(t.staff_roles.c.id).where(
            t.staff_roles.c.staff_id == tg.boss, t.staff_roles.c.role == "supervisor")).scalar_one()
        tg.boss_override = conn.execute(select(t.staff_overrides.c.id).where(
            t.staff_overrides.c.staff_id == tg.boss)).scalar_one()


def build(tg: Targets, key: tuple[str, str, str], role: str, where: str = "") -> tuple[str, str, dict[str, Any]]:
    """The concrete request of a row for one role, object in or out of scope: (method, url, httpx kwargs)."""
    ev = tg.ev
    method, path, variant = key
    staff_header = ({"X-Ennichi-Staff-Badge": ev.seed.badge(ev.staff[variant.split("=")[1]])}
                    if variant.startswith("staff=") else {})
    term = ev.terminals.get(role, ev.terminals["t_stall"])
    ids = {"{wallet_id}": str(tg.wallet), "{stall_id}": str(tg.stall), "{product_id}": str(tg.product),
           "{terminal_id}": str(tg.terminal), "{anomaly_id}": str(tg.anomaly), "{staff_id}": str(tg.person),
           "{assignment_id}": str(tg.assignment), "{ticket_id}": str(tg.ticket),
           "{override_id}": str(tg.override), "{name}": variant or "stalls", "{seq}": "1", "{run_id}": "1",
           "{record_id}": "0190a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b",
           "{invitation_id}": str(tg.other_invitation if variant == "other" else
                                  tg.cancel_invitation if path.endswith("/cancel") else tg.invitation)}
    if path.endswith("/refund"):
        ids["{wallet_id}"] = str(tg.refund_wallet)
    sale_txn = tg.out_sale_txn if where == "out" else tg.sale_txn
    if where == "in":
        ids |= {"{stall_id}": str(ev.stall), "{product_id}": str(tg.product_in), "{terminal_id}": str(tg.terminal_in),
                "{anomaly_id}": str(tg.anomaly_in.get(role, tg.anomaly_in["admin"])),
                "{staff_id}": str(tg.person_in[role]), "{assignment_id}": str(tg.assignment_in[role]),
                "{override_id}": str(tg.override_in[role])}
    elif where == "out" and "{staff_id}" in path:
        ids |= {"{staff_id}": str(tg.boss), "{assignment_id}": str(tg.boss_assignment),
                "{override_id}": str(tg.boss_override)}
    url = path
    for name, value in ids.items():
        url = url.replace(name, value)
    kw: dict[str, Any] = {"headers": staff_header}
    forms: dict[str, dict[str, Any]] = {
        "/admin/signin": {"login": tg.probe_login, "password": "correct horse battery"},
        "/my/signin": {"code": _short(tg.probe_wallet), "pin": "9753"},
        "/admin/stalls": {"name": "Matrix stall"},
        f"/admin/stalls/{tg.stall}": {"name": "Throwaway", "active": "1"},
        f"/admin/stalls/{ev.stall}": {"name": "Yatai", "active": "1", "allow_free_amount": "1"},
        f"/admin/stalls/{ev.stall}/products": {"name": "Matrix product", "price": "100"},
        f"/admin/products/{tg.product_in}": {"name": "In scope", "price": "100", "active": "1"},
        f"/admin/stalls/{tg.stall}/products": {"name": "Matrix product", "price": "100"},
        f"/admin/products/{tg.product}": {"name": "Throwaway", "price": "100", "active": "1"},
        "/admin/terminals/codes": {"mode": "topup"} if variant == "topup" else
        {"mode": "stall", "stall_id": str(ev.stall if where == "in" else tg.stall)},
        f"/admin/terminals/{tg.terminal_in}/revoke": {"reason": "matrix"},
        f"/admin/terminals/{tg.terminal}/revoke": {"reason": "matrix"},
        f"/admin/wallets/{tg.wallet}/customer": {"holder_name": "Matrix", "pin": "1357"},
        f"/admin/wallets/{tg.wallet}/topup": {"amount": "100"},
        f"/admin/wallets/{tg.refund_wallet}/refund": {"txn_id": str(sale_txn), "amount": "1", "reason": "matrix"},
        f"/admin/wallets/{tg.wallet}/adjust": {"amount": "1", "reason": "matrix"},
        f"/admin/wallets/{tg.wallet}/block": {"blocked": "0", "reason": "matrix"},
        f"/admin/anomalies/{ids['{anomaly_id}']}/resolve": {"action": "acknowledge", "note": "matrix"},
        "/admin/staff": {"name": "Matrix person", "pin": "1234"} | (
            {"role": "admin", "scope": "event"} if where == "out" else {}),
        f"/admin/staff/{ids['{staff_id}']}/pin": {"pin": "9999"},
        f"/admin/staff/{ids['{staff_id}']}/active": {"active": "1"},
        f"/admin/staff/{ids['{staff_id}']}/roles": {"role": "cashier", "scope": "event"},
        f"/admin/staff/{ids['{staff_id}']}/overrides": {"permission": "sell", "allow": "1", "scope": "event"},
        "/admin/roles": {"role": "matrix-role", "permission": ["audit.view" if where == "out" else "sell"]},
        "/admin/gates": {"name": "Matrix gate"},
        "/admin/ticket-types": {"name": "Matrix type", "policy": "single"},
        "/my/guests": {"guest_name": "Matrix guest"},
    }
    if url in forms:
        kw["data"] = forms[url]
    if path == "/web/static":
        url = "/web/static/app.css"
    elif path == "/admin/staff/badges" and variant == "admin":
        url += f"?ids={ev.staff['admin']}"
    elif path == "/admin/lang" or path == "/my/lang":
        url += "?to=en&next=/admin"
    elif path == "/api/v1/enroll":
        code = ev.seed.enrollment_code("stall", stall_id=ev.stall, base_url=ev.url).split(":", 1)[1].split("@")[0]
        kw["json"] = EnrollRequest(code=code, public_key=SigningKey.generate().public_b64,
                                   name=f"matrix-{role}").model_dump(mode="json")
    elif path == "/api/v1/push":
        kw["json"] = {"records": [_record(ev, term, role, push=True)]}
    elif path == "/api/v1/authorize":
        kw["json"] = {"record": _record(ev, term, role, push=False)}
    elif path == "/api/v1/pull":
        kw["json"] = {"cursor": "", "limit": 1}
    elif path == "/api/v1/security-events":
        kw["json"] = {"events": [{"n": 1, "at_ms": 0, "event": "forged_token", "reason": "bad_signature"}]}
    elif method == "POST" and path == "/api/v1/wallets":
        kw["json"] = {}
    elif path == "/api/v1/products/{product_id}/sold-out":
        kw["json"] = {"staff_id": ev.staff[variant.removeprefix("by=") or "supervisor"], "sold_out": True}
    elif path == "/api/v1/desk/wallets":
        kw["json"] = {"request_id": str(new_record_id()), "staff_id": ev.staff["topup"]}
    elif path == "/api/v1/tickets":
        kw["json"] = {"ticket_type": ev.ticket_type, "count": 1}
    elif path == "/api/v1/tickets/{ticket_id}/revoke":
        kw["json"] = {"reason": "matrix"}
    elif path.endswith("/topup") and path.startswith("/api"):
        kw["json"] = {"amount": 100}
    return method, url, kw


def _short(wallet_id: int) -> str:
    from sync.ids import format_short_id

    return format_short_id(wallet_id)


def _record(ev: Event, term: Any, role: str, *, push: bool) -> dict[str, Any]:
    if term.mode.value == "gate" and push:
        return term.checkin(ticket_id=12345, ticket_type=ev.ticket_type, staff_id=ev.staff["gatekeeper"])
    if term.mode.value == "topup":
        return term.topup(wallet_id=ev.customer_wallet, amount=1, staff_id=ev.staff["topup"])
    return term.sale(wallet_id=ev.customer_wallet, amount=1, staff_id=ev.staff["cashier"], stall_id=ev.stall,
                     record_id=str(new_record_id()))


def classify(resp: httpx.Response) -> str:
    if resp.is_redirect:
        target = urlsplit(resp.headers["location"]).path
        if "guest_error=my.guest_not_found" in resp.headers["location"]:
            return "nf"
        return "in" if target in ("/admin/signin", "/my/signin") else "ok"
    if 200 <= resp.status_code < 300:
        return "ok"
    return str(resp.status_code)


def test_every_route_has_a_row(event: Event) -> None:
    app = create_app(event.settings, web=False)
    include_web(app, secret=b"x" * 32)
    served = walk(app.routes)
    declared = {(m, p) for m, p, _ in MATRIX}
    assert served - declared == set(), "routes without a row in tests/security/matrix.py"
    assert declared - served == set(), "rows for routes the server does not have"
    for key in MATRIX:
        for where in wheres(key):
            expected(key, ROLES, where)  # every row (each half) has one cell per role
    cells, scoped = size(ROLES)
    assert scoped > 0 and cells > scoped


def walk(routes: Any) -> set[tuple[str, str]]:
    """Every (method, path) FastAPI routes to, through included routers and mounts."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        items = list(contexts()) if contexts else [route]
        for item in items:
            methods = getattr(item, "methods", None) or getattr(getattr(item, "original_route", None), "methods",
                                                                None) or {"GET"}
            for method in methods - {"HEAD"}:
                found.add((method, item.path))
    return found


@pytest.mark.parametrize(("key", "where"), CASES, ids=[f"{m} {p} {v} {w}".strip() for (m, p, v), w in CASES])
def test_matrix_row(event: Event, targets: Targets, key: tuple[str, str, str], where: str) -> None:
    _row(event, targets, key, where)


def _row(event: Event, targets: Targets, key: tuple[str, str, str], where: str) -> None:
    """Send one row's request as every role and hold each answer against the table."""
    targets.ran.add((key, where))
    want = expected(key, ROLES, where)
    got: dict[str, str] = {}
    with httpx.Client(base_url=event.url, timeout=30) as client:
        for role in ROLES:
            method, url, kw = build(targets, key, role, where)
            creds = event.creds[role]
            headers = creds.headers(url, post=method == "POST") | kw.pop("headers")
            resp = client.request(method, url, headers=headers, **kw)
            client.cookies.clear()  # the next role sends only its own credentials
            got[role] = classify(resp)
            if got[role] != want[role]:
                got[role] += f" (HTTP {resp.status_code}: {resp.text[:160]!r})"
    wrong = {role: f"want {want[role]}, got {got[role]}" for role in ROLES if got[role].split()[0] != want[role]}
    assert not wrong, f"{key}: {wrong}"


def _every_row(event: Event, targets: Targets) -> None:
    """The tests below look at what the rows did: run the rows not run yet (all of them when one of those
    tests runs alone), so their answer does not depend on the order the tests were picked in."""
    for key, where in CASES:
        if (key, where) not in targets.ran:
            _row(event, targets, key, where)


def test_another_wallets_invitation_was_not_cancelled(event: Event, targets: Targets) -> None:
    from server.web.customers import guest_invitations

    _every_row(event, targets)
    with event.db.read() as conn:
        rows = {r.id: r.cancelled_at for r in conn.execute(select(guest_invitations.c.id,
                                                                  guest_invitations.c.cancelled_at))}
    assert rows[targets.other_invitation] is None
    assert rows[targets.cancel_invitation] is not None  # the owner's cancel did happen


def test_out_of_scope_objects_were_changed_by_the_admin_only(event: Event, targets: Targets) -> None:
    """The refused calls of the 'out' halves changed nothing: only the admin's own (allowed) calls show."""
    _every_row(event, targets)
    tg, x, an = targets, t.transactions, t.anomalies
    with event.db.read() as conn:
        refunders = set(conn.execute(select(x.c.staff_id).where(x.c.ref_txn == tg.out_sale_txn)).scalars())
        in_refunders = set(conn.execute(select(x.c.staff_id).where(x.c.ref_txn == tg.sale_txn)).scalars())
        resolved_by = conn.execute(select(an.c.resolved_by).where(an.c.id == tg.anomaly)).scalar_one()
        boss = conn.execute(select(t.staff.c.active).where(t.staff.c.id == tg.boss)).scalar_one()
        sr = t.staff_roles
        boss_roles = set(conn.execute(select(sr.c.role).where(sr.c.staff_id == tg.boss)).scalars())
    assert refunders == {event.staff["admin"]}
    assert in_refunders == {event.staff["admin"], event.staff["lead"]}  # the lead refunded their stall's sale
    assert resolved_by == event.staff["admin"]
    assert boss and "admin" in boss_roles

"""A real event for the security suite: uvicorn on loopback with the API and the web pages, and one
person or terminal per role, each holding the credentials that role really has.

``Credentials`` is what a caller sends: an API bearer token (terminals, staff API tokens) and/or a
session cookie (dashboard or My page).  A staff role holds both, so every endpoint is tried with
everything that person could present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from server.api.app import create_app
from server.db import tables as t
from server.db.engine import Database
from server.staff import create_staff, grant_role, hash_secret
from server.terminals import revoke_terminal
from server.testing import MovableClock, Seeder, TestTerminal, init_test_event, serve_in_thread
from server.web import include_web
from server.web.config import WebSettings
from server.web.session import ADMIN_COOKIE, CUSTOMER_COOKIE, SessionCodec
from sync.ids import format_short_id
from sync.permissions import Scope, ScopeKind
from sync.schemas import EventSettings

WEB_SECRET = b"security-suite-secret-0123456789"
T0_MS = 1_785_200_400_000  # 2026-07-28 10:00 Asia/Tokyo
PASSWORD = "correct horse battery"
PIN = "2468"
CUSTOMER_PIN = "4321"

# Every role the matrix knows, in its column order.
ROLES = ("anon", "t_stall", "t_gate", "t_topup", "t_revoked",
         "admin", "supervisor", "cashier", "gatekeeper", "topup", "customer", "lead", "hr")

# The stall lead of issue 16: eleven dashboard permissions, all for one stall (the event's ``stall``).
LEAD_PERMISSIONS = ("dashboard.view", "stalls.manage", "staff.manage", "terminals.manage", "wallets.view",
                    "wallets.manage", "tickets.manage", "anomalies.resolve", "reports.view", "audit.view", "refund")
# The staff office: people and roles for the event, but not money, terminals or the audit log.
HR_PERMISSIONS = ("staff.manage", "roles.manage", "dashboard.view", "sell", "shift.close")


@dataclass
class Credentials:
    """What one role sends with every request."""

    bearer: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)  # area ("admin" / "my") -> CSRF token of that session

    def headers(self, path: str, *, post: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        area = "my" if path.startswith("/my") else "admin"
        if post and area in self.csrf:
            headers["X-CSRF-Token"] = self.csrf[area]
        return headers


@dataclass
class Event:
    """One running event and everything the security tests need from it."""

    tmp: Path
    web: WebSettings
    clock: MovableClock = field(default_factory=lambda: MovableClock(T0_MS))
    database_url: str = ""  # empty: a SQLite file under ``tmp``

    def __post_init__(self) -> None:
        self.settings, self.init = init_test_event(
            self.tmp / "server", clock=self.clock, event=EventSettings(event_name="Security fair"),
            database_url=self.database_url)
        self.seed = Seeder(self.settings, clock=self.clock)
        self.db: Database = self.seed.db
        self.codec = SessionCodec(WEB_SECRET)
        self.stall = self.seed.stall("Yatai", free_amount=True)
        self.product = self.seed.product(self.stall, "Yakisoba", 500)
        self.gate = self.seed.gate("North")
        self.ticket_type = self.seed.ticket_type("Day", "single")
        self.url, self._stop = self._serve()
        self.terminals: dict[str, TestTerminal] = {
            "t_stall": self.seed.terminal("stall", stall_id=self.stall, name="stall"),
            "t_gate": self.seed.terminal("gate", gate_id=self.gate, name="gate"),
            "t_topup": self.seed.terminal("topup", name="desk"),
            "t_revoked": self.seed.terminal("stall", stall_id=self.stall, name="revoked"),
        }
        with self.db.write() as conn:
            revoke_terminal(conn, self.terminals["t_revoked"].terminal_id, now_ms=self.clock())
        self.staff: dict[str, int] = {"admin": self.init.admin_staff_id}
        self.logins: dict[str, str] = {"admin": self.init.admin_login}
        from server.web.actions import set_role_permissions

        with self.db.write() as conn:
            set_role_permissions(conn, "lead", list(LEAD_PERMISSIONS))
            set_role_permissions(conn, "hr", list(HR_PERMISSIONS))
        roles = {"supervisor": ("event", None), "cashier": ("stall", self.stall),
                 "gatekeeper": ("gate", self.gate), "topup": ("event", None), "lead": ("stall", self.stall),
                 "hr": ("event", None)}
        for role, (kind, scope_id) in roles.items():
            self.staff[role] = self.person(role, role=role, kind=kind, scope_id=scope_id, login=f"{role}-login")
            self.logins[role] = f"{role}-login"
        with self.db.write() as conn:  # the first admin's password is random; give it a known one
            conn.execute(t.staff.update().where(t.staff.c.id == self.init.admin_staff_id).values(
                password_hash=hash_secret(PASSWORD)))
        self.customer_wallet = self.seed.wallet(2000)
        self.set_customer(self.customer_wallet, CUSTOMER_PIN, student=True)
        self.creds: dict[str, Credentials] = {role: self._credentials(role) for role in ROLES}

    # ---------------------------------------------------------------- setup helpers

    def _serve(self) -> tuple[str, Any]:
        app = create_app(self.settings, clock=self.clock, web=False)
        include_web(app, settings=self.web, secret=WEB_SECRET)
        return serve_in_thread(app)

    def close(self) -> None:
        self._stop()
        self.seed.close()

    def person(self, name: str, *, role: str | None = None, kind: str = "event", scope_id: int | None = None,
               login: str | None = None, pin: str = PIN) -> int:
        """A staff member (with a dashboard login when ``login`` is given)."""
        with self.db.write() as conn:
            staff_id = create_staff(conn, name=name, pin=pin, now_ms=self.clock(), login=login,
                                    password=PASSWORD if login else None)
            if role:
                grant_role(conn, staff_id, role, scope=Scope(ScopeKind(kind), scope_id))
        return staff_id

    def set_customer(self, wallet_id: int, pin: str, *, student: bool = False, quota: int = 100) -> None:
        from server.web.customers import set_customer

        with self.db.write() as conn:
            set_customer(conn, wallet_id, holder_name="Guest holder", pin=pin, student=student, guest_quota=quota,
                         guest_ticket_type=self.ticket_type, now_ms=self.clock())

    def sign_in(self, login: str, password: str = PASSWORD) -> dict[str, str]:
        """Sign in on /admin/signin through HTTP; returns the admin cookie."""
        with httpx.Client(base_url=self.url) as client:
            form = client.get("/admin/signin")
            csrf = self.codec.csrf_token(self._session(client.cookies[ADMIN_COOKIE]))
            resp = client.post("/admin/signin", data={"login": login, "password": password, "csrf": csrf})
            assert resp.status_code == 303, (form.status_code, resp.status_code, resp.text[:300])
            return {ADMIN_COOKIE: client.cookies[ADMIN_COOKIE]}

    def my_sign_in(self, wallet_id: int, pin: str) -> dict[str, str]:
        """Sign in on /my/signin through HTTP; returns the customer cookie."""
        with httpx.Client(base_url=self.url) as client:
            client.get("/my/signin")
            csrf = self.codec.csrf_token(self._session(client.cookies[CUSTOMER_COOKIE]))
            resp = client.post("/my/signin", data={"code": format_short_id(wallet_id), "pin": pin, "csrf": csrf})
            assert resp.status_code == 303, resp.text[:300]
            return {CUSTOMER_COOKIE: client.cookies[CUSTOMER_COOKIE]}

    def _session(self, cookie: str) -> Any:
        session = self.codec.loads(cookie, now=self.clock() // 1000)
        assert session is not None
        return session

    def csrf_for(self, cookies: dict[str, str]) -> dict[str, str]:
        """The CSRF token of each session in ``cookies``."""
        out = {}
        for name, area in ((ADMIN_COOKIE, "admin"), (CUSTOMER_COOKIE, "my")):
            if name in cookies:
                out[area] = self.codec.csrf_token(self._session(cookies[name]))
        return out

    def anonymous_cookies(self) -> dict[str, str]:
        """Pre-sign-in sessions of both areas (they carry a CSRF nonce and nothing else)."""
        with httpx.Client(base_url=self.url) as client:
            client.get("/admin/signin")
            client.get("/my/signin")
            return {ADMIN_COOKIE: client.cookies[ADMIN_COOKIE], CUSTOMER_COOKIE: client.cookies[CUSTOMER_COOKIE]}

    def _credentials(self, role: str) -> Credentials:
        if role in self.terminals:
            return Credentials(bearer=self.terminals[role].api_token)
        if role == "customer":
            cookies = self.my_sign_in(self.customer_wallet, CUSTOMER_PIN)
            cookies[ADMIN_COOKIE] = self.anonymous_cookies()[ADMIN_COOKIE]
            return Credentials(cookies=cookies, csrf=self.csrf_for(cookies))
        if role == "anon":
            cookies = self.anonymous_cookies()
            return Credentials(cookies=cookies, csrf=self.csrf_for(cookies))
        cookies = self.sign_in(self.logins[role])
        cookies[CUSTOMER_COOKIE] = self.anonymous_cookies()[CUSTOMER_COOKIE]
        return Credentials(bearer=self.seed.api_token(self.staff[role]), cookies=cookies, csrf=self.csrf_for(cookies))

    # ---------------------------------------------------------------- observations

    def counts(self) -> dict[str, int]:
        """Row counts of every table (for "nothing changed")."""
        out = {}
        with self.db.read() as conn:
            for table in t.metadata.sorted_tables:
                out[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    def balance(self, wallet_id: int) -> tuple[int, int]:
        a = t.accounts
        with self.db.read() as conn:
            row = conn.execute(select(a.c.balance, a.c.seq).where(a.c.kind == "wallet", a.c.ref == wallet_id)).one()
        return int(row.balance), int(row.seq)

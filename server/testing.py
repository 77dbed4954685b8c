"""Helpers for tests of every package: a real event, a real server on loopback, signed records.

    settings, admin = init_test_event(tmp_path)                # SQLite file in tmp_path
    seed = Seeder(settings)                                    # stalls, staff, wallets, codes...
    base_url, stop = run_server_in_thread(settings)            # real uvicorn on 127.0.0.1
    term = seed.terminal(mode="stall", stall_id=stall)        # enrolled, with its own key
    httpx.post(f"{base_url}/api/v1/push", json={"records": [term.sale(...)]}, headers=term.headers)

Nothing here is imported by the server itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.bootstrap import InitResult, init_event
from server.clock import Clock, system_clock
from server.db.engine import Database
from server.settings import ServerSettings
from sync.ids import new_record_id
from sync.keys import SigningKey
from sync.permissions import Scope, ScopeKind
from sync.records import sign_record
from sync.schemas import EnrollRequest, EventSettings, TerminalMode

__all__ = [
    "DEFAULT_TEST_PG_URL",
    "FollowClock",
    "MovableClock",
    "PostgresUnavailable",
    "Seeder",
    "ServerProcess",
    "TestTerminal",
    "fresh_postgres_database",
    "init_test_event",
    "loopback_socket",
    "postgres_for_tests",
    "run_server_in_thread",
    "serve_in_thread",
]

# Tests and benches make their own databases on this server (fresh_postgres_database).
DEFAULT_TEST_PG_URL = "postgresql+psycopg://ennichi:ennichi@127.0.0.1:5432/postgres"
_pg_checked: dict[str, str | None] = {}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server answers at the test URL; the message says how to get one."""


def postgres_for_tests() -> str:
    """The PostgreSQL server for tests and benches: ``ENNICHI_TEST_PG_URL`` or the default, checked once.

    Raises ``PostgresUnavailable`` (with the reason) when it does not answer; the
    answer is remembered for the process.
    """
    url = os.environ.get("ENNICHI_TEST_PG_URL") or DEFAULT_TEST_PG_URL
    if url not in _pg_checked:
        try:
            engine = create_engine(make_url(url).set(database="postgres"), connect_args={"connect_timeout": 3})
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            finally:
                engine.dispose()
            _pg_checked[url] = None
        except Exception as exc:  # any failure to connect means: no PostgreSQL here
            _pg_checked[url] = f"{type(exc).__name__}: {exc}"
    error = _pg_checked[url]
    if error is not None:
        raise PostgresUnavailable(f"PostgreSQL is not reachable ({error}); set ENNICHI_TEST_PG_URL, e.g. "
                                  f"{DEFAULT_TEST_PG_URL}, and start the server (pg_ctlcluster 15 main start)")
    return url


def init_test_event(data_dir: Path, *, database_url: str = "", event: EventSettings | None = None,
                    clock: Clock = system_clock, **overrides: Any) -> tuple[ServerSettings, InitResult]:
    """Create an event (admin password ``admin-pass``, PIN ``1234``) and return its settings."""
    settings = ServerSettings.load(data_dir=data_dir, env={}, database_url=database_url or None, **overrides)
    result = init_event(settings, now_ms=clock(), event=event, admin_password="admin-pass",  # noqa: S106
                        admin_pin="1234")
    return settings, result


@dataclass
class MovableClock:
    """A server clock (``server.clock.Clock``: epoch ms) that tests move forward (lockouts, expiry)."""

    now_ms: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> int:
        with self.lock:
            return self.now_ms

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now_ms += int(seconds * 1000)


@dataclass
class FollowClock:
    """A terminal clock (``terminal.clock.Clock``) that reads a server clock, so both agree on the time."""

    source: Clock

    def now_ms(self) -> int:
        return self.source()

    def monotonic(self) -> float:
        return self.source() / 1000


def run_server_in_thread(settings: ServerSettings, *, clock: Clock = system_clock,
                         startup_timeout: float = 20.0) -> tuple[str, Callable[[], None]]:
    """Serve ``settings`` with uvicorn on a free loopback port; returns (base_url, stop)."""
    from server.api.app import create_app

    return serve_in_thread(create_app(settings, clock=clock), startup_timeout=startup_timeout)


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free loopback port (its number: ``getsockname()[1]``), for ``serve_in_thread``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve_in_thread(app: Any, *, sock: socket.socket | None = None,
                    startup_timeout: float = 20.0) -> tuple[str, Callable[[], None]]:
    """Serve an ASGI ``app`` with uvicorn on loopback in a thread; returns (base_url, stop).

    ``sock`` (from ``loopback_socket``) is for an app that must know its port before
    it is made (enrollment codes name the server's address); by default a free port.
    """
    import uvicorn

    sock = sock or loopback_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on",
                            access_log=False, backlog=2048, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


class ServerProcess:
    """``ennichi server run`` as a real child process on a fixed loopback port (so it can be killed and restarted).

    The child reads the same data directory and database as ``settings``; ``kill()`` is SIGKILL (no shutdown,
    no flush), ``start()`` runs a new process on the same port.  ``env`` adds ``ENNICHI_*`` variables.
    """

    def __init__(self, settings: ServerSettings, *, port: int = 0, log: Path | None = None,
                 env: dict[str, str] | None = None, startup_timeout: float = 60.0) -> None:
        self.settings = settings
        self.port = port or _free_port()
        self.log = log or settings.data_dir / "server-process.log"
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        """The base URL on loopback."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until ``/api/v1/health`` answers; raises RuntimeError."""
        import httpx

        env = {**os.environ, "ENNICHI_DATA_DIR": str(self.settings.data_dir), "ENNICHI_DATABASE_URL":
               self.settings.url, "ENNICHI_LOG_LEVEL": "warning", **self.extra_env}
        repo = Path(__file__).resolve().parents[1]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "terminal.cli", "server", "run", "--host", "127.0.0.1", "--port",
                 str(self.port)], cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} (see {self.log})")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not start (see {self.log})")

    def kill(self) -> None:
        """SIGKILL the server and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(30)
        self.proc = None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in ``timeout``."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def restart(self, *, hard: bool = True) -> None:
        """Kill (SIGKILL when ``hard``) and start again on the same port."""
        self.kill() if hard else self.stop()
        self.start()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database on the server of ``base_url``; returns (its url, drop)."""
    url = make_url(base_url)
    name = f"ennichi_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    new_url = url.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return new_url, drop


@dataclass
class TestTerminal:
    """An enrolled terminal with its own key: makes signed records and auth headers."""

    __test__ = False  # not a pytest class

    terminal_id: int
    api_token: str
    key: SigningKey
    mode: TerminalMode
    stall_id: int | None = None
    gate_id: int | None = None
    clock: Clock = system_clock
    issuer_keys: list[dict[str, Any]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>``."""
        return {"Authorization": f"Bearer {self.api_token}"}

    def sign(self, body: dict[str, Any]) -> dict[str, Any]:
        """Return ``{"body": ..., "sig": ...}`` for a body signed by this terminal."""
        return {"body": body, "sig": sign_record(body, self.key)}

    def _base(self, kind: str, staff_id: int, record_id: str | None) -> dict[str, Any]:
        return {"id": record_id or str(new_record_id()), "kind": kind, "terminal_id": self.terminal_id,
                "staff_id": staff_id, "created_at": self.clock()}

    def sale(self, *, wallet_id: int, amount: int, staff_id: int, stall_id: int | None = None,
             lines: list[dict[str, Any]] | None = None, token_seq: int = 0, record_id: str | None = None
             ) -> dict[str, Any]:
        """A signed sale."""
        body = self._base("sale", staff_id, record_id) | {
            "stall_id": stall_id or self.stall_id, "wallet_id": wallet_id, "amount": amount,
            "lines": lines or [], "token_seq": token_seq}
        return self.sign(body)

    def refund(self, *, wallet_id: int, amount: int, staff_id: int, ref_id: str, void: bool = False,
               stall_id: int | None = None, record_id: str | None = None,
               lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A signed refund (or void) of sale ``ref_id``; ``lines``: a refund by item."""
        body = self._base("void" if void else "refund", staff_id, record_id) | {
            "stall_id": stall_id or self.stall_id, "wallet_id": wallet_id, "amount": amount, "ref_id": ref_id,
            "supervisor_id": None, "reason": ""}
        if lines:
            body["lines"] = lines
        return self.sign(body)

    def deposit_return(self, *, wallet_id: int, staff_id: int, lines: list[tuple[int, int, int]],
                       stall_id: int | None = None, record_id: str | None = None) -> dict[str, Any]:
        """A signed returns-only basket: ``lines`` of (deposit product, items back, unit price)."""
        body = self._base("deposit_return", staff_id, record_id) | {
            "stall_id": stall_id or self.stall_id, "wallet_id": wallet_id,
            "amount": sum(q * u for _p, q, u in lines),
            "lines": [{"product_id": p, "qty": q, "unit_price": u} for p, q, u in lines]}
        return self.sign(body)

    def topup(self, *, wallet_id: int, amount: int, staff_id: int, record_id: str | None = None) -> dict[str, Any]:
        """A signed top-up."""
        body = self._base("topup", staff_id, record_id) | {
            "wallet_id": wallet_id, "amount": amount, "cash_received": amount}
        return self.sign(body)

    def cashout(self, *, wallet_id: int, amount: int, staff_id: int, token_seq: int = 0, close: bool = False,
                record_id: str | None = None) -> dict[str, Any]:
        """A signed cash-out (cash paid out of a wallet at a desk)."""
        body = self._base("cashout", staff_id, record_id) | {
            "wallet_id": wallet_id, "amount": amount, "token_seq": token_seq, "close": close}
        return self.sign(body)

    def drawer(self, *, staff_id: int, counted: int, start_float: int = 0, expected: int = 0, since: int = 0,
               record_id: str | None = None) -> dict[str, Any]:
        """A signed drawer close-out (the cash counted at a desk)."""
        body = self._base("drawer", staff_id, record_id) | {
            "since": since, "start_float": start_float, "counted": counted, "expected": expected}
        return self.sign(body)

    def checkin(self, *, ticket_id: int, ticket_type: int, staff_id: int, direction: str = "in",
                gate_id: int | None = None, record_id: str | None = None) -> dict[str, Any]:
        """A signed gate check-in."""
        body = self._base("checkin", staff_id, record_id) | {
            "gate_id": gate_id or self.gate_id, "ticket_id": ticket_id, "ticket_type": ticket_type,
            "direction": direction}
        return self.sign(body)


class Seeder:
    """Creates what tests need, straight in the event's database (no HTTP)."""

    def __init__(self, settings: ServerSettings, *, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.url, synchronous=settings.sqlite_synchronous)

    def close(self) -> None:
        """Release the database connections."""
        self.db.dispose()

    def stall(self, name: str = "Yakisoba", *, free_amount: bool = False) -> int:
        """Create a stall; returns its id."""
        from server.catalog import create_stall

        with self.db.write() as conn:
            return create_stall(conn, name=name, now_ms=self.clock(), allow_free_amount=free_amount)

    def product(self, stall_id: int, name: str = "Yakisoba", price: int = 500, *, stock: int | None = None,
                kind: str = "normal", category: str = "", colour: str | None = None) -> int:
        """Create a product (``kind``: normal, deposit or discount; a category and button colour); returns its id."""
        from server.catalog import create_product

        with self.db.write() as conn:
            return create_product(conn, stall_id=stall_id, name=name, price=price, stock=stock, kind=kind,
                                  category=category, colour=colour)

    def gate(self, name: str = "North gate") -> int:
        """Create a gate; returns its id."""
        from server.catalog import create_gate

        with self.db.write() as conn:
            return create_gate(conn, name=name)

    def ticket_type(self, name: str = "Day pass", policy: str = "single") -> int:
        """Create a ticket type; returns its id."""
        from server.catalog import create_ticket_type

        with self.db.write() as conn:
            return create_ticket_type(conn, name=name, policy=policy)  # type: ignore[arg-type]

    def staff(self, name: str = "Hana", *, pin: str = "1234",
              roles: list[tuple[str, str, int | None]] | None = None) -> int:
        """Create a staff member with roles ``[(role, "event"|"stall"|"gate", scope id)]``; returns the id."""
        from server.staff import create_staff, grant_role

        with self.db.write() as conn:
            staff_id = create_staff(conn, name=name, pin=pin, now_ms=self.clock())
            for role, kind, scope_id in roles or []:
                grant_role(conn, staff_id, role, scope=Scope(ScopeKind(kind), scope_id))
        return staff_id

    def badge(self, staff_id: int, *, ttl_s: int = 86400) -> str:
        """Return a signed staff badge (``ES1:...``)."""
        from server.issuer import IssuerKeys
        from sync.tokens import StaffBadge, encode_token

        with self.db.read() as conn:
            issuer = IssuerKeys(self.settings.issuer_key_path).active(conn)
        now_s = self.clock() // 1000
        return encode_token(StaffBadge(staff_id, now_s, now_s + ttl_s), issuer)

    def api_token(self, staff_id: int) -> str:
        """Return an API token acting as ``staff_id``."""
        from server.staff import create_api_token

        with self.db.write() as conn:
            return create_api_token(conn, staff_id, now_ms=self.clock())

    def wallet(self, balance: int = 0, *, flags: int = 0) -> int:
        """Create a wallet, topped up by admin cash to ``balance``; returns its id."""
        from server.wallets import admin_topup, create_wallet

        with self.db.write() as conn:
            wallet_id = create_wallet(conn, now_ms=self.clock(), flags=flags)
            if balance:
                admin_topup(conn, wallet_id, balance, lock=not self.db.is_sqlite, now_ms=self.clock())
        return wallet_id

    def wallets(self, count: int, *, balance: int = 0) -> list[int]:
        """Create many wallets quickly (one transaction); returns their ids."""
        from server.wallets import admin_topup, create_wallet

        ids = []
        with self.db.write() as conn:
            for _ in range(count):
                wallet_id = create_wallet(conn, now_ms=self.clock())
                if balance:
                    admin_topup(conn, wallet_id, balance, lock=not self.db.is_sqlite, now_ms=self.clock())
                ids.append(wallet_id)
        return ids

    def topup(self, wallet_id: int, amount: int) -> tuple[int, int]:
        """Admin top-up; returns (balance, seq)."""
        from server.wallets import admin_topup

        with self.db.write() as conn:
            return admin_topup(conn, wallet_id, amount, lock=not self.db.is_sqlite, now_ms=self.clock())

    def enrollment_code(self, mode: str = "stall", *, stall_id: int | None = None, gate_id: int | None = None,
                        base_url: str = "http://127.0.0.1:8000", pin: str = "") -> str:
        """Return an enrollment code text (``EE1:...@url``, ``#pin=`` when ``pin`` is given)."""
        from server.enroll import create_enrollment_code

        with self.db.write() as conn:
            code = create_enrollment_code(conn, mode=TerminalMode(mode), base_url=base_url, now_ms=self.clock(),
                                          ttl_s=self.settings.enroll_code_ttl_s, stall_id=stall_id, gate_id=gate_id,
                                          pin=pin)
        return code.text()

    def terminal(self, mode: str = "stall", *, stall_id: int | None = None, gate_id: int | None = None,
                 name: str = "") -> TestTerminal:
        """Enroll a terminal directly (no HTTP) and return it with its key and token."""
        from server.enroll import enroll_terminal
        from sync.enrollment import EnrollmentCode

        code = EnrollmentCode.parse(self.enrollment_code(mode, stall_id=stall_id, gate_id=gate_id))
        key = SigningKey.generate()
        with self.db.write() as conn:
            enrolled = enroll_terminal(conn, EnrollRequest(code=code.code, public_key=key.public_b64, name=name),
                                       now_ms=self.clock())
        return TestTerminal(enrolled.terminal.terminal_id, enrolled.api_token, key, TerminalMode(mode),
                            stall_id=stall_id, gate_id=gate_id, clock=self.clock)

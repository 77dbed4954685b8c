"""Money, quotas and lockouts under concurrent requests, on SQLite and on PostgreSQL with two server processes.

Each scenario fires N requests at once (a barrier lines the threads up) at a real
``ennichi server run`` (PostgreSQL: ``--workers 2``; SQLite serves one process),
then checks the invariant in the database: no interleaving moved more money or
admitted more guests than one request at a time could, and ``reconcile`` holds.

Seeded and bounded (``ENNICHI_RACE_SEED``, ``ENNICHI_RACE_ROUNDS``, default 1 round):
the CI run takes a few seconds per engine; the longer run is in docs/security.md.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pg_helpers import postgres_base_url
from sqlalchemy import func, select

from server.db import tables as t
from server.db.engine import Database
from server.reconcile import reconcile
from server.settings import ServerSettings
from server.testing import Seeder, fresh_postgres_database, init_test_event
from server.web.customers import live_invitations, set_customer
from server.web.tables import guest_invitations
from sync.ids import format_short_id

REPO = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("ENNICHI_RACE_SEED", "17"))
ROUNDS = max(1, min(int(os.environ.get("ENNICHI_RACE_ROUNDS", "1")), 100))
ADMIN_PASSWORD = "admin-pass"  # server.testing.init_test_event
PIN = "4826"
LOCKOUT = 5  # WebSettings.lockout_failures (default)
ACCOUNT_CAP = 20  # WebSettings.lockout_account_attempts (default)


@dataclass
class Served:
    """A running multi-process server and what the tests need to reach its database."""

    engine: str
    url: str
    settings: ServerSettings
    db: Database
    rng: random.Random
    addresses: Iterator[str] = field(default_factory=lambda: (f"127.0.{n // 250}.{2 + n % 250}" for n in range(10**6)))

    def seed(self) -> Seeder:
        return Seeder(self.settings)


_SERVER_LOG: list[Path] = []  # the log of the server the module's tests run against now (see _at_once)


def _worker_pids(log: Path) -> set[int]:
    pids = set()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and "Application startup complete" in line:
            pids.add(json.loads(line)["pid"])
    return pids


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    engine = str(request.param)
    drop: Callable[[], None] = lambda: None  # noqa: E731
    url = ""
    if engine == "postgres":
        url, drop = fresh_postgres_database(postgres_base_url())
    data = tmp_path_factory.mktemp(f"race-{engine}")
    settings, _ = init_test_event(data / "event", database_url=url)
    workers = 1 if settings.is_sqlite else 2
    port = _free_port()
    log = data / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENNICHI_", "PROMETHEUS_"))}
    env.update(PYTHONPATH=str(REPO), ENNICHI_WEB_SECRET=secrets.token_hex(32),
               ENNICHI_ADMISSION_WAIT_MS="60000")  # the races, not load shedding (tested in tests/server)
    args = ["--data-dir", str(settings.data_dir), *(["--database-url", url] if url else [])]
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "terminal.cli", "server", *args, "run", "--host",
                                 "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                                cwd=data, env=env, stdout=out, stderr=subprocess.STDOUT)
    db = Database(settings.url)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
                        and (workers == 1 or len(_worker_pids(log)) == workers)):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start ({proc.returncode}):\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        _SERVER_LOG.append(log)
        yield Served(engine, f"http://127.0.0.1:{port}", settings, db, random.Random(f"{SEED}-{engine}"))
    finally:
        if log in _SERVER_LOG:
            _SERVER_LOG.remove(log)
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        db.dispose()
        drop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _client(base: str, *, address: str = "127.0.0.1", cookies: httpx.Cookies | None = None) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60, cookies=cookies,
                        transport=httpx.HTTPTransport(local_address=address))


def _admin(served: Served) -> tuple[httpx.Cookies, str]:
    """Sign in as the admin over HTTP; returns the cookies and the session's CSRF token."""
    with _client(served.url) as client:
        csrf = _csrf(client.get("/admin/signin").text)
        resp = client.post("/admin/signin", data={"login": "admin", "password": ADMIN_PASSWORD, "csrf": csrf})
        assert resp.status_code == 303, resp.text[:500]
        return client.cookies, _csrf(client.get("/admin/wallets").text)


def _customer(served: Served, wallet: int, *, address: str) -> tuple[httpx.Cookies, str]:
    with _client(served.url, address=address) as client:
        csrf = _csrf(client.get("/my/signin").text)
        resp = client.post("/my/signin", data={"code": format_short_id(wallet), "pin": PIN, "csrf": csrf})
        assert resp.status_code == 303, resp.text[:500]
        return client.cookies, _csrf(client.get("/my").text)


def _at_once(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job in its own thread, released together.

    A connection the server drops fails the test with what the server's log said meanwhile (a worker
    the supervisor replaced, a traceback), so a failure in CI can be told from a race in the code.
    """
    barrier = threading.Barrier(len(jobs))
    log = _SERVER_LOG[-1] if _SERVER_LOG else None
    start = log.stat().st_size if log is not None else 0

    def run(job: Callable[[], Any]) -> Any:
        barrier.wait(timeout=60)
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        try:
            return list(pool.map(run, jobs))
        except httpx.TransportError as exc:
            said = ""
            if log is not None:
                with log.open("rb") as f:
                    f.seek(start)
                    said = "\n".join(line for line in f.read().decode(errors="replace").splitlines()
                                      if '"level":"info"' not in line or "process" in line)[-4000:]
            raise AssertionError(f"the server dropped a request ({exc!r}); its log meanwhile:\n{said}") from exc


def _post(served: Served, path: str, data: dict[str, str], *, cookies: httpx.Cookies,
          address: str = "127.0.0.1") -> Callable[[], int]:
    def job() -> int:
        with _client(served.url, address=address, cookies=cookies) as client:
            resp = client.post(path, data=data)
            if resp.status_code >= 400 and os.environ.get("ENNICHI_RACE_DEBUG"):
                print(resp.status_code, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.text))[-400:])
            return resp.status_code
    return job


def _refunded(served: Served, txn_id: int) -> tuple[int, int]:
    """(total given back of the sale, number of refund transactions)."""
    x = t.transactions
    with served.db.read() as conn:
        total, count = conn.execute(select(func.coalesce(func.sum(x.c.amount), 0), func.count()).where(
            x.c.ref_txn == txn_id, x.c.kind.in_(("refund", "void")))).one()
    return int(total), int(count)


def _reconciles(served: Served) -> None:
    with served.db.read() as conn:
        report = reconcile(conn)
    assert report.ok, report.breaks


def _sold(served: Served, amount: int) -> tuple[Any, int, int, dict[str, Any]]:
    """A stall, a wallet and one sale of ``amount`` pushed by its terminal: (till, wallet, sale txn, record)."""
    seed = served.seed()
    try:
        stall = seed.stall()
        cashier = seed.staff("Cashier", roles=[("cashier", "stall", stall), ("supervisor", "stall", stall)])
        till = seed.terminal("stall", stall_id=stall)
        wallet = seed.wallet(5_000)
    finally:
        seed.close()
    sale = till.sale(wallet_id=wallet, amount=amount, staff_id=cashier)
    assert httpx.post(f"{served.url}/api/v1/push", json={"records": [sale]}, headers=till.headers,
                      timeout=60).status_code == 200
    with served.db.read() as conn:
        txn = conn.execute(select(t.records.c.txn_id).where(t.records.c.id == sale["body"]["id"])).scalar_one()
    till.cashier = cashier
    return till, wallet, int(txn), sale


def _refund_form(txn: int, amount: int, csrf: str, key: str) -> dict[str, str]:
    return {"csrf": csrf, "form_key": key, "txn_id": str(txn), "amount": str(amount), "reason": "race"}


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_double_clicked_refund_is_applied_once(served: Served, round_: int) -> None:
    """12 identical dashboard refund POSTs (one form, one key) of a 400 sale: one refund of 400."""
    _till, wallet, txn, _sale = _sold(served, 400)
    cookies, csrf = _admin(served)
    form = _refund_form(txn, 400, csrf, secrets.token_urlsafe(16))
    codes = _at_once([_post(served, f"/admin/wallets/{wallet}/refund", form, cookies=cookies) for _ in range(12)])
    assert codes == [303] * 12  # every click lands on the page of the one refund
    assert _refunded(served, txn) == (400, 1)
    _reconciles(served)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_different_refunds_of_one_sale_give_back_at_most_the_sale(served: Served, round_: int) -> None:
    """12 dashboard refunds from 12 forms (random amounts) of a 400 sale: never more than 400 given back."""
    _till, wallet, txn, _sale = _sold(served, 400)
    cookies, csrf = _admin(served)
    amounts = [served.rng.choice((100, 150, 400)) for _ in range(12)]
    codes = _at_once([_post(served, f"/admin/wallets/{wallet}/refund",
                            _refund_form(txn, a, csrf, secrets.token_urlsafe(16)), cookies=cookies) for a in amounts])
    total, count = _refunded(served, txn)
    assert total <= 400 and count == codes.count(303) and set(codes) <= {303, 422}
    assert total + min(amounts) > 400 or count == len(amounts)  # refused only when it would have gone over
    _reconciles(served)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_dashboard_and_terminal_refunds_of_one_sale(served: Served, round_: int) -> None:
    """6 dashboard + 6 terminal refunds of a whole 300 sale at once: exactly 300 given back."""
    till, wallet, txn, sale = _sold(served, 300)
    cookies, csrf = _admin(served)
    jobs: list[Callable[[], Any]] = [
        _post(served, f"/admin/wallets/{wallet}/refund", _refund_form(txn, 300, csrf, secrets.token_urlsafe(16)),
              cookies=cookies) for _ in range(6)]
    for _ in range(6):
        record = till.refund(wallet_id=wallet, amount=300, staff_id=till.cashier, ref_id=sale["body"]["id"])
        jobs.append(lambda r=record: httpx.post(f"{served.url}/api/v1/push", json={"records": [r]},
                                                headers=till.headers, timeout=60).status_code)
    served.rng.shuffle(jobs)
    assert set(_at_once(jobs)) <= {200, 303, 422}
    assert _refunded(served, txn) == (300, 1)
    _reconciles(served)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_parallel_refunds_by_item_of_the_last_item_give_it_back_once(served: Served, round_: int) -> None:
    """8 refunds by item of the one yakisoba of a 1500 basket, from two tills of the stall at once: one wins,
    the rest are refused 'exceeds_item', 500 given back and one unit back in stock."""
    seed = served.seed()
    try:
        stall = seed.stall()
        boss = seed.staff("Boss", roles=[("supervisor", "stall", stall)])
        tills = [seed.terminal("stall", stall_id=stall) for _ in range(2)]
        soba = seed.product(stall, "Yakisoba", 500, stock=4)
        ramune = seed.product(stall, "Ramune", 200)
        wallet = seed.wallet(5_000)
    finally:
        seed.close()
    lines = [{"product_id": soba, "qty": 1, "unit_price": 500}, {"product_id": ramune, "qty": 5, "unit_price": 200}]
    sale = tills[0].sale(wallet_id=wallet, amount=1500, staff_id=boss, lines=lines)
    assert httpx.post(f"{served.url}/api/v1/push", json={"records": [sale]}, headers=tills[0].headers,
                      timeout=60).status_code == 200

    def refund(till: Any) -> Callable[[], str]:
        record = till.refund(wallet_id=wallet, amount=500, staff_id=boss, ref_id=sale["body"]["id"],
                             lines=[lines[0]])

        def job() -> str:
            answer = httpx.post(f"{served.url}/api/v1/push", json={"records": [record]}, headers=till.headers,
                                timeout=60).json()["results"][0]
            return f"{answer['status']} {answer['reason'] or ''}".strip()
        return job

    answers = _at_once([refund(tills[i % 2]) for i in range(8)])
    assert sorted(answers) == ["applied"] + [f"rejected exceeds_item: product {soba}: 0 of 1 left to refund"] * 7
    with served.db.read() as conn:
        txn = conn.execute(select(t.records.c.txn_id).where(t.records.c.id == sale["body"]["id"])).scalar_one()
        stock = conn.execute(select(t.products.c.stock).where(t.products.c.id == soba)).scalar_one()
    assert _refunded(served, int(txn)) == (500, 1)
    assert stock == 4  # 4 - 1 sold + 1 back
    _reconciles(served)


def _guest_event(served: Served, customers_: int, *, quota: int) -> tuple[list[int], int, Any, int]:
    """Students with a guest quota, a guest ticket type and a gate: (wallets, ticket type, gate till, keeper)."""
    seed = served.seed()
    try:
        ticket_type = seed.ticket_type("Guest pass", "single")
        gate = seed.gate()
        keeper = seed.staff("Keeper", roles=[("gatekeeper", "gate", gate)])
        gate_till = seed.terminal("gate", gate_id=gate)
        wallets = seed.wallets(customers_)
    finally:
        seed.close()
    with served.db.write() as conn:
        for wallet in wallets:
            set_customer(conn, wallet, holder_name="Student", pin=PIN, student=True, guest_quota=quota,
                         guest_ticket_type=ticket_type, now_ms=int(time.time() * 1000))
    return wallets, ticket_type, gate_till, keeper


def _invitations(served: Served, wallet: int) -> list[Any]:
    g = guest_invitations
    with served.db.read() as conn:
        return list(conn.execute(select(g).where(g.c.wallet_id == wallet).order_by(g.c.id)))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_parallel_guest_invitations_stay_within_the_quota(served: Served, round_: int) -> None:
    """30 invitations at once for each of 5 students with quota 1: 1 each."""
    wallets, _type, _gate, _keeper = _guest_event(served, 5, quota=1)
    jobs: list[Callable[[], Any]] = []
    for wallet in wallets:
        cookies, csrf = _customer(served, wallet, address="127.0.0.1")
        jobs += [_post(served, "/my/guests", {"csrf": csrf, "form_key": secrets.token_urlsafe(16),
                                              "guest_name": f"g{i}"}, cookies=cookies) for i in range(30)]
    served.rng.shuffle(jobs)
    assert set(_at_once(jobs)) == {303}
    with served.db.read() as conn:
        assert [live_invitations(conn, w) for w in wallets] == [1] * 5
    assert [len(_invitations(served, w)) for w in wallets] == [1] * 5


def test_a_used_guest_ticket_keeps_its_place(served: Served) -> None:
    """Quota 1: an entered guest cannot be cancelled; one cancelled but let in by an uninformed gate still counts."""
    wallets, ticket_type, gate_till, keeper = _guest_event(served, 2, quota=1)
    for wallet in wallets:
        cookies, csrf = _customer(served, wallet, address="127.0.0.1")
        with _client(served.url, cookies=cookies) as client:
            assert client.post("/my/guests", data={"csrf": csrf, "form_key": secrets.token_urlsafe(16)}
                               ).status_code == 303
            [invitation] = _invitations(served, wallet)
            if wallet == wallets[1]:  # cancelled first, while the guest is already on the way
                resp = client.post(f"/my/guests/{invitation.id}/cancel", data={"csrf": csrf})
                assert resp.headers["location"] == "/my?done=cancelled"
            entry = gate_till.checkin(ticket_id=int(invitation.ticket_id), ticket_type=ticket_type, staff_id=keeper)
            assert httpx.post(f"{served.url}/api/v1/push", json={"records": [entry]}, headers=gate_till.headers,
                              timeout=60).status_code == 200
            if wallet == wallets[0]:
                resp = client.post(f"/my/guests/{invitation.id}/cancel", data={"csrf": csrf})
                assert resp.headers["location"] == "/my?guest_error=my.guest_used"
                assert "このゲストはすでに入場しました" in client.get("/my?guest_error=my.guest_used&lang=ja").text \
                    or "already entered" in client.get("/my?guest_error=my.guest_used").text
            again = client.post("/my/guests", data={"csrf": csrf, "form_key": secrets.token_urlsafe(16)})
            assert again.headers["location"] == "/my?guest_error=my.guest_quota_full"
    with served.db.read() as conn:
        assert [live_invitations(conn, w) for w in wallets] == [1, 1]


def _signins(served: Served, actor: str, action: str) -> int:
    a = t.audit_log
    with served.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(a).where(a.c.actor == actor,
                                                                          a.c.action == action)).scalar_one())


def _my_guess(served: Served, wallet: int, pin: str, address: str) -> Callable[[], int]:
    def job() -> int:
        with _client(served.url, address=address) as client:
            csrf = _csrf(client.get("/my/signin").text)
            return client.post("/my/signin", data={"code": format_short_id(wallet), "pin": pin,
                                                   "csrf": csrf}).status_code
    return job


def test_parallel_pin_guesses_check_at_most_the_limit(served: Served) -> None:
    """40 My page PIN guesses at once from one address: at most 5 checked; the owner elsewhere still gets in;
    guesses from enough addresses lock the wallet for everyone, once, as the admin sees."""
    [wallet], _type, _gate, _keeper = _guest_event(served, 1, quota=0)
    actor = f"wallet:{format_short_id(wallet)}"
    stranger = next(served.addresses)
    guesses = [f"{served.rng.randrange(10_000):04d}" for _ in range(40)]
    codes = _at_once([_my_guess(served, wallet, g if g != PIN else "0000", stranger) for g in guesses])
    assert _signins(served, actor, "my.signin.failed") == LOCKOUT  # the limit, whatever the concurrency
    assert codes.count(401) == LOCKOUT and codes.count(429) == 40 - LOCKOUT
    assert _my_guess(served, wallet, PIN, stranger)() == 429  # that address is locked out of this wallet ...
    assert _my_guess(served, wallet, PIN, next(served.addresses))() == 303  # ... its owner is not
    # many addresses together: the account cap, then nobody gets in for a while
    crowd = [next(served.addresses) for _ in range(ACCOUNT_CAP // LOCKOUT + 1)]
    _at_once([_my_guess(served, wallet, "0000", address) for address in crowd for _ in range(LOCKOUT)])
    assert _signins(served, actor, "my.signin.failed") == LOCKOUT + ACCOUNT_CAP
    assert _signins(served, actor, "my.signin.lockout") == 1
    assert _my_guess(served, wallet, PIN, next(served.addresses))() == 429


def test_parallel_admin_password_guesses_check_at_most_the_limit(served: Served) -> None:
    """60 admin password guesses at once from one address: at most 5 checked, the rest refused unchecked."""
    from server.staff import create_staff

    login = f"guard{served.rng.randrange(10**6)}"
    with served.db.write() as conn:
        create_staff(conn, name="Guard", pin="1357", now_ms=int(time.time() * 1000), login=login,
                     password="the-right-one")
    address = next(served.addresses)

    def guess(i: int) -> Callable[[], int]:
        def job() -> int:
            with _client(served.url, address=address) as client:
                csrf = _csrf(client.get("/admin/signin").text)
                return client.post("/admin/signin", data={"login": login, "password": f"guess-{i}",
                                                          "csrf": csrf}).status_code
        return job

    codes = _at_once([guess(i) for i in range(60)])
    assert _signins(served, f"admin:{login}", "web.signin.failed") == LOCKOUT
    assert codes.count(401) == LOCKOUT and codes.count(429) == 60 - LOCKOUT


def test_one_address_spraying_many_logins_at_once_is_cut_off_before_the_check(served: Served) -> None:
    """60 guesses at once, each at another login, from one address: at most the address limit (20) per
    server process reach the database, the rest are refused in memory (429) and write nothing."""
    address, tag = next(served.addresses), served.rng.randrange(10**6)

    def guess(i: int) -> Callable[[], int]:
        def job() -> int:
            with _client(served.url, address=address) as client:
                csrf = _csrf(client.get("/admin/signin").text)
                return client.post("/admin/signin", data={"login": f"spray{tag}-{i}", "password": "123456",
                                                          "csrf": csrf}).status_code
        return job

    codes = _at_once([guess(i) for i in range(60)])
    a = t.audit_log
    with served.db.read() as conn:
        checked = int(conn.execute(select(func.count()).select_from(a).where(
            a.c.actor.like(f"admin:spray{tag}-%"), a.c.action == "web.signin.failed")).scalar_one())
    workers = 1 if served.engine == "sqlite" else 2
    assert 0 < checked <= 20 * workers and codes.count(401) == checked and codes.count(429) == 60 - checked


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_top_ups_and_adjustments_at_once_lose_nothing_and_double_nothing(served: Served, round_: int) -> None:
    """8 identical top-up POSTs (one form) and 8 adjustments of -100 from 8 forms, all at once: one top-up,
    every adjustment, and the balance is exactly what one request at a time gives."""
    seed = served.seed()
    try:
        wallet = seed.wallet(500)
    finally:
        seed.close()
    cookies, csrf = _admin(served)
    topup = {"csrf": csrf, "form_key": secrets.token_urlsafe(16), "amount": "1000"}
    jobs = [_post(served, f"/admin/wallets/{wallet}/topup", topup, cookies=cookies) for _ in range(8)]
    jobs += [_post(served, f"/admin/wallets/{wallet}/adjust", {"csrf": csrf, "form_key": secrets.token_urlsafe(16),
                                                              "amount": "-100", "reason": "race"}, cookies=cookies)
             for _ in range(8)]
    served.rng.shuffle(jobs)
    assert _at_once(jobs) == [303] * 16
    a, x, p = t.accounts, t.transactions, t.postings
    with served.db.read() as conn:
        balance = conn.execute(select(a.c.balance).where(a.c.kind == "wallet", a.c.ref == wallet)).scalar_one()
        kinds = sorted(conn.execute(select(x.c.kind).join(p, p.c.txn_id == x.c.id).join(a, a.c.id == p.c.account_id)
                                    .where(a.c.kind == "wallet", a.c.ref == wallet)).scalars())
    assert kinds == ["adjustment"] * 8 + ["topup"] * 2  # the seed's top-up and the one of the 8 clicks
    assert balance == 500 + 1000 - 8 * 100
    _reconciles(served)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_parallel_online_sales_of_the_last_units_sell_at_most_the_stock(served: Served, round_: int) -> None:
    """10 customers at two tills of one stall pay for the last 3 Ramune at once: 3 approved, 7 declined
    'sold_out', the stock at 0, and only the approved customers paid."""
    seed = served.seed()
    try:
        stall = seed.stall()
        cashier = seed.staff("Cashier", roles=[("cashier", "stall", stall)])
        tills = [seed.terminal("stall", stall_id=stall) for _ in range(2)]
        ramune = seed.product(stall, "Ramune", 200, stock=3)
        wallets = seed.wallets(10, balance=1000)
    finally:
        seed.close()

    def pay(till: Any, wallet: int) -> Callable[[], tuple[bool, str | None]]:
        body = till.sale(wallet_id=wallet, amount=200, staff_id=cashier)["body"]
        record = till.sign(body | {"lines": [{"product_id": ramune, "qty": 1, "unit_price": 200}]})

        def job() -> tuple[bool, str | None]:
            answer = httpx.post(f"{served.url}/api/v1/authorize", json={"record": record}, headers=till.headers,
                                timeout=60).json()
            return bool(answer["approved"]), answer["reason"]
        return job

    answers = _at_once([pay(tills[i % 2], w) for i, w in enumerate(wallets)])
    assert sorted(answers) == [(False, "sold_out")] * 7 + [(True, None)] * 3
    a, p = t.accounts, t.products
    with served.db.read() as conn:
        balances = sorted(conn.execute(select(a.c.balance).where(a.c.kind == "wallet", a.c.ref.in_(wallets)))
                          .scalars())
        stock = conn.execute(select(p.c.stock, p.c.sold_out).where(p.c.id == ramune)).one()
    assert balances == [800] * 3 + [1000] * 7
    assert (stock.stock, bool(stock.sold_out)) == (0, True)
    _reconciles(served)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_parallel_cup_returns_pay_out_exactly_the_deposits_held(served: Served, round_: int) -> None:
    """A bar took 4 cups (deposit 200 each); 10 customers bring a cup back at two tills at once and ask the
    server (``deposit_return``, online): exactly 4 get 200 back, 6 are declined 'deposit_not_held', and the
    stall's deposit account ends at 0, never below."""
    seed = served.seed()
    try:
        stall = seed.stall("Bar")
        cashier = seed.staff("Cashier", roles=[("cashier", "stall", stall)])
        tills = [seed.terminal("stall", stall_id=stall) for _ in range(2)]
        cup = seed.product(stall, "Cup", 200, kind="deposit")
        buyer = seed.wallet(5_000)
        wallets = seed.wallets(10, balance=0)
    finally:
        seed.close()
    taken = tills[0].sale(wallet_id=buyer, amount=800, staff_id=cashier,
                          lines=[{"product_id": cup, "qty": 4, "unit_price": 200}])
    assert httpx.post(f"{served.url}/api/v1/push", json={"records": [taken]}, headers=tills[0].headers,
                      timeout=60).json()["results"][0]["status"] == "applied"

    def give_back(till: Any, wallet: int) -> Callable[[], tuple[bool, str | None]]:
        record = till.deposit_return(wallet_id=wallet, staff_id=cashier, lines=[(cup, 1, 200)])

        def job() -> tuple[bool, str | None]:
            answer = httpx.post(f"{served.url}/api/v1/authorize", json={"record": record}, headers=till.headers,
                                timeout=60).json()
            return bool(answer["approved"]), answer["reason"]
        return job

    answers = _at_once([give_back(tills[i % 2], w) for i, w in enumerate(wallets)])
    assert sorted(answers) == [(False, "deposit_not_held")] * 6 + [(True, None)] * 4
    a = t.accounts
    with served.db.read() as conn:
        balances = sorted(conn.execute(select(a.c.balance).where(a.c.kind == "wallet", a.c.ref.in_(wallets)))
                          .scalars())
        held = conn.execute(select(a.c.balance).where(a.c.kind == "stall_deposit", a.c.ref == stall)).scalar_one()
    assert balances == [0] * 6 + [200] * 4
    assert held == 0
    _reconciles(served)

"""The overview page's server time on a big event: 100,000 transactions, 200 terminals, 50,000 wallets.

    .venv/bin/python bench/dashboard.py [--engine sqlite|postgres|both] [--requests 60]

Seeds through the server's own functions (wallets, enrollment, LedgerBatch
postings), serves the app with uvicorn on loopback, signs in, and times
``GET /admin`` (the whole page) and ``GET /admin/overview/live`` (what the page
polls).  PostgreSQL needs ENNICHI_TEST_PG_URL (a database it may create
databases in).  Target: p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import insert, update

from server.catalog import create_gate, create_product, create_stall
from server.db import tables as t
from server.ledger import SYSTEM_ADMIN_CASH, LedgerBatch
from server.testing import Seeder, fresh_postgres_database, init_test_event
from server.wallets import create_wallet

T0 = 1_785_200_400_000  # 2026-07-28 10:00 Asia/Tokyo
WALLETS, TERMINALS, TOPUPS, SALES, STALLS, CHECKINS = 50_000, 200, 20_000, 80_000, 40, 20_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def seed(settings: object, clock: Clock) -> None:
    """Fill the event through the server's functions."""
    seeder = Seeder(settings, clock=clock)  # type: ignore[arg-type]
    db = seeder.db
    day_start = T0 - 10 * 3_600_000 + 7 * 3_600_000  # 07:00
    started = time.perf_counter()
    with db.write() as conn:
        stalls = [create_stall(conn, name=f"Stall {i}", now_ms=T0) for i in range(STALLS)]
        for sid in stalls:
            create_product(conn, stall_id=sid, name="Item", price=300)
        gate = create_gate(conn, name="Main gate")
        wallets = [create_wallet(conn, now_ms=T0) for _ in range(WALLETS)]
    for i in range(TERMINALS):  # enrolled through the real enrollment code path
        seeder.terminal("stall", stall_id=stalls[i % STALLS], name=f"till {i}")
    with db.write() as conn:  # terminal health as their pulls would report it
        for i in range(1, TERMINALS + 1):
            conn.execute(update(t.terminals).where(t.terminals.c.id == i).values(
                last_seen_ms=T0 - (0 if i % 10 else 600_000), app_version="0.1.0", clock_skew_ms=i % 7 * 100,
                unsynced_count=i % 5, unsynced_amount=i % 5 * 300))
    print(f"  wallets, stalls, terminals: {time.perf_counter() - started:.0f} s", flush=True)
    chunk = 2000
    made = 0
    total = TOPUPS + SALES
    while made < total:
        with db.write() as conn:
            now = day_start + made * (T0 - day_start) // total
            batch = LedgerBatch(conn, lock=not db.is_sqlite, now_ms=now)
            n = min(chunk, total - made)
            keys = {("system", SYSTEM_ADMIN_CASH)}
            plan = []
            for k in range(made, made + n):
                wallet = wallets[k % WALLETS]
                if k < TOPUPS:
                    plan.append(("topup", wallet, None, 5000))
                else:
                    plan.append(("sale", wallet, stalls[k % STALLS], 300 + (k % 4) * 100))
                keys.add(("wallet", wallet))
                if plan[-1][2] is not None:
                    keys.add(("stall_revenue", plan[-1][2]))
            batch.load(keys)
            cash = batch.account("system", SYSTEM_ADMIN_CASH)
            for kind, wallet, stall, amount in plan:
                acc = batch.account("wallet", wallet)
                if kind == "topup":
                    batch.post("topup", [(cash, -amount), (acc, amount)], note="bench")  # type: ignore[list-item]
                else:
                    batch.post("sale", [(acc, -amount), (batch.account("stall_revenue", stall), amount)])  # type: ignore[list-item]
            batch.flush()
        made += n
    with db.write() as conn:
        conn.execute(insert(t.checkins), [
            {"record_id": f"bench-{i}", "gate_id": gate, "terminal_id": 1, "ticket_id": i, "ticket_type": 1,
             "direction": "in" if i % 3 else "out", "created_at": day_start + i * (T0 - day_start) // CHECKINS,
             "change_seq": 0} for i in range(CHECKINS)])
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    seeder.close()


def measure(base: str, requests: int, cold: dict[str, float]) -> dict[str, list[float]]:
    """Sign in and time the overview page and its live endpoint (the first request of each in ``cold``)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/admin/signin").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        signed = client.post("/admin/signin", data={"login": "admin", "password": "admin-pass", "csrf": token,
                                                    "next": "/admin"})
        assert signed.status_code == 303, signed.text[:300]
        out: dict[str, list[float]] = {"/admin": [], "/admin/overview/live": []}
        for path in out:
            start = time.perf_counter()
            client.get(path)
            if not cold:  # only the very first request computes the day's totals from scratch
                cold[path] = (time.perf_counter() - start) * 1000
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(path)
                out[path].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
                assert "¥" in response.text
        return out


def run(engine: str, requests: int) -> None:
    from server.api.app import create_app
    from server.db.engine import Database
    from server.web import include_web

    print(f"{engine}:", flush=True)
    drop = None
    with tempfile.TemporaryDirectory() as tmp:
        url = ""
        if engine == "postgres":
            base = os.environ.get("ENNICHI_TEST_PG_URL")
            if not base:
                print("  skipped: ENNICHI_TEST_PG_URL is not set")
                return
            url, drop = fresh_postgres_database(base)
        clock = Clock()
        settings, _ = init_test_event(Path(tmp), database_url=url, clock=clock)
        seed(settings, clock)
        import socket
        import threading

        import uvicorn

        db = Database(settings.url, synchronous=settings.sqlite_synchronous, pool_size=settings.pool_size)
        app = create_app(settings, clock=clock, db=db, web=False)
        include_web(app, secret=b"bench-secret-0123456789abcdef")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            cold: dict[str, float] = {}
            results = measure(f"http://127.0.0.1:{sock.getsockname()[1]}", requests, cold)
        finally:
            server.should_exit = True
            thread.join(10)
            db.dispose()
            if drop:
                drop()
    for path, times in results.items():
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"  GET {path:<24} p50 {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms   "
              f"max {times[-1]:6.1f} ms   (n={len(times)}, target p95 < 200 ms)", flush=True)
    for path, ms in cold.items():
        print(f"  first GET {path:<18} {ms:6.1f} ms (totals of the day computed from scratch)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    print(f"{SALES + TOPUPS:,} transactions, {TERMINALS} terminals, {WALLETS:,} wallets, {CHECKINS:,} check-ins")
    for engine in ("sqlite", "postgres") if args.engine == "both" else (args.engine,):
        run(engine, args.requests)


if __name__ == "__main__":
    main()

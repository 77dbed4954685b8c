"""Load the central server on loopback: push throughput and authorize latency.

Starts a real server (uvicorn, its own process) on a fresh event for each
engine, enrolls N simulated terminals, and drives them from one asyncio loop:

* push: every terminal sends pre-signed sales in batches; prints records/s;
* authorize: 50 terminals each authorize a sale, wait a random think time
  (exponential, mean ``--think-ms``), repeat; prints p50/p95/p99 latency;
  then once more with no think time (closed loop, saturation).

The client shares the machine with the server, so it is kept cheap: every record
is signed and every request encoded before the clock starts, and authorize goes
over raw HTTP/1.1 keep-alive connections (one per terminal), not httpx.  The load
average is printed with the figures: other processes on the machine move them.

    .venv/bin/python bench/server_load.py                 # SQLite, plus PostgreSQL if reachable
    .venv/bin/python bench/server_load.py --engines sqlite --records 20000

PostgreSQL comes from ENNICHI_TEST_PG_URL (a fresh database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.testing import (  # noqa: E402
    Seeder,
    TestTerminal,
    fresh_postgres_database,
    init_test_event,
    postgres_for_tests,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(data_dir: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "ENNICHI_DATA_DIR": str(data_dir), "ENNICHI_DATABASE_URL": url,
           "ENNICHI_LOG_LEVEL": "warning", "ENNICHI_MAX_INFLIGHT": "128", "ENNICHI_ADMISSION_WAIT_MS": "2000"}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from server.cli import main; "
                             f"sys.exit(main(['run', '--port', '{port}']))"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _push(base: str, terms: list[TestTerminal], batches: list[list[list[dict]]]) -> float:
    async def one(term: TestTerminal, mine: list[list[dict]]) -> None:
        async with httpx.AsyncClient(base_url=base, headers=term.headers, timeout=120) as c:
            for batch in mine:
                r = await c.post("/api/v1/push", json={"records": batch})
                r.raise_for_status()
                bad = [i for i in r.json()["results"] if i["status"] != "applied"]
                if bad:
                    raise RuntimeError(f"unexpected push result {bad[0]}")

    start = time.perf_counter()
    await asyncio.gather(*(one(t, b) for t, b in zip(terms, batches, strict=True)))
    return time.perf_counter() - start


def _authorize_requests(base: str, term: TestTerminal, cashier: int, wallet: int, count: int) -> list[bytes]:
    """``count`` complete HTTP/1.1 requests, each with a freshly signed sale."""
    host = base.removeprefix("http://")
    out = []
    for _ in range(count):
        body = json.dumps({"record": term.sale(wallet_id=wallet, amount=1500, staff_id=cashier)}).encode()
        out.append(f"POST /api/v1/authorize HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {term.api_token}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    return out


async def _roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(int(v) for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "content-length")
    return status, await reader.readexactly(length)


async def _authorize(base: str, requests: list[list[bytes]], *, seconds: float,
                     think_ms: float) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    errors = 0
    ran_out = 0
    host, port = base.removeprefix("http://").split(":")
    stop_at = time.perf_counter() + seconds

    async def one(mine: list[bytes]) -> None:
        nonlocal errors, ran_out
        reader, writer = await asyncio.open_connection(host, int(port))  # connected before the clock matters
        if think_ms:  # terminals do not all start in the same millisecond
            await asyncio.sleep(random.uniform(0, think_ms) / 1000)
        for request in mine:
            if time.perf_counter() >= stop_at:
                break
            t0 = time.perf_counter()
            try:
                status, body = await _roundtrip(reader, writer, request)
            except (asyncio.IncompleteReadError, ConnectionError):  # uvicorn closes idle keep-alives after 5 s
                writer.close()
                reader, writer = await asyncio.open_connection(host, int(port))
                status, body = await _roundtrip(reader, writer, request)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200 or b'"approved":true' not in body:
                errors += 1
            if think_ms:
                await asyncio.sleep(random.expovariate(1 / think_ms) / 1000)
        else:
            ran_out += 1
        writer.close()

    await asyncio.gather(*(one(mine) for mine in requests))
    return latencies, errors, ran_out


def run_engine(engine: str, args: argparse.Namespace) -> None:
    drop = None
    url = ""
    if engine == "postgres":
        url, drop = fresh_postgres_database(postgres_for_tests())
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings, _admin = init_test_event(data, database_url=url)
        seed = Seeder(settings)
        stall = seed.stall()
        cashier = seed.staff("Bench", roles=[("cashier", "event", None)])
        terms = [seed.terminal("stall", stall_id=stall) for _ in range(max(args.terminals, 50))]
        wallets = seed.wallets(max(args.wallets, 50), balance=10**9)
        seed.close()
        proc, base = _start_server(data, settings.url)
        try:
            push_terms = terms[:args.terminals]
            per_term = args.records // len(push_terms)
            batches = []
            for term in push_terms:
                recs = [term.sale(wallet_id=random.choice(wallets), amount=random.randint(100, 900),
                                  staff_id=cashier) for _ in range(per_term)]
                batches.append([recs[i:i + args.batch] for i in range(0, len(recs), args.batch)])
            elapsed = asyncio.run(_push(base, push_terms, batches))
            total = per_term * len(push_terms)
            print(f"[{engine}] push: {total} records from {len(push_terms)} terminals in batches of {args.batch}: "
                  f"{elapsed:.2f} s = {total / elapsed:,.0f} records/s")
            runs = [(f"think {args.think_ms:.0f} ms", args.think_ms, args.seconds * 3000 / args.think_ms + 20)]
            if not args.no_closed_loop:
                runs.append(("closed loop", 0.0, args.seconds * args.closed_rate / 50))
            for label, think, per_terminal in runs:
                requests = [_authorize_requests(base, term, cashier, wallet, int(per_terminal))
                            for term, wallet in zip(terms[:50], wallets[:50], strict=True)]
                load_before = os.getloadavg()[0]
                lat, errors, ran_out = asyncio.run(_authorize(base, requests, seconds=args.seconds, think_ms=think))
                print(f"[{engine}] authorize, 50 terminals, {label}: {len(lat)} requests "
                      f"({len(lat) / args.seconds:,.0f}/s), p50 {statistics.median(lat):.1f} ms, "
                      f"p95 {_pct(lat, 0.95):.1f} ms, p99 {_pct(lat, 0.99):.1f} ms, max {max(lat):.1f} ms, "
                      f"not approved {errors}; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
                      + (f"; {ran_out} terminals ran out of pre-signed requests" if ran_out else ""))
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            if drop:
                drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--terminals", type=int, default=20, help="terminals pushing at once")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--wallets", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each authorize run")
    parser.add_argument("--think-ms", type=float, default=2000.0, help="mean pause between a terminal's sales")
    parser.add_argument("--closed-rate", type=float, default=1500.0,
                        help="requests/s to pre-sign for in the closed loop (all terminals)")
    parser.add_argument("--no-closed-loop", action="store_true")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        try:
            run_engine(engine.strip(), args)
        except Exception as exc:  # one engine's failure should not hide the other's figures
            print(f"[{engine}] failed: {type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

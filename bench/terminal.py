"""Terminal benchmarks: offline decision-to-durable latency, and draining an outbox after an outage.

    .venv/bin/python bench/terminal.py [--sales 2000] [--drain 10000]

1. Offline sale latency: ``Terminal.sell`` at or under the floor limit, from
   the call to the return of the decision, which includes the SQLite commit
   of record + outbox with ``synchronous=FULL`` (the fsync).  Target: p95 < 10 ms.
2. Outbox drain: a terminal collects ``--drain`` offline sales while no sync
   runs (the outage), then one ``sync_now`` pushes them all (batches of 500)
   to a real server on loopback (server.testing, SQLite) and pulls.  Target: < 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.ids import format_short_id
from sync.keys import IssuerKey, SigningKey, public_key_to_b64, save_private_key
from sync.schemas import (
    EnrollResponse,
    EventSettings,
    IssuerKeyRow,
    PullResponse,
    RoleRow,
    StaffRow,
    StallRow,
    StatementRow,
    TerminalMode,
    TerminalRow,
)
from terminal.decisions import Cart
from terminal.engine import KEY_NAME, Terminal

BIG = EventSettings(floor_limit=1000, offline_limit=10**9, unsynced_cap=10**12, max_offline_s=7 * 86400,
                    staff_idle_logout_s=86400, pull_interval_s=600)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_latency(work: Path, sales: int) -> None:
    from argon2 import PasswordHasher

    from sync.permissions import Permission, ScopeKind
    from sync.tokens import StaffBadge, encode_token

    issuer = IssuerKey.generate(1)
    term = Terminal.open(work / "lat")
    save_private_key(SigningKey.generate(), term.data_dir / KEY_NAME)
    now = int(time.time() * 1000)
    keys = [IssuerKeyRow(key_id=1, public_key=public_key_to_b64(issuer.public))]
    me = TerminalRow(terminal_id=1, name="bench", mode=TerminalMode.STALL, stall_id=1)
    term.store.save_enrollment("http://127.0.0.1:9", EnrollResponse(terminal=me, api_token="x" * 32,
                               issuer_keys=keys, settings=BIG, server_time_ms=now), now_ms=now)
    wallets = list(range(1000, 1200))
    staff = StaffRow(staff_id=7, name="bench", pin_hash=PasswordHasher().hash("1234"),
                     roles=[RoleRow(role="cashier", permissions=[Permission.SELL], scope_kind=ScopeKind.STALL,
                                    scope_id=1)])
    term.store.apply_pull(PullResponse(
        cursor="1", more=False, server_time_ms=now, terminal=me, settings=BIG, issuer_keys=keys,
        stalls=[StallRow(id=1, name="s", allow_free_amount=True)], staff=[staff],
        statements=[StatementRow(wallet_id=w, balance=10**9, seq=1) for w in wallets]), now_ms=now)
    now_s = now // 1000
    assert term.login(encode_token(StaffBadge(7, now_s, now_s + 3600), issuer), "1234").ok
    texts = [format_short_id(w) for w in wallets]
    latencies = []
    for i in range(sales):
        started = time.perf_counter()
        decision = term.sell(Cart.amount(100 + i % 900), texts[i % len(texts)])
        latencies.append((time.perf_counter() - started) * 1000)
        assert decision.approved, decision
    term.close()
    print(f"offline sale, decision to durable ({sales} sales, synchronous=FULL, WAL): "
          f"p50 {statistics.median(latencies):.2f} ms  p95 {percentile(latencies, 0.95):.2f} ms  "
          f"p99 {percentile(latencies, 0.99):.2f} ms  max {max(latencies):.2f} ms")


def bench_drain(work: Path, count: int) -> None:
    from server.testing import Seeder, init_test_event, run_server_in_thread

    settings, _ = init_test_event(work / "server", event=BIG)
    seed = Seeder(settings)
    url, stop = run_server_in_thread(settings)
    try:
        stall = seed.stall("Bench", free_amount=True)
        cashier = seed.staff("Bench", pin="1234", roles=[("cashier", "stall", stall)])
        wallets = seed.wallets(200, balance=10**9)
        term = Terminal.open(work / "drain")
        term.enroll(seed.enrollment_code("stall", stall_id=stall, base_url=url))
        term.sync_now()
        assert term.login(seed.badge(cashier), "1234").ok
        texts = [format_short_id(w) for w in wallets]
        started = time.perf_counter()
        with term.store.write():  # the outage: collect the outbox fast, one commit (not what a till does)
            for i in range(count):
                assert term.sell(Cart.amount(100 + i % 900), texts[i % len(texts)]).approved
        made = time.perf_counter() - started
        assert term.status().unsynced_count == count
        started = time.perf_counter()
        status = term.sync_now()
        drained = time.perf_counter() - started
        assert status.unsynced_count == 0 and status.online, status
        term.close()
        print(f"outbox drain after an outage: {count} records pushed (batches of 500) and pulled in "
              f"{drained:.2f} s ({count / drained:.0f} records/s) against a local server (SQLite); "
              f"collecting them took {made:.2f} s")
    finally:
        stop()
        seed.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=2000)
    parser.add_argument("--drain", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.sales:
            bench_latency(work, args.sales)
        if args.drain:
            bench_drain(work, args.drain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

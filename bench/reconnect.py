"""Reconnection after a network cut: how long until a till's backlog is drained once the network is back.

    .venv/bin/python bench/reconnect.py [--runs 8] [--seed 23] [--legacy]

A real server (server.testing, SQLite) on loopback behind a fault proxy
(tests/helpers/loopback_proxy.py); one in-process terminal with its background
sync loop running, as on a till.  Each run (seeded): cut the network (connections
reset, or a silent blackhole), sell 20 offline sales for a few seconds, restore
the network, and time from the restore until the terminal's outbox is empty
(every record acknowledged by the server).  Prints p50/p95/max over the runs.
``--legacy`` uses the old backoff (exponential to 30 s from the first failure)
for comparison.  Target (issue 23): p95 < 5 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "helpers"), str(ROOT / "tests" / "terminal")]

import httpx  # noqa: E402

from sync.ids import format_short_id  # noqa: E402
from sync.loop import Backoff  # noqa: E402
from sync.schemas import EventSettings  # noqa: E402
from terminal.decisions import Cart  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_for(what: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not what():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("not reached")
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--legacy", action="store_true", help="the old backoff: 0.5 s doubling to 30 s")
    args = parser.parse_args()
    from terminal_live import Live

    rng = random.Random(args.seed)
    event = EventSettings(floor_limit=1000, offline_limit=100_000, unsynced_cap=10_000_000, push_debounce_ms=200,
                          pull_interval_s=5, authorize_timeout_ms=1500, staff_idle_logout_s=86400)
    with tempfile.TemporaryDirectory() as tmp:
        live = Live(Path(tmp), event)
        seed_rng = random.Random(args.seed + 1)

        def backoff() -> Backoff:
            if args.legacy:
                return Backoff(base=0.5, cap=30.0, fast_window_s=0, rng=random.Random(seed_rng.random()))
            return Backoff(rng=random.Random(seed_rng.random()))

        wallets = live.seed.wallets(20, balance=1_000_000)
        term = live.terminal(Path(tmp) / "till", sync_timeout=httpx.Timeout(3.0), backoff=backoff)
        service = term.sync_service()
        service.start()
        figures: list[float] = []
        try:
            for run in range(args.runs):
                mode = rng.choice(["drop", "stall"])
                cut_s = rng.uniform(2.0, 5.0)
                live.proxy.set_mode(mode)  # type: ignore[arg-type]
                started = time.monotonic()
                for _ in range(20):
                    decision = term.sell(Cart.amount(rng.choice([200, 500, 800])),
                                         format_short_id(rng.choice(wallets)))
                    assert decision.approved, decision
                    time.sleep(cut_s / 40)
                time.sleep(max(0.0, cut_s - (time.monotonic() - started)))
                assert term.status().unsynced_count > 0
                live.proxy.set_mode("pass")
                restored = time.monotonic()
                wait_for(lambda: term.status().unsynced_count == 0, 60.0)
                figures.append(time.monotonic() - restored)
                print(f"run {run + 1}: {mode:5s} cut {cut_s:4.1f} s -> backlog drained {figures[-1]:5.2f} s "
                      "after the network came back", flush=True)
        finally:
            service.stop()
            term.close()
            live.close()
    label = "legacy backoff (0.5 s doubling to 30 s)" if args.legacy else "backoff 0.5-1.5 s for the first minute"
    print(f"\n{label}, {len(figures)} runs, seed {args.seed}: drained after the restore in "
          f"p50 {statistics.median(figures):.2f} s, p95 {percentile(figures, 0.95):.2f} s, max {max(figures):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

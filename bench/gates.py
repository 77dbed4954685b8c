"""Gate benchmark: check-ins a gate terminal decides and stores per second, and gate-to-gate lag.

    .venv/bin/python bench/gates.py [--tickets 2000] [--samples 20]

1. Throughput: one headless gate terminal (real SQLite file, WAL, synchronous=FULL),
   enrolled on a real server on loopback with its background sync running at the
   default intervals, decides ``--tickets`` distinct tickets back to back.  Each
   decision is durable (record + outbox committed) before the next scan.
   Target: at least 20 per second.
2. Lag: two gate terminals, both online with the default intervals (push debounce
   300 ms, pull every 3 s).  A ticket is admitted at gate A; the time until gate B's
   database holds that check-in (so B would refuse the ticket) is measured by
   polling B's file every 10 ms.  Target: under 5 s.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.issuer import IssuerKeys
from server.testing import Seeder, init_test_event, run_server_in_thread
from server.tickets import IssuedTicket, TicketRequest, issue_tickets
from terminal.engine import DB_NAME, Terminal

PIN = "1234"


def _gate(seed: Seeder, url: str, gate_id: int, keeper: int, path: Path) -> Terminal:
    term = Terminal.open(path)
    term.enroll(seed.enrollment_code("gate", gate_id=gate_id, base_url=url), name=path.name)
    if not term.sync_now().online:
        raise SystemExit("the gate could not reach the server")
    if not term.login(seed.badge(keeper), PIN).ok:
        raise SystemExit("the gatekeeper could not log in")
    return term


def _issue(seed: Seeder, ticket_type: int, count: int) -> list[IssuedTicket]:
    with seed.db.write() as conn:
        issuer = IssuerKeys(seed.settings.issuer_key_path).active(conn)
        return issue_tickets(conn, [TicketRequest(ticket_type)] * count, issuer=issuer, now_ms=seed.clock())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    """Run both measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ennichi-bench-gates-") as tmp_text:
        tmp = Path(tmp_text)
        settings, _ = init_test_event(tmp / "server")
        seed = Seeder(settings)
        url, stop = run_server_in_thread(settings)
        try:
            gate_a, gate_b = seed.gate("North"), seed.gate("South")
            single = seed.ticket_type("Day pass", "single")
            keeper = seed.staff("Kenta", pin=PIN, roles=[("gatekeeper", "event", None)])
            tickets = _issue(seed, single, args.tickets + args.samples)
            a = _gate(seed, url, gate_a, keeper, tmp / "gate-a")
            b = _gate(seed, url, gate_b, keeper, tmp / "gate-b")
            a.start_sync()

            latencies = []
            started = time.perf_counter()
            for ticket in tickets[:args.tickets]:
                t0 = time.perf_counter()
                decision = a.check_in(ticket.token, "in")
                latencies.append((time.perf_counter() - t0) * 1000)
                if not decision.approved:
                    raise SystemExit(f"unexpected refusal: {decision}")
            took = time.perf_counter() - started
            print(f"throughput: {args.tickets} check-ins decided and stored in {took:.2f} s = "
                  f"{args.tickets / took:.0f}/s (target >= 20/s); per decision p50 "
                  f"{statistics.median(latencies):.1f} ms, p99 {_pct(latencies, 0.99):.1f} ms, "
                  f"max {max(latencies):.1f} ms (background sync running)")
            deadline = time.monotonic() + 60
            while a.status().unsynced_count and time.monotonic() < deadline:
                time.sleep(0.1)
            b.start_sync()
            time.sleep(4)  # let B finish pulling the throughput run's check-ins

            watcher = sqlite3.connect(f"file:{tmp / 'gate-b' / DB_NAME}?mode=ro", uri=True)
            lags = []
            rng = random.Random(1)
            for ticket in tickets[args.tickets:]:
                time.sleep(rng.uniform(0, 3))  # scans at random points of B's pull cycle
                decision = a.check_in(ticket.token, "in")
                t0 = time.perf_counter()
                while watcher.execute("SELECT 1 FROM checkins WHERE id = ?", (decision.record_id,)).fetchone() is None:
                    if time.perf_counter() - t0 > 30:
                        raise SystemExit("gate B never learned of the check-in")
                    time.sleep(0.01)
                lags.append(time.perf_counter() - t0)
            watcher.close()
            print(f"gate-to-gate lag over {len(lags)} check-ins (defaults: push debounce 300 ms, pull every 3 s): "
                  f"p50 {statistics.median(lags):.2f} s, p90 {_pct(lags, 0.9):.2f} s, max {max(lags):.2f} s "
                  f"(target < 5 s)")
            a.close()
            b.close()
        finally:
            stop()
            seed.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

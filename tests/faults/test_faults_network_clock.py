"""In-process terminals syncing in the background through a chaotic network, with clocks that jump.

Two ``Terminal`` engines (each its own SQLite file) sell through the chaos proxy
(seeded drops, delays, replayed requests, lost answers, cuts) to a real server
process, which is also restarted gracefully and killed once.  Each terminal's
injected clock jumps forward (past ``max_offline_s`` and token lifetimes would
matter; records are still unique and bookable) and backward.  At the end the
network is clean again, both terminals drain, and the ledger invariant holds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from fault_helpers import PIN, Event
from ledger_invariant import ledger_breaks, local_records
from loopback_proxy import ChaosProxy

from sync.ids import format_short_id
from sync.loop import Backoff
from terminal.clock import SystemClock
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal

SEED = 20261124
CHAOS = {"pass": 0.6, "delay": 0.15, "duplicate": 0.1, "drop": 0.08, "lose": 0.07}


class JumpingClock(SystemClock):
    """The real clock plus an offset the test moves: the wall time jumps, the monotonic time does not."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return super().now_ms() + self.offset_ms

    def jump(self, seconds: float) -> None:
        with self._lock:
            self.offset_ms += int(seconds * 1000)


def wait_for(what: Callable[[], bool], timeout: float = 90.0) -> None:
    """Poll a condition until a deadline (a bound, not a timing assertion); raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def test_chaotic_network_server_restarts_and_clock_jumps_keep_the_books_whole(event: Event, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    wallets = event.seed.wallets(8, balance=10**8)
    proxy = ChaosProxy(event.server.port, seed=SEED)
    clocks = [JumpingClock(), JumpingClock()]
    dirs = [tmp_path / "a", tmp_path / "b"]
    terms: list[Terminal] = []
    reported: set[str] = set()
    jumps: list[float] = []
    try:
        for data_dir, clock in zip(dirs, clocks, strict=True):
            term = Terminal.open(data_dir, clock=clock, transport=None, sync_timeout=httpx.Timeout(3.0),
                                 backoff=lambda: Backoff(base=0.05, cap=0.5, rng=random.Random(SEED)))
            term.enroll(event.code(proxy.url), name=data_dir.name)
            assert term.sync_now().online
            assert term.login(event.badge(), PIN).ok
            term.start_sync()
            terms.append(term)
        proxy.set_weights(**CHAOS)
        declined: list[DeclineReason] = []
        for step in range(240):
            term = terms[step % 2]
            if step % 40 == 20:  # a clock jumps: forward by hours, or back by minutes to a day
                jump = rng.choice([2 * 3600.0, 26 * 3600.0, -600.0, -86400.0])
                clocks[step % 2].jump(jump)
                jumps.append(jump)
            if step == 80:
                event.server.restart(hard=False)  # a graceful restart mid-traffic
            if step == 160:
                event.server.restart(hard=True)  # SIGKILL mid-traffic
            if step in (100, 200):
                proxy.cut()
            amount = rng.choice([200, 500, 800, 1200, 3000])  # above 1000: online, or the offline fallback
            decision = term.sell(Cart.amount(amount), format_short_id(rng.choice(wallets)))
            if decision.approved:
                assert decision.record_id is not None
                reported.add(decision.record_id)
            else:
                assert decision.reason is not None
                declined.append(decision.reason)
            time.sleep(rng.uniform(0.0, 0.03))
        proxy.set_weights(**{"pass": 1.0})
        for term in terms:
            wait_for(lambda term=term: term.status().online and term.status().unsynced_count == 0)  # type: ignore[misc]
    finally:
        for term in terms:
            term.stop_sync()
            term.close()
        proxy.close()

    assert len(reported) > 100
    assert any(j > 0 for j in jumps) and any(j < 0 for j in jumps)
    # The forward jumps beyond max_offline_s may stop offline approvals while the network is down; nothing else.
    assert set(declined) <= {DeclineReason.SYNC_TOO_OLD, DeclineReason.SERVER_UNREACHABLE, DeclineReason.OFFLINE_LIMIT}
    assert proxy.counts["duplicate"] and proxy.counts["lose"] and proxy.counts["drop"] and proxy.counts["delay"]
    breaks = ledger_breaks(event.seed.db, local_records(dirs), reported)
    assert not breaks, "\n".join(breaks)

"""SIGKILLs of terminals and of the server, through a network that drops, delays, replays and loses answers.

A headless terminal (a real ``ennichi terminal --headless`` process, tests/terminal's
``HeadlessProcess``) sells against a real ``ennichi server run`` process through the
chaos proxy.  At seeded random moments the terminal is SIGKILLed, and in some rounds
the server too (restarted on the same port).  Then the terminal piles up an outbox
offline and the server is SIGKILLed while it applies that push batch.  Afterwards:
every sale the terminal reported approved is on the server exactly once, the server
holds nothing the terminal did not record, and reconciliation passes.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

from fault_helpers import PIN, Event
from ledger_invariant import ledger_breaks, local_records
from loopback_proxy import ChaosProxy
from terminal_process import HeadlessProcess

from sync.ids import format_short_id

SEED = 20261123
ROUNDS = int(os.environ.get("ENNICHI_FAULT_ROUNDS", "10"))
CHAOS = {"pass": 0.7, "delay": 0.1, "duplicate": 0.1, "drop": 0.05, "lose": 0.05}


def _sells(rng: random.Random, wallets: list[int], count: int) -> list[dict[str, object]]:
    return [{"cmd": "sell", "wallet": format_short_id(rng.choice(wallets)),
             "amount": rng.choice([100, 300, 500, 800, 1000, 1500, 2500])} for _ in range(count)]


def _collect(proc: HeadlessProcess, reported: set[str]) -> None:
    reported.update(r["id"] for r in proc.results if r.get("approved"))


def test_terminal_and_server_sigkills_lose_and_duplicate_nothing(event: Event, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    wallets = event.seed.wallets(5, balance=10**8)
    proxy = ChaosProxy(event.server.port, seed=SEED)
    data, log = tmp_path / "term", tmp_path / "terminal.log"
    reported: set[str] = set()
    server_kills = terminal_kills = 0
    try:
        first = HeadlessProcess(data, log=log)
        assert first.call({"cmd": "enroll", "code": event.code(proxy.url)})["ok"]
        assert first.call({"cmd": "sync"})["ok"]
        first.quit()
        proxy.set_weights(**CHAOS)

        for _ in range(ROUNDS):
            proc = HeadlessProcess(data, log=log)
            proc.send({"cmd": "login", "badge": event.badge(), "pin": PIN})
            feeder = threading.Thread(target=proc.send, args=tuple(_sells(rng, wallets, 200)), daemon=True)
            feeder.start()
            proc.wait_results(1)
            time.sleep(rng.uniform(0.05, 0.8))
            kill_server = rng.random() < 0.5
            if kill_server:  # the server dies first, mid-traffic; the terminal goes on offline for a moment
                event.server.kill()
                server_kills += 1
                time.sleep(rng.uniform(0.0, 0.3))
            proc.kill()
            terminal_kills += 1
            feeder.join(10)
            _collect(proc, reported)
            if kill_server:
                event.server.start()

        # An outbox of offline sales, then the server is SIGKILLed while it applies the push batch.
        proxy.set_down(True)
        proc = HeadlessProcess(data, log=log)
        proc.send({"cmd": "login", "badge": event.badge(), "pin": PIN})
        offline = _sells(rng, wallets, 300)
        for sell in offline:
            sell["amount"] = rng.choice([100, 300, 500])  # at or under the floor limit: decided offline
        proc.send(*offline)
        proc.wait_results(301, timeout=120)
        _collect(proc, reported)
        killed = threading.Event()

        def kill_mid_push(path: str) -> None:
            if path.endswith("/push") and not killed.is_set():
                killed.set()
                threading.Timer(rng.uniform(0.01, 0.08), event.server.kill).start()

        proxy.set_weights(**{"pass": 1.0})
        proxy.on_request = kill_mid_push
        proxy.set_down(False)
        deadline = time.monotonic() + 60
        while not killed.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert killed.is_set(), "the terminal never pushed"
        time.sleep(0.3)
        proxy.on_request = None
        event.server.kill()  # reaps the killed process (the timer may still be about to fire: it is idempotent)
        server_kills += 1
        event.server.start()
        proc.kill()
        terminal_kills += 1

        final = HeadlessProcess(data, log=log, sync=False)
        status = final.call({"cmd": "sync"}, timeout=120)
        if not status["ok"] or status["status"]["unsynced_count"]:
            status = final.call({"cmd": "sync"}, timeout=120)  # one more try: a previous cycle may have hit a fault
        assert status["ok"] and status["status"]["unsynced_count"] == 0, status
        final.quit()
    finally:
        proxy.close()

    assert terminal_kills == ROUNDS + 1 and server_kills >= 2
    assert len(reported) > 300
    assert proxy.counts["duplicate"] and proxy.counts["drop"] and proxy.counts["lose"]
    breaks = ledger_breaks(event.seed.db, local_records([data]), reported)
    assert not breaks, "\n".join(breaks)

"""A hot backup, more sales, the server SIGKILLed, the backup restored: every acknowledged record comes back.

Two real headless terminals (``ennichi terminal --headless``) sell against a real
``ennichi server run`` process.  A backup is taken while they sell; they sell more,
and every record is acknowledged.  The server is SIGKILLed and the backup restored
in its place (``restore_backup(force=True)``, as docs/runbook.md says), so the
server has gone back in time: hundreds of acknowledged records are gone and its
change numbers are behind the terminals' pull cursors.  A wallet is blocked on the
restored server.  When the terminals reconnect they see the new restore epoch,
send their acknowledged records again and pull from the start: the server holds
every record exactly once, reconciliation passes, and the block reaches them.

The figures (records sent again, how long the first contact took) are printed for
docs/runbook.md ("What a restore costs").
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_helpers import PIN
from ledger_invariant import ledger_breaks, local_records
from pg_helpers import postgres_base_url
from sqlalchemy import select
from terminal_process import HeadlessProcess

from server.backup import create_backup, restore_backup
from server.db import tables as t
from server.epoch import INITIAL_EPOCH, restore_epoch
from server.testing import Seeder, ServerProcess, fresh_postgres_database, init_test_event
from server.wallets import set_blocked
from sync.ids import format_short_id
from sync.schemas import EventSettings
from terminal.store import Store

SEED = 20261202
TERMINALS = 2
BEFORE, DURING, AFTER = 60, 60, 120  # sales per terminal: before, while and after the backup is taken
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
        return
    url, drop = fresh_postgres_database(postgres_base_url())
    try:
        yield url
    finally:
        drop()


def _sells(rng: random.Random, wallets: list[int], count: int) -> list[dict[str, object]]:
    return [{"cmd": "sell", "wallet": format_short_id(rng.choice(wallets)),
             "amount": rng.choice([100, 300, 500, 800, 1000, 1500, 2500])} for _ in range(count)]


def _sell(procs: list[HeadlessProcess], rng: random.Random, wallets: list[int], count: int) -> list[int]:
    """Send ``count`` sales to each (idle) terminal; returns where their results start."""
    marks = []
    for proc in procs:
        marks.append(len(proc.results))
        proc.send(*_sells(rng, wallets, count))
    return marks


def _approved(proc: HeadlessProcess, mark: int, count: int, reported: set[str]) -> None:
    results = proc.wait_results(mark + count, timeout=180)[mark:mark + count]
    assert all(r.get("approved") for r in results), [r for r in results if not r.get("approved")][:3]
    reported.update(str(r["id"]) for r in results)


def _sync_until_clean(proc: HeadlessProcess) -> dict[str, object]:
    status: dict[str, object] = {}
    for _ in range(5):
        status = proc.call({"cmd": "sync"}, timeout=120)
        assert "status" in status, status
        if status["ok"] and status["status"]["unsynced_count"] == 0:  # type: ignore[index]
            return status
    raise AssertionError(f"the terminal never synced clean: {status}")


@pytest.mark.parametrize("database_url", ENGINES, indirect=True)
def test_restore_of_a_hot_backup_gets_every_acknowledged_record_back(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    settings, _ = init_test_event(tmp_path / "server", database_url=database_url, event=EventSettings(
        floor_limit=1000, offline_limit=1_000_000, unsynced_cap=10**8, max_offline_s=7 * 86400,
        push_debounce_ms=20, pull_interval_s=1, authorize_timeout_ms=1500, overdraft_tolerance=10**8,
        staff_idle_logout_s=86400))
    seed = Seeder(settings)
    server = ServerProcess(settings, log=tmp_path / "server.log")
    server.start()
    dirs = [tmp_path / f"term{i}" for i in range(TERMINALS)]
    log = tmp_path / "terminal.log"
    try:
        stall = seed.stall("Yatai", free_amount=True)
        cashier = seed.staff("Hana", pin=PIN, roles=[("supervisor", "stall", stall)])
        wallets = seed.wallets(6, balance=10**8)
        procs = [HeadlessProcess(d, log=log) for d in dirs]
        for i, proc in enumerate(procs):
            code = seed.enrollment_code("stall", stall_id=stall, base_url=server.url)
            assert proc.call({"cmd": "enroll", "code": code, "name": f"Stall {i}"})["ok"]
            assert proc.call({"cmd": "sync"})["ok"]
            assert proc.call({"cmd": "login", "badge": seed.badge(cashier), "pin": PIN})["ok"]
        reported: set[str] = set()
        marks = _sell(procs, rng, wallets, BEFORE)
        for proc, mark in zip(procs, marks, strict=True):
            _approved(proc, mark, BEFORE, reported)
            _sync_until_clean(proc)

        # the hot backup, while both terminals sell and push
        during = _sell(procs, rng, wallets, DURING)
        archive = tmp_path / "hot.tar.gz"
        backup = threading.Thread(target=create_backup, args=(settings, archive), kwargs={"now_ms": seed.clock()})
        time.sleep(0.2)
        backup.start()
        backup.join(300)
        assert archive.is_file()
        _sell(procs, rng, wallets, AFTER)
        for proc, mark in zip(procs, during, strict=True):
            _approved(proc, mark, DURING + AFTER, reported)  # the terminal answers in order
            _sync_until_clean(proc)  # every record acknowledged: the terminals were told it is safe
            proc.quit()
        acknowledged = local_records(dirs)
        assert set(reported) <= set(acknowledged) and len(reported) == TERMINALS * (BEFORE + DURING + AFTER)
        assert not ledger_breaks(seed.db, acknowledged, reported)

        server.kill()
        seed.db.engine.dispose()
        result = restore_backup(archive, settings, now_ms=seed.clock(), force=True)
        with seed.db.read() as conn:
            on_server = set(conn.execute(select(t.records.c.id)).scalars())
            epoch = restore_epoch(conn)
        lost = set(acknowledged) - on_server
        assert len(lost) >= TERMINALS * AFTER, "the backup was not taken before the later sales"
        assert epoch != INITIAL_EPOCH and any(epoch in note for note in result.notes)
        blocked_wallet = wallets[0]
        with seed.db.write() as conn:
            set_blocked(conn, blocked_wallet, blocked=True, reason="lost card", now_ms=seed.clock())
        server.start()

        resent = 0
        started = time.monotonic()
        for d in dirs:
            proc = HeadlessProcess(d, log=log, sync=False)
            _sync_until_clean(proc)
            events = proc.call({"cmd": "security"})["events"]
            proc.quit()
            restored = [e for e in events if e["event"] == "server_restored"]
            assert len(restored) == 1, events
            resent += int(str(restored[0]["detail"]).split()[0])
        elapsed = time.monotonic() - started
        assert resent == len(acknowledged)  # everything acknowledged under the old epoch went again
        print(f"\n[restore {'sqlite' if settings.is_sqlite else 'postgresql'}] {len(acknowledged)} acknowledged, "
              f"{len(lost)} lost by the restore, {resent} sent again by {TERMINALS} terminals, "
              f"first contact of all terminals {elapsed:.2f} s")

        breaks = ledger_breaks(seed.db, local_records(dirs), reported)
        assert not breaks, "\n".join(breaks)
        for d in dirs:  # the pull started over: the block made after the restore reached every terminal
            store = Store(d / "terminal.db", migrate=False)
            try:
                assert store.is_revoked("wallet", blocked_wallet)
                assert store.server_epoch() == epoch
            finally:
                store.close()
    finally:
        server.stop()
        seed.close()

"""Fault-injection fixtures: a real server process (killable), the shared helpers on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for helper_dir in (TESTS / "helpers", TESTS / "terminal"):  # shared helpers are plain modules, not a package
    if str(helper_dir) not in sys.path:
        sys.path.insert(0, str(helper_dir))

from fault_helpers import PIN, Event  # noqa: E402

from server.testing import Seeder, ServerProcess, init_test_event  # noqa: E402
from sync.schemas import EventSettings  # noqa: E402


@pytest.fixture
def event(tmp_path: Path) -> Iterator[Event]:
    settings, _ = init_test_event(tmp_path / "server", event=EventSettings(
        floor_limit=1000, offline_limit=1_000_000, unsynced_cap=10**8, max_offline_s=7 * 86400,
        push_debounce_ms=20, pull_interval_s=1, authorize_timeout_ms=1500, overdraft_tolerance=10**8,
        staff_idle_logout_s=86400))
    seed = Seeder(settings)
    server = ServerProcess(settings, log=tmp_path / "server.log")
    server.start()
    stall = seed.stall("Yatai", free_amount=True)
    cashier = seed.staff("Hana", pin=PIN, roles=[("supervisor", "stall", stall)])
    try:
        yield Event(seed, server, stall, cashier)
    finally:
        server.stop()
        seed.close()

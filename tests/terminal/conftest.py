"""Terminal test fixtures (helpers live in terminal_helpers.py, a uniquely named module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from terminal_helpers import Env, EventSettings, FakeClock, IssuerKey


@pytest.fixture
def env(tmp_path: Path) -> Any:
    e = Env(tmp_path, FakeClock(), IssuerKey.generate(5),
            EventSettings(floor_limit=1000, offline_limit=3000, unsynced_cap=100_000, max_offline_s=3600,
                          staff_idle_logout_s=86400))
    yield e
    if e.terminal is not None:
        e.terminal.close()


@pytest.fixture
def live(tmp_path: Path) -> Any:
    """A real server on loopback with a fault proxy in front (events tuned for quick sync)."""
    from terminal_live import Live

    event = EventSettings(floor_limit=1000, offline_limit=3000, push_debounce_ms=50, pull_interval_s=1,
                          authorize_timeout_ms=500, overdraft_tolerance=1000, staff_idle_logout_s=86400)
    e = Live(tmp_path, event)
    yield e
    e.close()

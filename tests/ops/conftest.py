"""Fixtures for the operations suite: fresh events on SQLite and PostgreSQL, the admin commands.

PostgreSQL comes from ``ENNICHI_TEST_PG_URL`` as in ``tests/server`` (fails under ``CI``
when unreachable, skips otherwise); every test gets its own databases and drops them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from pg_helpers import postgres_base_url

from server.testing import fresh_postgres_database


@pytest.fixture
def new_database() -> Iterator[Callable[[str], str]]:
    """``new_database(engine)``: '' for SQLite (a file in the data dir), else a fresh PostgreSQL URL."""
    drops: list[Callable[[], None]] = []

    def make(engine: str) -> str:
        if engine == "sqlite":
            return ""
        url, drop = fresh_postgres_database(postgres_base_url())
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands under test must not pick up a developer's ENNICHI_* environment."""
    for name in list(os.environ):
        if name.startswith("ENNICHI_") and name != "ENNICHI_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


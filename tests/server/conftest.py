"""Fixtures for the server suite: a fresh event per test on SQLite and on PostgreSQL.

PostgreSQL comes from ``ENNICHI_TEST_PG_URL`` (default
``server.testing.DEFAULT_TEST_PG_URL``); each test gets its own database on that
server.  When no server answers, the PostgreSQL
half of the suite fails with a clear message under ``CI`` and is skipped
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pg_helpers import postgres_base_url
from server_harness import Event

from server.api.app import create_app
from server.testing import Seeder, fresh_postgres_database, init_test_event, run_server_in_thread


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def event(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Event]:
    """A fresh event on each engine."""
    drop: Callable[[], None] | None = None
    url = ""
    if request.param == "postgres":
        url, drop = fresh_postgres_database(postgres_base_url())
    settings, admin = init_test_event(tmp_path / "data", database_url=url)
    seed = Seeder(settings)
    try:
        yield Event(request.param, settings, seed, admin)
    finally:
        seed.close()
        if drop is not None:
            drop()


@pytest.fixture
def client(event: Event) -> Iterator[TestClient]:
    """The app in-process (plain API tests)."""
    with TestClient(create_app(event.settings), raise_server_exceptions=True) as c:
        yield c


@pytest.fixture
def live(event: Event) -> Iterator[str]:
    """A real uvicorn on loopback serving the event; yields its base URL."""
    base_url, stop = run_server_in_thread(event.settings)
    try:
        yield base_url
    finally:
        stop()

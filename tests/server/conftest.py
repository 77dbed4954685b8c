"""Fixtures for the server suite: a fresh event per test on SQLite and on PostgreSQL.

PostgreSQL comes from ``ENNICHI_TEST_PG_URL`` (default
``postgresql+psycopg://ennichi:ennichi@127.0.0.1:5432/ennichi_test``); each test
gets its own database on that server.  When no server answers, the PostgreSQL
half of the suite fails with a clear message under ``CI`` and is skipped
otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.api.app import create_app
from server.testing import Seeder, fresh_postgres_database, init_test_event, run_server_in_thread

DEFAULT_PG_URL = "postgresql+psycopg://ennichi:ennichi@127.0.0.1:5432/ennichi_test"
_pg_state: dict[str, str | None] = {}


def _postgres_base_url() -> str:
    """Return a reachable PostgreSQL URL, or fail (CI) / skip (elsewhere)."""
    if "url" not in _pg_state:
        url = os.environ.get("ENNICHI_TEST_PG_URL") or DEFAULT_PG_URL
        try:
            engine = create_engine(make_url(url).set(database="postgres"), connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["url"], _pg_state["error"] = url, None
        except Exception as exc:  # any failure to connect means: no PostgreSQL here
            _pg_state["url"], _pg_state["error"] = None, f"{type(exc).__name__}: {exc}"
    if _pg_state["url"] is None:
        message = (f"PostgreSQL is not reachable ({_pg_state['error']}); set ENNICHI_TEST_PG_URL, e.g. "
                   f"{DEFAULT_PG_URL}, and start the server (pg_ctlcluster 15 main start)")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return str(_pg_state["url"])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def event(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Event]:
    """A fresh event on each engine."""
    drop: Callable[[], None] | None = None
    url = ""
    if request.param == "postgres":
        url, drop = fresh_postgres_database(_postgres_base_url())
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

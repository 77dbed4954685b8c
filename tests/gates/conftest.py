"""Gate test fixtures (helpers live in gates_helpers.py, a uniquely named module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gates_helpers import Festival, festival_on


@pytest.fixture
def festival(tmp_path: Path) -> Iterator[Festival]:
    """A festival on SQLite."""
    fest, cleanup = festival_on(tmp_path, "sqlite")
    try:
        yield fest
    finally:
        cleanup()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def festival_any(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Festival]:
    """A festival on each engine (where the server's behaviour is what is tested)."""
    fest, cleanup = festival_on(tmp_path, request.param)
    try:
        yield fest
    finally:
        cleanup()

"""Fixtures of the security suite: one real event per module (uvicorn on loopback, API + web pages)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from security_harness import Event

from server.web.config import WebSettings


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Event]:
    ev = Event(Path(tmp_path_factory.mktemp("security")), WebSettings(poll_interval_s=1))
    try:
        yield ev
    finally:
        ev.close()

"""Fixtures of the web tests: a live server per module, one Chromium per module, a page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_harness import CHROMIUM, CHROMIUM_ARGS, Live, start_server, stop_server

from server.testing import Seeder


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    server = start_server(tmp_path_factory.mktemp("event"))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def seed(live: Live) -> Iterator[Seeder]:
    """Rows written straight into the module's live server's database (its clock)."""
    seeder = Seeder(live.settings, clock=live.clock)
    yield seeder
    seeder.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, live: Live) -> Iterator[object]:
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900},  # type: ignore[attr-defined]
                                  locale="en-US")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()



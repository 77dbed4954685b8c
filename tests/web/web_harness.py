"""A real uvicorn server on loopback with the dashboard mounted, and one headless Chromium per module.


The server's clock is a ``MovableClock`` the tests can push forward (lockout
expiry, token refresh); the database is a fresh SQLite file per module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.api.app import create_app
from server.bootstrap import init_event
from server.db.engine import Database
from server.settings import ServerSettings
from server.testing import MovableClock, loopback_socket, serve_in_thread
from server.web import include_web
from server.web.config import WebSettings
from sync.schemas import EventSettings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_PASSWORD = "festival-admin-pw"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
T0_MS = 1_785_200_400_000  # 2026-07-28 10:00 Asia/Tokyo, a festival morning


@dataclass
class Live:
    """A running server: its URL, database, settings and clock."""

    url: str
    db: Database
    settings: ServerSettings
    clock: MovableClock
    admin_id: int
    stop: Callable[[], None]


def start_server(data_dir: Path, *, database_url: str = "", web: WebSettings | None = None) -> Live:
    """Create an event in ``data_dir`` and serve it on a free loopback port."""
    sock = loopback_socket()  # the event's address is in its enrollment codes: the port comes first
    settings = ServerSettings.load(data_dir=data_dir, env={}, port=sock.getsockname()[1],
                                   database_url=database_url or None)
    clock = MovableClock(T0_MS)
    db = Database(settings.url, synchronous="NORMAL")
    result = init_event(settings, now_ms=clock(), admin_login="admin", admin_password=ADMIN_PASSWORD,
                        admin_pin="2468", db=db, event=EventSettings(event_name="Ennichi test fair"))
    app = create_app(settings, clock=clock, db=db, web=False)
    include_web(app, settings=web or WebSettings(poll_interval_s=1), secret=b"test-secret-0123456789abcdef")
    url, stop = serve_in_thread(app, sock=sock)
    return Live(url, db, settings, clock, result.admin_staff_id, stop)


def stop_server(live: Live) -> None:
    live.stop()
    live.db.dispose()


def sign_in(page: object, login: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Fill the sign-in form and submit it."""
    page.goto("/admin/signin")  # type: ignore[attr-defined]
    page.fill("input[name=login]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]


def add_product(page: object, stall: int, name: str, price: str, **fields: str) -> None:
    """Fill the stalls page's new-product form of ``stall`` and submit it (``fields``: input or select by name)."""
    page.goto("/admin/stalls")  # type: ignore[attr-defined]
    form = page.locator(f"form[action='/admin/stalls/{stall}/products']")  # type: ignore[attr-defined]
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=price]").fill(price)
    for field, value in fields.items():
        if form.locator(f"select[name={field}]").count():
            form.locator(f"select[name={field}]").select_option(value)
        else:
            form.locator(f"input[name={field}]").fill(value)
    form.locator("button").click()
    page.wait_for_load_state()  # type: ignore[attr-defined]


def shoot(page: object, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot for the docs (docs/screenshots/web-<name>.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web-{name}.png"), full_page=full_page)  # type: ignore[attr-defined]


def csrf_of(html: str) -> str:
    """The CSRF token in a page's HTML."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)

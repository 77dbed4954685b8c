"""A real uvicorn server on loopback with the dashboard mounted, and one headless Chromium per module.

The server's clock is a ``MovableClock`` the tests can push forward (lockout
expiry, token refresh); the database is a fresh SQLite file per module.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from server.api.app import create_app
from server.bootstrap import init_event
from server.db.engine import Database
from server.settings import ServerSettings
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
class MovableClock:
    """The server's clock; tests move it forward."""

    now_ms: int = T0_MS
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> int:
        with self.lock:
            return self.now_ms

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now_ms += int(seconds * 1000)


@dataclass
class Live:
    """A running server: its URL, database, settings and clock."""

    url: str
    db: Database
    settings: ServerSettings
    clock: MovableClock
    admin_id: int
    thread: threading.Thread
    server: uvicorn.Server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, *, database_url: str = "", web: WebSettings | None = None) -> Live:
    """Create an event in ``data_dir`` and serve it on a free loopback port."""
    port = _free_port()
    settings = ServerSettings.load(data_dir=data_dir, env={}, port=port, database_url=database_url or None)
    clock = MovableClock()
    db = Database(settings.url, synchronous="NORMAL")
    result = init_event(settings, now_ms=clock(), admin_login="admin", admin_password=ADMIN_PASSWORD,
                        admin_pin="2468", db=db, event=EventSettings(event_name="Ennichi test fair"))
    app = create_app(settings, clock=clock, db=db, web=False)
    include_web(app, settings=web or WebSettings(poll_interval_s=1), secret=b"test-secret-0123456789abcdef")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return Live(f"http://127.0.0.1:{port}", db, settings, clock, result.admin_staff_id, thread, server)


def stop_server(live: Live) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)
    live.db.dispose()


def sign_in(page: object, login: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Fill the sign-in form and submit it."""
    page.goto("/admin/signin")  # type: ignore[attr-defined]
    page.fill("input[name=login]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
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


@dataclass
class FollowClock:
    """A terminal clock that reads the server's movable clock (terminal.clock.Clock protocol)."""

    source: MovableClock

    def now_ms(self) -> int:
        return self.source()

    def monotonic(self) -> float:
        return self.source() / 1000

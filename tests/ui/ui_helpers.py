"""UI test helpers: the seeded event, QR frames for the fake camera, and driving the real app.

Scans go through the real scanner: a QR frame made with segno (via
``scanner.corpus``) is played by the in-memory source into the real decoder
and validator.  Only the camera is fake.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hid_keys import type_like_person

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QWidget

from scanner.corpus import make_frame
from server.testing import Seeder
from sync.tokens import EntryPolicy, StaffBadge, TicketToken, WalletToken, encode_token
from ui.app import TerminalApp
from ui.i18n import I18n
from ui.scanner_bridge import ReplaySource
from ui.sounds import Sounds

PIN = "1234"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Event:
    """A running server with one stall, a gate, staff with badges, and a way to mint QR codes."""

    tmp: Path
    settings: Any
    seeder: Seeder
    base_url: str
    stop: Any
    stall_id: int = 0
    gate_id: int = 0
    product_ids: list[int] = field(default_factory=list)
    ticket_types: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)
    running: bool = True

    def issuer(self) -> Any:
        """Return the event's active issuer key."""
        from server.issuer import IssuerKeys

        with self.seeder.db.read() as conn:
            return IssuerKeys(self.settings.issuer_key_path).active(conn)

    def badge(self, who: str) -> str:
        """Return a signed badge for ``who`` (cashier, supervisor, topup, gate)."""
        return self.seeder.badge(self.staff[who])

    def wallet(self, balance: int, *, ttl_s: int = 600, issued_ago_s: int = 0) -> str:
        """Create a wallet with ``balance`` on the server and return a fresh wallet token for it."""
        wallet_id = self.seeder.wallet()
        seq = 0
        if balance:
            balance, seq = self.seeder.topup(wallet_id, balance)
        now = int(time.time()) - issued_ago_s
        token = WalletToken(wallet_id, balance, seq, now, now + ttl_s, 3000)
        return encode_token(token, self.issuer())

    def ticket(self, kind: str = "reentry") -> str:
        """Return a ticket token of the seeded type ``kind`` (single or reentry), valid today."""
        from sync.ids import new_short_id

        now = int(time.time())
        policy = EntryPolicy.SINGLE if kind == "single" else EntryPolicy.REENTRY
        token = TicketToken(new_short_id() % (1 << 40), self.ticket_types[kind], now - 3600, now + 86400, policy)
        return encode_token(token, self.issuer())

    def forged_badge(self) -> str:
        """A badge signed by a key the event never issued."""
        from sync.keys import IssuerKey

        now = int(time.time())
        stranger = IssuerKey.generate(self.issuer().key_id)
        return encode_token(StaffBadge(self.staff["cashier"], now, now + 3600), stranger)

    def enrollment_code(self, mode: str = "stall") -> str:
        """Return a fresh enrollment code for a stall, gate or top-up terminal."""
        if mode == "gate":
            return self.seeder.enrollment_code("gate", gate_id=self.gate_id, base_url=self.base_url)
        if mode == "topup":
            return self.seeder.enrollment_code("topup", base_url=self.base_url)
        return self.seeder.enrollment_code("stall", stall_id=self.stall_id, base_url=self.base_url)

    def stop_server(self) -> None:
        """Stop the server (the network is gone)."""
        if self.running:
            self.stop()
            self.running = False

    def start_server(self) -> None:
        """Start the server again on a new port is not possible for enrolled terminals: restart on the same."""
        raise NotImplementedError


def qr_frames(text: str, *, count: int = 6, seed: int = 1) -> list[Any]:
    """Camera frames showing ``text`` as a QR code (clean, as a phone held still), for the replay source."""
    rng = np.random.default_rng(seed)
    frame = make_frame(text, "clean", rng=rng)
    return [frame] * count


def blank_frame() -> Any:
    """An empty camera picture (nothing in view)."""
    return np.full((480, 640, 3), 200, dtype=np.uint8)


def show_code(app: Any, text: str) -> None:
    """Hold ``text`` up to the (fake) camera: frames play through the real decoder and validator."""
    frames = qr_frames(text)
    app.camera.set_source(lambda: ReplaySource(frames, fps=20, idle=blank_frame()))


SIZE = (1280, 800)


def make_app(qtbot: Any, tmp_path: Path, *, language: str = "en") -> TerminalApp:
    """Build the real app on ``tmp_path`` (kiosk off so tests can close it), shown at 1280x800."""
    from terminal.engine import Terminal

    data = tmp_path / "terminal"
    app = TerminalApp(lambda: Terminal.open(data), source_factory=None, language=language, kiosk=True,
                      sounds=Sounds(enabled=False), reports_dir=tmp_path / "reports", i18n_obj=I18n(language),
                      status_interval_ms=200)
    qtbot.add_widget(app.window)
    app.window.resize(*SIZE)
    app.window.show()
    with qtbot.wait_signal(app.ready, timeout=10_000):
        app.start()
    return app


def close_app(app: TerminalApp) -> None:
    """Stop everything the app started."""
    app.close()


def enroll(qtbot: Any, app: TerminalApp, event: Event, mode: str = "stall") -> None:
    """Enroll by showing the enrollment QR to the camera; waits for the login screen."""
    assert app.window.current.name == "enroll"
    show_code(app, event.enrollment_code(mode))
    qtbot.wait_until(lambda: app.window.current.name == "login", timeout=15_000)
    qtbot.wait_until(lambda: app.backend.terminal.name != "" or app.backend.terminal.mode == mode, timeout=5000)


def login(qtbot: Any, app: TerminalApp, event: Event, who: str = "cashier", pin: str = PIN) -> None:
    """Scan ``who``'s badge, type the PIN on the keypad, press log in."""
    show_code(app, event.badge(who))
    qtbot.wait_until(lambda: app.window.login.form.badge is not None, timeout=10_000)
    for digit in pin:
        app.window.login.form.keypad.buttons[digit].click()
    app.window.login.form.submit.click()


def type_at_gate(qtbot: Any, app: TerminalApp, text: str, clock: Any) -> Any:
    """Type ``text`` into the gate screen's code field at a person's pace (0.3 s a key), then Enter.

    Real key events to the focused field; ``clock`` is the wedge's fake clock, moved by hand so the
    keys read as a person's typing, not a scanner's burst.  Returns the gate's decision.
    """
    overlay = app.window.overlay
    if overlay.isVisible():
        overlay.dismiss()
    app.window.activateWindow()
    field = app.window.gate.typed.edit
    field.setFocus()
    with qtbot.wait_signal(app.window.gate.checked, timeout=15_000) as blocker:
        type_like_person(field, text, clock)
    return blocker.args[0]


def open_stall(qtbot: Any, app: TerminalApp, event: Event, stall_id: int, who: str = "supervisor") -> Any:
    """Enroll for ``stall_id`` (its enrollment QR), log ``who`` in; returns the sale screen once it shows."""
    show_code(app, event.seeder.enrollment_code("stall", stall_id=stall_id, base_url=event.base_url))
    qtbot.wait_until(lambda: app.window.current.name == "login", timeout=15_000)
    login(qtbot, app, event, who)
    qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
    return app.window.sale


def pay(qtbot: Any, app: TerminalApp, wallet_text: str) -> Any:
    """Show a wallet QR on the sale screen; returns the Decision once the result is shown."""
    with qtbot.wait_signal(app.window.sale.paid, timeout=15_000) as blocker:
        show_code(app, wallet_text)
    qtbot.wait_until(lambda: app.window.overlay.isVisible(), timeout=5000)
    return blocker.args[0]


def shot(widget: QWidget, name: str) -> Path:
    """Save a screenshot of ``widget`` (grabbed from the real widget) into docs/screenshots."""
    from PySide6.QtCore import QCoreApplication, QEvent

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Let pending layout requests and deferred deletes run, as they would before the screen is painted.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for _ in range(3):
        QCoreApplication.processEvents()
    widget.grab().save(str(path))
    return path


def serve_on(settings: Any, port: int) -> Any:
    """Run the event's server on a fixed loopback ``port`` (so a stopped server can come back); returns stop."""
    import socket
    import threading

    import uvicorn

    from server.api.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()

    return stop


def free_port() -> int:
    """Return a free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

"""``ennichi demo``: a whole festival on this machine, to try with a real webcam.

Creates a demo event (stalls and products, a gate, staff with badges and PINs,
wallets with balances, tickets), starts the server on loopback, enrolls one
stall terminal against it and opens the terminal app (or runs it headless when
there is no screen), and writes a printable sheet of the QR codes (PNG and
HTML) to hold up to the webcam.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import segno

from server.settings import ServerSettings
from sync.ids import format_short_id
from sync.permissions import Scope
from sync.schemas import EventSettings, TerminalMode
from sync.tokens import EntryPolicy, StaffBadge, TicketToken, encode_token

__all__ = ["DemoEvent", "build_demo_event", "main", "write_sheet"]

STALLS = {
    "焼きそば Yakisoba": [("焼きそば Yakisoba", 500), ("大盛り Large", 700), ("ラムネ Ramune", 200)],
    "たこ焼き Takoyaki": [("たこ焼き 6個", 400), ("たこ焼き 10個", 600), ("お茶 Tea", 150)],
    "かき氷 Kakigori": [("いちご Strawberry", 300), ("メロン Melon", 300), ("ブルーハワイ", 350)],
}


@dataclass
class Code:
    """One QR code for the sheet."""

    title: str
    text: str
    caption: str


@dataclass
class DemoEvent:
    """What the demo made, for the sheet and the console."""

    settings: ServerSettings
    admin_login: str
    admin_password: str
    stall_ids: list[int] = field(default_factory=list)
    gate_id: int = 0
    codes: list[Code] = field(default_factory=list)
    staff: list[tuple[str, int, str]] = field(default_factory=list)  # name, id, pin


def build_demo_event(data_dir: Path, *, port: int, now_ms: int, wallets: int = 6, **server: Any) -> DemoEvent:
    """Create the demo event in ``data_dir``; raises EventExists if one is there.

    ``server`` holds further server settings (host, public_url, tls) for venue mode.
    """
    from server.bootstrap import init_event
    from server.catalog import create_gate, create_product, create_stall, create_ticket_type
    from server.db.engine import Database
    from server.issuer import IssuerKeys
    from server.staff import create_staff, grant_role
    from server.venue import venue_settings
    from server.wallets import admin_topup, create_wallet, signed_wallet_token

    settings = venue_settings(ServerSettings.load(data_dir=data_dir, env={}, port=port, **server))
    event = EventSettings(event_name="Ennichi demo festival")
    result = init_event(settings, now_ms=now_ms, event=event, admin_password=secrets.token_urlsafe(9))
    demo = DemoEvent(settings, result.admin_login, result.admin_password)
    db = Database(settings.url, synchronous=settings.sqlite_synchronous)
    try:
        with db.write() as conn:
            for name, products in STALLS.items():
                stall_id = create_stall(conn, name=name, now_ms=now_ms, allow_free_amount=True)
                demo.stall_ids.append(stall_id)
                for product, price in products:
                    create_product(conn, stall_id=stall_id, name=product, price=price, stock=None)
            demo.gate_id = create_gate(conn, name="正門 Main gate")
            day_pass = create_ticket_type(conn, name="一般 Guest", policy="reentry")
            staff_pass = create_ticket_type(conn, name="スタッフ Staff", policy="unlimited")
            people = [
                ("Hana (cashier)", "cashier", Scope.stall(demo.stall_ids[0])),
                ("Ken (supervisor)", "supervisor", Scope()),
                ("Yui (top-up desk)", "topup", Scope()),
                ("Sora (gate)", "gatekeeper", Scope.gate(demo.gate_id)),
            ]
            for name, role, scope in people:
                pin = f"{secrets.randbelow(10**4):04d}"
                staff_id = create_staff(conn, name=name, pin=pin, now_ms=now_ms)
                grant_role(conn, staff_id, role, scope=scope)
                demo.staff.append((name, staff_id, pin))
            issuer = IssuerKeys(settings.issuer_key_path).active(conn)
            now_s = now_ms // 1000
            for name, staff_id, pin in demo.staff:
                badge = encode_token(StaffBadge(staff_id, now_s, now_s + 3 * 86400), issuer)
                demo.codes.append(Code(f"Staff badge: {name}", badge, f"PIN {pin}"))
            for i in range(wallets):
                wallet_id = create_wallet(conn, now_ms=now_ms)
                balance = 3000 - 1000 * (i % 3)
                admin_topup(conn, wallet_id, balance, lock=not db.is_sqlite, now_ms=now_ms)
                token = signed_wallet_token(conn, wallet_id, issuer=issuer, settings=event.model_copy(
                    update={"wallet_token_ttl_s": 86400}), now_ms=now_ms)
                demo.codes.append(Code(f"Wallet {format_short_id(wallet_id)}", token.token,
                                       f"balance {balance:,} yen (printed card, valid 1 day)"))
            for i in range(4):
                ticket_id = secrets.randbits(40)
                ttype, policy = (staff_pass, EntryPolicy.UNLIMITED) if i == 3 else (day_pass, EntryPolicy.REENTRY)
                ticket = TicketToken(ticket_id, ttype, now_s - 3600, now_s + 2 * 86400, policy)
                demo.codes.append(Code(f"Ticket {format_short_id(ticket_id)}", encode_token(ticket, issuer),
                                       "staff pass" if i == 3 else "guest, re-entry allowed"))
    finally:
        db.dispose()
    return demo


def _qr_image(text: str, size: int) -> np.ndarray:
    """Return the QR code of ``text`` as a white-bordered grayscale image about ``size`` pixels wide."""
    qr = segno.make(text, error="m")
    matrix = np.array([[0 if dark else 255 for dark in row] for row in qr.matrix], dtype=np.uint8)
    matrix = np.pad(matrix, 4, constant_values=255)
    scale = max(1, size // matrix.shape[0])
    return np.kron(matrix, np.ones((scale, scale), dtype=np.uint8))


def write_sheet(codes: list[Code], out_dir: Path) -> tuple[Path, Path]:
    """Write the QR sheet as PNG (A4 at ~150 dpi) and printable HTML; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cols, cell_w, cell_h = 3, 400, 470
    rows = (len(codes) + cols - 1) // cols
    sheet = np.full((rows * cell_h + 40, cols * cell_w), 255, dtype=np.uint8)
    for i, code in enumerate(codes):
        y, x = 20 + (i // cols) * cell_h, (i % cols) * cell_w
        img = _qr_image(code.text, 340)
        h, w = img.shape
        ox = x + (cell_w - w) // 2
        sheet[y:y + h, ox:ox + w] = img
        ascii_title = code.title.encode("ascii", "ignore").decode().strip()
        cv2.putText(sheet, ascii_title[:34], (x + 20, y + h + 28), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 1, cv2.LINE_AA)
        cv2.putText(sheet, code.caption[:40], (x + 20, y + h + 54), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 60, 1,
                    cv2.LINE_AA)
    png = out_dir / "demo-sheet.png"
    cv2.imwrite(str(png), sheet)
    cards = "\n".join(
        f'<figure>{segno.make(c.text, error="m").svg_inline(scale=4)}'
        f"<figcaption><b>{html.escape(c.title)}</b><br>{html.escape(c.caption)}</figcaption></figure>"
        for c in codes
    )
    page = out_dir / "demo-sheet.html"
    page.write_text(
        "<!doctype html><meta charset=utf-8><title>Ennichi demo codes</title>"
        "<style>body{font-family:sans-serif}main{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}"
        "figure{margin:0;text-align:center;break-inside:avoid}svg{width:60mm;height:auto}</style>"
        f"<h1>Ennichi demo codes</h1><main>{cards}</main>",
        encoding="utf-8",
    )
    return png, page


CREDENTIALS_NAME = "demo-credentials.txt"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (the demo's admin password is in it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _start_server(settings: ServerSettings) -> tuple[threading.Thread, object]:
    import uvicorn

    from server.api.app import create_app

    tls: dict[str, Any] = {}
    if settings.tls:
        from server.tls import CERT_NAME, KEY_NAME

        tls = {"ssl_certfile": str(settings.tls_dir / CERT_NAME), "ssl_keyfile": str(settings.tls_dir / KEY_NAME)}
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_level="warning", **tls)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on port {settings.port} (is it in use?)")
        time.sleep(0.05)
    return thread, server


def _enroll_terminal(code: str, data_dir: Path) -> dict[str, object]:
    """Enroll a terminal headlessly in ``data_dir``; returns the engine's JSON answer."""
    proc = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "terminal", "--headless", "--no-sync", "--data-dir", str(data_dir)],
        input=json.dumps({"cmd": "enroll", "code": code}) + "\n" + json.dumps({"cmd": "quit"}) + "\n",
        capture_output=True, text=True, timeout=60, check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"terminal enrollment failed: {proc.stderr.strip()[-500:]}")
    answer: dict[str, object] = json.loads(lines[0])
    return answer


def main(argv: list[str]) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(prog="ennichi demo", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("data/demo"), help="where the demo event lives")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 lets other laptops and "
                        "phones on this network in (venue mode)")
    parser.add_argument("--public-url", default=None, help="the URL terminals and phones use "
                        "(default: this machine's address on the network when --host is 0.0.0.0)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with the server's own certificate "
                        "(terminals pin it from the enrollment code)")
    parser.add_argument("--fresh", action="store_true", help="delete an earlier demo event first")
    parser.add_argument("--terminal", choices=("auto", "window", "headless", "none"), default="auto",
                        help="how to run the demo terminal (auto: a window when there is a screen)")
    parser.add_argument("--exit-after", type=float, default=None, help=argparse.SUPPRESS)  # for tests
    args = parser.parse_args(argv)
    from server.bootstrap import EventExists
    from server.clock import system_clock
    from server.db.engine import Database
    from server.enroll import create_enrollment_code
    from server.venue import announce, venue_settings

    if args.fresh and args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    server_opts = {"host": args.host, "public_url": args.public_url, "tls": args.tls or None}
    credentials = args.data_dir / CREDENTIALS_NAME
    try:
        demo = build_demo_event(args.data_dir / "server", port=args.port, now_ms=system_clock(), **server_opts)
        png, page = write_sheet(demo.codes, args.data_dir)
        first_run = True
    except EventExists:
        settings = venue_settings(ServerSettings.load(data_dir=args.data_dir / "server", env={}, port=args.port,
                                                      **server_opts))
        first_run = False
    else:
        settings = demo.settings
        lines = [f"admin login: {demo.admin_login}   password: {demo.admin_password}"]
        lines += [f"staff {name}: id {format_short_id(staff_id)}  PIN {pin}" for name, staff_id, pin in demo.staff]
        lines.append(f"QR sheet to print or show to the webcam: {png}  (and {page})")
        _write_private(credentials, "\n".join(lines) + "\n")
    _thread, server = _start_server(settings)
    announce(settings)
    if first_run:
        print(credentials.read_text(encoding="utf-8"), end="", flush=True)
    else:
        print("demo event already exists (use --fresh to start over); QR sheet in", args.data_dir, flush=True)
        if credentials.is_file():  # the demo's own throwaway credentials, kept beside it (mode 0600)
            print(f"demo sign-in again, from {credentials}:", flush=True)
            print(credentials.read_text(encoding="utf-8"), end="", flush=True)
    terminal_dir = args.data_dir / "terminal-1"
    if args.terminal != "none" and not (terminal_dir / "terminal.db").exists():
        db = Database(settings.url, synchronous=settings.sqlite_synchronous)
        try:
            with db.write() as conn:
                code = create_enrollment_code(conn, mode=TerminalMode.STALL, base_url=settings.base_url,
                                              pin=settings.tls_pin,
                                              now_ms=system_clock(), ttl_s=600, stall_id=1)
        finally:
            db.dispose()
        answer = _enroll_terminal(code.text(), terminal_dir)
        print(f"terminal enrolled: {answer}", flush=True)
    has_screen = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    mode = args.terminal if args.terminal != "auto" else ("window" if has_screen else "headless")
    term: subprocess.Popen[str] | None = None
    if mode != "none":
        cmd = [sys.executable, "-m", "terminal.cli", "terminal", "--data-dir", str(terminal_dir)]
        if mode == "headless":
            cmd.append("--headless")
            print("no screen here: the terminal runs headless (JSON commands); "
                  "on a laptop with a screen the app opens in a window", flush=True)
        else:
            cmd.append("--windowed")
        term = subprocess.Popen(cmd, stdin=subprocess.PIPE, text=True)
    print("press Ctrl+C to stop", flush=True)
    try:
        deadline = None if args.exit_after is None else time.monotonic() + args.exit_after
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
            if term is not None and mode == "window" and term.poll() is not None:
                break
    except KeyboardInterrupt:
        pass
    finally:
        ended_by_itself = term is not None and term.poll() is not None
        if term is not None and term.poll() is None:
            term.terminate()
            term.wait(timeout=10)
        server.should_exit = True  # type: ignore[attr-defined]
        _thread.join(timeout=10)
    if ended_by_itself and term is not None and term.returncode != 0:
        print(f"the terminal stopped with exit code {term.returncode}", file=sys.stderr, flush=True)
        return 1
    return 0

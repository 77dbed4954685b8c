"""``ennichi demo``: the README's first command, run for real on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys

import cv2

from scanner.decoders import make_decoder
from server.db.engine import Database
from server.issuer import issuer_key_rows
from server.settings import ServerSettings
from sync.keys import KeySet
from sync.tokens import StaffBadge, TicketToken, WalletToken, decode_token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_creates_event_sheet_and_enrolled_terminal(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "demo", "--data-dir", str(tmp_path), "--port", str(_free_port()),
         "--terminal", "headless", "--exit-after", "2"],
        capture_output=True, text=True, timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert "admin login: admin" in out.stdout
    assert "terminal enrolled" in out.stdout and "'ok': True" in out.stdout
    assert (tmp_path / "terminal-1" / "terminal.db").exists()

    settings = ServerSettings.load(data_dir=tmp_path / "server", env={})
    db = Database(settings.url)
    with db.read() as conn:
        keys = KeySet.from_json([r.model_dump() for r in issuer_key_rows(conn)])
    db.dispose()

    # every code on the printed sheet is a genuine token of this event
    sheet = cv2.imread(str(tmp_path / "demo-sheet.png"), cv2.IMREAD_GRAYSCALE)
    decoder = make_decoder("auto")
    kinds = set()
    rows, cols = 5, 3
    cell_h, cell_w = 470, 400
    for r in range(rows):
        for c in range(cols):
            crop = sheet[20 + r * cell_h : 20 + (r + 1) * cell_h, c * cell_w : (c + 1) * cell_w]
            if crop.size == 0 or crop.min() == 255:
                continue
            found = decoder.decode(crop)
            assert len(found) == 1, f"cell {r},{c}"
            kinds.add(type(decode_token(found[0].text, keys, now=None)))
    assert kinds == {WalletToken, TicketToken, StaffBadge}

    # a second run finds the event and does not create another
    again = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "demo", "--data-dir", str(tmp_path), "--port", str(_free_port()),
         "--terminal", "none", "--exit-after", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout


def test_demo_opens_the_terminal_window(tmp_path) -> None:
    """With a screen (offscreen Qt here) the demo starts the windowed app, which must keep running."""
    import os

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "demo", "--data-dir", str(tmp_path), "--port", str(_free_port()),
         "--terminal", "window", "--exit-after", "8"],
        capture_output=True, text=True, timeout=180, env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "terminal stopped" not in out.stderr and "unrecognized arguments" not in out.stderr

"""Benchmark of the stall terminal app (offscreen): start-up, scan-to-result latency, memory over 1,000 sales.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/terminal_ui.py [--sales 1000]

* start-up to ready: from just before PySide6 and ``ui`` are imported to the
  login screen shown on an enrolled terminal (engine opened on its worker, no camera).
* scan-to-result: each sale plays generated QR frames through the real scanner
  (in-memory source paced like a 60 fps webcam -> zxing-cpp cascade -> validator);
  the figure is from the capture time of the frame that completed the scan to
  the result overlay shown.  Sales are offline-approved (under the floor limit,
  no server).
* resident memory (VmRSS) sampled every 100 sales over the run.

The terminal is seeded through the store's own enrollment and pull paths, with
wallet tokens signed by a local issuer key.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from argon2 import PasswordHasher  # noqa: E402

from scanner.corpus import make_frame  # noqa: E402
from sync.keys import IssuerKey, SigningKey, public_key_to_b64, save_private_key  # noqa: E402
from sync.permissions import Permission, ScopeKind  # noqa: E402
from sync.schemas import (  # noqa: E402
    EnrollResponse,
    EventSettings,
    IssuerKeyRow,
    ProductRow,
    PullResponse,
    RoleRow,
    StaffRow,
    StallRow,
    TerminalMode,
    TerminalRow,
)
from sync.tokens import StaffBadge, WalletToken, encode_token  # noqa: E402
from terminal.engine import KEY_NAME, Terminal  # noqa: E402

PIN = "1234"
STALL = 7


def rss_mb() -> float:
    """Return this process's resident memory in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seed(data: Path, issuer: IssuerKey) -> None:
    """Enroll a stall terminal in ``data`` through the store's own paths (no server)."""
    term = Terminal.open(data)
    save_private_key(SigningKey.generate(), data / KEY_NAME)
    now = int(time.time() * 1000)
    settings = EventSettings(unsynced_cap=10**9, max_offline_s=7 * 86400)
    me = TerminalRow(terminal_id=1, name="bench stall", mode=TerminalMode.STALL, stall_id=STALL)
    keys = [IssuerKeyRow(key_id=issuer.key_id, public_key=public_key_to_b64(issuer.public))]
    term.store.save_enrollment("http://127.0.0.1:9", EnrollResponse(
        terminal=me, api_token="t" * 32, issuer_keys=keys, settings=settings, server_time_ms=now), now_ms=now)
    staff = StaffRow(staff_id=1001, name="Hana", pin_hash=PasswordHasher(time_cost=1, memory_cost=1024).hash(PIN),
                     roles=[RoleRow(role="cashier", permissions=[Permission.SELL], scope_kind=ScopeKind.STALL,
                                    scope_id=STALL)])
    products = [ProductRow(id=i, stall_id=STALL, name=f"Item {i}", price=100 * i) for i in range(1, 7)]
    term.store.apply_pull(PullResponse(
        cursor="c1", more=False, server_time_ms=now, terminal=me, settings=settings, issuer_keys=keys,
        stalls=[StallRow(id=STALL, name="Yatai")], products=products, staff=[staff]), now_ms=now)
    term.close()


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sales", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ennichi-bench-ui-"))
    data = tmp / "terminal"
    issuer = IssuerKey.generate(1)
    seed(data, issuer)

    t0 = time.perf_counter()
    from PySide6.QtWidgets import QApplication

    from ui.app import TerminalApp
    from ui.i18n import I18n
    from ui.scanner_bridge import ReplaySource
    from ui.screens.login import staff_view
    from ui.sounds import Sounds

    qapp = QApplication.instance() or QApplication([])
    app = TerminalApp(lambda: Terminal.open(data), source_factory=None, language="ja", sounds=Sounds(enabled=False),
                      sync=False, i18n_obj=I18n("ja"))
    app.window.resize(1280, 800)
    app.window.show()
    app.start()
    while app.ready_at is None:
        qapp.processEvents()
        time.sleep(0.001)
    startup = app.ready_at - t0
    print(f"start-up to ready (no camera): {startup * 1000:.0f} ms  (target < 2000 ms)")

    def wait(predicate: object, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError
            qapp.processEvents()
            time.sleep(0.0005)

    now_s = int(time.time())
    badge = encode_token(StaffBadge(1001, now_s - 60, now_s + 86400), issuer)
    done: list[object] = []
    app.backend.run(lambda e: (e.login(badge, PIN), staff_view(e))[1], on_done=done.append)
    wait(lambda: done)
    app.backend.set_staff(done[0])  # type: ignore[arg-type]
    app.window.go("sale")
    sale = app.window.sale
    wait(lambda: sale.products)
    blank = np.full((480, 640, 3), 200, dtype=np.uint8)
    rng = np.random.default_rng(7)
    latencies: list[float] = []
    memory: list[tuple[int, float]] = [(0, rss_mb())]
    approved = 0
    results: list[object] = []
    sale.paid.connect(results.append)
    for i in range(args.sales):
        token = encode_token(WalletToken(10_000 + i, 5000, 1, now_s - 10, now_s + 3600, 3000), issuer)
        frame = make_frame(token, "clean", rng=rng)
        app.window.overlay.dismiss()
        sale.add(1 + i % 3)
        before = len(results)
        app.camera.set_source(lambda f=frame: ReplaySource([f, f, f], fps=60, idle=blank))
        wait(lambda b=before: len(results) > b and app.window.overlay.isVisible())
        decision = results[-1]
        approved += bool(getattr(decision, "approved", False))
        scan = app.camera.last_scan
        assert scan is not None and app.window.overlay.shown_at is not None
        latencies.append((app.window.overlay.shown_at - scan.captured_at) * 1000)
        if os.environ.get("BENCH_DEBUG") and i % 10 == 0:
            print("refs", i, sys.getrefcount(True), sys.getrefcount(False), flush=True)
        if (i + 1) % 100 == 0:
            memory.append((i + 1, rss_mb()))
    app.camera.stop()
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"sales: {args.sales}, approved offline: {approved}")
    print(f"scan-to-result (frame captured -> result shown): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"max {latencies[-1]:.1f} ms  (target p95 < 150 ms)")
    print("resident memory (MB) by sales: " + ", ".join(f"{n}: {mb:.0f}" for n, mb in memory))
    print(f"resident memory after {args.sales} sales: {memory[-1][1]:.0f} MB  (target < 300 MB, no growth trend)")
    app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

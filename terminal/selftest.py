"""``ennichi-terminal --self-test``: prove that a (frozen or not) terminal app has everything it needs.

Each check prints one JSON line ``{"check", "ok", "detail", "ms"}`` as soon as
it finishes, then a ``summary`` line; the exit code is 0 only when every check
passed.  Nothing here touches the network, opens a camera or writes outside a
temporary directory, so it is safe to run on a kiosk laptop on the day.

PySide6 and ``ui`` are imported by name (``importlib``) inside the Qt checks only, like
``terminal/run.py`` does: ``import terminal.selftest`` stays headless like the rest of ``terminal/``.

    ennichi-terminal --self-test                 # every check
    ennichi-terminal --self-test --only window   # one check (the start-up benchmark uses this)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CHECKS", "CheckFailed", "CheckResult", "main", "run_checks"]

HEADLESS_PACKAGES = ("sync", "terminal", "scanner")
# Third-party libraries the terminal loads lazily or through C extensions; a frozen build that
# misses one of them fails here rather than at the first customer.
LIBRARIES = ("cv2", "numpy", "zxingcpp", "pyzbar.pyzbar", "argon2", "cryptography.hazmat.primitives.asymmetric.ed25519",
             "httpx", "sqlite_utils", "segno", "base45", "uuid6", "pydantic")
# Camera backends OpenCV must have been built with, per platform (any one of them is enough).
CAMERA_BACKENDS = {"linux": ("V4L2", "V4L"), "win32": ("MSMF", "DSHOW"), "darwin": ("AVFOUNDATION",)}
# The Qt platform plugin a real screen needs, per platform.
NATIVE_QPA = {"linux": "libqxcb.so", "win32": "qwindows.dll", "darwin": "libqcocoa.dylib"}
WINDOW_TIMEOUT_MS = 30_000


class CheckFailed(Exception):
    """A check found something wrong; the message says what."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check."""

    check: str
    ok: bool
    detail: str
    ms: float

    def to_json(self) -> str:
        """Return the result as one JSON line."""
        return json.dumps({"check": self.check, "ok": self.ok, "detail": self.detail, "ms": round(self.ms, 1)},
                          ensure_ascii=False)


def _platform() -> str:
    return "linux" if sys.platform.startswith("linux") else sys.platform


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


# ---------------------------------------------------------------- checks


def check_imports(_work: Path) -> str:
    """Import every module of the headless packages and the libraries they load lazily; raises CheckFailed."""
    failed: list[str] = []
    count = 0
    qt_before = _qt_modules()  # a frozen app's PySide6 runtime hook loads QtCore before any of our code
    for package_name in HEADLESS_PACKAGES:
        package = importlib.import_module(package_name)
        found = [i.name for i in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}.")
                 if not i.name.endswith(".__main__")]
        if not found:
            failed.append(f"{package_name}: no modules found in the package")
        for name in found:
            try:
                importlib.import_module(name)
                count += 1
            except Exception as exc:
                failed.append(f"{name}: {type(exc).__name__}: {exc}")
    for name in LIBRARIES:
        try:
            importlib.import_module(name)
            count += 1
        except Exception as exc:  # pyzbar raises ImportError/OSError when libzbar is missing
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    if failed:
        raise CheckFailed("; ".join(failed))
    qt = sorted(_qt_modules() - qt_before)
    if qt and "ui" not in sys.modules:
        raise CheckFailed(f"headless packages loaded Qt: {', '.join(qt[:5])}")
    import httpx

    httpx.create_ssl_context()  # the CA bundle the HTTPS sync needs (certifi's file, in a frozen app)
    return f"{count} modules, TLS CA bundle loads"


def _qt_modules() -> set[str]:
    return {m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6")}


def _qapplication() -> Any:
    """Return the QApplication, creating it (offscreen unless QT_QPA_PLATFORM says otherwise)."""
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    widgets = _qt("QtWidgets")
    app = widgets.QApplication.instance()
    if app is None:
        app = widgets.QApplication(["ennichi-terminal"])
    return app


def _qt(module: str) -> Any:
    """Import a PySide6 module by name (this package never imports Qt at the top or by statement)."""
    return importlib.import_module(f"PySide6.{module}")


def _native_plugin(app: Any) -> str:
    """Find the native Qt platform plugin in the plugin paths and (on Linux) load it; raises CheckFailed."""
    wanted = NATIVE_QPA.get(_platform())
    if wanted is None:
        return "native plugin: unknown platform"
    dirs = [Path(p) / "platforms" for p in app.libraryPaths()]
    found = next((d / wanted for d in dirs if (d / wanted).is_file()), None)
    if found is None:
        raise CheckFailed(f"Qt platform plugin {wanted} is missing (looked in {', '.join(map(str, dirs))})")
    if _platform() == "linux":
        try:
            import _ctypes  # the raw dlopen: a frozen app's ctypes.CDLL hides the loader's message

            _ctypes.dlopen(str(found), os.RTLD_NOW)
        except OSError as exc:
            problem = (f"{wanted} is bundled but cannot load on this machine ({exc}); a kiosk needs the xcb "
                       "libraries (libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxkbcommon-x11-0)")
            if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
                raise CheckFailed(problem) from exc
            return f"info: {problem}; no display here, so not a failure"
    return f"native plugin {wanted} loads"


def check_qt(_work: Path) -> str:
    """Import the UI, create a QApplication and a widget, find the native platform plugin; raises CheckFailed."""
    app = _qapplication()
    pyside_version = str(importlib.import_module("PySide6").__version__)
    ui_modules = 0
    failed: list[str] = []
    ui = importlib.import_module("ui")
    for info in pkgutil.walk_packages(ui.__path__, prefix="ui."):
        try:
            importlib.import_module(info.name)
            ui_modules += 1
        except Exception as exc:
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
    if failed:
        raise CheckFailed("; ".join(failed))
    if "ui.app" not in sys.modules:
        raise CheckFailed("ui.app is missing")
    label = _qt("QtWidgets").QLabel("縁日 Ennichi")
    label.show()
    app.processEvents()
    shown = label.isVisible()
    label.close()
    if not shown:
        raise CheckFailed("a widget did not show")
    native = _native_plugin(app)
    return f"PySide6 {pyside_version}, platform {app.platformName()}, {ui_modules} ui modules, {native}"


def check_window(work: Path) -> str:
    """Start the real terminal app on an empty data dir and wait for its first screen; raises CheckFailed."""
    started = time.perf_counter()
    app = _qapplication()
    qt_core = _qt("QtCore")
    from terminal.engine import Terminal

    # by name: ui/ is type-checked on its own terms, not as part of the headless packages
    ui_app: Any = importlib.import_module("ui.app")
    ui_sounds: Any = importlib.import_module("ui.sounds")
    data = work / "window-terminal"
    terminal_app = ui_app.TerminalApp(lambda: Terminal.open(data), source_factory=None, kiosk=False,
                                      sounds=ui_sounds.Sounds(enabled=False), sync=False,
                                      reports_dir=work / "reports")
    loop = qt_core.QEventLoop()
    terminal_app.ready.connect(loop.quit)
    timer = qt_core.QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(WINDOW_TIMEOUT_MS)
    terminal_app.window.resize(1280, 800)
    terminal_app.window.show()
    terminal_app.start()
    if terminal_app.ready_at is None:
        loop.exec()
    timer.stop()
    try:
        if terminal_app.ready_at is None:
            raise CheckFailed(f"the first screen was not ready within {WINDOW_TIMEOUT_MS} ms")
        screen = str(getattr(getattr(terminal_app.window, "current", None), "name", "?"))
        ready_ms = (terminal_app.ready_at - started) * 1000
    finally:
        terminal_app.close()
        app.processEvents()
    return f"first screen {screen!r} ready {ready_ms:.0f} ms after the check began"


def check_camera(_work: Path) -> str:
    """Check that OpenCV has this platform's camera backend; look for cameras without opening one."""
    import cv2
    from cv2 import videoio_registry

    have = [str(videoio_registry.getBackendName(b)) for b in videoio_registry.getCameraBackends()]
    wanted = CAMERA_BACKENDS.get(_platform(), ())
    if wanted and not set(wanted) & set(have):
        raise CheckFailed(f"OpenCV {cv2.__version__} has no {'/'.join(wanted)} camera backend (has: {have})")
    if _platform() == "linux":
        nodes = sorted(str(p) for p in Path("/dev").glob("video*"))
        cameras = f"cameras: {', '.join(nodes)}" if nodes else "no camera found (info: the app shows the camera screen)"
    else:
        cameras = "cameras are not opened by the self-test"
    return f"OpenCV {cv2.__version__}, camera backends {', '.join(have)}; {cameras}"


def check_decoder(_work: Path) -> str:
    """Draw a wallet-like QR code in memory and read it with every decoder the app may use; raises CheckFailed."""
    import numpy as np
    import segno

    from scanner.cascade import make_cascade
    from scanner.decoders import make_decoder

    text = "EW1:" + "NCV6:K7M2QX4P9-ENNICHI SELFTEST." * 4
    code = segno.make_qr(text, error="m", boost_error=False)
    modules = np.array(list(code.matrix_iter(scale=6, border=4)), dtype=np.uint8)
    image = np.where(modules == 1, 0, 255).astype(np.uint8)
    frame = np.ascontiguousarray(np.stack([image] * 3, axis=2))  # BGR, as a camera gives it
    read: list[str] = []
    for name in ("auto", "zxing-cpp", "pyzbar"):
        decoder = make_decoder(name)
        result = make_cascade(decoder).decode(frame)
        texts = [d.text for d in result.detections]
        if texts != [text]:
            raise CheckFailed(f"{name} ({decoder.name}) read {texts!r} instead of the test code")
        read.append(decoder.name if name != "auto" else f"auto={decoder.name}")
    return f"QR version {code.version}-{code.error} read by {', '.join(read)}; {_zbar_origin()}"


def _zbar_origin() -> str:
    """Say which libzbar pyzbar loaded; in a frozen Linux/macOS app it must be the bundled one."""
    wrapper: Any = importlib.import_module("pyzbar.wrapper")
    library = getattr(wrapper.load_libzbar(), "_name", None)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None and _platform() in ("linux", "darwin"):
        if library is None or not Path(library).resolve().is_relative_to(Path(bundle).resolve()):
            raise CheckFailed(f"pyzbar loaded {library}, not the libzbar bundled in {bundle}")
    return f"libzbar {library}"


def check_store(work: Path) -> str:
    """Write a signed record and its outbox entry to a new terminal store, reopen, read back; raises CheckFailed."""
    from sync.ids import new_record_id
    from sync.keys import SigningKey
    from sync.records import sign_record, verify_record
    from terminal.engine import DB_NAME, Terminal
    from terminal.store import LedgerRow, Store

    data = work / "store-terminal"
    terminal = Terminal.open(data)
    try:
        mode = terminal.store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync_level = terminal.store.conn.execute("PRAGMA synchronous").fetchone()[0]
        if str(mode).lower() != "wal" or int(sync_level) != 2:
            raise CheckFailed(f"store opened with journal_mode={mode}, synchronous={sync_level} (want wal, 2=FULL)")
        key = SigningKey.generate()
        body = {"id": str(new_record_id()), "kind": "sale", "terminal_id": 1, "staff_id": 1, "wallet_id": 1,
                "stall_id": 1, "amount": 500, "created_at": int(time.time() * 1000)}
        terminal.store.add_record(LedgerRow.from_signed(body, sign_record(body, key), mode="offline"))
    finally:
        terminal.close()
    store = Store(data / DB_NAME)
    try:
        row = store.record(str(body["id"]))
        if row is None:
            raise CheckFailed("the record was not there after reopening the store")
        signed = row.signed()
        verify_record(signed.body, signed.sig, key.public)
        outbox = [r.id for r in store.outbox_batch(10)]
        if outbox != [row.id]:
            raise CheckFailed(f"outbox holds {outbox!r}, not the record")
        pending = store.unsynced()
    finally:
        store.close()
    return f"WAL + synchronous=FULL; signed sale written, reopened, verified; unsynced {pending}"


def check_crypto(_work: Path) -> str:
    """Sign and verify a record, encode and decode a wallet token, refuse tampered ones; raises CheckFailed."""
    import base45

    from sync.errors import RecordSignatureError, TokenError, TokenReason
    from sync.keys import IssuerKey, KeySet, SigningKey
    from sync.records import sign_record, verify_record
    from sync.tokens import MAX_TOKEN_BYTES, WalletToken, decode_token, encode_token

    key = SigningKey.generate()
    body = {"id": "0190a2b4-0000-7000-8000-000000000001", "kind": "topup", "amount": 1000, "note": "縁日"}
    sig = sign_record(body, key)
    verify_record(body, sig, key.public)
    try:
        verify_record({**body, "amount": 1001}, sig, key.public)
    except RecordSignatureError:
        pass
    else:
        raise CheckFailed("an altered record verified")
    issuer = IssuerKey.generate(7)
    keys = KeySet([issuer])
    now = int(time.time())
    token = WalletToken(123_456_789, 4_200, 17, now, now + 3600, 3_000)
    text = encode_token(token, issuer)
    back = decode_token(text, keys, now=now, expect=WalletToken)
    if back != token:
        raise CheckFailed(f"wallet token came back as {back!r}")
    raw = base45.b45decode(text[len("EW1:"):])
    if len(raw) > MAX_TOKEN_BYTES:
        raise CheckFailed(f"wallet token is {len(raw)} bytes, over {MAX_TOKEN_BYTES}")
    forged = "EW1:" + base45.b45encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode("ascii")
    try:
        decode_token(forged, keys, now=now)
    except TokenError as exc:
        if exc.reason is not TokenReason.BAD_SIGNATURE:
            raise CheckFailed(f"a forged wallet token was refused as {exc.reason.value}, not bad_signature") from exc
    else:
        raise CheckFailed("a forged wallet token was accepted")
    try:
        decode_token(text, KeySet([IssuerKey.generate(7)]), now=now)
    except TokenError:
        pass
    else:
        raise CheckFailed("a token signed by another key was accepted")
    return (f"Ed25519 record sign/verify, altered record refused; wallet token {len(raw)} bytes "
            f"(<= {MAX_TOKEN_BYTES}), forged and foreign-key tokens refused")


Check = Callable[[Path], str]
# Order matters for the start-up figure: the window check comes right after the imports.
CHECKS: dict[str, Check] = {
    "imports": check_imports,
    "qt": check_qt,
    "window": check_window,
    "camera": check_camera,
    "decoder": check_decoder,
    "store": check_store,
    "crypto": check_crypto,
}


def run_checks(names: Sequence[str], *, emit: Callable[[CheckResult], None]) -> list[CheckResult]:
    """Run the named checks in order in a temporary directory, emitting each result as it finishes."""
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="ennichi-selftest-") as tmp:
        for name in names:
            start = time.perf_counter()
            try:
                detail, ok = CHECKS[name](Path(tmp)), True
            except CheckFailed as exc:
                detail, ok = str(exc), False
            except Exception as exc:  # a crash in a check is a failed check, with its type
                detail, ok = f"{type(exc).__name__}: {exc}", False
            result = CheckResult(name, ok, detail, (time.perf_counter() - start) * 1000)
            results.append(result)
            emit(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the self-test; returns 0 when every check passed, 1 otherwise, 2 for bad usage."""
    began = time.perf_counter()
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--self-test"]
    parser = argparse.ArgumentParser(prog="ennichi-terminal --self-test",
                                     description="Check that this terminal app has everything it needs.")
    parser.add_argument("--only", action="append", choices=sorted(CHECKS), default=None,
                        help="run only this check (repeatable)")
    opts = parser.parse_args(args)
    names = [n for n in CHECKS if opts.only is None or n in opts.only]

    def emit(result: CheckResult) -> None:
        print(result.to_json(), flush=True)

    results = run_checks(names, emit=emit)
    passed = sum(r.ok for r in results)
    ok = passed == len(results)
    summary = {"check": "summary", "ok": ok, "detail": f"{passed}/{len(results)} checks passed",
               "ms": round((time.perf_counter() - began) * 1000, 1), "frozen": _frozen(),
               "platform": sys.platform, "python": sys.version.split()[0]}
    print(json.dumps(summary), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""The stall terminal app: QApplication setup and wiring of engine, scanner, screens and sync.

``ennichi terminal`` (without ``--headless``) calls ``main(data_dir=...)``.
``TerminalApp`` is the same wiring without the event loop, for tests and the
benchmark: give it an engine factory and a frame source factory.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from ui.backend import Backend, TerminalView
from ui.i18n import I18n, i18n, install
from ui.main_window import MainWindow
from ui.qt_compat import protect_bool_refcounts
from ui.scanner_bridge import CameraScanner, SourceFactory, WedgeFilter, camera_source
from ui.sounds import Sounds
from ui.tasks import TaskRunner

__all__ = ["TerminalApp", "main"]

log = logging.getLogger(__name__)
EngineFactory = Callable[[], Any]


def _server_url(engine: Any) -> str:
    creds = engine.store.credentials() if hasattr(engine, "store") else None
    return str(creds.server_url).rstrip("/") if creds is not None else ""


def load_terminal_view(engine: Any) -> tuple[TerminalView, list[Any]]:
    """Read the terminal's identity, stall and catalog (runs on the worker)."""
    me = engine.identity()
    stall = engine.stall()
    settings = engine.store.event_settings() if hasattr(engine, "store") else None
    view = TerminalView(
        name=me.name if me is not None else "",
        mode=str(me.mode.value if hasattr(me.mode, "value") else me.mode) if me is not None else "stall",
        stall_name=stall.name if stall is not None else "",
        allow_free_amount=bool(stall.allow_free_amount) if stall is not None else False,
        currency=settings.currency if settings is not None else "JPY",
        timezone=settings.timezone if settings is not None else "Asia/Tokyo",
        idle_logout_s=settings.staff_idle_logout_s if settings is not None else 900,
        server_url=_server_url(engine),
    )
    products = engine.catalog()
    if hasattr(engine, "store"):
        from terminal.reports import stock_left

        products = stock_left(engine.store, products)
    return view, products


class TerminalApp(QObject):
    """Wires one engine to the window; ``ready`` fires when the first screen is up."""

    ready = Signal()

    def __init__(
        self,
        engine_factory: EngineFactory,
        *,
        source_factory: SourceFactory | None,
        language: str = "ja",
        kiosk: bool = True,
        sounds: Sounds | None = None,
        sync: bool = True,
        reports_dir: Path | None = None,
        clock: Any = None,
        i18n_obj: I18n | None = None,
        status_interval_ms: int = 1000,
    ) -> None:
        """Build every object; nothing blocks: the engine opens on the worker in ``start``."""
        super().__init__()
        protect_bool_refcounts()
        self.started_at = time.perf_counter()
        self.i18n = install(i18n_obj) if i18n_obj is not None else i18n()
        self.i18n.set_language(language)
        self.tasks = TaskRunner(self)
        self.sounds = sounds or Sounds()
        self.backend = Backend(None, i18n=self.i18n, sounds=self.sounds, tasks=self.tasks, clock=clock,
                               status_interval_ms=status_interval_ms)
        self.window = MainWindow(self.backend, reports_dir=reports_dir, kiosk=kiosk)
        self.camera = CameraScanner(source_factory, parent=self)
        self.wedge = WedgeFilter(parent=self)
        self.sync_enabled = sync
        self._engine_factory = engine_factory
        self.engine: Any = None
        self.ready_at: float | None = None
        self.camera.scanned.connect(self.window.route_scan)
        self.camera.preview.connect(self.window.route_preview)
        self.camera.status_changed.connect(self.window.status_bar.set_camera)
        self.camera.status_changed.connect(self.window.route_camera_status)
        self.camera.decoder_missing.connect(self._decoder_missing)
        self.wedge.scanned.connect(self.window.route_scan)
        self.wedge.activity.connect(self.window.touch)
        self.window.enrolled.connect(self._after_enrollment)
        self.window.enroll.camera_chosen.connect(self.choose_camera)
        self.window.settings.camera_chosen.connect(self.choose_camera)
        self.window.login.logged_in.connect(lambda _s: self.refresh_catalog())
        self.window.sale.paid.connect(lambda _d: self.refresh_stock())
        self.window.soldout.changed.connect(self.refresh_stock)

    def start(self) -> None:
        """Open the engine on the worker, then show enrollment or login."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.wedge.install(app)

        def opened(engine: Any) -> None:
            self.engine = engine
            self.backend.engine = engine
            self.backend.run(lambda e: e.enrolled, on_done=self._show_first)

        self.tasks.run(self._engine_factory, on_done=opened)

    def _show_first(self, enrolled: bool) -> None:
        self.window.start(enrolled=enrolled)
        if enrolled:
            self._after_enrollment(first_screen=False)
        else:
            self._ready()

    def _after_enrollment(self, *, first_screen: bool = True) -> None:
        def loaded(result: tuple[TerminalView, list[Any]]) -> None:
            view, products = result
            self.backend.set_terminal(view)
            self.window.sale.set_products(products)
            if first_screen:
                self.window.go("login")
            self.backend.start_status_timer()
            self._ready()

        def work(engine: Any) -> tuple[TerminalView, list[Any]]:
            if self.sync_enabled:
                if first_screen:
                    # Just enrolled: pull the staff list and catalog before the login screen shows, so the
                    # first badge scanned is known (the pull has explicit timeouts; offline it just fails).
                    engine.sync_now()
                engine.start_sync()
            return load_terminal_view(engine)

        self.backend.run(work, on_done=loaded)

    def refresh_catalog(self) -> None:
        """Reload the terminal view and products (after a login: the pull may have brought changes)."""
        def loaded(result: tuple[TerminalView, list[Any]]) -> None:
            view, products = result
            self.backend.set_terminal(view)
            self.window.sale.set_products(products)
            self.window.go(self.window.current.name)

        self.backend.run(load_terminal_view, on_done=loaded)

    def refresh_stock(self) -> None:
        """Reload the products' stock after a sale, without leaving the screen or its result."""
        def loaded(result: tuple[TerminalView, list[Any]]) -> None:
            self.window.sale.update_products(result[1])

        self.backend.run(load_terminal_view, on_done=loaded)

    def _ready(self) -> None:
        if self.ready_at is None:
            self.ready_at = time.perf_counter()
            self.ready.emit()

    def choose_camera(self, index: int) -> None:
        """Switch to webcam ``index``."""
        self.camera.set_source(camera_source(index))

    def _decoder_missing(self, _detail: str) -> None:
        self.window.status_bar.decoder_missing = True
        self.window.status_bar.refresh()

    def close(self) -> None:
        """Stop the camera, sync and the workers; close the engine (on its worker)."""
        self.backend.stop_status_timer()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.wedge)
        self.camera.stop()
        engine = self.engine
        if engine is not None:
            self.tasks.run(engine.close)
        self.tasks.shutdown(wait=True)
        self.window.allow_close = True
        self.window.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ennichi terminal", description="The stall terminal window.")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--camera", default="0", help="webcam number or device path; 'none' for no camera")
    parser.add_argument("--lang", choices=("ja", "en"), default="ja")
    parser.add_argument("--windowed", action="store_true", help="a normal window instead of the kiosk full screen")
    parser.add_argument("--no-sync", action="store_true")
    parser.add_argument("--no-sound", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None, *, data_dir: Path | None = None) -> int:
    """Run the terminal window until an authorized shutdown; returns the exit code."""
    args = _parser().parse_args(list(argv) if argv is not None else [])
    data = args.data_dir or data_dir
    if data is None:
        from terminal.run import _default_data_dir

        data = _default_data_dir()
    data = Path(data)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setFont(QFont("Noto Sans CJK JP", 14))
    device: int | str | None = None if args.camera == "none" else (int(args.camera) if args.camera.isdigit()
                                                                    else args.camera)

    def open_engine() -> Any:
        from terminal.engine import Terminal

        return Terminal.open(data)

    terminal_app = TerminalApp(
        open_engine,
        source_factory=camera_source(device) if device is not None else None,
        language=args.lang,
        kiosk=not args.windowed,
        sounds=Sounds(enabled=not args.no_sound),
        sync=not args.no_sync,
        reports_dir=data / "reports",
    )
    if args.windowed:
        terminal_app.window.resize(1280, 800)
        terminal_app.window.show()
    else:
        terminal_app.window.showFullScreen()
    terminal_app.start()
    terminal_app.camera.start()
    code = app.exec()
    terminal_app.close()
    return int(code)

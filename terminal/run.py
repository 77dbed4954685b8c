"""``ennichi terminal``: the Qt app, or ``--headless`` to drive the engine with JSON lines.

The Qt app (``ui/``) is imported only in its own branch, so ``import terminal``
and the headless runner never load PySide6.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ennichi" / "terminal"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the terminal; returns the exit code."""
    parser = argparse.ArgumentParser(prog="ennichi terminal", description="Run a stall or gate terminal.")
    parser.add_argument("--headless", action="store_true", help="no window: JSON commands on stdin, results on stdout")
    parser.add_argument("--data-dir", type=Path, default=None, help="the terminal's data directory")
    parser.add_argument("--script", type=Path, default=None, help="read commands from this file instead of stdin")
    parser.add_argument("--no-sync", action="store_true", help="do not run background sync (diagnostics)")
    parser.add_argument("--log-level", default="WARNING", help="logging level on stderr")
    window = parser.add_argument_group("the window (not with --headless)")
    window.add_argument("--camera", default="0", help="webcam number or device path; 'none' for no camera")
    window.add_argument("--lang", choices=("ja", "en"), default="ja", help="language at start (switchable any time)")
    window.add_argument("--windowed", action="store_true", help="a normal window instead of the kiosk full screen")
    window.add_argument("--no-sound", action="store_true", help="no approve/decline sounds")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir = args.data_dir or _default_data_dir()
    if args.headless:
        from terminal.headless import main_headless

        return main_headless(data_dir, script=args.script, sync=not args.no_sync)
    try:
        app = importlib.import_module("ui.app")
    except ImportError as exc:
        parser.error(f"the windowed app is not available ({exc}); use --headless")
    forwarded = ["--camera", args.camera, "--lang", args.lang]
    forwarded += [flag for flag, on in (("--windowed", args.windowed), ("--no-sync", args.no_sync),
                                        ("--no-sound", args.no_sound)) if on]
    result: int = app.main(forwarded, data_dir=data_dir)
    return result

"""The ``ennichi`` command: one entry point, one subcommand per job.

Each subcommand lives with the package that owns it and is imported only when
it is called, so ``ennichi scan`` never loads the server and ``ennichi server``
never loads Qt.  The table below is the whole dispatcher.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

__all__ = ["SUBCOMMANDS", "main"]

# name -> (module:function taking argv and returning an exit code, help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "server": ("server.cli:main", "set up and run the central server (init, run, upgrade)"),
    "admin": ("server.admin_cli:main", "operations on an event: reconcile, backup, restore, codes"),
    "terminal": ("terminal.run:main", "run a stall or gate terminal (window, or --headless)"),
    "scan": ("scanner.cli:main", "decode QR codes from image/video files or a camera"),
    "demo": ("server.demo:main", "create a demo event, start the server and a terminal"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ennichi",
        description="Ennichi: cashless payments and ticket gates for festivals.",
    )
    parser.add_argument("--version", action="version", version=f"ennichi {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_target, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("ennichi")
    except Exception:  # not installed (running from a checkout or a frozen app)
        return "0.1.0"


def _load(target: str) -> Callable[[list[str]], int]:
    module_name, func_name = target.split(":")
    module = importlib.import_module(module_name)
    func: Callable[[list[str]], int] = getattr(module, func_name)
    return func


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ennichi`` command; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not args or args[0] not in SUBCOMMANDS:
        # argparse prints usage and exits 2 for unknown commands and bad flags.
        namespace = parser.parse_args(args)
        if namespace.command is None:
            parser.print_usage(sys.stderr)
            return 2
    name, rest = args[0], args[1:]
    return int(_load(SUBCOMMANDS[name][0])(rest) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

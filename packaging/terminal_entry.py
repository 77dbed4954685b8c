"""Entry point of the frozen stall terminal: ``--self-test`` runs the checks, anything else runs the terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the self-test or the terminal (window, or ``--headless``); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--self-test" in args:
        from terminal.selftest import main as self_test

        return self_test(args)
    from terminal.cli import main as ennichi

    return ennichi(["terminal", *args])


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # harmless unfrozen; needed if anything ever spawns on Windows/macOS
    if __package__ in (None, "") and not getattr(sys, "frozen", False):
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
    raise SystemExit(main())

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from terminal.cli import SUBCOMMANDS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_subcommand() -> None:
    out = run("--help")
    assert out.returncode == 0
    for name in ("server", "terminal", "demo", "scan", "admin"):
        assert name in out.stdout
    assert set(SUBCOMMANDS) == {"server", "terminal", "demo", "scan", "admin"}


@pytest.mark.parametrize("args", [(), ("bogus",), ("--no-such-flag",)])
def test_unknown_subcommands_and_flags_print_usage_and_fail(args: tuple[str, ...]) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert "usage: ennichi" in out.stderr


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_subcommand_refuses_a_bad_flag(name: str) -> None:
    out = run(name, "--definitely-not-a-flag")
    assert out.returncode == 2, out.stderr
    assert "usage:" in out.stderr


def test_terminal_forwards_window_options_to_the_app(monkeypatch: Any, tmp_path: Path) -> None:
    """`ennichi terminal --windowed --camera 2 ...` reaches the Qt app's own parser intact (the demo relies on it)."""
    import importlib
    import types

    from terminal import run as terminal_run

    seen: dict[str, Any] = {}

    def fake_main(argv: list[str], *, data_dir: Path) -> int:
        seen["argv"], seen["data_dir"] = argv, data_dir
        return 0

    real_import = importlib.import_module

    def import_module(name: str, package: str | None = None) -> Any:
        return types.SimpleNamespace(main=fake_main) if name == "ui.app" else real_import(name, package)

    monkeypatch.setattr(terminal_run.importlib, "import_module", import_module)
    assert terminal_run.main(["--data-dir", str(tmp_path), "--windowed", "--camera", "2", "--lang", "en", "--no-sync",
                     "--no-sound"]) == 0
    assert seen["data_dir"] == tmp_path
    from ui.app import _parser

    parsed = _parser().parse_args(seen["argv"])
    assert (parsed.windowed, parsed.camera, parsed.lang, parsed.no_sync, parsed.no_sound) == (True, "2", "en", True,
                                                                                             True)
    assert terminal_run.main(["--data-dir", str(tmp_path)]) == 0
    parsed = _parser().parse_args(seen["argv"])
    assert (parsed.windowed, parsed.camera, parsed.lang, parsed.no_sync) == (False, "0", "ja", False)


def test_terminal_refuses_an_unknown_flag() -> None:
    result = run("terminal", "--fullscreen-please")
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr

from __future__ import annotations

import subprocess
import sys

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

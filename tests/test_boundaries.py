"""The package boundaries of DESIGN.md, checked on the real imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level modules it must never import (DESIGN.md "The shape")
FORBIDDEN = {
    "sync": {"PySide6", "shiboken6", "server", "terminal", "ui", "scanner", "fastapi", "sqlalchemy"},
    "terminal": {"PySide6", "shiboken6", "fastapi", "server", "sqlalchemy"},
    "scanner": {"PySide6", "shiboken6", "terminal", "server", "ui"},
    "ui": {"sqlite3", "sqlite_utils", "httpx", "sqlalchemy", "server"},
    "server": {"PySide6", "shiboken6", "terminal", "ui", "scanner"},
}
# the one deliberate exception: the `ennichi` dispatcher and the window launcher
# import their subcommands lazily, by module name, inside functions.
LAZY_OK = {ROOT / "terminal" / "cli.py", ROOT / "terminal" / "run.py"}


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_imports_in_source(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if path in LAZY_OK:
            continue
        bad = _top_level_imports(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("package", ["terminal", "sync", "scanner"])
def test_headless_packages_do_not_load_qt(package: str) -> None:
    modules = [
        p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for p in sorted((ROOT / package).rglob("*.py"))
        if p.name != "__main__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing {package} loaded {out.stdout.strip()}"

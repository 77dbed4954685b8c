"""Terminal build figures: PyInstaller build time, size of the one-folder app, start-up times.

    .venv/bin/python bench/build.py [--clean] [--runs 5] [--dist DIR]

Builds with packaging/build_terminal.sh (``--clean`` first throws PyInstaller's
work folder away, for a cold build), then runs the built app offscreen:
``--self-test`` (every check) and ``--self-test --only window`` (process start
to the first screen ready: the start-up a stall sees, minus the camera).
Prints one line per figure; medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = "ennichi-terminal"


def folder_size(path: Path) -> int:
    """Return the bytes of every file under ``path`` (symlinks not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def timed_run(cmd: list[str]) -> tuple[float, list[dict[str, object]]]:
    """Run ``cmd`` offscreen; return (wall seconds, its JSON lines); raises RuntimeError if it fails."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", action="store_true", help="cold build: discard PyInstaller's work folder first")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dist", type=Path, default=None, help="where to build (default: a temporary folder)")
    args = parser.parse_args()
    dist = args.dist or Path(tempfile.mkdtemp(prefix="ennichi-bench-dist-"))
    build = ["bash", str(ROOT / "packaging" / "build_terminal.sh"), "--dist", str(dist)]
    start = time.perf_counter()
    subprocess.run(build + (["--clean"] if args.clean else []), check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    build_s = time.perf_counter() - start
    app = dist / APP
    exe = app / (APP + (".exe" if sys.platform == "win32" else ""))
    size = folder_size(app)
    files = sum(1 for p in app.rglob("*") if p.is_file())
    print(f"build ({'cold' if args.clean else 'incremental'}, {os.cpu_count()} cores): {build_s:.1f} s")
    print(f"one-folder app: {size / 2**20:.0f} MiB in {files} files ({app})")
    parts = sorted(((folder_size(p) if p.is_dir() else p.lstat().st_size, p.name)
                    for p in (app / "_internal").iterdir() if not p.is_symlink()), reverse=True)[:6]
    print("largest parts: " + ", ".join(f"{name} {b / 2**20:.0f} MiB" for b, name in parts))

    window_wall, window_check, self_test_wall = [], [], []
    first_wall, _ = timed_run([str(exe), "--self-test", "--only", "window"])  # cold-ish: first run after build
    for _ in range(args.runs):
        wall, lines = timed_run([str(exe), "--self-test", "--only", "window"])
        window_wall.append(wall)
        window_check.append(float(str(lines[0]["ms"])))
        wall, _ = timed_run([str(exe), "--self-test"])
        self_test_wall.append(wall)
    unfrozen, _ = timed_run([sys.executable, str(ROOT / "packaging" / "terminal_entry.py"), "--self-test"])
    med = statistics.median
    print(f"start to first screen ready (offscreen, frozen): {med(window_wall) * 1000:.0f} ms median of "
          f"{args.runs} (first run after build {first_wall * 1000:.0f} ms); "
          f"of which window check {med(window_check):.0f} ms")
    print(f"full self-test, start to exit (frozen): {med(self_test_wall) * 1000:.0f} ms median of {args.runs}")
    print(f"full self-test, start to exit (unfrozen, python packaging/terminal_entry.py): {unfrozen * 1000:.0f} ms")


if __name__ == "__main__":
    main()

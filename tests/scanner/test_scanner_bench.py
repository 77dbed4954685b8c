"""bench/scanner.py runs end to end on a tiny corpus and prints every figure the issue asks for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_scanner_bench_prints_paths_buckets_timing_clips_and_the_summary():
    args = ["--per-bucket", "1", "--negatives", "6", "--per-motion", "1", "--repeats", "1", "--latency-runs", "1"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scanner.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for size in ("640x480", "1280x720"):
        assert f"### {size}: 16 frames with a code, 6 without" in out
        summary = re.search(rf"^{size}: default ([\d.]+) % vs plain ([\d.]+) % .*idle camera", out, re.M)
        assert summary, out[-3000:]
    header = next(line for line in out.splitlines() if line.startswith("| path | clean"))
    assert "idle camera ms" in header and "idle camera vs plain" in header and "motion blur" in header
    assert "p95 ms" in header
    for size in ("640x480", "1280x720"):  # the idle camera's ratio to the plain call, with its spread
        assert re.search(rf"^{size}: .*idle camera [\d.]+ vs [\d.]+ ms \([\d.]+x, quartiles [\d.]+-[\d.]+\)", out, re.M)
    rows = [line for line in out.splitlines() if line.startswith(("| default |", "| zxing-cpp plain |"))]
    assert len(rows) == 4 + 4  # two frame tables and two clip tables, each with both paths
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) > 12:  # a frame table row: "wrong" and "empty-frame reads" are 0
            assert cells[18] == "0" and cells[19] == "0", row
    assert re.search(r"^both sizes: default \d+/32 .* vs plain \d+/32 .*points$", out, re.M)
    assert "scan-to-text at 1280x720" in out

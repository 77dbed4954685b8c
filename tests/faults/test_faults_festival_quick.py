"""A short seeded festival (bench/festival.py --quick) inside the suite: the whole system under a day's faults.

16 in-process terminals against a real server process, areas going offline, and every
kind of anomaly injected.  The long runs are documented commands in docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "festival.py"


def _festival() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_festival", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_quick_festival_books_every_record_once_and_finds_every_anomaly(tmp_path: Path) -> None:
    festival = _festival()
    lines: list[str] = []
    ok, figures, text = festival.run_festival(festival.Config.quick(seed=7), tmp_path, log=lines.append)
    assert figures["lost"] == figures["missing_on_server"] == figures["extra_on_server"] == 0, text
    assert figures["applied_twice"] == figures["body_differs"] == 0, text
    assert figures["reconcile_ok"], text
    assert figures["injected"] == figures["found"], text
    assert set(figures["injected"]) == {"overdraft", "duplicate_entry", "forged", "record_conflict"}, text
    assert figures["records_server"] > 300, text
    closing = figures["closing"]  # the closing hour: cash-outs, payouts, drawers; the money adds up to the yen
    assert closing["equation_holds"] and closing["imbalance"] == -100 and closing["cash_outs"] > 0, text
    assert closing["payouts"] > 0 and [d["difference"] for d in figures["closing_hour"]["drawers"]] == [0, -100], text
    assert ok, text

"""The headless command protocol: one JSON result per line, errors as results, never a crash."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from terminal_helpers import CASHIER, PIN, Env

from sync.schemas import StatementRow
from terminal.headless import run_headless

W = 0x33_0000_0001


def run(env: Env, *commands: object) -> list[dict[str, object]]:
    assert env.terminal is not None
    out = io.StringIO()
    lines = [c if isinstance(c, str) else json.dumps(c) for c in commands]
    assert run_headless(env.terminal, lines, out, sync=False) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_session_of_commands(env: Env) -> None:
    env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=1)])
    wallet = env.wallet(W, 5000, 1)
    results = run(env,
                  {"cmd": "login", "badge": env.badge(CASHIER), "pin": PIN, "tag": "a"},
                  {"cmd": "catalog"},
                  {"cmd": "sell", "wallet": wallet, "items": [[1, 2]]},
                  {"cmd": "sell", "wallet": wallet, "amount": 300},
                  {"cmd": "sell", "wallet": "nonsense", "amount": 300},
                  {"cmd": "refund", "ref": "x", "amount": 1},
                  {"cmd": "recent", "limit": 5},
                  {"cmd": "report"},
                  {"cmd": "status"},
                  {"cmd": "quit"},
                  {"cmd": "status"})  # after quit: not run
    assert len(results) == 10
    login, catalog, sale, free, bad, refund, recent, report, status, bye = results
    assert login["ok"] and login["tag"] == "a"
    assert [p["id"] for p in catalog["products"]] == [1, 2, 3]  # type: ignore[index]
    assert sale["approved"] and sale["amount"] == 1000 and sale["mode"] == "offline"
    assert free["approved"] and free["balance_after"] == 3700
    assert not bad["approved"] and bad["reason"] == "not_a_code"
    assert refund["reason"] == "not_permitted"
    assert [r["id"] for r in recent["records"]] == [free["id"], sale["id"]]  # type: ignore[index]
    assert report["report"]["sales_amount"] == 1300  # type: ignore[index]
    assert status["status"]["unsynced_count"] == 2  # type: ignore[index]
    assert bye == {"ok": True, "bye": True}


def test_bad_commands_answer_with_an_error(env: Env) -> None:
    env.seed()
    results = run(env, "not json", "[1, 2]", {"cmd": "fly"}, {"cmd": "sell", "wallet": 5},
                  {"cmd": "sell", "wallet": "x", "items": "lots"}, {"cmd": "checkin", "ticket": "x", "direction": "up"},
                  {"cmd": "enroll", "code": "EE1:broken"}, "", "# a comment")
    assert len(results) == 7
    assert all(r["ok"] is False and r["error"] for r in results)
    assert "already enrolled" in str(results[-1]["error"])


def test_the_command_line_runs_without_qt(tmp_path: object) -> None:
    code = ("import sys, io; from terminal.run import main; sys.stdin = io.StringIO('{\"cmd\": \"status\"}\\n'); "
            f"rc = main(['--headless', '--no-sync', '--data-dir', {str(tmp_path)!r}]); "
            "assert 'PySide6' not in sys.modules; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout.splitlines()[0])
    assert status["ok"] and status["status"]["enrolled"] is False

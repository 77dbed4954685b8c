"""``ennichi server run --workers N`` on PostgreSQL: a real multi-process uvicorn books every record once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from ops_helpers import admin_args, open_shop, push, sales
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from server import admin_cli, cli
from server.db import tables as t
from server.db.engine import Database
from server.testing import init_test_event

REPO = Path(__file__).resolve().parents[2]


def test_workers_above_one_are_refused_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = init_test_event(tmp_path / "data")
    assert cli.main(["--data-dir", str(settings.data_dir), "run", "--workers", "2"]) == 1
    assert "SQLite serves one process: --workers above 1 needs PostgreSQL" in capsys.readouterr().err
    assert cli.main(["--data-dir", str(settings.data_dir), "run", "--workers", "0"]) == 1
    assert "at least 1" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, what: str,
              timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what}: server exited with {proc.returncode}\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _worker_pids(log: Path) -> set[int]:
    pids = set()
    for line in log.read_text().splitlines():
        if line.startswith("{") and "Application startup complete" in line:
            pids.add(json.loads(line)["pid"])
    return pids


@pytest.mark.postgres
def test_two_workers_book_each_record_once_under_concurrent_pushes(
        tmp_path: Path, new_database: Callable[[str], str], capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = init_test_event(tmp_path / "data", database_url=new_database("postgres"))
    shops = [open_shop(settings, wallets=5, balance=100_000) for _ in range(3)]
    batches = [sales(shop, 60) for shop in shops]
    port = _free_port()
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENNICHI_", "PROMETHEUS_"))}
    env["PYTHONPATH"] = str(REPO)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from terminal.cli import main; sys.exit(main())", "server",
             *admin_args(settings.data_dir, settings.database_url), "run", "--port", str(port), "--workers", "2"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: len(_worker_pids(log)) == 2, proc, log, "two workers")

        def send(job: tuple[int, int]) -> list[dict]:
            shop_index, _attempt = job
            response = push(base_url, shops[shop_index], batches[shop_index])
            assert response.status_code == 200, response.text
            return response.json()["results"]

        jobs = [(i, attempt) for attempt in range(4) for i in range(len(shops))]  # each batch 4 times at once
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            answers = list(pool.map(send, jobs))

        applied: dict[str, int] = {}
        for results in answers:
            for item in results:
                assert item["status"] in ("applied", "duplicate"), item
                applied[item["id"]] = applied.get(item["id"], 0) + (item["status"] == "applied")
        total = sum(len(b) for b in batches)
        assert len(applied) == total and set(applied.values()) == {1}  # exactly one "applied" per record

        metrics = httpx.get(f"{base_url}/metrics", timeout=30)
        assert metrics.status_code == 200
        samples = {(s.name, frozenset(s.labels.items())): s.value
                   for family in text_string_to_metric_families(metrics.text) for s in family.samples}
        # whichever worker answered the scrape, it counts both workers' pushes (multiprocess mode)
        assert samples[("ennichi_records_total", frozenset({("kind", "sale"), ("status", "applied")}))] == total
        assert samples[("ennichi_records_total", frozenset({("kind", "sale"), ("status", "duplicate")}))] == 3 * total
        assert samples[("ennichi_push_batch_records_count", frozenset())] == len(jobs)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, log.read_text()[-3000:]
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line the server wrote is one JSON object
    pushes = [r for r in records if r["logger"] == "ennichi.access" and r.get("path") == "/api/v1/push"]
    assert len(pushes) == len(jobs)
    assert {r["terminal_id"] for r in pushes} == {shop.terminal.terminal_id for shop in shops}
    assert len({r["request_id"] for r in pushes}) == len(jobs)

    db = Database(settings.url)
    try:
        with db.read() as conn:
            booked = conn.execute(select(func.count()).select_from(t.transactions)
                                  .where(t.transactions.c.record_id.is_not(None))).scalar_one()
    finally:
        db.dispose()
    assert booked == total
    assert admin_cli.main([*admin_args(settings.data_dir, settings.database_url), "reconcile"]) == 0
    assert "result: OK" in capsys.readouterr().out

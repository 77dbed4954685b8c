"""``/metrics``, request ids and JSON logs on a real uvicorn (SQLite; the workers test covers PostgreSQL)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ops_helpers import Shop, open_shop, push, sales
from prometheus_client.parser import text_string_to_metric_families

from server.observability import JsonFormatter
from server.settings import ServerSettings
from server.testing import init_test_event, run_server_in_thread

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str, **headers: str) -> Samples:
    """Every sample of ``/metrics``, parsed by prometheus_client's own parser."""
    response = httpx.get(f"{base_url}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, ServerSettings, Shop]]:
    settings, _ = init_test_event(tmp_path / "data", metrics_token="s3cret-token")
    shop = open_shop(settings, wallets=5, balance=1000)
    base_url, stop = run_server_in_thread(settings)
    try:
        yield base_url, settings, shop
    finally:
        stop()


def test_counters_and_histograms_move_after_push_and_pull(served: tuple[str, ServerSettings, Shop]) -> None:
    base_url, _settings, shop = served
    before = scrape(base_url)
    assert value(before, "ennichi_database_up") == 1
    assert value(before, "ennichi_terminals_online") == 0

    batch = sales(shop, 7)
    assert push(base_url, shop, batch).status_code == 200
    assert push(base_url, shop, batch[:3]).status_code == 200  # a retry: duplicates
    overdraw = shop.terminal.sale(wallet_id=shop.wallets[0], amount=5000, staff_id=shop.cashier)
    assert push(base_url, shop, [overdraw]).json()["results"][0]["status"] == "applied"  # an offline fact
    pulled = httpx.post(f"{base_url}/api/v1/pull", json={"cursor": "0"}, headers=shop.terminal.headers)
    assert pulled.status_code == 200, pulled.text
    after = scrape(base_url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("ennichi_records_total", kind="sale", status="applied") == 8
    assert delta("ennichi_records_total", kind="sale", status="duplicate") == 3
    assert delta("ennichi_push_batch_records_count") == 3
    assert delta("ennichi_push_batch_records_sum") == 11
    assert delta("ennichi_push_batch_records_bucket", le="5.0") == 2  # batches of 3 and 1
    assert delta("ennichi_pull_page_items_count") == 1 and delta("ennichi_pull_page_items_sum") > 0
    assert delta("ennichi_http_requests_total", route="/api/v1/push", method="POST", status="200") == 3
    assert delta("ennichi_http_request_duration_seconds_count", route="/api/v1/push", method="POST") == 3
    assert delta("ennichi_http_requests_total", route="/api/v1/pull", method="POST", status="200") == 1
    assert value(after, "ennichi_terminals_online") == 1  # seen by its pull just now
    assert value(after, "ennichi_anomalies_total", kind="overdraft") == 1
    assert value(after, "ennichi_anomalies_open", kind="overdraft") == 1
    # SQLite's group writer: 3 pushes and the pull's status line waited for it, each in one group at most
    assert delta("ennichi_db_writer_wait_seconds_count", priority="routine") == 4
    assert delta("ennichi_db_writer_group_jobs_sum", priority="routine") == 4
    assert 1 <= delta("ennichi_db_writer_group_seconds_count", priority="routine") <= 4
    assert delta("ennichi_db_writer_wait_seconds_count", priority="urgent") == 0  # no authorization was asked

    httpx.get(f"{base_url}/no/such/page/{'x' * 20}")
    wallet = httpx.get(f"{base_url}/api/v1/wallets/{shop.wallets[1]}", headers=shop.terminal.headers)
    assert wallet.status_code == 403  # a terminal with no staff badge holds no wallets.view
    last = scrape(base_url)
    assert value(last, "ennichi_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert value(last, "ennichi_http_requests_total", route="/api/v1/wallets/{wallet_id}", method="GET",
                 status="403") == 1  # the template, never the id


def test_metrics_from_a_proxy_or_another_host_need_the_token(served: tuple[str, ServerSettings, Shop]) -> None:
    base_url, _settings, _shop = served
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert httpx.get(f"{base_url}/metrics", headers=proxied).status_code == 403
    wrong = httpx.get(f"{base_url}/metrics", headers={**proxied, "Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and "metrics token" in wrong.json()["detail"]
    assert scrape(base_url, **proxied, Authorization="Bearer s3cret-token")
    assert "/metrics" not in httpx.get(f"{base_url}/openapi.json").json()["paths"]


@pytest.fixture
def json_lines() -> Iterator[list[str]]:
    """Lines the server's loggers write through the JSON formatter during the test."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("ennichi.access", "ennichi.security")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)


def test_request_ids_and_json_access_lines(served: tuple[str, ServerSettings, Shop], json_lines: list[str]) -> None:
    base_url, _settings, shop = served
    ok = push(base_url, shop, sales(shop, 2), headers={"X-Request-ID": "till-7.42:a"})
    assert ok.headers["x-request-id"] == "till-7.42:a"
    forged = sales(shop, 1)[0]
    forged["body"]["amount"] += 1  # changed after signing
    refused = push(base_url, shop, [forged], headers={"X-Request-ID": "<script>" + "x" * 10})
    generated = refused.headers["x-request-id"]
    assert refused.json()["results"][0]["status"] == "rejected"
    assert len(generated) == 32 and int(generated, 16) >= 0  # an insane incoming id is replaced
    too_big = httpx.post(f"{base_url}/api/v1/push", content=b"x" * (3 * 1024 * 1024),
                         headers={"Content-Type": "application/json", **shop.terminal.headers})
    assert too_big.status_code == 413 and too_big.headers["x-request-id"]

    records = [json.loads(line) for line in json_lines]  # every line is one JSON object
    access = {r["request_id"]: r for r in records if r["logger"] == "ennichi.access"}
    line = access["till-7.42:a"]
    assert {k: line[k] for k in ("level", "method", "path", "status", "terminal_id")} == {
        "level": "info", "method": "POST", "path": "/api/v1/push", "status": 200,
        "terminal_id": shop.terminal.terminal_id}
    assert line["msg"] == "POST /api/v1/push 200" and line["ms"] >= 0 and line["ts"].endswith("Z")
    assert access[too_big.headers["x-request-id"]]["status"] == 413
    security = [r for r in records if r["logger"] == "ennichi.security"]
    assert [r["request_id"] for r in security] == [generated]  # logged from the handler thread, same id


def test_a_sign_in_link_in_a_path_never_reaches_the_log(served: tuple[str, ServerSettings, Shop],
                                                        json_lines: list[str]) -> None:
    """The one-time link printed on a student's letter is a credential: the access line names the route only."""
    base_url, _settings, _shop = served
    secret = "Zq8" + "x" * 29
    resp = httpx.get(f"{base_url}/my/link/{secret}", headers={"X-Request-ID": "letter-1"})
    assert resp.status_code == 404  # no such link (a real one: tests/web)
    deadline = time.monotonic() + 5  # the line is written once the response has gone
    while not any('"letter-1"' in line for line in json_lines) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(secret in line for line in json_lines)
    line = {r["request_id"]: r for r in map(json.loads, json_lines)}["letter-1"]
    assert line["path"] == "/my/link/…" and line["msg"] == "GET /my/link/… 404"

"""Shared helpers of the operations tests (importable by basename)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.settings import ServerSettings
from server.testing import Seeder, TestTerminal


@dataclass
class Shop:
    """A stall with a cashier, wallets and an enrolled terminal."""

    stall: int
    cashier: int
    wallets: list[int]
    terminal: TestTerminal


def open_shop(settings: ServerSettings, *, wallets: int = 10, balance: int = 100_000) -> Shop:
    """Seed a stall, a cashier, ``wallets`` wallets and a stall terminal into the event of ``settings``."""
    seed = Seeder(settings)
    try:
        stall = seed.stall()
        cashier = seed.staff("Cashier", roles=[("cashier", "stall", stall)])
        ids = seed.wallets(wallets, balance=balance)
        return Shop(stall, cashier, ids, seed.terminal("stall", stall_id=stall))
    finally:
        seed.close()


def sales(shop: Shop, count: int, *, amount: int = 100) -> list[dict]:
    """``count`` signed sales spread over the shop's wallets."""
    return [shop.terminal.sale(wallet_id=shop.wallets[i % len(shop.wallets)], amount=amount, staff_id=shop.cashier)
            for i in range(count)]


def push(base_url: str, shop: Shop, records: list[dict], *, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST one push batch; raises on a transport error."""
    return httpx.post(f"{base_url}/api/v1/push", json={"records": records},
                      headers={**shop.terminal.headers, **(headers or {})}, timeout=60)


DEFAULT_PG_URL = "postgresql+psycopg://ennichi:ennichi@127.0.0.1:5432/ennichi_test"
_pg_state: dict[str, str | None] = {}


def postgres_base_url() -> str:
    """A reachable PostgreSQL URL, or fail (CI) / skip (elsewhere)."""
    if "url" not in _pg_state:
        url = os.environ.get("ENNICHI_TEST_PG_URL") or DEFAULT_PG_URL
        try:
            engine = create_engine(make_url(url).set(database="postgres"), connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["url"], _pg_state["error"] = url, None
        except Exception as exc:  # any failure to connect means: no PostgreSQL here
            _pg_state["url"], _pg_state["error"] = None, f"{type(exc).__name__}: {exc}"
    if _pg_state["url"] is None:
        message = f"PostgreSQL is not reachable ({_pg_state['error']}); set ENNICHI_TEST_PG_URL"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return str(_pg_state["url"])


def admin_args(data_dir: Path, url: str) -> list[str]:
    """Global flags of ``ennichi admin`` / ``ennichi server`` for an event."""
    return ["--data-dir", str(data_dir), *(["--database-url", url] if url else [])]

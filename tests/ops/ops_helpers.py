"""Shared helpers of the operations tests (importable by basename)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

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


def admin_args(data_dir: Path, url: str) -> list[str]:
    """Global flags of ``ennichi admin`` / ``ennichi server`` for an event."""
    return ["--data-dir", str(data_dir), *(["--database-url", url] if url else [])]

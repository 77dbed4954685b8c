"""Shared helpers of the server tests (importable by basename, like every helper here)."""

from __future__ import annotations

from dataclasses import dataclass

from server.bootstrap import InitResult
from server.settings import ServerSettings
from server.testing import Seeder, TestTerminal


@dataclass
class Event:
    """A fresh event: settings, a seeder on its database, the first admin."""

    engine: str
    settings: ServerSettings
    seed: Seeder
    admin: InitResult

    def stall_setup(self, balance: int = 1000) -> tuple[int, int, int, TestTerminal]:
        """A stall, a cashier for it, a wallet with ``balance`` and an enrolled stall terminal."""
        stall = self.seed.stall()
        cashier = self.seed.staff("Cashier", roles=[("cashier", "stall", stall)])
        wallet = self.seed.wallet(balance)
        return stall, cashier, wallet, self.seed.terminal("stall", stall_id=stall)

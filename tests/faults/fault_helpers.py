"""What the fault tests share: the PIN and the event on disk (a plain module, so no test imports a conftest)."""

from __future__ import annotations

from dataclasses import dataclass

from server.testing import Seeder, ServerProcess

PIN = "1234"


@dataclass
class Event:
    """An event on disk, its server as a child process, a stall with a supervisor."""

    seed: Seeder
    server: ServerProcess
    stall: int
    cashier: int

    def code(self, base_url: str, mode: str = "stall") -> str:
        return self.seed.enrollment_code(mode, stall_id=self.stall, base_url=base_url)

    def badge(self) -> str:
        return self.seed.badge(self.cashier)

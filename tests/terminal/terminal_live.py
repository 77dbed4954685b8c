"""A real event on a real server on loopback (server.testing), seen through a fault proxy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loopback_proxy import FaultProxy
from sqlalchemy import select

from server.anomalies import list_anomalies
from server.db import tables as t
from server.testing import Seeder, init_test_event, run_server_in_thread
from sync.schemas import EventSettings
from terminal.engine import Terminal

PIN = "1234"


@dataclass
class Live:
    """One event: server, seeder, a stall with products, a cashier and a proxy in front."""

    tmp: Path
    event: EventSettings
    database_url: str = ""  # PostgreSQL when given (a fresh database), else SQLite in ``tmp``
    proxy: FaultProxy = field(init=False)

    def __post_init__(self) -> None:
        self.settings, _ = init_test_event(self.tmp / "server", event=self.event, database_url=self.database_url)
        self.seed = Seeder(self.settings)
        self._stop = None
        self.start_server()
        self.proxy = FaultProxy(self.port)
        self.stall = self.seed.stall("Yatai", free_amount=True)
        self.products = [self.seed.product(self.stall, "Yakisoba", 500), self.seed.product(self.stall, "Ramune", 200)]
        self.cashier = self.seed.staff("Hana", pin=PIN, roles=[("supervisor", "stall", self.stall),
                                                              ("topup", "event", None)])

    def start_server(self) -> None:
        self.url, self._stop = run_server_in_thread(self.settings)
        self.port = int(urlsplit(self.url).port or 0)
        if hasattr(self, "proxy"):
            self.proxy.set_upstream(self.port)

    def stop_server(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def close(self) -> None:
        self.proxy.close()
        self.stop_server()
        self.seed.close()

    def code(self, mode: str = "stall", *, direct: bool = False) -> str:
        return self.seed.enrollment_code(mode, stall_id=self.stall if mode == "stall" else None,
                                         base_url=self.url if direct else self.proxy.url)

    def terminal(self, data_dir: Path, *, mode: str = "stall", **kwargs: Any) -> Terminal:
        """Enroll an in-process terminal through the proxy, pull once and log the cashier in."""
        term = Terminal.open(data_dir, **kwargs)
        term.enroll(self.code(mode), name=data_dir.name)
        status = term.sync_now()
        for _ in range(4):  # a short sync_timeout (1 s) can miss the first pull on a loaded machine
            if status.online:
                break
            status = term.sync_now()
        assert status.online, status
        assert term.login(self.seed.badge(self.cashier), PIN).ok
        return term

    def records(self, terminal_id: int | None = None) -> list[dict[str, Any]]:
        r = t.records
        query = select(r.c.id, r.c.kind, r.c.amount, r.c.wallet_id, r.c.terminal_id, r.c.body)
        if terminal_id is not None:
            query = query.where(r.c.terminal_id == terminal_id)
        with self.seed.db.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def wallet(self, wallet_id: int) -> dict[str, Any]:
        a = t.accounts
        with self.seed.db.read() as conn:
            row = conn.execute(select(a).where(a.c.kind == "wallet", a.c.ref == wallet_id)).first()
        assert row is not None
        return dict(row._mapping)

    def anomalies(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.seed.db.read() as conn:
            return list_anomalies(conn, kind=kind)

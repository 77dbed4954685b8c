"""A real festival for gate tests: server on loopback, gates, ticket types, headless gate terminals.

Gate terminals run in this process (``terminal.engine.Terminal``) on a
``FakeClock`` that starts at the real time, so staff badges and tickets the
server signs are valid for them.  Nothing syncs in the background: a test says
when a gate syncs (``sync_now``), and ``Network`` cuts a gate's connection
(connection refused), the only thing faked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pg_helpers import postgres_base_url
from sqlalchemy import select

from server.anomalies import list_anomalies
from server.db import tables as t
from server.gates import GateCounts, gate_counts
from server.issuer import IssuerKeys
from server.testing import Seeder, fresh_postgres_database, init_test_event, run_server_in_thread
from server.tickets import IssuedTicket, TicketRequest, issue_tickets, revoke_ticket
from sync.schemas import EventSettings
from terminal.clock import FakeClock
from terminal.engine import Terminal

PIN = "1234"


class Network(httpx.BaseTransport):
    """The real network, with a switch that makes every connection fail (a gate's Wi-Fi gone)."""

    def __init__(self) -> None:
        self.up = True
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request, or refuse the connection while down; raises httpx.ConnectError."""
        if not self.up:
            raise httpx.ConnectError("network down (test)", request=request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the real transport."""
        self._inner.close()


@dataclass
class Gate:
    """A gate terminal and its network switch."""

    name: str
    gate_id: int
    terminal: Terminal
    network: Network

    def scan(self, token: str, direction: str = "in") -> Any:
        """Decide a ticket here."""
        return self.terminal.check_in(token, direction)  # type: ignore[arg-type]

    def sync(self) -> bool:
        """Push and pull now; True when the server answered."""
        return self.terminal.sync_now().online


@dataclass
class Festival:
    """One event on a real server, with gates and ticket types."""

    tmp: Path
    database_url: str = ""
    clock: FakeClock = field(init=False)
    gates: list[Gate] = field(default_factory=list)

    def __post_init__(self) -> None:
        event = EventSettings(staff_idle_logout_s=86400, max_offline_s=7 * 86400)
        self.settings, _ = init_test_event(self.tmp / "server", database_url=self.database_url, event=event)
        self.seed = Seeder(self.settings)
        self.url, self._stop = run_server_in_thread(self.settings)
        self.clock = FakeClock(self.seed.clock())
        self.gate_ids = [self.seed.gate(name) for name in ("North", "South", "West")]
        self.single = self.seed.ticket_type("Day pass", "single")
        self.reentry = self.seed.ticket_type("Re-entry", "reentry")
        self.unlimited = self.seed.ticket_type("Staff", "unlimited")
        from server.catalog import create_ticket_type

        with self.seed.db.write() as conn:
            self.north_only = create_ticket_type(conn, name="North only", policy="single",
                                                 gate_ids=[self.gate_ids[0]])
        self.keeper = self.seed.staff("Kenta", pin=PIN, roles=[("gatekeeper", "event", None)])

    def close(self) -> None:
        """Stop the gates and the server."""
        for gate in self.gates:
            gate.terminal.close()
            gate.network.close()
        self._stop()
        self.seed.close()

    @property
    def now_s(self) -> int:
        """The gates' clock, in Unix seconds."""
        return self.clock.now_ms() // 1000

    def gate(self, index: int, *, name: str = "") -> Gate:
        """Enroll a gate terminal at gate ``index`` (0..2), pull once and log the gatekeeper in."""
        gate_id = self.gate_ids[index]
        network = Network()
        label = name or f"gate{len(self.gates) + 1}"
        term = Terminal.open(self.tmp / label, clock=self.clock, transport=network)
        term.enroll(self.seed.enrollment_code("gate", gate_id=gate_id, base_url=self.url), name=label)
        assert term.sync_now().online
        assert term.login(self.seed.badge(self.keeper), PIN).ok
        gate = Gate(label, gate_id, term, network)
        self.gates.append(gate)
        return gate

    def issue(self, ticket_type: int, count: int = 1, *, valid_from: int | None = None,
              valid_until: int | None = None) -> list[IssuedTicket]:
        """Issue tickets through the server's registry (valid from a minute ago for a day by default)."""
        start = self.now_s - 60 if valid_from is None else valid_from
        end = self.now_s + 86400 if valid_until is None else valid_until
        request = TicketRequest(ticket_type, valid_from=start, valid_until=end)
        with self.seed.db.write() as conn:
            issuer = IssuerKeys(self.settings.issuer_key_path).active(conn)
            return issue_tickets(conn, [request] * count, issuer=issuer, now_ms=self.clock.now_ms())

    def revoke(self, ticket_id: int) -> None:
        """Revoke a ticket at the server."""
        with self.seed.db.write() as conn:
            revoke_ticket(conn, ticket_id, now_ms=self.clock.now_ms(), reason="test")

    def counts(self, *, since_ms: int, until_ms: int, bucket_s: int = 300) -> GateCounts:
        """The server's live counts."""
        with self.seed.db.read() as conn:
            return gate_counts(conn, since_ms=since_ms, until_ms=until_ms, bucket_s=bucket_s)

    def anomalies(self, kind: str = "duplicate_entry") -> list[dict[str, Any]]:
        """The server's anomalies of one kind."""
        with self.seed.db.read() as conn:
            return list_anomalies(conn, kind=kind)

    def stored_checkins(self) -> int:
        """How many check-ins the server holds."""
        with self.seed.db.read() as conn:
            return len(conn.execute(select(t.checkins.c.record_id)).all())


def festival_on(tmp: Path, engine: str) -> tuple[Festival, Any]:
    """A festival on ``sqlite`` or ``postgres`` (a fresh database); returns it and a cleanup."""
    url, drop = "", None
    if engine == "postgres":
        url, drop = fresh_postgres_database(postgres_base_url())
    fest = Festival(tmp, database_url=url)

    def cleanup() -> None:
        fest.close()
        if drop is not None:
            drop()

    return fest, cleanup

"""Terminal test helpers: a real SQLite file per test, tokens signed by a test issuer key.

A terminal is seeded through the store's own sync-apply functions
(``save_enrollment``, ``apply_pull``), the same path a real enrollment and
pull take; no server is needed for the rule tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from sync.keys import IssuerKey, SigningKey, public_key_to_b64, save_private_key
from sync.permissions import Permission, ScopeKind
from sync.schemas import (
    EnrollResponse,
    EventSettings,
    GateRow,
    IssuerKeyRow,
    ProductRow,
    PullResponse,
    RoleRow,
    StaffRow,
    StallRow,
    StatementRow,
    TerminalMode,
    TerminalRow,
    TicketTypeRow,
)
from sync.tokens import EntryPolicy, StaffBadge, TicketToken, WalletToken, encode_token
from terminal.clock import FakeClock
from terminal.engine import KEY_NAME, Terminal

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PIN = "2468"
STALL_ID = 7
GATE_ID = 3
CASHIER, SUPERVISOR, NOBODY, TOPUPPER, GATEKEEPER = 1001, 1002, 1003, 1004, 1005
PRODUCTS = [ProductRow(id=1, stall_id=STALL_ID, name="Yakisoba", price=500),
            ProductRow(id=2, stall_id=STALL_ID, name="Ramune", price=200),
            ProductRow(id=3, stall_id=STALL_ID, name="Takoyaki", price=800, sold_out=True),
            ProductRow(id=4, stall_id=99, name="Elsewhere", price=100)]
PIN_HASH = FAST_HASHER.hash(PIN)


def unreachable(request: httpx.Request) -> httpx.Response:
    """A network where every connection is refused."""
    raise httpx.ConnectError("connection refused", request=request)


def staff_rows() -> list[StaffRow]:
    """A cashier, a supervisor, someone with no role, a top-up clerk and a gatekeeper."""
    def row(staff_id: int, role: str, perms: list[Permission], kind: ScopeKind = ScopeKind.STALL,
            scope: int | None = STALL_ID) -> StaffRow:
        roles = [RoleRow(role=role, permissions=perms, scope_kind=kind, scope_id=scope)] if perms else []
        return StaffRow(staff_id=staff_id, name=f"staff {staff_id}", pin_hash=PIN_HASH, roles=roles)

    return [row(CASHIER, "cashier", [Permission.SELL, Permission.SHIFT_CLOSE]),
            row(SUPERVISOR, "supervisor", [Permission.SELL, Permission.REFUND, Permission.TOPUP]),
            row(NOBODY, "none", []),
            row(TOPUPPER, "topup", [Permission.TOPUP], ScopeKind.EVENT, None),
            row(GATEKEEPER, "gatekeeper", [Permission.GATE], ScopeKind.GATE, GATE_ID)]


@dataclass
class Env:
    """A seeded terminal with its issuer and fake clock."""

    tmp: Path
    clock: FakeClock
    issuer: IssuerKey
    settings: EventSettings
    mode: TerminalMode = TerminalMode.STALL
    transport: httpx.BaseTransport = field(default_factory=lambda: httpx.MockTransport(unreachable))
    terminal: Terminal | None = None
    terminal_id: int = 42

    @property
    def now_s(self) -> int:
        return self.clock.now_ms() // 1000

    def open(self, name: str = "t1") -> Terminal:
        """Open (or reopen) the terminal's data directory."""
        self.terminal = Terminal.open(self.tmp / name, clock=self.clock, transport=self.transport)
        return self.terminal

    def seed(self, *, statements: list[StatementRow] = (), **pull: Any) -> Terminal:  # type: ignore[assignment]
        """Open a terminal, enroll it through save_enrollment and apply a first pull."""
        term = self.open()
        save_private_key(SigningKey.generate(), term.data_dir / KEY_NAME)
        me = self.me()
        keys = [IssuerKeyRow(key_id=self.issuer.key_id, public_key=public_key_to_b64(self.issuer.public))]
        term.store.save_enrollment("http://127.0.0.1:9", EnrollResponse(
            terminal=me, api_token="t" * 32, issuer_keys=keys, settings=self.settings,
            server_time_ms=self.clock.now_ms()), now_ms=self.clock.now_ms())
        self.pull(statements=list(statements), **pull)
        return term

    def me(self, *, revoked: bool = False) -> TerminalRow:
        return TerminalRow(terminal_id=self.terminal_id, name="test", mode=self.mode,
                           stall_id=STALL_ID if self.mode is not TerminalMode.GATE else None,
                           gate_id=GATE_ID if self.mode is TerminalMode.GATE else None, revoked=revoked)

    def pull(self, *, more: bool = False, cursor: str = "c1", revoked: bool = False, **rows: Any) -> None:
        """Apply a pull page with defaults for the catalog and staff."""
        assert self.terminal is not None
        rows.setdefault("stalls", [StallRow(id=STALL_ID, name="Yatai", allow_free_amount=True)])
        rows.setdefault("products", PRODUCTS)
        rows.setdefault("staff", staff_rows())
        rows.setdefault("gates", [GateRow(id=GATE_ID, name="East")])
        rows.setdefault("ticket_types", [TicketTypeRow(id=1, name="Day", policy="single"),
                                         TicketTypeRow(id=2, name="Re", policy="reentry"),
                                         TicketTypeRow(id=3, name="West only", policy="single", gate_ids=[9])])
        keys = [IssuerKeyRow(key_id=self.issuer.key_id, public_key=public_key_to_b64(self.issuer.public))]
        page = PullResponse(cursor=cursor, more=more, server_time_ms=self.clock.now_ms(),
                            terminal=self.me(revoked=revoked), settings=self.settings, issuer_keys=keys, **rows)
        self.terminal.store.apply_pull(page, now_ms=self.clock.now_ms())

    def wallet(self, wallet_id: int, balance: int, seq: int, *, ttl: int = 600, limit: int = 3000,
               issuer: IssuerKey | None = None) -> str:
        token = WalletToken(wallet_id, balance, seq, self.now_s - 10, self.now_s + ttl, limit)
        return encode_token(token, issuer or self.issuer)

    def badge(self, staff_id: int, *, issued_at: int | None = None) -> str:
        iat = self.now_s - 60 if issued_at is None else issued_at
        return encode_token(StaffBadge(staff_id, iat, iat + 86400), self.issuer)

    def ticket(self, ticket_id: int, ticket_type: int = 1, policy: EntryPolicy = EntryPolicy.SINGLE) -> str:
        return encode_token(TicketToken(ticket_id, ticket_type, self.now_s - 60, self.now_s + 86400, policy),
                            self.issuer)

    def login(self, staff_id: int = CASHIER) -> None:
        assert self.terminal is not None
        # role_here=False: these tests reach the engine's own per-action checks with anyone logged in
        result = self.terminal.login(self.badge(staff_id), PIN, role_here=False)
        assert result.ok, result

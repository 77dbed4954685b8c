"""The terminal's local store: one SQLite file, WAL, ``synchronous=FULL``, one owner per connection.

``Store`` wraps a sqlite-utils ``Database`` on a connection it opens itself.
Each ``Store`` is used by one thread at a time (the engine guards its own with
a lock; the sync service opens a second ``Store`` on the same file, which WAL
allows).  Every write runs in ``write()``: ``BEGIN IMMEDIATE`` … ``COMMIT``, so
two connections never deadlock upgrading a read to a write.

The sync-apply functions (``save_enrollment``, ``apply_pull``,
``apply_push_results``) are the only way server data enters the store; tests
seed a terminal through the same functions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from sync.keys import KeySet, public_key_from_b64
from sync.records import canonical_json
from sync.schemas import (
    EnrollResponse,
    EventSettings,
    GateRow,
    IssuerKeyRow,
    ItemStatus,
    ProductRow,
    PullResponse,
    PushItemResult,
    SecurityEvent,
    SignedRecord,
    StaffRow,
    StallRow,
    StatementRow,
    TerminalRow,
    TicketRow,
    TicketTypeRow,
)
from terminal.migrations import apply_migrations

__all__ = ["Credentials", "LedgerRow", "Store", "TopUpDoubt", "WalletPending"]

PULL_CURSOR = "main"
SERVER_EPOCH = "server_epoch"  # a settings key: the server's restore epoch as last seen
_BOOKED = (ItemStatus.APPLIED.value, ItemStatus.DUPLICATE.value)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What enrollment gave this terminal."""

    server_url: str
    api_token: str
    terminal: TerminalRow
    enrolled_at_ms: int


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One record of the local ledger, as stored."""

    id: str
    kind: str
    mode: str
    staff_id: int
    wallet_id: int | None
    stall_id: int | None
    gate_id: int | None
    ticket_id: int | None
    amount: int
    ref_id: str | None
    created_at: int
    body: str
    sig: str
    ack_status: str | None = None
    ack_seq: int | None = None
    ack_balance: int | None = None

    @classmethod
    def from_signed(cls, body: dict[str, Any], sig: str, *, mode: str) -> LedgerRow:
        """Build the row for a freshly signed record body."""
        return cls(
            id=str(body["id"]), kind=str(body["kind"]), mode=mode, staff_id=int(body["staff_id"]),
            wallet_id=body.get("wallet_id"), stall_id=body.get("stall_id"), gate_id=body.get("gate_id"),
            ticket_id=body.get("ticket_id"), amount=int(body.get("amount", 0)), ref_id=body.get("ref_id"),
            created_at=int(body["created_at"]), body=canonical_json(body).decode("utf-8"), sig=sig,
        )

    def signed(self) -> SignedRecord:
        """Return the record as it goes on the wire, byte-identical to what was signed."""
        return SignedRecord(body=json.loads(self.body), sig=self.sig)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready summary (no signature)."""
        return {"id": self.id, "kind": self.kind, "mode": self.mode, "staff_id": self.staff_id,
                "wallet_id": self.wallet_id, "amount": self.amount, "ref_id": self.ref_id,
                "created_at": self.created_at, "synced": self.ack_status is not None,
                "ack_status": self.ack_status}


@dataclass(frozen=True, slots=True)
class WalletPending:
    """This terminal's records for a wallet that a statement at some seq does not include."""

    net: int  # + refunds/voids/acknowledged top-ups − sales
    offline_spent: int  # sales approved offline


@dataclass(frozen=True, slots=True)
class TopUpDoubt:
    """A top-up whose answer was lost: in doubt until a push says booked or refused."""

    id: str
    wallet_id: int
    amount: int
    cash_received: int
    staff_id: int
    since_ms: int
    state: str  # in_doubt (keep the cash, do not hand it back yet), booked (keep it), refused (hand it back)
    resolved_at: int | None
    reason: str | None
    seen: bool
    kind: str = "topup"  # topup (cash taken in), cashout (cash to pay out: not handed over while in doubt)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"id": self.id, "kind": self.kind, "wallet_id": self.wallet_id, "amount": self.amount,
                "cash_received": self.cash_received, "staff_id": self.staff_id, "since_ms": self.since_ms,
                "state": self.state, "resolved_at": self.resolved_at, "reason": self.reason, "seen": self.seen}


_SELECT_LEDGER = ("SELECT l.id, l.kind, l.mode, l.staff_id, l.wallet_id, l.stall_id, l.gate_id, l.ticket_id, "
                  "l.amount, l.ref_id, l.created_at, l.body, l.sig, l.ack_status, l.ack_seq, l.ack_balance ")
_INSERT_LEDGER = ("INSERT INTO ledger (id, kind, mode, staff_id, wallet_id, stall_id, gate_id, ticket_id, amount, "
                  "ref_id, created_at, body, sig, ack_status, ack_seq, ack_balance) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class Store:
    """One connection to the terminal's database file."""

    def __init__(self, path: Path, *, migrate: bool = True) -> None:
        self.path = Path(path)
        conn = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False, isolation_level=None)
        self.conn = conn
        self.db = Database(conn, execute_plugins=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        if migrate:
            apply_migrations(self.db)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction (BEGIN IMMEDIATE); raises sqlite3.Error."""
        if self.conn.in_transaction:  # nested: the outer block commits
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error:  # a full or read-only disk: nothing of the block is kept
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.conn.execute(sql, params).fetchone()
        return row

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._one(sql, params)
        return None if row is None else row[0]

    # ------------------------------------------------------------ settings

    def get(self, key: str) -> str | None:
        """Return a setting's text, or None."""
        value = self._scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return None if value is None else str(value)

    def put(self, key: str, value: str) -> None:
        """Set a setting (inside the caller's transaction, or its own)."""
        with self.write() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def credentials(self) -> Credentials | None:
        """Return the enrollment credentials, or None before enrollment."""
        url, token, terminal, enrolled = (self.get(k) for k in
                                          ("server_url", "api_token", "terminal", "enrolled_at_ms"))
        if url is None or token is None or terminal is None or enrolled is None:
            return None
        return Credentials(url, token, TerminalRow.model_validate_json(terminal), int(enrolled))

    def terminal_row(self) -> TerminalRow | None:
        """Return what the server last said about this terminal."""
        text = self.get("terminal")
        return None if text is None else TerminalRow.model_validate_json(text)

    def event_settings(self) -> EventSettings:
        """Return the event settings (defaults before the first sync)."""
        text = self.get("event_settings")
        return EventSettings() if text is None else EventSettings.model_validate_json(text)

    def keyset(self) -> KeySet:
        """Return the trusted issuer public keys."""
        keys = KeySet()
        for key_id, public in self.conn.execute("SELECT key_id, public_key FROM issuer_keys"):
            keys.add(int(key_id), public_key_from_b64(public))
        return keys

    def _note_server_time(self, server_ms: int, mono_s: float | None) -> None:
        """Remember the server's time against this terminal's monotonic clock (a wall-clock jump cannot move it)."""
        if mono_s is None:
            self.conn.execute("DELETE FROM settings WHERE key IN ('server_time_ms', 'server_time_mono')")
            return
        self.put("server_time_ms", str(int(server_ms)))
        self.put("server_time_mono", repr(float(mono_s)))

    def server_skew_ms(self, *, now_ms: int, mono_s: float) -> int | None:
        """The server's time minus this terminal's wall clock now, as best known; None when never measured.

        From the last enrollment or pull: the server's time then plus the monotonic time since
        (so a wall clock that jumped after the pull is still caught); the plain offset then when
        the monotonic clock went back (a reboot).
        """
        server_ms, mono = self.get("server_time_ms"), self.get("server_time_mono")
        try:
            if server_ms is not None and mono is not None and mono_s >= float(mono):
                return int(server_ms) + int((mono_s - float(mono)) * 1000) - now_ms
        except ValueError:
            pass
        return self.server_offset_ms()

    def server_offset_ms(self) -> int | None:
        """Return the server's clock minus this terminal's, as the last enrollment or pull measured it."""
        value = self.get("server_offset_ms")
        try:
            return None if value is None else int(value)
        except ValueError:
            return None

    def last_sync_ms(self) -> int | None:
        """Return when the last sync succeeded (Unix ms), or None if never."""
        text = self.get("last_sync_ms")
        return None if text is None else int(text)

    def mark_synced(self, now_ms: int) -> None:
        """Remember a successful contact with the server."""
        self.put("last_sync_ms", str(now_ms))

    def revoked(self) -> bool:
        """True once the server revoked this terminal."""
        return self.get("revoked") == "1"

    # ------------------------------------------------------------ enrollment and pull

    def save_enrollment(self, server_url: str, resp: EnrollResponse, *, now_ms: int,
                        mono_s: float | None = None) -> None:
        """Store the credentials, keys and settings of a new enrollment, in one transaction."""
        with self.write() as conn:
            for key, value in (("server_url", server_url), ("api_token", resp.api_token),
                               ("terminal", resp.terminal.model_dump_json()),
                               ("event_settings", resp.settings.model_dump_json()),
                               ("enrolled_at_ms", str(now_ms)),
                               ("server_offset_ms", str(resp.server_time_ms - now_ms))):
                self.put(key, value)
            self._note_server_time(resp.server_time_ms, mono_s)
            self._replace_keys(conn, resp.issuer_keys)

    def _replace_keys(self, conn: sqlite3.Connection, keys: list[IssuerKeyRow]) -> None:
        conn.execute("DELETE FROM issuer_keys")
        conn.executemany("INSERT INTO issuer_keys (key_id, public_key) VALUES (?, ?)",
                         [(k.key_id, k.public_key) for k in keys if k.active])

    def pull_cursor(self) -> str:
        """Return the cursor to continue pulling from ('' at the start)."""
        value = self._scalar("SELECT cursor FROM sync_cursors WHERE name = ?", (PULL_CURSOR,))
        return "" if value is None else str(value)

    def pull_complete(self) -> bool:
        """True once a pull has reached the end at least once (the first pull finished)."""
        return bool(self._scalar("SELECT complete FROM sync_cursors WHERE name = ?", (PULL_CURSOR,)))

    def put_product(self, product: ProductRow) -> None:
        """Store one product as the server answered it (a sold-out change made at this till)."""
        with self.write() as conn:
            self._apply_catalog(conn, [], [product], [], [])

    def apply_pull(self, page: PullResponse, *, now_ms: int, mono_s: float | None = None) -> None:
        """Apply one pull page and its cursor in one transaction, so an interrupted pull resumes."""
        with self.write() as conn:
            self.put("terminal", page.terminal.model_dump_json())
            self.put("event_settings", page.settings.model_dump_json())
            self._replace_keys(conn, page.issuer_keys)
            self._apply_catalog(conn, page.stalls, page.products, page.gates, page.ticket_types)
            self._apply_staff(conn, page.staff)
            conn.executemany(
                "INSERT INTO statements (wallet_id, balance, seq, blocked) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (wallet_id) DO UPDATE SET balance = excluded.balance, seq = excluded.seq, "
                "blocked = excluded.blocked WHERE excluded.seq >= statements.seq",
                [(s.wallet_id, s.balance, s.seq, int(s.blocked)) for s in page.statements])
            for rev in page.revocations:
                if rev.revoked:
                    conn.execute("INSERT OR IGNORE INTO revocations (kind, id) VALUES (?, ?)",
                                 (rev.kind.value, rev.id))
                else:
                    conn.execute("DELETE FROM revocations WHERE kind = ? AND id = ?", (rev.kind.value, rev.id))
            conn.executemany(
                "INSERT OR IGNORE INTO checkins (id, ticket_id, gate_id, terminal_id, direction, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(c.id, c.ticket_id, c.gate_id, c.terminal_id, c.direction, c.created_at) for c in page.checkins])
            conn.executemany(
                "INSERT OR REPLACE INTO tickets (ticket_id, ticket_type, policy, valid_from, valid_until, flags, "
                "revoked) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(k.ticket_id, k.ticket_type, k.policy, k.valid_from, k.valid_until, k.flags, int(k.revoked))
                 for k in page.tickets])
            conn.execute("INSERT INTO sync_cursors (name, cursor, complete) VALUES (?, ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, "
                         "complete = MAX(sync_cursors.complete, excluded.complete)",
                         (PULL_CURSOR, page.cursor, int(not page.more)))
            self.put("server_offset_ms", str(page.server_time_ms - now_ms))
            self._note_server_time(page.server_time_ms, mono_s)
            if not page.more:
                self.put("last_sync_ms", str(now_ms))
            if page.terminal.revoked:
                self.wipe_personal_data(now_ms=now_ms, why="revoked in pull")

    def _apply_catalog(self, conn: sqlite3.Connection, stalls: list[StallRow], products: list[ProductRow],
                       gates: list[GateRow], types: list[TicketTypeRow]) -> None:
        conn.executemany("INSERT OR REPLACE INTO stalls (id, name, allow_free_amount, active) VALUES (?, ?, ?, ?)",
                         [(s.id, s.name, int(s.allow_free_amount), int(s.active)) for s in stalls])
        conn.executemany(
            "INSERT OR REPLACE INTO products (id, stall_id, name, price, stock, sold_out, active, sort, kind, "
            "category, colour) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(p.id, p.stall_id, p.name, p.price, p.stock, int(p.sold_out), int(p.active), p.sort, p.kind,
              p.category, p.colour) for p in products])
        conn.executemany("INSERT OR REPLACE INTO gates (id, name, active) VALUES (?, ?, ?)",
                         [(g.id, g.name, int(g.active)) for g in gates])
        conn.executemany(
            "INSERT OR REPLACE INTO ticket_types (id, name, policy, gate_ids, active) VALUES (?, ?, ?, ?, ?)",
            [(t.id, t.name, t.policy, json.dumps(t.gate_ids), int(t.active)) for t in types])

    def _apply_staff(self, conn: sqlite3.Connection, staff: list[StaffRow]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO staff (staff_id, name, pin_hash, active, badge_not_before, roles, overrides) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(s.staff_id, s.name, s.pin_hash, int(s.active), s.badge_not_before,
              json.dumps([r.model_dump(mode="json") for r in s.roles]),
              json.dumps([o.model_dump(mode="json") for o in s.overrides])) for s in staff])

    def wipe_personal_data(self, *, now_ms: int, why: str) -> None:
        """Mark the terminal revoked and delete cached personal data (staff, statements, others' check-ins)."""
        with self.write() as conn:
            me = self.terminal_row()
            conn.execute("DELETE FROM staff")
            conn.execute("DELETE FROM login_failures")
            conn.execute("DELETE FROM statements")
            conn.execute("DELETE FROM checkins WHERE terminal_id != ?", (me.terminal_id if me else -1,))
            self.put("revoked", "1")
            self.log_security(now_ms=now_ms, event="terminal_revoked", reason=why)

    # ------------------------------------------------------------ catalog

    def stall(self, stall_id: int) -> StallRow | None:
        """Return a stall from the catalog."""
        row = self._one("SELECT id, name, allow_free_amount, active FROM stalls WHERE id = ?", (stall_id,))
        if row is None:
            return None
        return StallRow(id=row[0], name=row[1], allow_free_amount=bool(row[2]), active=bool(row[3]))

    def products(self, stall_id: int | None = None) -> list[ProductRow]:
        """Return the products of a stall (or all), in display order."""
        sql = "SELECT id, stall_id, name, price, stock, sold_out, active, sort, kind, category, colour FROM products"
        params: tuple[Any, ...] = ()
        if stall_id is not None:
            sql += " WHERE stall_id = ?"
            params = (stall_id,)
        rows = self.conn.execute(sql + " ORDER BY sort, id", params).fetchall()
        return [ProductRow(id=r[0], stall_id=r[1], name=r[2], price=r[3], stock=r[4], sold_out=bool(r[5]),
                           active=bool(r[6]), sort=r[7], kind=r[8], category=r[9], colour=r[10]) for r in rows]

    def gate(self, gate_id: int) -> GateRow | None:
        """Return a gate from the catalog."""
        row = self._one("SELECT id, name, active FROM gates WHERE id = ?", (gate_id,))
        return None if row is None else GateRow(id=row[0], name=row[1], active=bool(row[2]))

    def ticket_type(self, type_id: int) -> TicketTypeRow | None:
        """Return a ticket type."""
        row = self._one("SELECT id, name, policy, gate_ids, active FROM ticket_types WHERE id = ?", (type_id,))
        if row is None:
            return None
        return TicketTypeRow(id=row[0], name=row[1], policy=row[2], gate_ids=json.loads(row[3]),
                             active=bool(row[4]))

    def ticket(self, ticket_id: int) -> TicketRow | None:
        """Return a pulled ticket (gates only), or None when this terminal does not know it."""
        row = self._one("SELECT ticket_id, ticket_type, policy, valid_from, valid_until, flags, revoked "
                        "FROM tickets WHERE ticket_id = ?", (ticket_id,))
        if row is None:
            return None
        return TicketRow(ticket_id=row[0], ticket_type=row[1], policy=row[2], valid_from=row[3],
                         valid_until=row[4], flags=row[5], revoked=bool(row[6]))

    # ------------------------------------------------------------ staff

    def staff(self, staff_id: int) -> StaffRow | None:
        """Return a cached staff member."""
        row = self._one("SELECT staff_id, name, pin_hash, active, badge_not_before, roles, overrides "
                        "FROM staff WHERE staff_id = ?", (staff_id,))
        if row is None:
            return None
        return StaffRow.model_validate({
            "staff_id": row[0], "name": row[1], "pin_hash": row[2], "active": bool(row[3]),
            "badge_not_before": row[4], "roles": json.loads(row[5]), "overrides": json.loads(row[6])})

    def login_failures(self, staff_id: int) -> tuple[int, int]:
        """Return (consecutive failures, locked until ms) for a staff member."""
        row = self._one("SELECT failures, locked_until_ms FROM login_failures WHERE staff_id = ?", (staff_id,))
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def set_login_failures(self, staff_id: int, failures: int, locked_until_ms: int) -> None:
        """Persist the failure count (so a restart does not reset a lockout)."""
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO login_failures (staff_id, failures, locked_until_ms) "
                         "VALUES (?, ?, ?)", (staff_id, failures, locked_until_ms))

    # ------------------------------------------------------------ wallets

    def statement(self, wallet_id: int) -> StatementRow | None:
        """Return the pulled statement of a wallet."""
        row = self._one("SELECT wallet_id, balance, seq, blocked FROM statements WHERE wallet_id = ?", (wallet_id,))
        if row is None:
            return None
        return StatementRow(wallet_id=row[0], balance=row[1], seq=row[2], blocked=bool(row[3]))

    def is_revoked(self, kind: str, item_id: int) -> bool:
        """True when the server revoked this wallet, ticket, staff member or terminal."""
        return self._one("SELECT 1 FROM revocations WHERE kind = ? AND id = ?", (kind, item_id)) is not None

    def wallet_pending(self, wallet_id: int, statement_seq: int) -> WalletPending:
        """Sum this terminal's records for a wallet that a statement at ``statement_seq`` does not include."""
        row = self._one(
            "SELECT "
            " COALESCE(SUM(CASE WHEN kind IN ('sale', 'cashout') THEN -amount"
            "                   WHEN kind IN ('refund', 'void', 'deposit_return') THEN amount"
            "                   WHEN kind = 'topup' AND ack_status IS NOT NULL THEN amount ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN kind IN ('sale', 'cashout') AND mode = 'offline' THEN amount ELSE 0 END), 0) "
            "FROM ledger WHERE wallet_id = ? AND kind != 'checkin' "
            " AND (ack_status IS NULL OR (ack_status IN (?, ?) AND ack_seq > ?))",
            (wallet_id, *_BOOKED, statement_seq))
        assert row is not None
        return WalletPending(net=int(row[0]), offline_spent=int(row[1]))

    def deposits_held_here(self, stall_id: int) -> int:
        """What this terminal's own ledger holds in deposits for ``stall_id``: taken minus given back.

        Deposit lines of its sales that were not voided (negative lines: cups back in a basket),
        less its returns-only baskets (``deposit_return``).  The bound of a return decided
        offline: the stall's account on the server holds at least this much of this terminal's.
        """
        taken = self._scalar(
            "SELECT COALESCE(SUM(sl.qty * sl.unit_price), 0) FROM sale_lines sl "
            "JOIN ledger l ON l.id = sl.record_id JOIN products p ON p.id = sl.product_id "
            "WHERE l.kind = 'sale' AND l.stall_id = ? AND p.kind = 'deposit' "
            "AND NOT EXISTS (SELECT 1 FROM ledger v WHERE v.kind = 'void' AND v.ref_id = l.id)", (stall_id,))
        returned = self._scalar("SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE kind = 'deposit_return' "
                                "AND stall_id = ?", (stall_id,))
        return int(taken) - int(returned)

    def unsynced(self) -> tuple[int, int, int]:
        """Return (records in the outbox, their money total, offline sale total) not yet acknowledged."""
        row = self._one("SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(SUM(offline_amount), 0) FROM outbox")
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    # ------------------------------------------------------------ ledger and outbox

    def add_record(self, row: LedgerRow, *, lines: Sequence[tuple[int | None, int, int]] = (),
                   ack: PushItemResult | None = None, auto: bool = False) -> None:
        """Write a record, its sale lines and its outbox entry in one durable transaction.

        A pending online authorization with the same id is settled in the same transaction.
        """
        with self.write() as conn:
            conn.execute("DELETE FROM pending_authorizations WHERE id = ?", (row.id,))
            conn.execute(
                _INSERT_LEDGER,
                (row.id, row.kind, row.mode, row.staff_id, row.wallet_id, row.stall_id, row.gate_id,
                 row.ticket_id, row.amount, row.ref_id, row.created_at, row.body, row.sig,
                 None if ack is None else ack.status.value, None if ack is None else ack.seq,
                 None if ack is None else ack.balance))
            conn.executemany("INSERT INTO sale_lines (record_id, line, product_id, qty, unit_price) "
                             "VALUES (?, ?, ?, ?, ?)",
                             [(row.id, i, p, q, u) for i, (p, q, u) in enumerate(lines)])
            offline_amount = row.amount if row.kind in ("sale", "cashout") and row.mode == "offline" else 0
            conn.execute("INSERT INTO outbox (record_id, amount, offline_amount) VALUES (?, ?, ?)",
                         (row.id, row.amount, offline_amount))
            if auto:
                conn.execute("UPDATE ledger SET auto = 1 WHERE id = ?", (row.id,))
            if row.kind == "checkin" and row.ticket_id is not None and row.gate_id is not None:
                body = json.loads(row.body)
                conn.execute("INSERT INTO checkins (id, ticket_id, gate_id, terminal_id, direction, created_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (row.id, row.ticket_id, row.gate_id,
                                                         body["terminal_id"], body["direction"], row.created_at))
            if ack is not None and ack.wallet_id is not None and ack.balance is not None and ack.seq is not None:
                self._raise_statement(conn, ack.wallet_id, ack.balance, ack.seq)

    def _raise_statement(self, conn: sqlite3.Connection, wallet_id: int, balance: int, seq: int) -> None:
        conn.execute("INSERT INTO statements (wallet_id, balance, seq, blocked) VALUES (?, ?, ?, 0) "
                     "ON CONFLICT (wallet_id) DO UPDATE SET balance = excluded.balance, seq = excluded.seq "
                     "WHERE excluded.seq > statements.seq", (wallet_id, balance, seq))

    def begin_authorization(self, row: LedgerRow) -> None:
        """Durably note an online authorization about to be sent (so a crash can be reversed)."""
        with self.write() as conn:
            conn.execute("INSERT INTO pending_authorizations (id, kind, body, sig, created_at, state) "
                         "VALUES (?, ?, ?, ?, ?, 'sending')", (row.id, row.kind, row.body, row.sig, row.created_at))

    def drop_authorization(self, record_id: str) -> None:
        """Forget a pending authorization the server surely did not book (declined, refused, never sent)."""
        with self.write() as conn:
            conn.execute("DELETE FROM pending_authorizations WHERE id = ?", (record_id,))

    def pending_authorizations(self, state: str = "sending") -> list[tuple[str, str, str, str]]:
        """Return (id, kind, body, sig) of pending online authorizations in ``state``."""
        rows = self.conn.execute("SELECT id, kind, body, sig FROM pending_authorizations WHERE state = ? "
                                 "ORDER BY created_at", (state,)).fetchall()
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    def has_pending_authorization(self, record_id: str) -> bool:
        """True while an online authorization of this record has no settled outcome."""
        return self._one("SELECT 1 FROM pending_authorizations WHERE id = ?", (record_id,)) is not None

    # ------------------------------------------------------------ new wallets at a desk

    def desk_request(self, *, staff_id: int, now_ms: int, new_id: str) -> str:
        """The request id of the next new wallet: an unanswered one still waiting (same person), else ``new_id``.

        ``new_id`` is stored (committed) before it is sent, so an answer lost in any way is asked
        again with the same id: the server gives the same wallet, never a second one.
        """
        with self.write() as conn:
            row = conn.execute("SELECT request_id FROM desk_wallets WHERE wallet_id IS NULL AND staff_id = ? "
                               "ORDER BY created_at DESC LIMIT 1", (staff_id,)).fetchone()
            if row is not None:
                return str(row[0])
            conn.execute("INSERT INTO desk_wallets (request_id, staff_id, created_at) VALUES (?, ?, ?)",
                         (new_id, staff_id, now_ms))
            return new_id

    def desk_answered(self, request_id: str, *, wallet_id: int, now_ms: int) -> None:
        """The server issued ``wallet_id`` for ``request_id``."""
        with self.write() as conn:
            conn.execute("UPDATE desk_wallets SET wallet_id = ?, answered_at = ? WHERE request_id = ?",
                         (wallet_id, now_ms, request_id))

    def desk_refused(self, request_id: str) -> None:
        """Forget a request the server surely refused (nothing was issued for it)."""
        with self.write() as conn:
            conn.execute("DELETE FROM desk_wallets WHERE request_id = ? AND wallet_id IS NULL", (request_id,))

    def desk_waiting(self) -> int:
        """How many new-wallet requests wait for an answer (sent, answer lost)."""
        return int(self._scalar("SELECT COUNT(*) FROM desk_wallets WHERE wallet_id IS NULL"))

    def in_doubt_count(self) -> int:
        """Return how many top-ups are in doubt (held for the next push, or noted by an older version)."""
        return int(self._scalar("SELECT (SELECT COUNT(*) FROM topup_doubts WHERE state = 'in_doubt') + "
                                "(SELECT COUNT(*) FROM pending_authorizations WHERE state = 'in_doubt')"))

    def hold_topup_in_doubt(self, row: LedgerRow, *, cash_received: int, now_ms: int) -> None:
        """Keep a top-up whose answer was lost: in the ledger and the outbox, noted in doubt, in one transaction.

        The next push settles it (pushes are idempotent per record id): ``duplicate`` when the lost
        answer had booked it, ``applied`` when it had not reached the server, both "booked: keep
        the cash"; a refusal is "refused: hand the cash back" (``apply_push_results``).
        """
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM ledger WHERE id = ?", (row.id,)).fetchone() is None:
                self.add_record(row)
            conn.execute("DELETE FROM pending_authorizations WHERE id = ?", (row.id,))
            conn.execute("INSERT INTO topup_doubts (id, wallet_id, amount, cash_received, staff_id, since_ms, state, "
                         "kind) VALUES (?, ?, ?, ?, ?, ?, 'in_doubt', ?) ON CONFLICT (id) DO NOTHING",
                         (row.id, row.wallet_id, row.amount, cash_received, row.staff_id, now_ms, row.kind))

    def last_drawer_ms(self, *, before: int) -> int:
        """When this desk's drawer was last closed (the ``created_at`` of its latest drawer record), else 0."""
        value = self._scalar("SELECT MAX(created_at) FROM ledger WHERE kind = 'drawer' AND created_at < ?", (before,))
        return int(value or 0)

    def desk_totals(self, *, since: int, until: int) -> tuple[int, int]:
        """(top-ups, cash-outs) of this desk created in (since, until], leaving out refused ones and open doubts."""
        rows = self.conn.execute(
            "SELECT kind, COALESCE(SUM(amount), 0) FROM ledger l WHERE kind IN ('topup', 'cashout') "
            "AND created_at > ? AND created_at <= ? AND (ack_status IS NULL OR ack_status IN (?, ?)) "
            "AND NOT EXISTS (SELECT 1 FROM topup_doubts d WHERE d.id = l.id AND d.state != 'booked') "
            "GROUP BY kind", (since, until, *_BOOKED)).fetchall()
        totals = {str(kind): int(amount) for kind, amount in rows}
        return totals.get("topup", 0), totals.get("cashout", 0)

    def topup_doubts(self, *, unseen_only: bool = True, limit: int = 50) -> list[TopUpDoubt]:
        """Return top-ups in doubt and resolutions the cashier has not confirmed yet (all with ``unseen_only`` off)."""
        rows = self.conn.execute(
            "SELECT id, wallet_id, amount, cash_received, staff_id, since_ms, state, resolved_at, reason, seen, kind "
            "FROM topup_doubts WHERE ? = 0 OR state = 'in_doubt' OR seen = 0 ORDER BY since_ms, id LIMIT ?",
            (int(unseen_only), limit)).fetchall()
        return [TopUpDoubt(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), str(r[6]), r[7], r[8],
                           bool(r[9]), str(r[10])) for r in rows]

    def confirm_doubt(self, record_id: str) -> bool:
        """The cashier saw how a doubt was resolved (booked or refused); returns False if it is still in doubt."""
        with self.write() as conn:
            cur = conn.execute("UPDATE topup_doubts SET seen = 1 WHERE id = ? AND state != 'in_doubt'", (record_id,))
            return cur.rowcount > 0

    def record(self, record_id: str) -> LedgerRow | None:
        """Return one record of the local ledger."""
        row = self._one(_SELECT_LEDGER + "FROM ledger l WHERE l.id = ?", (record_id,))
        return None if row is None else LedgerRow(*row)

    def recent(self, limit: int = 20) -> list[LedgerRow]:
        """Return the newest records first."""
        rows = self.conn.execute(_SELECT_LEDGER + "FROM ledger l ORDER BY l.created_at DESC, l.rowid DESC LIMIT ?",
                                 (limit,)).fetchall()
        return [LedgerRow(*r) for r in rows]

    def reversed_amount(self, sale_id: str) -> tuple[int, bool]:
        """Return (refunded or voided total, whether a void exists) for a sale."""
        row = self._one("SELECT COALESCE(SUM(amount), 0), COALESCE(MAX(kind = 'void'), 0) FROM ledger "
                        "WHERE ref_id = ? AND kind IN ('refund', 'void') "
                        "AND (ack_status IS NULL OR ack_status IN (?, ?))", (sale_id, *_BOOKED))
        assert row is not None
        return int(row[0]), bool(row[1])

    def lines_of(self, record_id: str) -> list[tuple[int | None, int, int]]:
        """Return a record's lines (product, qty, unit price) in order: a sale's basket, a refund's items."""
        return [(None if p is None else int(p), int(q), int(u)) for p, q, u in self.conn.execute(
            "SELECT product_id, qty, unit_price FROM sale_lines WHERE record_id = ? ORDER BY line", (record_id,))]

    def refunded_items(self, sale_id: str) -> dict[tuple[int, int], int]:
        """Return what refunds by item gave back of a sale: (product, unit price) -> qty (refused ones left out)."""
        rows = self.conn.execute(
            "SELECT s.product_id, s.unit_price, SUM(s.qty) FROM sale_lines s JOIN ledger l ON l.id = s.record_id "
            "WHERE l.ref_id = ? AND l.kind = 'refund' AND s.product_id IS NOT NULL "
            "AND (l.ack_status IS NULL OR l.ack_status IN (?, ?)) GROUP BY s.product_id, s.unit_price",
            (sale_id, *_BOOKED))
        return {(int(p), int(u)): int(q) for p, u, q in rows}

    def outbox_batch(self, limit: int) -> list[LedgerRow]:
        """Return the oldest unacknowledged records, at most ``limit``.

        A sale and its automatic reversal void travel in one batch: the server
        judges them as one unit, so a batch never ends between the two.
        """
        rows = self.conn.execute(
            _SELECT_LEDGER + "FROM outbox o JOIN ledger l ON l.id = o.record_id ORDER BY o.n LIMIT ?",
            (limit,)).fetchall()
        batch = [LedgerRow(*r) for r in rows]
        if len(batch) > 1 and len(batch) == limit and batch[-1].kind == "sale" and self._scalar(
                "SELECT COUNT(*) FROM outbox o JOIN ledger l ON l.id = o.record_id "
                "WHERE l.ref_id = ? AND l.kind = 'void' AND l.auto = 1", (batch[-1].id,)):
            batch.pop()  # it goes first in the next batch, with its void
        return batch

    def unsynced_of_wallet(self, wallet_id: int, limit: int) -> list[LedgerRow]:
        """Return this wallet's sales, refunds and voids still in the outbox, oldest first, at most ``limit``."""
        rows = self.conn.execute(
            _SELECT_LEDGER + "FROM outbox o JOIN ledger l ON l.id = o.record_id "
            "WHERE l.wallet_id = ? AND l.kind IN ('sale', 'refund', 'void') ORDER BY o.n LIMIT ?",
            (wallet_id, limit)).fetchall()
        return [LedgerRow(*r) for r in rows]

    def apply_push_results(self, results: Sequence[PushItemResult], *, now_ms: int) -> int:
        """Store the server's per-item results and clear their outbox rows; returns how many were refused."""
        refused = 0
        with self.write() as conn:
            epoch = self.get(SERVER_EPOCH)
            for res in results:
                if conn.execute("SELECT 1 FROM outbox WHERE record_id = ?", (res.id,)).fetchone() is None:
                    continue
                conn.execute("UPDATE ledger SET ack_status = ?, ack_seq = ?, ack_balance = ?, ack_at = ?, "
                             "ack_reason = ?, ack_epoch = ? WHERE id = ?",
                             (res.status.value, res.seq, res.balance, now_ms, res.reason, epoch, res.id))
                conn.execute("DELETE FROM outbox WHERE record_id = ?", (res.id,))
                conn.execute("UPDATE topup_doubts SET state = ?, resolved_at = ?, reason = ? "
                             "WHERE id = ? AND state = 'in_doubt'",
                             ("booked" if res.status.value in _BOOKED else "refused", now_ms,
                              (res.reason or res.status.value)[:200], res.id))
                if res.status.value in _BOOKED:
                    if res.wallet_id is not None and res.balance is not None and res.seq is not None:
                        self._raise_statement(conn, res.wallet_id, res.balance, res.seq)
                else:
                    refused += 1
                    self.log_security(now_ms=now_ms, event=f"record_{res.status.value}",
                                      reason=res.reason or "", detail=res.id)
            self.put("last_sync_ms", str(now_ms))
        return refused

    # ------------------------------------------------------------ the server's restore epoch

    def server_epoch(self) -> str | None:
        """Return the server's restore epoch as last seen (None before a server that names one)."""
        return self.get(SERVER_EPOCH)

    def note_server_epoch(self, epoch: str, *, now_ms: int) -> int | None:
        """Take the restore epoch of a server answer; returns how many records were queued again, None if same.

        The first epoch seen is adopted as it is.  Another one means the server was restored
        from a backup: every record it acknowledged under an earlier epoch (or before epochs)
        goes back into the outbox, in the order it was decided (a refund after its sale), the
        pull cursor starts over and the pulled wallet statements (whose sequence numbers the
        restored server gives out again) are dropped, all in one transaction.
        """
        with self.write() as conn:
            known = self.get(SERVER_EPOCH)
            if known == epoch:
                return None
            self.put(SERVER_EPOCH, epoch)
            if known is None:
                return None
            queued = conn.execute("SELECT record_id FROM outbox").fetchall()
            again = conn.execute(
                "SELECT COUNT(*) FROM ledger WHERE ack_status IN (?, ?) AND (ack_epoch IS NULL OR ack_epoch != ?)"
                " AND id NOT IN (SELECT record_id FROM outbox)", (*_BOOKED, epoch)).fetchone()[0]
            conn.execute("DELETE FROM outbox")
            conn.execute(
                "INSERT INTO outbox (record_id, amount, offline_amount) "
                "SELECT id, amount, CASE WHEN kind IN ('sale', 'cashout') AND mode = 'offline' THEN amount ELSE 0 END "
                "FROM ledger WHERE id IN (SELECT value FROM json_each(?)) "
                " OR (ack_status IN (?, ?) AND (ack_epoch IS NULL OR ack_epoch != ?)) ORDER BY rowid",
                (json.dumps([r[0] for r in queued]), *_BOOKED, epoch))
            conn.execute("UPDATE sync_cursors SET cursor = ''")
            conn.execute("DELETE FROM statements")
            self.log_security(now_ms=now_ms, event="server_restored",
                              reason=f"server epoch {known} -> {epoch}", detail=f"{again} record(s) sent again")
        return int(again)

    def bump_attempts(self, record_ids: Sequence[str]) -> None:
        """Count a failed push attempt for these outbox rows."""
        with self.write() as conn:
            conn.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE record_id = ?",
                             [(r,) for r in record_ids])

    # ------------------------------------------------------------ gates

    def checkins_of(self, ticket_id: int) -> list[tuple[str, int]]:
        """Return (direction, created_at) of every known check-in of a ticket, oldest first."""
        rows = self.conn.execute("SELECT direction, created_at FROM checkins WHERE ticket_id = ? "
                                 "ORDER BY created_at, rowid", (ticket_id,)).fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    def gate_counts(self, gate_id: int | None) -> tuple[int, int, int]:
        """Return (tickets whose last known passage is an entry, entries at ``gate_id``, exits at ``gate_id``)."""
        inside = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT direction, ROW_NUMBER() OVER (PARTITION BY ticket_id "
            "ORDER BY created_at DESC, rowid DESC) AS newest FROM checkins) WHERE newest = 1 AND direction = 'in'"
        ).fetchone()[0]
        here = self.conn.execute(
            "SELECT COALESCE(SUM(direction = 'in'), 0), COALESCE(SUM(direction = 'out'), 0) FROM checkins "
            "WHERE gate_id = ?", (-1 if gate_id is None else gate_id,)).fetchone()
        return int(inside), int(here[0]), int(here[1])

    # ------------------------------------------------------------ security log

    def log_security(self, *, now_ms: int, event: str, reason: str, fingerprint: str = "",
                     detail: str = "") -> None:
        """Append to the security log (forged tokens, refused records, revocation)."""
        with self.write() as conn:
            conn.execute("INSERT INTO security_log (at_ms, event, reason, fingerprint, detail) "
                         "VALUES (?, ?, ?, ?, ?)", (now_ms, event, reason, fingerprint, detail[:500]))

    def security_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest security log entries."""
        rows = self.conn.execute("SELECT at_ms, event, reason, fingerprint, detail FROM security_log "
                                 "ORDER BY n DESC LIMIT ?", (limit,)).fetchall()
        return [dict(zip(("at_ms", "event", "reason", "fingerprint", "detail"), r, strict=True)) for r in rows]

    def security_unreported(self, limit: int) -> list[SecurityEvent]:
        """Return the oldest forged-token sightings not yet reported to the server."""
        rows = self.conn.execute(
            "SELECT n, at_ms, reason, fingerprint, detail FROM security_log "
            "WHERE event = 'forged_token' AND reported = 0 ORDER BY n LIMIT ?", (limit,)).fetchall()
        return [SecurityEvent(n=int(r[0]), at_ms=int(r[1]), event="forged_token", reason=_slug(str(r[2])),
                              fingerprint=_hex(str(r[3])), detail=str(r[4])[:200]) for r in rows]

    def mark_security_reported(self, numbers: Sequence[int]) -> None:
        """Mark sightings as reported to the server."""
        with self.write() as conn:
            conn.executemany("UPDATE security_log SET reported = 1 WHERE n = ?", [(n,) for n in numbers])

    def security_count(self) -> int:
        """Return how many security events were logged."""
        return int(self._scalar("SELECT COUNT(*) FROM security_log"))


def _slug(text: str) -> str:
    """A reason code as the server takes it (lower-case letters and underscores, at most 60)."""
    slug = "".join(c if ("a" <= c <= "z") else "_" for c in text.lower())[:60]
    return slug or "unknown"


def _hex(text: str) -> str:
    """A fingerprint as the server takes it (lower-case hex, at most 64)."""
    return "".join(c for c in text.lower() if c in "0123456789abcdef")[:64]

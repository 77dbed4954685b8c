"""The terminal's SQLite schema, as migrations (sqlite-utils bookkeeping, one transaction each).

Every table is declared here with STRICT and its constraints; nothing is ever
created by an insert.  Add a new function for a change; never edit one that
has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATIONS", "apply_migrations"]

MIGRATIONS = Migrations("ennichi.terminal")

_INITIAL = """
CREATE TABLE settings (                 -- key/value: credentials, event settings, sync state
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE issuer_keys (
    key_id INTEGER PRIMARY KEY CHECK (key_id BETWEEN 0 AND 255),
    public_key TEXT NOT NULL
) STRICT;

CREATE TABLE sync_cursors (
    name TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    complete INTEGER NOT NULL CHECK (complete IN (0, 1))  -- 1 once a pull reached more=false
) STRICT;

CREATE TABLE stalls (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    allow_free_amount INTEGER NOT NULL CHECK (allow_free_amount IN (0, 1)),
    active INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT;

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    stall_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0),
    stock INTEGER,
    sold_out INTEGER NOT NULL CHECK (sold_out IN (0, 1)),
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    sort INTEGER NOT NULL
) STRICT;
CREATE INDEX products_stall ON products (stall_id, sort);

CREATE TABLE gates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT;

CREATE TABLE ticket_types (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    policy TEXT NOT NULL CHECK (policy IN ('single', 'reentry', 'unlimited')),
    gate_ids TEXT NOT NULL,            -- JSON list; empty: every gate
    active INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT;

CREATE TABLE staff (                    -- personal data: wiped when the terminal is revoked
    staff_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    badge_not_before INTEGER NOT NULL,
    roles TEXT NOT NULL,               -- JSON list of RoleRow
    overrides TEXT NOT NULL            -- JSON list of OverrideRow
) STRICT;

CREATE TABLE login_failures (
    staff_id INTEGER PRIMARY KEY,
    failures INTEGER NOT NULL CHECK (failures >= 0),
    locked_until_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE statements (               -- personal data
    wallet_id INTEGER PRIMARY KEY,
    balance INTEGER NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 0),
    blocked INTEGER NOT NULL CHECK (blocked IN (0, 1))
) STRICT;

CREATE TABLE revocations (
    kind TEXT NOT NULL CHECK (kind IN ('wallet', 'ticket', 'staff', 'terminal')),
    id INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

CREATE TABLE ledger (                   -- every record this terminal made, signed, forever
    id TEXT PRIMARY KEY,               -- UUIDv7, the idempotency key
    kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'void', 'topup', 'checkin')),
    mode TEXT NOT NULL CHECK (mode IN ('offline', 'online')),
    staff_id INTEGER NOT NULL,
    wallet_id INTEGER,
    stall_id INTEGER,
    gate_id INTEGER,
    ticket_id INTEGER,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    ref_id TEXT REFERENCES ledger (id),
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL,                -- the canonical JSON that was signed, byte for byte
    sig TEXT NOT NULL,
    ack_status TEXT CHECK (ack_status IN ('applied', 'duplicate', 'conflict', 'rejected')),
    ack_seq INTEGER,                   -- the wallet's seq right after this record, at the server
    ack_balance INTEGER,
    ack_at INTEGER,
    ack_reason TEXT,
    auto INTEGER NOT NULL DEFAULT 0 CHECK (auto IN (0, 1))  -- 1: an automatic reversal (void)
) STRICT;
CREATE INDEX ledger_wallet ON ledger (wallet_id, kind);
CREATE INDEX ledger_ref ON ledger (ref_id);
CREATE INDEX ledger_created ON ledger (created_at);

CREATE TABLE sale_lines (
    record_id TEXT NOT NULL REFERENCES ledger (id),
    line INTEGER NOT NULL,
    product_id INTEGER,
    qty INTEGER NOT NULL CHECK (qty > 0),
    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (record_id, line)
) STRICT;

CREATE TABLE outbox (                   -- records not yet acknowledged by the server
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE REFERENCES ledger (id),
    amount INTEGER NOT NULL,           -- copied from the record: the caps sum this narrow table
    offline_amount INTEGER NOT NULL,   -- the amount of an offline sale, else 0
    attempts INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE pending_authorizations ( -- written before an online authorize, gone after its answer
    id TEXT PRIMARY KEY,               -- the record id sent to the server
    kind TEXT NOT NULL CHECK (kind IN ('sale', 'topup')),
    body TEXT NOT NULL,
    sig TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'in_doubt'))  -- in_doubt: a top-up nobody can reverse
) STRICT;

CREATE TABLE checkins (                 -- this gate's and other gates' check-ins, for pass-back
    id TEXT PRIMARY KEY,
    ticket_id INTEGER NOT NULL,
    gate_id INTEGER NOT NULL,
    terminal_id INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX checkins_ticket ON checkins (ticket_id, created_at);

CREATE TABLE security_log (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    event TEXT NOT NULL,               -- e.g. forged_token, record_conflict, terminal_revoked
    reason TEXT NOT NULL,
    fingerprint TEXT NOT NULL,         -- a hash of the token text, never the token
    detail TEXT NOT NULL
) STRICT;
"""


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    """Create the first schema."""
    for statement in _statements(_INITIAL):
        db.execute(statement)


@MIGRATIONS(name="0002_security_reported")
def m0002_security_reported(db: Database) -> None:
    """Forged-token sightings are reported to the server: remember which were."""
    db.execute("ALTER TABLE security_log ADD COLUMN reported INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX security_log_unreported ON security_log (event, reported, n)")


@MIGRATIONS(name="0003_ack_epoch")
def m0003_ack_epoch(db: Database) -> None:
    """The server's restore epoch each record was acknowledged under (NULL: before epochs were known)."""
    db.execute("ALTER TABLE ledger ADD COLUMN ack_epoch TEXT")


_TOPUP_DOUBTS = """
CREATE TABLE topup_doubts (             -- top-ups whose answer was lost: the cashier was told to keep the cash
    id TEXT PRIMARY KEY REFERENCES ledger (id),
    wallet_id INTEGER NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    cash_received INTEGER NOT NULL CHECK (cash_received >= amount),
    staff_id INTEGER NOT NULL,
    since_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_doubt', 'booked', 'refused')),
    resolved_at INTEGER,
    reason TEXT,
    seen INTEGER NOT NULL DEFAULT 0 CHECK (seen IN (0, 1))  -- 1: the cashier confirmed the resolution on screen
) STRICT;
CREATE INDEX topup_doubts_state ON topup_doubts (state, since_ms);
"""


@MIGRATIONS(name="0004_topup_doubts")
def m0004_topup_doubts(db: Database) -> None:
    """Top-ups held in doubt (the answer lost after the request was sent) until a push settles them."""
    for statement in _statements(_TOPUP_DOUBTS):
        db.execute(statement)


def _rebuild_kinds(db: Database, *, ledger: tuple[str, str], pending: tuple[str, str], what: str,
                   also: Callable[[sqlite3.Connection], None] | None = None) -> None:
    """Widen the kind CHECKs of ``ledger`` and ``pending_authorizations``: each pair is (old text, new text).

    SQLite changes a CHECK by rebuilding the table, the documented way: foreign keys off, the new
    table, copy, drop, rename, the indexes again, ``foreign_key_check``, in one transaction of its
    own (``also`` runs inside it).  A ledger that holds the new text already is left alone, so a
    rerun after a crash between this commit and the migration's record does nothing.
    """
    conn = db.conn
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger'").fetchone()
    if row is None or ledger[1] in row[0]:
        return
    if ledger[0] not in row[0]:
        raise sqlite3.DatabaseError(f"unexpected ledger schema: cannot add {what}")
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(_renamed(row[0].replace(*ledger), "ledger", "ledger_new"))
            conn.execute("INSERT INTO ledger_new SELECT * FROM ledger")
            conn.execute("DROP TABLE ledger")
            conn.execute("ALTER TABLE ledger_new RENAME TO ledger")
            conn.execute("CREATE INDEX ledger_wallet ON ledger (wallet_id, kind)")
            conn.execute("CREATE INDEX ledger_ref ON ledger (ref_id)")
            conn.execute("CREATE INDEX ledger_created ON ledger (created_at)")
            notes = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' "
                                 "AND name = 'pending_authorizations'").fetchone()[0]
            if pending[0] not in notes:
                raise sqlite3.DatabaseError(f"unexpected pending_authorizations schema: cannot add {what}")
            conn.execute(_renamed(notes.replace(*pending), "pending_authorizations", "pending_new"))
            conn.execute("INSERT INTO pending_new SELECT * FROM pending_authorizations")
            conn.execute("DROP TABLE pending_authorizations")
            conn.execute("ALTER TABLE pending_new RENAME TO pending_authorizations")
            if also is not None:
                also(conn)
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise sqlite3.IntegrityError(f"foreign keys broken by the ledger rebuild: {broken[:5]}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys=ON")


def _renamed(sql: str, name: str, new: str) -> str:
    """A table's CREATE statement under another name (a table renamed before is stored with its name quoted)."""
    for head in (f'CREATE TABLE "{name}"', f"CREATE TABLE {name}"):
        if sql.startswith(head):
            return f"CREATE TABLE {new}" + sql[len(head):]
    raise sqlite3.DatabaseError(f"unexpected schema of {name}: cannot rebuild it")


@MIGRATIONS(name="0005_cashout", transactional=False)
def m0005_cashout(db: Database) -> None:
    """Cash-outs and drawer close-outs: the ledger's kind CHECK gains 'cashout' and 'drawer', the pending notes'
    'cashout' (SQLite rebuilds a table to change a CHECK: ``_rebuild_kinds``).

    Doubts get a kind too: a cash-out whose answer was lost is held like a top-up.
    """
    def doubt_kinds(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE topup_doubts ADD COLUMN kind TEXT NOT NULL DEFAULT 'topup' "
                     "CHECK (kind IN ('topup', 'cashout'))")  # a cash-out in doubt: do not pay it yet

    _rebuild_kinds(db, ledger=("'topup', 'checkin'", "'topup', 'cashout', 'drawer', 'checkin'"),
                   pending=("('sale', 'topup')", "('sale', 'topup', 'cashout')"), what="the cashout kind",
                   also=doubt_kinds)


_SALE_LINES = """
CREATE TABLE sale_lines_new (
    record_id TEXT NOT NULL REFERENCES ledger (id),
    line INTEGER NOT NULL,
    product_id INTEGER,
    qty INTEGER NOT NULL CHECK (qty <> 0 AND qty BETWEEN -999 AND 999),  -- negative: a deposit back, a discount
    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (record_id, line)
) STRICT;
INSERT INTO sale_lines_new SELECT record_id, line, product_id, qty, unit_price FROM sale_lines;
DROP TABLE sale_lines;
ALTER TABLE sale_lines_new RENAME TO sale_lines;
ALTER TABLE products ADD COLUMN kind TEXT NOT NULL DEFAULT 'normal' CHECK (kind IN ('normal', 'deposit', 'discount'));
"""


@MIGRATIONS(name="0006_lines")
def m0006_lines(db: Database) -> None:
    """Basket lines that give money back (a cup returned, a discount): negative quantities, a product's kind."""
    for statement in _statements(_SALE_LINES):
        db.execute(statement)


_GATE_TICKETS = """
CREATE TABLE tickets (                  -- gates only: the pulled tickets, to decide a typed ticket id
    ticket_id INTEGER PRIMARY KEY,
    ticket_type INTEGER NOT NULL,
    policy TEXT NOT NULL CHECK (policy IN ('single', 'reentry', 'unlimited')),
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    flags INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL CHECK (revoked IN (0, 1))
) STRICT;
"""


@MIGRATIONS(name="0007_gate_tickets")
def m0007_gate_tickets(db: Database) -> None:
    """Gates hold the tickets they may be shown, so a ticket id typed from under its QR is decided offline."""
    for statement in _statements(_GATE_TICKETS):
        db.execute(statement)


@MIGRATIONS(name="0009_deposit_returns", transactional=False)
def m0009_deposit_returns(db: Database) -> None:
    """Returns-only baskets (cups back, no purchase): the ledger's and the pending notes' kind CHECKs gain
    'deposit_return' (``_rebuild_kinds``, as 0005 did)."""
    _rebuild_kinds(db, ledger=("'drawer', 'checkin'", "'drawer', 'checkin', 'deposit_return'"),
                   pending=("('sale', 'topup', 'cashout')", "('sale', 'topup', 'cashout', 'deposit_return')"),
                   what="the deposit_return kind")


_DESK_WALLETS = """
CREATE TABLE desk_wallets (             -- top-up desks: new wallets asked of the server, by request id
    request_id TEXT PRIMARY KEY,        -- UUIDv7, kept before it is sent: asked again until answered
    staff_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    wallet_id INTEGER,                  -- NULL until the server answered
    answered_at INTEGER
) STRICT;
"""


@MIGRATIONS(name="0010_desk_wallets")
def m0010_desk_wallets(db: Database) -> None:
    """A desk's requests for new wallets: one whose answer was lost is asked again with its id (the same wallet)."""
    for statement in _statements(_DESK_WALLETS):
        db.execute(statement)



_PRODUCT_LOOK = """
ALTER TABLE products ADD COLUMN category TEXT NOT NULL DEFAULT '' CHECK (length(category) <= 40);
ALTER TABLE products ADD COLUMN colour TEXT CHECK (colour IS NULL OR colour IN
    ('red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink', 'grey'));
"""


@MIGRATIONS(name="0011_product_look")
def m0011_product_look(db: Database) -> None:
    """A product's category (the sale screen groups its buttons by it) and button colour (a palette name)."""
    for statement in _statements(_PRODUCT_LOOK):
        db.execute(statement)


def _statements(script: str) -> list[str]:
    """Split a script into complete SQL statements (comments may hold semicolons)."""
    out: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError("incomplete SQL statement in migration")
    return out


def apply_migrations(db: Database) -> None:
    """Apply pending migrations, each in its own transaction; raises sqlite3.Error."""
    MIGRATIONS.apply(db)

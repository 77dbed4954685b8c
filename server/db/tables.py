"""Every table of the server, declared explicitly (SQLite tables are STRICT).

Pullable rows carry ``change_seq``: a number from the global ``changes``
counter, handed out in commit order, so a terminal's pull cursor is simply the
last change number it has seen.  Money is BIGINT minor units.  Ledger rows are
only ever inserted; balances and sequence numbers cached on ``accounts`` are
updated in the same database transaction as the postings.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    INTEGER,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "BIG", "BOOL", "NAMING_CONVENTION", "STRICT", "accounts", "anomalies", "api_tokens", "audit_log", "checkins",
    "counters",
    "enrollment_codes", "event", "gates", "issuer_keys", "metadata", "postings", "products",
    "records", "revocations", "roles", "staff", "staff_overrides", "staff_roles", "stalls",
    "terminals", "ticket_types", "tickets", "transactions",
]

BIG = BigInteger().with_variant(INTEGER(), "sqlite")
BOOL = Boolean().with_variant(INTEGER(), "sqlite")
TEXT = Text()

# Constraint and index names, the same on SQLite and PostgreSQL (Alembic names them from this).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)
STRICT: dict[str, Any] = {"sqlite_strict": True}  # SQLite STRICT tables; ignored by PostgreSQL


def _change_seq() -> Column[int]:
    return Column("change_seq", BIG, nullable=False, server_default="0")


counters = Table(
    "counters", metadata,
    Column("name", TEXT, primary_key=True),
    Column("value", BIG, nullable=False),
    **STRICT,
)

event = Table(
    "event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("settings", TEXT, nullable=False),  # EventSettings as JSON
    Column("created_at", BIG, nullable=False),
    _change_seq(),
    **STRICT,
)

issuer_keys = Table(
    "issuer_keys", metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=False),
    Column("public_key", TEXT, nullable=False),
    Column("active", BOOL, nullable=False),
    Column("created_at", BIG, nullable=False),
    _change_seq(),
    **STRICT,
)

stalls = Table(
    "stalls", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", TEXT, nullable=False),
    Column("allow_free_amount", BOOL, nullable=False, server_default="0"),
    Column("active", BOOL, nullable=False, server_default="1"),
    _change_seq(),
    Index(None, "change_seq"),
    **STRICT,
)

products = Table(
    "products", metadata,
    Column("id", Integer, primary_key=True),
    Column("stall_id", Integer, ForeignKey("stalls.id"), nullable=False),
    Column("name", TEXT, nullable=False),
    Column("price", BIG, nullable=False),
    Column("stock", BIG, nullable=True),  # None: not counted
    Column("sold_out", BOOL, nullable=False, server_default="0"),
    Column("active", BOOL, nullable=False, server_default="1"),
    Column("sort", Integer, nullable=False, server_default="0"),
    Column("kind", TEXT, nullable=False, server_default="normal"),  # normal | deposit | discount
    Column("category", TEXT, nullable=False, server_default=""),  # "": none; groups buttons on the terminal
    Column("colour", TEXT, nullable=True),  # a name of sync.schemas.PRODUCT_COLOURS, or None: plain
    _change_seq(),
    Index(None, "change_seq"),
    **STRICT,
)

gates = Table(
    "gates", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", TEXT, nullable=False),
    Column("active", BOOL, nullable=False, server_default="1"),
    _change_seq(),
    Index(None, "change_seq"),
    **STRICT,
)

ticket_types = Table(
    "ticket_types", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", TEXT, nullable=False),
    Column("policy", TEXT, nullable=False),  # single | reentry | unlimited
    Column("gate_ids", TEXT, nullable=False, server_default="[]"),  # JSON list
    Column("active", BOOL, nullable=False, server_default="1"),
    _change_seq(),
    Column("valid_from", BIG, nullable=True),  # Unix seconds; tickets of the type are valid inside the window
    Column("valid_until", BIG, nullable=True),
    Index(None, "change_seq"),
    **STRICT,
)

# An issued ticket (admin, CSV import); its token is re-signed from these fields on demand.
tickets = Table(
    "tickets", metadata,
    Column("ticket_id", BIG, primary_key=True, autoincrement=False),  # 40-bit short id
    Column("ticket_type", Integer, ForeignKey("ticket_types.id"), nullable=False, index=True),
    Column("policy", TEXT, nullable=False),  # copied into the token at issue
    Column("flags", Integer, nullable=False, server_default="0"),
    Column("valid_from", BIG, nullable=False),  # Unix seconds
    Column("valid_until", BIG, nullable=False),
    Column("holder", TEXT, nullable=False, server_default=""),
    Column("source", TEXT, nullable=False),  # admin | csv
    Column("batch", TEXT, nullable=False, server_default="", index=True),
    Column("created_at", BIG, nullable=False),
    Column("revoked_at", BIG, nullable=True),
    _change_seq(),  # gates pull tickets (a typed ticket id is decided from the pulled row)
    Index(None, "change_seq"),
    **STRICT,
)

roles = Table(
    "roles", metadata,
    Column("name", TEXT, primary_key=True),
    Column("permissions", TEXT, nullable=False),  # JSON list of Permission values
    **STRICT,
)

staff = Table(
    "staff", metadata,
    Column("id", BIG, primary_key=True, autoincrement=False),  # 40-bit short id
    Column("name", TEXT, nullable=False),
    Column("pin_hash", TEXT, nullable=False),
    Column("login", TEXT, nullable=True, unique=True),  # dashboard users
    Column("password_hash", TEXT, nullable=True),
    Column("active", BOOL, nullable=False, server_default="1"),
    Column("badge_not_before", BIG, nullable=False, server_default="0"),
    Column("created_at", BIG, nullable=False),
    _change_seq(),
    Index(None, "change_seq"),
    **STRICT,
)

staff_roles = Table(
    "staff_roles", metadata,
    Column("id", Integer, primary_key=True),
    Column("staff_id", BIG, ForeignKey("staff.id"), nullable=False, index=True),
    Column("role", TEXT, ForeignKey("roles.name"), nullable=False),
    Column("scope_kind", TEXT, nullable=False, server_default="event"),
    Column("scope_id", Integer, nullable=True),
    **STRICT,
)

staff_overrides = Table(
    "staff_overrides", metadata,
    Column("id", Integer, primary_key=True),
    Column("staff_id", BIG, ForeignKey("staff.id"), nullable=False, index=True),
    Column("permission", TEXT, nullable=False),
    Column("allow", BOOL, nullable=False),
    Column("scope_kind", TEXT, nullable=False, server_default="event"),
    Column("scope_id", Integer, nullable=True),
    Column("expires_at", BIG, nullable=True),  # Unix seconds
    **STRICT,
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_hash", TEXT, primary_key=True),  # SHA-256 hex; the token itself is never stored
    Column("staff_id", BIG, ForeignKey("staff.id"), nullable=False),
    Column("created_at", BIG, nullable=False),
    Column("revoked", BOOL, nullable=False, server_default="0"),
    **STRICT,
)

terminals = Table(
    "terminals", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", TEXT, nullable=False),
    Column("mode", TEXT, nullable=False),
    Column("stall_id", Integer, ForeignKey("stalls.id"), nullable=True),
    Column("gate_id", Integer, ForeignKey("gates.id"), nullable=True),
    Column("public_key", TEXT, nullable=False),
    Column("token_hash", TEXT, nullable=False, unique=True),
    Column("revoked", BOOL, nullable=False, server_default="0"),
    Column("enrolled_at", BIG, nullable=False),
    Column("last_seen_ms", BIG, nullable=True),
    Column("app_version", TEXT, nullable=False, server_default=""),
    Column("clock_skew_ms", BIG, nullable=True),
    Column("unsynced_count", BIG, nullable=False, server_default="0"),
    Column("unsynced_amount", BIG, nullable=False, server_default="0"),
    Column("last_error", TEXT, nullable=False, server_default=""),
    **STRICT,
)

enrollment_codes = Table(
    "enrollment_codes", metadata,
    Column("code_hash", TEXT, primary_key=True),
    Column("mode", TEXT, nullable=False),
    Column("stall_id", Integer, ForeignKey("stalls.id"), nullable=True),
    Column("gate_id", Integer, ForeignKey("gates.id"), nullable=True),
    Column("created_at", BIG, nullable=False),
    Column("expires_at", BIG, nullable=False),
    Column("used_at", BIG, nullable=True),
    Column("terminal_id", Integer, ForeignKey("terminals.id"), nullable=True),
    **STRICT,
)

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    # wallet | stall_revenue | stall_deposit | stall_discount | cash_drawer | system
    Column("kind", TEXT, nullable=False),
    Column("ref", BIG, nullable=False),  # wallet id, stall id, terminal id, system number
    Column("name", TEXT, nullable=False, server_default=""),
    Column("balance", BIG, nullable=False, server_default="0"),
    Column("seq", BIG, nullable=False, server_default="0"),
    Column("flags", Integer, nullable=False, server_default="0"),
    Column("blocked", BOOL, nullable=False, server_default="0"),
    Column("overdrawn", BOOL, nullable=False, server_default="0"),
    Column("created_at", BIG, nullable=False),
    _change_seq(),
    UniqueConstraint("kind", "ref"),
    Index(None, "kind", "change_seq"),
    **STRICT,
)

transactions = Table(
    "transactions", metadata,
    Column("id", BIG, primary_key=True, autoincrement=False),  # from the changes counter
    Column("kind", TEXT, nullable=False),  # sale | refund | void | topup | adjustment
    Column("record_id", TEXT, nullable=True, unique=True),
    Column("ref_txn", BIG, nullable=True),
    Column("amount", BIG, nullable=False),
    Column("created_at", BIG, nullable=False),
    Column("terminal_id", Integer, nullable=True),
    Column("staff_id", BIG, nullable=True),
    Column("note", TEXT, nullable=False, server_default=""),
    **STRICT,
)

postings = Table(
    "postings", metadata,
    Column("txn_id", BIG, ForeignKey("transactions.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("amount", BIG, nullable=False),
    Column("seq", BIG, nullable=False),  # the account's seq after this posting
    PrimaryKeyConstraint("txn_id", "line"),
    Index(None, "account_id"),
    UniqueConstraint("account_id", "seq"),
    **STRICT,
)

records = Table(
    "records", metadata,
    Column("id", TEXT, primary_key=True),  # the terminal's UUIDv7: unique forever
    Column("terminal_id", Integer, ForeignKey("terminals.id"), nullable=False),
    Column("kind", TEXT, nullable=False),
    Column("body_hash", TEXT, nullable=False),
    Column("body", TEXT, nullable=False),
    Column("sig", TEXT, nullable=False),
    Column("txn_id", BIG, nullable=True),
    Column("wallet_id", BIG, nullable=True),
    Column("stall_id", Integer, nullable=True),
    Column("staff_id", BIG, nullable=True),
    Column("amount", BIG, nullable=True),
    Column("ref_id", TEXT, nullable=True, index=True),
    Column("balance_after", BIG, nullable=True),
    Column("seq_after", BIG, nullable=True),
    Column("online", BOOL, nullable=False, server_default="0"),
    Column("created_at", BIG, nullable=False),
    Column("received_at", BIG, nullable=False),
    **STRICT,
)

checkins = Table(
    "checkins", metadata,
    Column("record_id", TEXT, primary_key=True),
    Column("gate_id", Integer, nullable=False),
    Column("terminal_id", Integer, nullable=False),
    Column("ticket_id", BIG, nullable=False, index=True),
    Column("ticket_type", Integer, nullable=False),
    Column("direction", TEXT, nullable=False),
    Column("created_at", BIG, nullable=False),
    _change_seq(),
    Index(None, "change_seq"),
    Index("ix_checkins_created_at_gates", "created_at"),
    **STRICT,
)

revocations = Table(
    "revocations", metadata,
    Column("kind", TEXT, nullable=False),  # wallet | ticket | staff | terminal
    Column("ref", BIG, nullable=False),
    Column("revoked", BOOL, nullable=False),
    Column("reason", TEXT, nullable=False, server_default=""),
    Column("created_at", BIG, nullable=False),
    _change_seq(),
    PrimaryKeyConstraint("kind", "ref"),
    Index(None, "change_seq"),
    **STRICT,
)

anomalies = Table(
    "anomalies", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", TEXT, nullable=False),
    Column("severity", TEXT, nullable=False),  # info | warning | security
    Column("terminal_id", Integer, nullable=True),
    Column("record_id", TEXT, nullable=True),
    Column("wallet_id", BIG, nullable=True),
    Column("detail", TEXT, nullable=False, server_default=""),
    Column("created_at", BIG, nullable=False),
    Column("resolved_at", BIG, nullable=True),
    Column("resolved_by", BIG, nullable=True),
    Index("ux_anomalies_sighting", "terminal_id", "record_id", unique=True,
          sqlite_where=text("kind = 'forged_token'"), postgresql_where=text("kind = 'forged_token'")),
    **STRICT,
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", BIG, nullable=False),
    Column("actor", TEXT, nullable=False),
    Column("action", TEXT, nullable=False),
    Column("detail", TEXT, nullable=False, server_default=""),
    **STRICT,
)

"""The web part's own tables (migration ``0100_web``): customers' My page access and guest invitations.

Declared with the server's types and naming convention; kept apart from
``server.db.tables`` because only the web pages use them.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, Text

from server.db.tables import BIG, NAMING_CONVENTION, STRICT

__all__ = ["customers", "guest_invitations", "metadata"]

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# A wallet whose holder may sign in to My page with its short code and a PIN.
customers = Table(
    "web_customers", metadata,
    Column("wallet_id", BIG, primary_key=True, autoincrement=False),
    Column("holder_name", Text(), nullable=False, server_default=""),
    Column("pin_hash", Text(), nullable=False),  # argon2id
    Column("staff_id", BIG, nullable=True),  # a person row (e.g. role "student") whose permissions apply
    Column("guest_quota", Integer, nullable=False, server_default="0"),
    Column("guest_ticket_type", Integer, nullable=True),
    Column("created_at", BIG, nullable=False),
    **STRICT,
)

# A guest ticket a customer made from their quota; cancelling publishes a ticket revocation.
guest_invitations = Table(
    "web_guest_invitations", metadata,
    Column("id", Integer, primary_key=True),
    Column("wallet_id", BIG, ForeignKey("web_customers.wallet_id"), nullable=False),
    Column("ticket_id", BIG, nullable=False, unique=True),
    Column("ticket_type", Integer, nullable=False),
    Column("guest_name", Text(), nullable=False, server_default=""),
    Column("valid_from", BIG, nullable=False),  # Unix seconds
    Column("valid_until", BIG, nullable=False),
    Column("created_at", BIG, nullable=False),  # Unix ms
    Column("cancelled_at", BIG, nullable=True),
    Index(None, "wallet_id"),
    **STRICT,
)

"""The web part's own tables (migration ``0100_web``): customers' My page access and guest invitations.

Declared with the server's types and naming convention; kept apart from
``server.db.tables`` because only the web pages use them.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, Text

from server.db.tables import BIG, NAMING_CONVENTION, STRICT

__all__ = ["customers", "guest_invitations", "metadata", "people", "signin_links"]

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

# Who holds a wallet made in bulk (migration ``0500_setup``): a card of a batch, or a person from a class list.
people = Table(
    "web_people", metadata,
    Column("wallet_id", BIG, primary_key=True, autoincrement=False),
    Column("name", Text(), nullable=False, server_default=""),
    Column("class_name", Text(), nullable=False, server_default=""),
    Column("email", Text(), nullable=False, server_default=""),
    Column("kind", Text(), nullable=False),  # card | student | visitor | guest
    Column("batch", Text(), nullable=False),  # the bulk action that made it (its card sheet, its letters)
    Column("position", Integer, nullable=False),  # order within the batch (the CSV's order)
    Column("created_at", BIG, nullable=False),
    Index(None, "batch", "position"),
    Index(None, "class_name"),
    **STRICT,
)

# A one-time My page sign-in link (on a printed letter): SHA-256 of 32 random bytes; using it sets the first PIN.
signin_links = Table(
    "web_signin_links", metadata,
    Column("token_hash", Text(), primary_key=True),
    Column("wallet_id", BIG, nullable=False),
    Column("created_at", BIG, nullable=False),  # Unix ms
    Column("expires_at", BIG, nullable=False),  # Unix ms
    Column("used_at", BIG, nullable=True),
    Index(None, "wallet_id"),
    **STRICT,
)

"""tickets: issued tickets registry and validity windows on ticket types

Revision ID: 0200_tickets
Revises: 0100_web
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0200_tickets"
down_revision = "0100_web"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    # Additive only: two nullable columns (Unix seconds; NULL = no bound) and a new table.
    op.add_column("ticket_types", sa.Column("valid_from", BIG, nullable=True))
    op.add_column("ticket_types", sa.Column("valid_until", BIG, nullable=True))
    op.create_table(
        "tickets",
        sa.Column("ticket_id", BIG, nullable=False, autoincrement=False),
        sa.Column("ticket_type", sa.Integer(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("flags", sa.Integer(), server_default="0", nullable=False),
        sa.Column("valid_from", BIG, nullable=False),
        sa.Column("valid_until", BIG, nullable=False),
        sa.Column("holder", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("batch", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("revoked_at", BIG, nullable=True),
        sa.ForeignKeyConstraint(["ticket_type"], ["ticket_types.id"],
                                name=op.f("fk_tickets_ticket_type_ticket_types")),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_tickets")),
        sqlite_strict=True,
    )
    op.create_index(op.f("ix_tickets_ticket_type"), "tickets", ["ticket_type"])
    op.create_index(op.f("ix_tickets_batch"), "tickets", ["batch"])
    # Live gate counts read check-ins by time.
    op.create_index("ix_checkins_created_at_gates", "checkins", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_checkins_created_at_gates", table_name="checkins")
    op.drop_index(op.f("ix_tickets_batch"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_ticket_type"), table_name="tickets")
    op.drop_table("tickets")
    with op.batch_alter_table("ticket_types") as batch:
        batch.drop_column("valid_until")
        batch.drop_column("valid_from")

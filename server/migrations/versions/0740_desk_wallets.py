"""desk wallets: new wallets issued at a top-up desk, one per request id (idempotent), counted per terminal

Revision ID: 0740_desk_wallets
Revises: 0710_gate_tickets
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0740_desk_wallets"
down_revision = "0710_gate_tickets"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "desk_wallets",
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", BIG, nullable=False),
        sa.Column("wallet_id", BIG, nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_desk_wallets")),
        sa.UniqueConstraint("wallet_id", name=op.f("uq_desk_wallets_wallet_id")),
        sqlite_strict=True,
    )
    op.create_index(op.f("ix_desk_wallets_terminal_id"), "desk_wallets", ["terminal_id", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_desk_wallets_terminal_id"), table_name="desk_wallets")
    op.drop_table("desk_wallets")

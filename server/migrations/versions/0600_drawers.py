"""cash drawer close-outs: counted against expected per top-up desk, the difference booked as imbalance

Revision ID: 0600_drawers
Revises: 0550_cashout
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0600_drawers"
down_revision = "0550_cashout"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "drawer_closeouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", BIG, nullable=False),
        sa.Column("since", BIG, nullable=False),
        sa.Column("closed_at", BIG, nullable=False),
        sa.Column("start_float", BIG, nullable=False),
        sa.Column("topups", BIG, nullable=False),
        sa.Column("cashouts", BIG, nullable=False),
        sa.Column("expected", BIG, nullable=False),
        sa.Column("counted", BIG, nullable=False),
        sa.Column("difference", BIG, nullable=False),
        sa.Column("desk_expected", BIG, nullable=False),
        sa.Column("received_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drawer_closeouts")),
        sa.UniqueConstraint("record_id", name=op.f("uq_drawer_closeouts_record_id")),
        sqlite_strict=True,
    )
    op.create_index(op.f("ix_drawer_closeouts_terminal_id"), "drawer_closeouts", ["terminal_id", "closed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_drawer_closeouts_terminal_id"), table_name="drawer_closeouts")
    op.drop_table("drawer_closeouts")

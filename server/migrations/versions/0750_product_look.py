"""a product's category and button colour, shown on the terminal

Revision ID: 0750_product_look
Revises: 0740_desk_wallets
Create Date: 2026-12-03

A stall with twenty products groups them (``category``, "" for none) and colours their
buttons (``colour``, a palette name of ``sync.schemas.PRODUCT_COLOURS``, NULL for plain).
Both are pulled by terminals with the product; additive only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0750_product_look"
down_revision = "0740_desk_wallets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("category", sa.Text(), nullable=False, server_default=""))
    op.add_column("products", sa.Column("colour", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("colour")
        batch.drop_column("category")

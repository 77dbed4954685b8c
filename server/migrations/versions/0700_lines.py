"""basket lines that give money back: a product's kind (normal | deposit | discount)

Revision ID: 0700_lines
Revises: 0600_drawers
Create Date: 2026-12-03

Deposits and discounts are booked to per-stall accounts of kinds ``stall_deposit`` and
``stall_discount`` (``server.records``), made here for the stalls there are and with
each new stall: the accounts table takes any kind, so only the product's kind is new.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0700_lines"
down_revision = "0600_drawers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Additive only: every product there is stays a normal one.
    op.add_column("products", sa.Column("kind", sa.Text(), nullable=False, server_default="normal"))
    # every stall's deposit and discount accounts, empty (new stalls get them with the stall)
    for kind, name in (("stall_deposit", "deposits"), ("stall_discount", "discounts")):
        op.execute(sa.text(
            "INSERT INTO accounts (kind, ref, name, created_at) "
            "SELECT :kind, s.id, :name, CAST(:now AS BIGINT) FROM stalls s WHERE NOT EXISTS "
            "(SELECT 1 FROM accounts a WHERE a.kind = :kind AND a.ref = s.id)").bindparams(
                kind=kind, name=name, now=int(time.time() * 1000)))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("kind")

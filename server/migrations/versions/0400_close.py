"""close of the event: closing settings, payout requests and payout runs

Revision ID: 0400_close
Revises: 0300_sightings
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0400_close"
down_revision = "0300_sightings"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")
BOOL = sa.Boolean().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "close_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stall_fee_bp", sa.Integer(), server_default="0", nullable=False),
        sa.Column("payouts_open", BOOL, server_default="0", nullable=False),
        sa.Column("claim_until", BIG, nullable=True),
        sa.Column("unclaimed_rule", sa.Text(), server_default="keep", nullable=False),
        sa.Column("updated_at", BIG, server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_close_settings")),
        sqlite_strict=True,
    )
    op.create_table(
        "payout_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", BIG, nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("holder_kana", sa.Text(), server_default="", nullable=False),
        sa.Column("bank_code", sa.Text(), server_default="", nullable=False),
        sa.Column("branch_code", sa.Text(), server_default="", nullable=False),
        sa.Column("account_type", sa.Text(), server_default="", nullable=False),
        sa.Column("account_number", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), server_default="customer", nullable=False),
        sa.Column("amount", BIG, nullable=True),
        sa.Column("txn_id", BIG, nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("closed_at", BIG, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_requests")),
        sqlite_strict=True,
    )
    op.create_index(op.f("ix_payout_requests_wallet_id"), "payout_requests", ["wallet_id"])
    op.create_index("uq_payout_requests_open", "payout_requests", ["wallet_id"], unique=True,
                    sqlite_where=sa.text("status = 'requested'"), postgresql_where=sa.text("status = 'requested'"))
    op.create_table(
        "payout_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("donations", sa.Integer(), nullable=False),
        sa.Column("total", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_runs")),
        sqlite_strict=True,
    )


def downgrade() -> None:
    op.drop_table("payout_runs")
    op.drop_index("uq_payout_requests_open", table_name="payout_requests")
    op.drop_index(op.f("ix_payout_requests_wallet_id"), table_name="payout_requests")
    op.drop_table("payout_requests")
    op.drop_table("close_settings")

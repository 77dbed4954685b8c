"""web: My page access for customers and guest invitations

Revision ID: 0100_web
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100_web"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_customers",
        sa.Column("wallet_id", BIG, nullable=False, autoincrement=False),
        sa.Column("holder_name", sa.Text(), server_default="", nullable=False),
        sa.Column("pin_hash", sa.Text(), nullable=False),
        sa.Column("staff_id", BIG, nullable=True),
        sa.Column("guest_quota", sa.Integer(), server_default="0", nullable=False),
        sa.Column("guest_ticket_type", sa.Integer(), nullable=True),
        sa.Column("created_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("wallet_id", name=op.f("pk_web_customers")),
        sqlite_strict=True,
    )
    op.create_table(
        "web_guest_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", BIG, nullable=False),
        sa.Column("ticket_id", BIG, nullable=False),
        sa.Column("ticket_type", sa.Integer(), nullable=False),
        sa.Column("guest_name", sa.Text(), server_default="", nullable=False),
        sa.Column("valid_from", BIG, nullable=False),
        sa.Column("valid_until", BIG, nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("cancelled_at", BIG, nullable=True),
        sa.ForeignKeyConstraint(["wallet_id"], ["web_customers.wallet_id"],
                                name=op.f("fk_web_guest_invitations_wallet_id_web_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_guest_invitations")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_web_guest_invitations_ticket_id")),
        sqlite_strict=True,
    )
    op.create_index(op.f("ix_web_guest_invitations_wallet_id"), "web_guest_invitations", ["wallet_id"])
    # Sign-in lockout reads the audit log by actor.
    op.create_index("ix_audit_log_actor_web", "audit_log", ["actor", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor_web", table_name="audit_log")
    op.drop_index(op.f("ix_web_guest_invitations_wallet_id"), table_name="web_guest_invitations")
    op.drop_table("web_guest_invitations")
    op.drop_table("web_customers")

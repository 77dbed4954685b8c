"""setup at scale: people on wallets (name, class, e-mail, kind, batch) and one-time My page sign-in links

Revision ID: 0500_setup
Revises: 0400_close
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0500_setup"
down_revision = "0400_close"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_people",
        sa.Column("wallet_id", BIG, autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("class_name", sa.Text(), server_default="", nullable=False),
        sa.Column("email", sa.Text(), server_default="", nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("batch", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.PrimaryKeyConstraint("wallet_id", name=op.f("pk_web_people")),
        sqlite_strict=True,
    )
    op.create_index(op.f("ix_web_people_batch"), "web_people", ["batch", "position"])
    op.create_index(op.f("ix_web_people_class_name"), "web_people", ["class_name"])
    op.create_table(
        "web_signin_links",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("wallet_id", BIG, nullable=False),
        sa.Column("created_at", BIG, nullable=False),
        sa.Column("expires_at", BIG, nullable=False),
        sa.Column("used_at", BIG, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_signin_links")),
        sqlite_strict=True,
    )
    op.create_index(op.f("ix_web_signin_links_wallet_id"), "web_signin_links", ["wallet_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_signin_links_wallet_id"), table_name="web_signin_links")
    op.drop_table("web_signin_links")
    op.drop_index(op.f("ix_web_people_class_name"), table_name="web_people")
    op.drop_index(op.f("ix_web_people_batch"), table_name="web_people")
    op.drop_table("web_people")

"""gate tickets: tickets carry a change number so gates pull them (a typed ticket id decided offline)

Revision ID: 0710_gate_tickets
Revises: 0700_lines
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0710_gate_tickets"
down_revision = "0700_lines"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.add_column("tickets", sa.Column("change_seq", BIG, server_default="0", nullable=False))
    op.create_index(op.f("ix_tickets_change_seq"), "tickets", ["change_seq"])
    conn = op.get_bind()
    # every ticket issued before gets its own change number above the counter, so a gate pulls it
    ids = [int(r[0]) for r in conn.execute(sa.text("SELECT ticket_id FROM tickets ORDER BY ticket_id"))]
    if not ids:
        return
    top = int(conn.execute(sa.text("SELECT value FROM counters WHERE name = 'changes'")).scalar_one())
    conn.execute(sa.text("UPDATE counters SET value = :v WHERE name = 'changes'"), {"v": top + len(ids)})
    conn.execute(sa.text("UPDATE tickets SET change_seq = :seq WHERE ticket_id = :tid"),
                 [{"seq": top + 1 + i, "tid": tid} for i, tid in enumerate(ids)])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_change_seq"), table_name="tickets")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("change_seq")

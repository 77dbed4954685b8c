"""guest tickets: every My page guest invitation gets its ticket in the registry, so gates pull it

Revision ID: 0770_guest_tickets
Revises: 0750_product_look
Create Date: 2026-12-03

Before, a guest ticket lived only in ``web_guest_invitations``: its QR worked at a gate, but
the gates never pulled it, so its typed short id was refused there ("unknown ticket").  From
now on ``invite_guest`` issues a ``tickets`` row (source ``guest``, the GUEST flag); this
migration adds the row of every invitation made before, with the invitation's window (so its
QR, re-made from the row, is the same token), revoked when it was cancelled, each with its own
change number above the counter, as 0710 did for the tickets issued before it.  Data only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0770_guest_tickets"
down_revision = "0750_product_look"
branch_labels = None
depends_on = None

GUEST_FLAG = 1  # sync.tokens.TicketFlags.GUEST


def upgrade() -> None:
    conn = op.get_bind()
    rows = list(conn.execute(sa.text(
        "SELECT g.ticket_id, g.ticket_type, COALESCE(tt.policy, 'single') AS policy, g.valid_from, g.valid_until, "
        "g.guest_name, g.created_at, g.cancelled_at FROM web_guest_invitations g "
        "JOIN ticket_types tt ON tt.id = g.ticket_type "
        "WHERE NOT EXISTS (SELECT 1 FROM tickets k WHERE k.ticket_id = g.ticket_id) ORDER BY g.id")))
    if not rows:
        return
    top = int(conn.execute(sa.text("SELECT value FROM counters WHERE name = 'changes'")).scalar_one())
    conn.execute(sa.text("UPDATE counters SET value = :v WHERE name = 'changes'"), {"v": top + len(rows)})
    conn.execute(sa.text(
        "INSERT INTO tickets (ticket_id, ticket_type, policy, flags, valid_from, valid_until, holder, source, "
        "batch, created_at, revoked_at, change_seq) VALUES (:tid, :type, :policy, :flags, :vf, :vu, :holder, "
        "'guest', '', :created, :revoked, :seq)"),
        [{"tid": int(r.ticket_id), "type": int(r.ticket_type), "policy": r.policy, "flags": GUEST_FLAG,
          "vf": int(r.valid_from), "vu": int(r.valid_until), "holder": r.guest_name or "",
          "created": int(r.created_at), "revoked": r.cancelled_at, "seq": top + 1 + i}
         for i, r in enumerate(rows)])


def downgrade() -> None:
    op.execute("DELETE FROM tickets WHERE source = 'guest'")

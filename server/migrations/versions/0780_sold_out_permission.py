"""sold out from the till: the "product.sold_out" permission in the admin and supervisor roles

Revision ID: 0780_sold_out_permission
Revises: 0770_guest_tickets
Create Date: 2026-12-03

Roles are rows holding a JSON list of permissions (seeded from sync.permissions.DEFAULT_ROLES when
an event is made), so an event made before a stall terminal could mark a product sold out gets the
permission here, in the roles that have it in a new event.  The route needs no table: it sets
products.sold_out as the dashboard does, with an audit entry.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0780_sold_out_permission"
down_revision = "0770_guest_tickets"
branch_labels = None
depends_on = None

_ROLES = sa.table("roles", sa.column("name", sa.Text()), sa.column("permissions", sa.Text()))
_PERMISSION = "product.sold_out"


def upgrade() -> None:
    conn = op.get_bind()
    for name, perms in list(conn.execute(sa.select(_ROLES.c.name, _ROLES.c.permissions)
                                         .where(_ROLES.c.name.in_(("admin", "supervisor"))))):
        held = set(json.loads(perms))
        if _PERMISSION not in held:
            conn.execute(sa.update(_ROLES).where(_ROLES.c.name == name).values(
                permissions=json.dumps(sorted(held | {_PERMISSION}))))


def downgrade() -> None:
    conn = op.get_bind()
    for name, perms in list(conn.execute(sa.select(_ROLES.c.name, _ROLES.c.permissions))):
        kept = [p for p in json.loads(perms) if p != _PERMISSION]
        conn.execute(sa.update(_ROLES).where(_ROLES.c.name == name).values(permissions=json.dumps(kept)))

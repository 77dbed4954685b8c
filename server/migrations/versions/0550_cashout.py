"""cash-outs at the desks: the "cashout" permission in the admin and supervisor roles, and a "cashdesk" role

Revision ID: 0550_cashout
Revises: 0500_setup
Create Date: 2026-12-03

Roles are rows holding a JSON list of permissions (seeded from sync.permissions.DEFAULT_ROLES
when an event is made), so an event made before cash-outs existed gets the new permission here.
Cash-out records need no table: they are terminal records and ledger transactions like the others,
booked against the system account 5 ("cash-outs"), created on first use.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0550_cashout"
down_revision = "0500_setup"
branch_labels = None
depends_on = None

_ROLES = sa.table("roles", sa.column("name", sa.Text()), sa.column("permissions", sa.Text()))
_CASHDESK = ["cashout", "shift.close", "topup"]


def upgrade() -> None:
    conn = op.get_bind()
    have = {str(name): str(perms) for name, perms in conn.execute(sa.select(_ROLES.c.name, _ROLES.c.permissions))}
    for name in ("admin", "supervisor"):
        if name in have:
            perms = set(json.loads(have[name]))
            if "cashout" not in perms:
                perms.add("cashout")
                conn.execute(sa.update(_ROLES).where(_ROLES.c.name == name).values(
                    permissions=json.dumps(sorted(perms))))
    if "cashdesk" not in have:
        conn.execute(sa.insert(_ROLES).values(name="cashdesk", permissions=json.dumps(_CASHDESK)))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.delete(_ROLES).where(_ROLES.c.name == "cashdesk"))
    for name, perms in list(conn.execute(sa.select(_ROLES.c.name, _ROLES.c.permissions))):
        kept = [p for p in json.loads(perms) if p != "cashout"]
        conn.execute(sa.update(_ROLES).where(_ROLES.c.name == name).values(permissions=json.dumps(kept)))

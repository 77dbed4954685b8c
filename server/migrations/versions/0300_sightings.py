"""forged-token sightings: one anomaly per terminal security log entry

Revision ID: 0300_sightings
Revises: 0200_tickets
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300_sightings"
down_revision = "0200_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A terminal's report of its security log may arrive twice (a retry, two server workers):
    # the unique index makes the second insert lose, and the write retries and finds it known.
    op.create_index("ux_anomalies_sighting", "anomalies", ["terminal_id", "record_id"], unique=True,
                    sqlite_where=sa.text("kind = 'forged_token'"),
                    postgresql_where=sa.text("kind = 'forged_token'"))


def downgrade() -> None:
    op.drop_index("ux_anomalies_sighting", table_name="anomalies")

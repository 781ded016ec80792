"""partial indexes for running SLA clocks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

The clocks' hot reads and writes (the chat batch's running-clock lookups, the scan, the
at-risk lists) all want ``stopped_at IS NULL``; indexes over every clock made them
walk a subject's whole history, which grows by a clock per customer message.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

RUNNING = sa.text("stopped_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("sla_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_targets_due")
        batch_op.drop_index("ix_sla_targets_state")
        batch_op.create_index("ix_sla_targets_running", ["subject_id", "metric"],
                              unique=False, postgresql_where=RUNNING, sqlite_where=RUNNING)
        batch_op.create_index("ix_sla_targets_running_due", ["next_check_at"],
                              unique=False, postgresql_where=RUNNING, sqlite_where=RUNNING)
        batch_op.create_index("ix_sla_targets_running_state", ["state", "due_at"],
                              unique=False, postgresql_where=RUNNING, sqlite_where=RUNNING)


def downgrade() -> None:
    with op.batch_alter_table("sla_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_targets_running_state")
        batch_op.drop_index("ix_sla_targets_running_due")
        batch_op.drop_index("ix_sla_targets_running")
        batch_op.create_index("ix_sla_targets_state", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_sla_targets_due", ["stopped_at", "next_check_at"],
                              unique=False)

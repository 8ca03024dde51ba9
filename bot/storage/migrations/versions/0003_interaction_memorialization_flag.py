"""interactions.memorialization_queued: whether CRM writes were ever queued for it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 11:00:00

The card shows a warning while a CRM write of its interaction has failed; the flag lets
every card drawn before the interaction ends skip looking for failed writes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("memorialization_queued", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # interactions that already have jobs keep their warning
    op.execute("UPDATE interactions SET memorialization_queued = true WHERE id IN "
               "(SELECT DISTINCT interaction_id FROM memorialization_jobs)")


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_column("memorialization_queued")

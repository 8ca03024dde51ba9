"""interactions: memorialization_queued and card_posting_until

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 11:00:00

``memorialization_queued``: CRM writes were queued for the interaction; only then can one
have failed, so cards drawn before that skip looking for failed writes.
``card_posting_until``: the process that made the interaction's card due (its start, a
transfer, the agent's install) posts it; until then other processes (replicas, workers)
leave the first post to it and update the card once it is posted.
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
        batch_op.add_column(
            sa.Column(
                "memorialization_queued", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("card_posting_until", sa.DateTime(timezone=True), nullable=True)
        )
    # interactions that already have jobs keep their warning
    op.execute(
        "UPDATE interactions SET memorialization_queued = true WHERE id IN "
        "(SELECT DISTINCT interaction_id FROM memorialization_jobs)"
    )


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_column("card_posting_until")
        batch_op.drop_column("memorialization_queued")

"""connectors: platform connections and the platform events they received

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 18:00:00

``connectors``: one row per contact-center platform (settings, encrypted secrets, the
explicit agent table). ``connector_events``: every platform event received, unique per
(platform, platform event id), so a retried delivery changes nothing, and events that
arrive before their interaction's start wait in ``pending``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("configuration_id", sa.String(64), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "connector_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("platform_event_id", sa.String(200), nullable=False),
        sa.Column("interaction_id", sa.String(128), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "platform_event_id"),
    )
    op.create_index("ix_connector_events_pending", "connector_events", ["interaction_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_connector_events_pending", table_name="connector_events")
    op.drop_table("connector_events")
    op.drop_table("connectors")

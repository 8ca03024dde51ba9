"""initial schema: installations, interactions and their records and events, CRM
configurations with mappings and workflows, memorialization jobs

Revision ID: 0001
Revises:
Create Date: 2026-11-23 02:14:59.730973
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_configurations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("startup", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_configurations")),
    )
    op.create_table(
        "installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("teams_user_id", sa.String(length=200), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("upn", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("service_url", sa.String(length=400), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installations")),
        sa.UniqueConstraint("teams_user_id", name=op.f("uq_installations_teams_user_id")),
    )
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_installations_aad_object_id"), ["aad_object_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_installations_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_installations_upn"), ["upn"], unique=False)

    op.create_table(
        "memorialization_jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("timeline_key", sa.String(length=200), nullable=False),
        sa.Column("interaction_id", sa.String(length=128), nullable=False),
        sa.Column("configuration_id", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.String(length=255), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_code", sa.String(length=64), nullable=True),
        sa.Column("fields_written_at", sa.Float(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("timeline_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memorialization_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_memorialization_jobs_dedupe_key")),
    )
    with op.batch_alter_table("memorialization_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memorialization_jobs_interaction_id"), ["interaction_id"], unique=False
        )
        batch_op.create_index(
            "ix_memorialization_jobs_status_available", ["status", "available_at"], unique=False
        )
        batch_op.create_index(
            "ix_memorialization_jobs_target",
            ["configuration_id", "record_type", "record_id", "id"],
            unique=False,
        )

    op.create_table(
        "crm_dynamic_data_mappings",
        sa.Column("configuration_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["crm_configurations.id"],
            name=op.f("fk_crm_dynamic_data_mappings_configuration_id_crm_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "configuration_id", "id", name=op.f("pk_crm_dynamic_data_mappings")
        ),
    )
    op.create_table(
        "crm_memorialization_mappings",
        sa.Column("configuration_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["crm_configurations.id"],
            name=op.f("fk_crm_memorialization_mappings_configuration_id_crm_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "configuration_id", "id", name=op.f("pk_crm_memorialization_mappings")
        ),
    )
    op.create_table(
        "crm_workflows",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("configuration_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["crm_configurations.id"],
            name=op.f("fk_crm_workflows_configuration_id_crm_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("configuration_id", "id", name=op.f("pk_crm_workflows")),
    )
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("configuration_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=128), nullable=False),
        sa.Column("master_contact_id", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("customer", sa.String(length=320), nullable=False),
        sa.Column("customer_key", sa.String(length=320), nullable=False),
        sa.Column("skill", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("script_variables", sa.JSON(), nullable=False),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("agent_name", sa.String(length=200), nullable=False),
        sa.Column("agent_aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("agent_email", sa.String(length=320), nullable=True),
        sa.Column("agent_teams_user_id", sa.String(length=200), nullable=True),
        sa.Column("installation_id", sa.Integer(), nullable=True),
        sa.Column("delivery_pending", sa.Boolean(), nullable=False),
        sa.Column("card_activity_id", sa.String(length=400), nullable=True),
        sa.Column("card_conversation_id", sa.String(length=400), nullable=True),
        sa.Column("previous_cards", sa.JSON(), nullable=False),
        sa.Column("match_outcome", sa.String(length=16), nullable=False),
        sa.Column("search_query", sa.String(length=200), nullable=False),
        sa.Column("related_shown", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_interactions_installation_id_installations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interactions_agent_aad_object_id"), ["agent_aad_object_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interactions_agent_email"), ["agent_email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interactions_agent_teams_user_id"), ["agent_teams_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interactions_customer_key"), ["customer_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interactions_delivery_pending"), ["delivery_pending"], unique=False
        )

    op.create_table(
        "interaction_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("interaction_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("agent", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("script_variables", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_interaction_events_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_interaction_events_event_id")),
    )
    with op.batch_alter_table("interaction_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interaction_events_interaction_id"), ["interaction_id"], unique=False
        )

    op.create_table(
        "interaction_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("interaction_id", sa.String(length=128), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("record_type", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_interaction_records_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_records")),
        sa.UniqueConstraint(
            "interaction_id",
            "section",
            "record_type",
            "record_id",
            name=op.f("uq_interaction_records_interaction_id"),
        ),
    )
    with op.batch_alter_table("interaction_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interaction_records_interaction_id"), ["interaction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_records_interaction_id"))

    op.drop_table("interaction_records")
    with op.batch_alter_table("interaction_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_events_interaction_id"))

    op.drop_table("interaction_events")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interactions_delivery_pending"))
        batch_op.drop_index(batch_op.f("ix_interactions_customer_key"))
        batch_op.drop_index(batch_op.f("ix_interactions_agent_teams_user_id"))
        batch_op.drop_index(batch_op.f("ix_interactions_agent_email"))
        batch_op.drop_index(batch_op.f("ix_interactions_agent_aad_object_id"))

    op.drop_table("interactions")
    op.drop_table("crm_workflows")
    op.drop_table("crm_memorialization_mappings")
    op.drop_table("crm_dynamic_data_mappings")
    with op.batch_alter_table("memorialization_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_memorialization_jobs_target")
        batch_op.drop_index("ix_memorialization_jobs_status_available")
        batch_op.drop_index(batch_op.f("ix_memorialization_jobs_interaction_id"))

    op.drop_table("memorialization_jobs")
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_installations_upn"))
        batch_op.drop_index(batch_op.f("ix_installations_email"))
        batch_op.drop_index(batch_op.f("ix_installations_aad_object_id"))

    op.drop_table("installations")
    op.drop_table("crm_configurations")

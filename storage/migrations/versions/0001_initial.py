"""Initial schema: enterprises, contacts, conversations, assessments, audit cycles, milestones, outbox, kv.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types at this revision (migrations never import the models).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def TS() -> sa.DateTime:  # noqa: N802 - reads like a type
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("province", sa.String(32), nullable=True),
        sa.Column("city", sa.String(64), nullable=True),
        sa.Column("county", sa.String(64), nullable=True),
        sa.Column("industry_code", sa.String(8), nullable=True),
        sa.Column("scale", sa.String(8), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enterprises"),
        sa.UniqueConstraint("credit_code", name="uq_enterprises_credit_code"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(16), server_default="zh_CN", nullable=False),
        sa.Column("timezone", sa.String(64), server_default="Asia/Shanghai", nullable=False),
        sa.Column("consented_at", TS(), nullable=True),
        sa.Column("preferred", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("unsubscribed_at", TS(), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_contacts_enterprise_id_enterprises", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("channel", "user_id", name="uq_contacts_channel_user_id"),
    )
    op.create_index("ix_contacts_enterprise_id", "contacts", ["enterprise_id"])
    op.create_table(
        "conversations",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_conversations_contact_id_contacts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contact_id", name="pk_conversations"),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("facts", JSON, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("obligation", sa.String(16), nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("pack_versions", JSON, nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_assessments_contact_id_contacts", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_assessments_enterprise_id_enterprises", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
    )
    op.create_index("ix_assessments_contact_id", "assessments", ["contact_id"])
    op.create_index("ix_assessments_enterprise_id", "assessments", ["enterprise_id"])
    op.create_table(
        "audit_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("list_published_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("list_document_number", sa.String(100), nullable=True),
        sa.Column("grounds", JSON, nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("superseded_at", TS(), nullable=True),
        sa.CheckConstraint("source IN ('chat', 'import')", name=op.f("ck_audit_cycles_source")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_audit_cycles_enterprise_id_enterprises", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_cycles"),
        sa.UniqueConstraint("enterprise_id", "list_published_on", name="uq_audit_cycles_enterprise_id_list_published_on"),
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("nominal", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("done_at", TS(), nullable=True),
        sa.Column("done_by_contact_id", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["audit_cycles.id"], name="fk_milestones_cycle_id_audit_cycles", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["done_by_contact_id"], ["contacts.id"], name="fk_milestones_done_by_contact_id_contacts", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_milestones"),
        sa.UniqueConstraint("cycle_id", "kind", name="uq_milestones_cycle_id_kind"),
    )
    op.create_index("ix_milestones_nominal", "milestones", ["nominal"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.String(256), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(8), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TS(), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_at", TS(), nullable=True),
        sa.Column("sent_at", TS(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dead')", name=op.f("ck_outbox_status")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["channel", "status", "next_attempt_at"])
    op.create_table(
        "kv",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", TS(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_kv"),
    )


def downgrade() -> None:
    op.drop_table("kv")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_milestones_nominal", table_name="milestones")
    op.drop_table("milestones")
    op.drop_table("audit_cycles")
    op.drop_index("ix_assessments_enterprise_id", table_name="assessments")
    op.drop_index("ix_assessments_contact_id", table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("conversations")
    op.drop_index("ix_contacts_enterprise_id", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("enterprises")

"""Officers: accounts, invitation codes, list imports and their entries, broadcasts and their targets.

Only CREATE TABLE / CREATE INDEX: no existing table is rebuilt (on SQLite a rebuild of a parent table
with foreign keys on would cascade-delete its children).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types at this revision (migrations never import the models).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def TS() -> sa.DateTime:  # noqa: N802 - reads like a type
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("province", sa.String(32), nullable=False),
        sa.Column("city", sa.String(64), nullable=True),
        sa.Column("county", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.CheckConstraint(
            "role IN ('ecology', 'industry', 'development', 'admin')", name=op.f("ck_officers_role")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_officers_contact_id_contacts", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_officers"),
        sa.UniqueConstraint("contact_id", name="uq_officers_contact_id"),
    )
    op.create_table(
        "officer_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("expires_at", TS(), nullable=False),
        sa.Column("used_at", TS(), nullable=True),
        sa.Column("used_by_contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name="fk_officer_invitations_officer_id_officers", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["used_by_contact_id"], ["contacts.id"],
            name="fk_officer_invitations_used_by_contact_id_contacts", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_officer_invitations"),
        sa.UniqueConstraint("code", name="uq_officer_invitations_code"),
    )
    op.create_index("ix_officer_invitations_officer_id", "officer_invitations", ["officer_id"])
    op.create_table(
        "list_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("province", sa.String(32), nullable=False),
        sa.Column("city", sa.String(64), nullable=True),
        sa.Column("county", sa.String(64), nullable=True),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("document_number", sa.String(100), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name="fk_list_imports_officer_id_officers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_list_imports"),
        sa.UniqueConstraint("province", "file_sha256", name="uq_list_imports_province_file_sha256"),
    )
    op.create_index("ix_list_imports_officer_id", "list_imports", ["officer_id"])
    op.create_table(
        "list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("grounds", JSON, nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("document_number", sa.String(100), nullable=True),
        sa.Column("city", sa.String(64), nullable=True),
        sa.Column("county", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["audit_cycles.id"], name="fk_list_entries_cycle_id_audit_cycles", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_list_entries_enterprise_id_enterprises",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["list_imports.id"], name="fk_list_entries_import_id_list_imports", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_list_entries"),
        sa.UniqueConstraint("import_id", "enterprise_id", name="uq_list_entries_import_id_enterprise_id"),
        sa.UniqueConstraint("enterprise_id", "published_on", name="uq_list_entries_enterprise_id_published_on"),
    )
    op.create_index("ix_list_entries_cycle_id", "list_entries", ["cycle_id"])
    op.create_table(
        "enterprise_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("list_import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("used_at", TS(), nullable=True),
        sa.Column("used_by_contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_enterprise_invitations_enterprise_id_enterprises",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_import_id"], ["list_imports.id"],
            name="fk_enterprise_invitations_list_import_id_list_imports", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["used_by_contact_id"], ["contacts.id"],
            name="fk_enterprise_invitations_used_by_contact_id_contacts", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_enterprise_invitations"),
        sa.UniqueConstraint("code", name="uq_enterprise_invitations_code"),
        sa.UniqueConstraint(
            "enterprise_id", "list_import_id", name="uq_enterprise_invitations_enterprise_id_list_import_id"
        ),
    )
    op.create_index("ix_enterprise_invitations_list_import_id", "enterprise_invitations", ["list_import_id"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("province", sa.String(32), nullable=False),
        sa.Column("city", sa.String(64), nullable=True),
        sa.Column("county", sa.String(64), nullable=True),
        sa.Column("list_import_id", sa.Integer(), nullable=True),
        sa.Column("filters", JSON, nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("status", sa.String(8), server_default=sa.text("'planned'"), nullable=False),
        sa.Column("resume_after", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("finished_at", TS(), nullable=True),
        sa.CheckConstraint("kind IN ('notice', 'general')", name=op.f("ck_broadcasts_kind")),
        sa.CheckConstraint("status IN ('planned', 'sending', 'done')", name=op.f("ck_broadcasts_status")),
        sa.ForeignKeyConstraint(
            ["list_import_id"], ["list_imports.id"], name="fk_broadcasts_list_import_id_list_imports",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name="fk_broadcasts_officer_id_officers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
    )
    op.create_index("ix_broadcasts_officer_id", "broadcasts", ["officer_id"])
    op.create_table(
        "broadcast_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("contacts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("outcome IN ('queued', 'unreachable')", name=op.f("ck_broadcast_targets_outcome")),
        sa.ForeignKeyConstraint(
            ["broadcast_id"], ["broadcasts.id"], name="fk_broadcast_targets_broadcast_id_broadcasts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_broadcast_targets_enterprise_id_enterprises",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["enterprise_invitations.id"],
            name="fk_broadcast_targets_invitation_id_enterprise_invitations", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_broadcast_targets"),
        sa.UniqueConstraint("broadcast_id", "enterprise_id", name="uq_broadcast_targets_broadcast_id_enterprise_id"),
    )


def downgrade() -> None:
    op.drop_table("broadcast_targets")
    op.drop_index("ix_broadcasts_officer_id", table_name="broadcasts")
    op.drop_table("broadcasts")
    op.drop_index("ix_enterprise_invitations_list_import_id", table_name="enterprise_invitations")
    op.drop_table("enterprise_invitations")
    op.drop_index("ix_list_entries_cycle_id", table_name="list_entries")
    op.drop_table("list_entries")
    op.drop_index("ix_list_imports_officer_id", table_name="list_imports")
    op.drop_table("list_imports")
    op.drop_index("ix_officer_invitations_officer_id", table_name="officer_invitations")
    op.drop_table("officer_invitations")
    op.drop_table("officers")

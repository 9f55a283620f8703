"""Officer actions: what an officer recorded on the dashboard about an enterprise (a report received,
an evaluation or acceptance passed, a disclosure link rejected), with who and when.

Only CREATE TABLE / CREATE INDEX.

Revision ID: 0007_officer_actions
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_officer_actions"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def TS() -> sa.DateTime:  # noqa: N802 - reads like a type
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "officer_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("officer_name", sa.String(100), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('report_received', 'evaluation_passed', 'acceptance_passed', 'evidence_rejected')",
            name=op.f("ck_officer_actions_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name="fk_officer_actions_officer_id_officers", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_officer_actions_enterprise_id_enterprises",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name="fk_officer_actions_milestone_id_milestones",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_officer_actions"),
    )
    op.create_index("ix_officer_actions_officer_id", "officer_actions", ["officer_id"])
    op.create_index("ix_officer_actions_enterprise_id", "officer_actions", ["enterprise_id"])


def downgrade() -> None:
    op.drop_index("ix_officer_actions_enterprise_id", table_name="officer_actions")
    op.drop_index("ix_officer_actions_officer_id", table_name="officer_actions")
    op.drop_table("officer_actions")

"""Reminders: the `reminders` table, `milestones.snoozed_until`, `enterprises.calendar_token`.

Only ADD COLUMN and CREATE (UNIQUE) INDEX on the existing tables, so SQLite needs no table rebuild
(a rebuild of `enterprises` with foreign keys on would cascade-delete its cycles).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def TS() -> sa.DateTime:  # noqa: N802 - reads like a type
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("enterprises", sa.Column("calendar_token", sa.String(64), nullable=True))
    op.create_index("ix_enterprises_calendar_token", "enterprises", ["calendar_token"], unique=True)
    op.add_column("milestones", sa.Column("snoozed_until", sa.Date(), nullable=True))
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("send_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("queued_at", TS(), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'superseded', 'cancelled')", name=op.f("ck_reminders_status")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name="fk_reminders_milestone_id_milestones", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
        sa.UniqueConstraint("milestone_id", "kind", name="uq_reminders_milestone_id_kind"),
    )
    op.create_index("ix_reminders_due", "reminders", ["status", "send_on"])


def downgrade() -> None:
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.drop_table("reminders")
    op.drop_column("milestones", "snoozed_until")
    op.drop_index("ix_enterprises_calendar_token", table_name="enterprises")
    op.drop_column("enterprises", "calendar_token")

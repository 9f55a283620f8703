"""Dashboard sessions and login throttling in the database (shared by every process, kept across restarts).

Only CREATE TABLE / CREATE INDEX.

Revision ID: 0005_officer_sessions
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_officer_sessions"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def TS() -> sa.DateTime:  # noqa: N802 - reads like a type
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "officer_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("expires_at", TS(), nullable=False),
        sa.Column("revoked_at", TS(), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name="fk_officer_sessions_officer_id_officers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_officer_sessions"),
    )
    op.create_index("ix_officer_sessions_officer_id", "officer_sessions", ["officer_id"])
    op.create_index("ix_officer_sessions_expires_at", "officer_sessions", ["expires_at"])
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", TS(), nullable=False),
        sa.Column("locked_until", TS(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_login_throttles"),
        sa.UniqueConstraint("account", "address", name="uq_login_throttles_account_address"),
    )
    op.create_index("ix_login_throttles_last_failure_at", "login_throttles", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttles_last_failure_at", table_name="login_throttles")
    op.drop_table("login_throttles")
    op.drop_index("ix_officer_sessions_expires_at", table_name="officer_sessions")
    op.drop_index("ix_officer_sessions_officer_id", table_name="officer_sessions")
    op.drop_table("officer_sessions")

"""Outbox: a claim token guards every change after a claim; the inbox is found by address.

`claim_token` is written by each claim (random, new every time) and every later change of the row
(sent, failed, released, lease renewed) requires it, so a sender whose lease ran out and whose row
another sender claimed can no longer touch it. `ix_outbox_address (channel, address, status)` serves
the inbox queries (one user's pending pushes) without scanning the whole channel.

Revision ID: 0006
Revises: 0005_officer_sessions
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005_officer_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
    op.create_index("ix_outbox_address", "outbox", ["channel", "address", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_address", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claim_token")

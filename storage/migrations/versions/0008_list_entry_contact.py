"""List entries keep the list's 联系人 / 联系电话 columns (optional, both nullable).

Only ADD COLUMN of nullable columns: existing rows are unchanged.

Revision ID: 0008_list_entry_contact
Revises: 0007_officer_actions
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_list_entry_contact"
down_revision: str | None = "0007_officer_actions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("list_entries") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(50), nullable=True))
        batch.add_column(sa.Column("contact_phone", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("list_entries") as batch:
        batch.drop_column("contact_phone")
        batch.drop_column("contact_name")

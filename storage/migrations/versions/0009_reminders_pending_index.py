"""Due reminders are found in a partial index of the pending ones, ordered as the sweep claims them.

`ix_reminders_due (status, send_on)` is replaced by `ix_reminders_pending (send_on, id) WHERE status =
'pending'`: the sweep's claim (status = 'pending' AND send_on <= day, ORDER BY send_on, id, LIMIT n) reads
it in order and stops after n, and a reminder the sweep queues (or supersedes, or cancels) leaves the
index instead of getting a new entry in it, so the index holds only what is still to send however long
the history grows. No query filters reminders by another status without their milestone (those use
uq_reminders_milestone_id_kind).

Revision ID: 0009_reminders_pending_index
Revises: 0008_list_entry_contact
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_reminders_pending_index"
down_revision: str | None = "0008_list_entry_contact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.create_index("ix_reminders_pending", "reminders", ["send_on", "id"], postgresql_where=PENDING,
                    sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_reminders_pending", table_name="reminders")
    op.create_index("ix_reminders_due", "reminders", ["status", "send_on"])

"""On SQLite, the turn that binds a new enterprise and the one that plans a cycle's milestones write two tables
each in one statement, as the data-modifying CTEs do on PostgreSQL (issue 14: at most 6 statements on the turn
that opens a cycle).

SQLite has no writable CTEs; an AFTER INSERT trigger does the second write inside the first statement:

- `enterprises.bind_contact_id`: an INSERT of an enterprise that carries it binds that contact
  (`contacts.enterprise_id`, only if it has consented), then the trigger clears it. An enterprise known
  already (ON CONFLICT DO NOTHING) inserts no row, so nobody is bound: a known code is joined by invitation.
- `milestones.reminder_plan`: an INSERT of a milestone that carries its planned reminders as JSON
  (`{"at": created_at, "reminders": [[kind, send_on], ...]}`) inserts them (`pending`), then the trigger clears
  it. A milestone the cycle had already inserts no row, so it gets no new reminders.

Both columns are NULL outside the statement that writes them (they hold no personal data and nothing to erase).
On PostgreSQL they exist for one schema on both databases and stay NULL: the CTEs do the same there.

Revision ID: 0011_sqlite_write_triggers
Revises: 0010_reminders_claim_index
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_sqlite_write_triggers"
down_revision: str | None = "0010_reminders_claim_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIND_CONTACT = """
CREATE TRIGGER enterprises_bind_contact AFTER INSERT ON enterprises
WHEN NEW.bind_contact_id IS NOT NULL
BEGIN
    UPDATE contacts SET enterprise_id = NEW.id WHERE id = NEW.bind_contact_id AND consented_at IS NOT NULL;
    UPDATE enterprises SET bind_contact_id = NULL WHERE id = NEW.id;
END
"""

PLAN_REMINDERS = """
CREATE TRIGGER milestones_plan_reminders AFTER INSERT ON milestones
WHEN NEW.reminder_plan IS NOT NULL
BEGIN
    INSERT INTO reminders (milestone_id, kind, send_on, status, created_at)
    SELECT NEW.id, json_extract(value, '$[0]'), json_extract(value, '$[1]'), 'pending',
           json_extract(NEW.reminder_plan, '$.at')
    FROM json_each(NEW.reminder_plan, '$.reminders') WHERE true
    ON CONFLICT (milestone_id, kind) DO NOTHING;
    UPDATE milestones SET reminder_plan = NULL WHERE id = NEW.id;
END
"""


def upgrade() -> None:
    op.add_column("enterprises", sa.Column("bind_contact_id", sa.Integer(), nullable=True))
    op.add_column("milestones", sa.Column("reminder_plan", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(BIND_CONTACT)
        op.execute(PLAN_REMINDERS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS milestones_plan_reminders")
        op.execute("DROP TRIGGER IF EXISTS enterprises_bind_contact")
    with op.batch_alter_table("milestones") as batch:
        batch.drop_column("reminder_plan")
    with op.batch_alter_table("enterprises") as batch:
        batch.drop_column("bind_contact_id")

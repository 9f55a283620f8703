"""ReminderRepository: the planned reminders of milestones, and what the sweep needs to queue them.

A reminder is a row (milestone, kind, send_on) written with the milestone; the sweep (bot.sweep)
claims the due ones and turns each into outbox rows, one per reachable contact, in one transaction.
Life cycle: `pending` -> `queued` | `superseded` | `cancelled` (see models.Reminder).

Claiming locks milestones first, then their reminders: the sweep takes the due reminders' milestones
with SELECT ... FOR UPDATE SKIP LOCKED and only then locks every due reminder of the milestones it got,
so two sweepers never handle two reminders of one milestone, and never wait on each other in a cycle.
On SQLite (one writer at a time) the locks are no-ops and the outbox's unique keys keep it idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage._dialect import ids_in, insert_for
from storage.columns import utcnow
from storage.models import AuditCycle, Contact, Enterprise, Milestone, OutboxMessage, Reminder

# Outbox rows of a reminder that may still be withdrawn: not yet claimed by a sender.
UNSENT = ("pending", "failed")


def lock_milestones(session: Session, where: Sequence[ColumnElement[bool]]) -> None:
    """Lock milestone rows before changing their reminders: the order the sweep takes locks in, so a
    writer and a sweeper never wait for each other in a cycle (a no-op on SQLite)."""
    session.execute(select(Milestone.id).where(*where).order_by(Milestone.id).with_for_update()).all()


def reminder_key(reminder_id: int, contact_id: int) -> str:
    """The outbox idempotency key of one reminder to one contact."""
    return f"rem:{reminder_id}:{contact_id}"


@dataclass(frozen=True)
class Message:
    """An outbox row to write for a reminder (see ReminderRepository.add_messages)."""

    idempotency_key: str
    channel: str
    address: str
    payload: Mapping[str, Any]
    not_before: datetime


@dataclass
class DueMilestone:
    """What the sweep needs to word and address a milestone's reminder."""

    milestone: Milestone
    cycle: AuditCycle
    enterprise: Enterprise
    contacts: list[Contact] = field(default_factory=list)  # consented, not unsubscribed; preferred first


class ReminderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, reminder_id: int) -> Reminder | None:
        return self.session.get(Reminder, reminder_id)

    def list_by_milestone(self, milestone_id: int) -> list[Reminder]:
        """The milestone's reminders in the order they are due."""
        stmt = select(Reminder).where(Reminder.milestone_id == milestone_id).order_by(Reminder.send_on, Reminder.id)
        return list(self.session.scalars(stmt))

    def count_by_status(self) -> dict[str, int]:
        stmt = select(Reminder.status, func.count()).group_by(Reminder.status)
        return {status: count for status, count in self.session.execute(stmt)}

    def add_for_milestone(self, milestone_id: int, items: Iterable[tuple[str, date]]) -> int:
        """Plan reminders [(kind, send_on)] for a milestone; kinds it already has are left as they are.

        Returns how many were added (INSERT ... ON CONFLICT DO NOTHING, safe when two writers race).
        """
        now = utcnow()
        rows = [
            {"milestone_id": milestone_id, "kind": kind, "send_on": send_on, "status": "pending", "created_at": now}
            for kind, send_on in items
        ]
        if not rows:
            return 0
        stmt = insert_for(self.session, Reminder).values(rows)
        stmt = stmt.on_conflict_do_nothing(index_elements=["milestone_id", "kind"])
        return len(self.session.execute(stmt.returning(Reminder.id)).all())

    def cancel_for_milestone(self, milestone_id: int) -> int:
        """Stop a milestone's reminders (it was done): pending ones become `cancelled`.

        Outbox rows of its queued reminders that no sender has taken yet are withdrawn too, so a
        reminder queued for later today is not sent after the milestone was confirmed. Returns how
        many pending reminders were cancelled.
        """
        lock_milestones(self.session, [Milestone.id == milestone_id])
        cancelled = self._set_status(
            [Reminder.milestone_id == milestone_id, Reminder.status == "pending"], "cancelled"
        )
        queued = select(Reminder.id).where(Reminder.milestone_id == milestone_id, Reminder.status == "queued")
        self.withdraw_unsent(list(self.session.scalars(queued)), milestone_id)
        return cancelled

    def withdraw_unsent(self, reminder_ids: Sequence[int], milestone_id: int) -> int:
        """Delete the not-yet-claimed outbox rows of these reminders of one milestone; returns how many.

        Keys are rebuilt from the contacts bound to the milestone's enterprise now (an exact, indexed
        lookup); a contact unbound since the row was queued keeps its message.
        """
        if not reminder_ids:
            return 0
        enterprise = (
            select(AuditCycle.enterprise_id)
            .join(Milestone, Milestone.cycle_id == AuditCycle.id)
            .where(Milestone.id == milestone_id)
            .scalar_subquery()
        )
        contact_ids = list(self.session.scalars(select(Contact.id).where(Contact.enterprise_id == enterprise)))
        keys = [reminder_key(r, c) for r in reminder_ids for c in contact_ids]
        if not keys:
            return 0
        rows = self.session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.idempotency_key.in_(keys), OutboxMessage.status.in_(UNSENT))
            .returning(OutboxMessage.id)
        ).all()
        return len(rows)

    def claim_due(self, on_or_before: date, limit: int) -> list[Reminder]:
        """Lock and return the pending reminders due on or before the day, by (send_on, id).

        The first `limit` due reminders pick the milestones; of those, the ones no other transaction
        holds are locked (FOR UPDATE SKIP LOCKED), and then *every* due pending reminder of each is
        returned, so the caller can keep the latest and supersede the rest. Empty when nothing is due
        or everything due is being handled by another sweeper. The caller changes each returned
        reminder's status (mark_*) in the same transaction.
        """
        candidates = (
            select(Reminder.milestone_id)
            .where(Reminder.status == "pending", Reminder.send_on <= on_or_before)
            .order_by(Reminder.send_on, Reminder.id)
            .limit(limit)
        )
        milestone_ids = list(dict.fromkeys(self.session.scalars(candidates)))
        if not milestone_ids:
            return []
        lock = (
            select(Milestone.id)
            .where(ids_in(Milestone.id, milestone_ids))
            .order_by(Milestone.id)
            .with_for_update(skip_locked=True)
        )
        locked = list(self.session.scalars(lock))
        if not locked:
            return []
        due = (
            select(Reminder)
            .where(
                ids_in(Reminder.milestone_id, locked), Reminder.status == "pending", Reminder.send_on <= on_or_before
            )
            .order_by(Reminder.send_on, Reminder.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(due))

    def list_due_milestones(self, milestone_ids: Iterable[int]) -> dict[int, DueMilestone]:
        """For each milestone: it, its cycle, its enterprise and the enterprise's reachable contacts."""
        ids = sorted(set(milestone_ids))
        if not ids:
            return {}
        stmt = (
            select(Milestone, AuditCycle, Enterprise)
            .join(AuditCycle, AuditCycle.id == Milestone.cycle_id)
            .join(Enterprise, Enterprise.id == AuditCycle.enterprise_id)
            .where(ids_in(Milestone.id, ids))
        )
        out = {m.id: DueMilestone(m, c, e) for m, c, e in self.session.execute(stmt)}
        by_enterprise: dict[int, list[DueMilestone]] = {}
        for due in out.values():
            by_enterprise.setdefault(due.enterprise.id, []).append(due)
        contacts = select(Contact).where(
            ids_in(Contact.enterprise_id, sorted(by_enterprise)),
            Contact.consented_at.is_not(None),
            Contact.unsubscribed_at.is_(None),
        )
        for contact in self.session.scalars(contacts.order_by(Contact.preferred.desc(), Contact.id)):
            assert contact.enterprise_id is not None, "selected by enterprise"
            for due in by_enterprise[contact.enterprise_id]:
                due.contacts.append(contact)
        return out

    def add_messages(self, messages: Sequence[Message]) -> int:
        """Queue outbox rows unless their keys exist, set-based; returns how many were new.

        The same rows OutboxRepository.add_if_absent writes (`pending`, no attempts, due at
        `not_before`). On PostgreSQL one INSERT ... SELECT FROM jsonb_to_recordset(:rows) ... ON CONFLICT DO NOTHING
        (one JSON parameter, whatever the number of rows); on SQLite one prepared INSERT ... ON CONFLICT
        DO NOTHING run for every row by the driver (executemany, in C).
        """
        if not messages:
            return 0
        now = utcnow()
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            statement = text(
                "INSERT INTO outbox (idempotency_key, channel, address, payload, status, attempts, next_attempt_at,"
                " created_at)"
                " SELECT r.k, r.c, r.a, r.p, 'pending', 0, r.t, :now"
                " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(k text, c text, a text, p jsonb, t timestamptz)"
                " ON CONFLICT (idempotency_key) DO NOTHING"
            )
            document = json.dumps([
                {"k": m.idempotency_key, "c": m.channel, "a": m.address, "p": dict(m.payload),
                 "t": m.not_before.isoformat()}
                for m in messages
            ], ensure_ascii=False)
            result = connection.execute(statement, {"now": now, "rows": document})
            return int(result.rowcount)
        rows = [
            {
                "idempotency_key": m.idempotency_key,
                "channel": m.channel,
                "address": m.address,
                "payload": dict(m.payload),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": m.not_before,
                "created_at": now,
            }
            for m in messages
        ]
        stmt = insert_for(self.session, OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
        return int(connection.execute(stmt, rows).rowcount)

    def list_contact_timezones(self) -> set[str]:
        """The time zones of reachable contacts bound to an enterprise (the ones reminders go to)."""
        stmt = select(Contact.timezone).distinct().where(
            Contact.enterprise_id.is_not(None), Contact.consented_at.is_not(None), Contact.unsubscribed_at.is_(None)
        )
        return set(self.session.scalars(stmt))

    def mark_queued(self, ids: Sequence[int], at: datetime) -> int:
        """Pending reminders whose outbox rows were written at `at`; returns how many changed."""
        return self._set_status(self._pending(ids), "queued", queued_at=at) if ids else 0

    def mark_superseded(self, ids: Sequence[int]) -> int:
        """Pending reminders replaced by a later one of the same milestone; returns how many changed."""
        return self._set_status(self._pending(ids), "superseded") if ids else 0

    def mark_cancelled(self, ids: Sequence[int]) -> int:
        """Pending reminders that will not be sent; returns how many changed."""
        return self._set_status(self._pending(ids), "cancelled") if ids else 0

    @staticmethod
    def _pending(ids: Sequence[int]) -> list[ColumnElement[bool]]:
        return [ids_in(Reminder.id, ids), Reminder.status == "pending"]

    def _set_status(
        self, where: list[ColumnElement[bool]], status: str, *, queued_at: datetime | None = None
    ) -> int:
        values: dict[str, object] = {"status": status}
        if queued_at is not None:
            values["queued_at"] = queued_at
        stmt = (
            update(Reminder)
            .where(*where)
            .values(**values)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False)
        )
        changed = list(self.session.scalars(stmt))
        # What synchronize_session="fetch" does, for the plain values set here, without its per-object cost:
        # the reminders this session holds show their new status.
        for reminder_id in changed:
            reminder = self.session.identity_map.get(identity_key(Reminder, reminder_id))
            if reminder is not None:
                for name, value in values.items():
                    set_committed_value(reminder, name, value)
        return len(changed)

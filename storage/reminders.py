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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    text,
    true,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import NullType

from storage._dialect import ids_in, insert_for
from storage.columns import utcnow
from storage.models import AuditCycle, Contact, Enterprise, Milestone, OutboxMessage, Reminder

# Outbox rows of a reminder that may still be withdrawn: not yet claimed by a sender.
UNSENT = ("pending", "failed")


def lock_milestones(session: Session, where: Sequence[ColumnElement[bool]]) -> None:
    """Lock milestone rows before changing their reminders: the order the sweep takes locks in, so a
    writer and a sweeper never wait for each other in a cycle (a no-op on SQLite)."""
    session.execute(select(Milestone.id).where(*where).order_by(Milestone.id).with_for_update()).all()


REMINDER_KEY_PREFIX = "rem:"


def reminder_key(reminder_id: int, contact_id: int) -> str:
    """The outbox idempotency key of one reminder to one contact."""
    return f"{REMINDER_KEY_PREFIX}{reminder_id}:{contact_id}"


@dataclass(frozen=True)
class Message:
    """An outbox row to write for a reminder (see ReminderRepository.add_messages)."""

    idempotency_key: str
    channel: str
    address: str
    payload: Mapping[str, Any] | orjson.Fragment  # a Fragment: the payload's JSON, encoded already
    not_before: datetime


class DueReminder(NamedTuple):
    """A claimed reminder, as the sweep reads it (a plain row, no ORM object)."""

    id: int
    milestone_id: int
    kind: str
    send_on: date


class Recipient(NamedTuple):
    """A reachable contact of a claimed milestone's enterprise (the columns the sweep uses)."""

    id: int
    channel: str
    user_id: str
    locale: str
    timezone: str
    preferred: bool
    enterprise_id: int | None
    display_name: str | None


class MilestoneFacts(NamedTuple):
    """A claimed milestone with what decides whether and how it is reminded (see ReminderRepository.load_due)."""

    id: int
    cycle_id: int
    kind: str
    nominal: date
    due: date
    note: str
    citation: str
    done_at: datetime | None
    snoozed_until: date | None
    cycle_superseded_at: datetime | None
    enterprise_id: int
    enterprise_name: str | None
    contacts: tuple[Recipient, ...]  # consented, not unsubscribed; preferred first, then by id


# The tables the sweep reads and writes with Core statements.
_reminders = cast(Table, Reminder.__table__)
_milestones = cast(Table, Milestone.__table__)
_cycles = cast(Table, AuditCycle.__table__)
_enterprises = cast(Table, Enterprise.__table__)
_contacts = cast(Table, Contact.__table__)
_outbox = cast(Table, OutboxMessage.__table__)
# A pending reminder, as the partial index ix_reminders_pending says it: a literal, not a parameter, so that
# the planner (PostgreSQL's generic plans of prepared statements too, and SQLite's) can use that index.
PENDING = _reminders.c.status == literal_column("'pending'")

_OUTBOX_COLUMNS = "idempotency_key, channel, address, payload, status, attempts, next_attempt_at, created_at"
_PG_ADD_MESSAGES = text(
    f"INSERT INTO outbox ({_OUTBOX_COLUMNS})"
    " SELECT r.k, r.c, r.a, r.p, 'pending', 0, r.t, :now"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(k text, c text, a text, p jsonb, t timestamptz)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
).bindparams(bindparam("now", type_=_outbox.c.created_at.type))
_SQLITE_ADD_MESSAGES = (
    f"INSERT INTO outbox ({_OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)


def _unprocessed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as the driver returns it (no result processing), under its own name."""
    return type_coerce(column, NullType()).label(column.key)


def _plain(payload: Mapping[str, Any] | orjson.Fragment) -> dict[str, Any] | orjson.Fragment:
    return payload if isinstance(payload, (dict, orjson.Fragment)) else dict(payload)


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

    def claim_due(self, on_or_before: date, limit: int) -> list[DueReminder]:
        """Lock and return the pending reminders due on or before the day, by (send_on, id), as plain rows.

        The first `limit` due reminders pick the milestones; of those, the ones no other transaction
        holds are locked (FOR UPDATE SKIP LOCKED), and then *every* due pending reminder of each is
        returned, so the caller can keep the latest and supersede the rest. Empty when nothing is due
        or everything due is being handled by another sweeper. The caller changes each returned
        reminder's status (mark_* or settle) in the same transaction.

        One statement: the candidates and the locked milestones are CTEs (the locked one MATERIALIZED,
        so PostgreSQL takes the milestone locks once, before the reminders' own FOR UPDATE). A reminder
        another sweeper queued and committed meanwhile fails the status test when its row is re-read
        for the lock, and is not returned.
        """
        r = _reminders.c
        due = and_(PENDING, r.send_on <= bindparam("day", on_or_before))
        locked = self._locked_milestones(due, limit)[1]
        stmt = (
            select(r.id, r.milestone_id, r.kind, r.send_on)
            .where(r.milestone_id.in_(select(locked.c.id)), due)
            .order_by(r.send_on, r.id)
            .with_for_update(of=_reminders)
        )
        return [DueReminder._make(row) for row in self.session.connection().execute(stmt).all()]

    def claim_due_as_queued(self, on_or_before: date, limit: int, *, at: datetime) -> list[DueReminder]:
        """claim_due, and the reminders it returns marked `queued` at `at`, in one statement.

        The same milestones are locked the same way (FOR UPDATE SKIP LOCKED, MATERIALIZED, before any
        reminder), and the same reminders returned, by (send_on, id); but instead of a SELECT ... FOR UPDATE
        of the reminders followed by an UPDATE of their statuses, one UPDATE ... RETURNING claims them:
        it locks each row as it changes it (a reminder another sweeper queued and committed meanwhile
        fails `status = 'pending'` when the row is re-read, and is left out), so each claimed row is
        locked and rewritten once, not locked, then rewritten. The sweep's usual outcome is `queued`; the
        few claimed reminders it supersedes or cancels change again (settle), in the same transaction,
        so no other transaction ever sees a claimed reminder as queued that was not."""
        return self._claim(on_or_before, limit, at=at, after=None)[0]

    def claim_due_after(
        self, on_or_before: date, limit: int, *, at: datetime, after: tuple[date, int] | None
    ) -> tuple[list[DueReminder], tuple[date, int] | None]:
        """claim_due_as_queued of the first `limit` due reminders after the key `after` (send_on, id), read on
        from there in ix_reminders_pending (a keyset continuation; None: from the first), and the last
        candidate's key, where the next such claim goes on (None when nothing was claimed).

        Several transactions of one sweep run at once on PostgreSQL (bot.sweep), each claiming after the
        last candidate of the claim before it, so that one does not take the other's candidates (uncommitted,
        still pending to it) as its own and skip them all as locked. All the due reminders of a locked
        milestone are still claimed, whatever their key; the last candidate's key comes back with every
        returned row (two scalar subqueries of the candidates, each computed once)."""
        return self._claim(on_or_before, limit, at=at, after=after, with_last=True)

    def _claim(
        self, on_or_before: date, limit: int, *, at: datetime, after: tuple[date, int] | None,
        with_last: bool = False,
    ) -> tuple[list[DueReminder], tuple[date, int] | None]:
        r = _reminders.c
        due = and_(PENDING, r.send_on <= bindparam("day", on_or_before))
        picked = due if after is None else and_(
            due, tuple_(r.send_on, r.id) > tuple_(bindparam("after_on", after[0], type_=r.send_on.type),
                                                  bindparam("after_id", after[1], type_=Integer)))
        candidates, locked = self._locked_milestones(picked, limit)
        returned: list[Any] = [r.id, r.milestone_id, r.kind, r.send_on]
        if with_last:
            last = select(candidates.c.send_on, candidates.c.id).order_by(
                candidates.c.send_on.desc(), candidates.c.id.desc()).limit(1).subquery()
            returned += [select(last.c.send_on).scalar_subquery(), select(last.c.id).scalar_subquery()]
        stmt = (
            update(_reminders)
            .where(r.milestone_id.in_(select(locked.c.id)), due)
            .values(status="queued", queued_at=bindparam("at", at, type_=r.queued_at.type))
            .returning(*returned)
        )
        rows = self.session.connection().execute(stmt).all()
        claimed = sorted((DueReminder._make(row[:4]) for row in rows), key=lambda d: (d.send_on, d.id))
        return claimed, ((rows[0][4], rows[0][5]) if with_last and rows else None)

    def load_due(self, milestone_ids: Iterable[int]) -> dict[int, MilestoneFacts]:
        """For each milestone: its dates and state, its cycle's, its enterprise's name and reachable
        contacts, in one joined query of plain rows (what the sweep needs; list_due_milestones gives
        the same as ORM objects).

        On PostgreSQL the cycle, enterprise and contacts of each milestone are a LATERAL subquery kept as
        one (OFFSET 0), so they are looked up by key for each of the batch's milestones: joined flat,
        the planner hashes the whole of audit_cycles, enterprises and contacts for every batch, a cost
        that grows with what is stored rather than with what is due (at 77,000 milestones 6-10 ms of the
        server's time a batch against 1-2 ms). SQLite joins by lookups anyway."""
        ids = sorted(set(milestone_ids))
        if not ids:
            return {}
        m, cy, e, c = _milestones.c, _cycles.c, _enterprises.c, _contacts.c
        reachable = and_(c.enterprise_id == e.id, c.consented_at.is_not(None), c.unsubscribed_at.is_(None))
        recipient = (c.id, c.channel, c.user_id, c.locale, c.timezone, c.preferred, c.enterprise_id, c.display_name)
        joined = _cycles.join(_enterprises, e.id == cy.enterprise_id).outerjoin(_contacts, reachable)
        # The two instants, nearly always NULL, come as the driver gives them and are converted here when set
        # (UTCDateTime's processing ran for every row: a fifth of the SQLite sweep's read).
        done_at, superseded_at = _unprocessed(m.done_at), _unprocessed(cy.superseded_at)
        head = (m.id, m.cycle_id, m.kind, m.nominal, m.due, m.note, m.citation, done_at, m.snoozed_until)
        if self.session.get_bind().dialect.name == "postgresql":
            each = (
                select(superseded_at, e.id.label("enterprise_id_"), e.name, *recipient)
                .select_from(joined)
                .where(cy.id == m.cycle_id)
                .offset(0)
                .lateral("each_")
            )
            x = each.c
            stmt = (
                select(*head, x.superseded_at, x.enterprise_id_, x.name, x.id, x.channel, x.user_id, x.locale,
                       x.timezone, x.preferred, x.enterprise_id, x.display_name)
                .select_from(_milestones.join(each, true()))
                .where(self._one_of(m.id, ids, "milestones"))
                .order_by(m.id, x.preferred.desc(), x.id)
            )
        else:
            stmt = (
                select(*head, superseded_at, e.id, e.name, *recipient)
                .select_from(_milestones.join(_cycles, cy.id == m.cycle_id)
                             .join(_enterprises, e.id == cy.enterprise_id).outerjoin(_contacts, reachable))
                .where(self._one_of(m.id, ids, "milestones"))
                .order_by(m.id, c.preferred.desc(), c.id)
            )
        rows: dict[int, list[Any]] = {}
        contacts: dict[int, list[Recipient]] = {}
        connection = self.session.connection()
        instant = _milestones.c.done_at.type._cached_result_processor(connection.dialect, None)
        for row in connection.execute(stmt).all():
            milestone_id, enterprise_id = row[0], row[10]
            if milestone_id not in rows:
                rows[milestone_id] = values = list(row[:12])
                if instant is not None:
                    for n in (7, 9):
                        if values[n] is not None:
                            values[n] = instant(values[n])
                first = enterprise_id not in contacts
                people = contacts.setdefault(enterprise_id, [])
            if first and row[12] is not None:  # an enterprise's contacts come once, with its first milestone
                people.append(Recipient._make(row[12:]))
        shared = {enterprise_id: tuple(people) for enterprise_id, people in contacts.items()}
        return {milestone_id: MilestoneFacts._make((*head, shared[head[10]])) for milestone_id, head in rows.items()}

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
        `not_before`), in one statement, ON CONFLICT DO NOTHING (a key given twice is written once, the
        first), without SQLAlchemy's per-row parameter processing. On PostgreSQL INSERT ... SELECT FROM
        jsonb_to_recordset(:rows): one JSON parameter (encoded by orjson) whatever the number of rows. (Not
        WHERE NOT EXISTS instead of ON CONFLICT, which would save a WAL record a row: on an outbox the
        statistics think empty, the planner probes the keys with a sequential scan of the outbox each.)
        On SQLite one prepared INSERT run for every row by the driver (executemany, in C) on values
        already in the columns' storage form: the payload as JSON text, the instants as the column type
        writes them (naive UTC text, once per distinct instant).
        """
        if not messages:
            return 0
        connection = self.session.connection()
        dialect = connection.dialect
        now = utcnow()
        stamps: dict[datetime, str] = {}  # a batch's rows share a few send slots: each written once
        if dialect.name == "postgresql":
            def stamp(moment: datetime) -> str:
                found = stamps.get(moment)
                if found is None:
                    found = stamps[moment] = moment.isoformat()
                return found

            document = orjson.dumps([
                {"k": m.idempotency_key, "c": m.channel, "a": m.address, "p": _plain(m.payload),
                 "t": stamp(m.not_before)}
                for m in messages
            ]).decode()
            return int(connection.execute(_PG_ADD_MESSAGES, {"now": now, "rows": document}).rowcount)
        process = _outbox.c.next_attempt_at.type.dialect_impl(dialect).bind_processor(dialect)
        assert process is not None, "UTCDateTime converts on SQLite"
        created = process(now)
        rows = []
        for m in messages:
            due = stamps.get(m.not_before)
            if due is None:
                due = stamps[m.not_before] = process(m.not_before)
            payload = orjson.dumps(_plain(m.payload)).decode()
            rows.append((m.idempotency_key, m.channel, m.address, payload, due, created))
        result = connection.exec_driver_sql(_SQLITE_ADD_MESSAGES, rows)
        return int(result.rowcount)

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

    def add_for_milestones(self, items: Sequence[tuple[int, str, date]]) -> None:
        """Plan reminders [(milestone_id, kind, send_on)] for several milestones in one statement (an
        executemany); kinds a milestone already has are left as they are (ON CONFLICT DO NOTHING)."""
        if not items:
            return
        now = utcnow()
        stmt = insert_for(self.session, _reminders).on_conflict_do_nothing(index_elements=["milestone_id", "kind"])
        self.session.connection().execute(stmt, [
            {"milestone_id": milestone_id, "kind": kind, "send_on": send_on, "status": "pending", "created_at": now}
            for milestone_id, kind, send_on in items
        ])

    def settle(self, *, superseded: Sequence[int], cancelled: Sequence[int]) -> None:
        """What the sweep decided for the reminders it claimed as queued (claim_due_as_queued) and did not
        send: `superseded` or `cancelled` (queued_at cleared), one UPDATE per status, Core only (it holds no
        Reminder objects to keep in step). Only rows still `queued` change: the claim's, in this
        transaction."""
        r = _reminders.c
        for ids, status in ((superseded, "superseded"), (cancelled, "cancelled")):
            if ids:
                self.session.connection().execute(
                    update(_reminders).where(self._one_of(r.id, ids, "reminders"), r.status == "queued")
                    .values(status=status, queued_at=None))

    def _locked_milestones(self, due: ColumnElement[bool], limit: int) -> tuple[Any, Any]:
        """The claim's CTEs (candidates, locked): the first `limit` due reminders by (send_on, id) (read in
        that order from ix_reminders_pending), and of their milestones those no other transaction holds
        locked FOR UPDATE SKIP LOCKED, MATERIALIZED so that the locks are taken once, before any reminder's.
        On PostgreSQL the milestones are looked up as `id = ANY(ARRAY(candidates))`, by primary key: with
        `IN (SELECT ...)` the planner hashes the candidates and scans every milestone (12 ms a batch at
        77,000 milestones)."""
        r = _reminders.c
        candidates = (
            select(r.milestone_id, r.send_on, r.id).where(due).order_by(r.send_on, r.id)
            .limit(bindparam("limit", limit)).cte("candidates")
        )
        picked = select(candidates.c.milestone_id)
        if self.session.get_bind().dialect.name == "postgresql":
            chosen = _milestones.c.id == any_(func.array(picked.scalar_subquery()))
        else:
            chosen = _milestones.c.id.in_(picked)
        return candidates, (
            select(_milestones.c.id)
            .where(chosen)
            .order_by(_milestones.c.id)
            .with_for_update(skip_locked=True)
            .cte("locked")
            .prefix_with("MATERIALIZED")
        )

    def _one_of(self, column: ColumnElement[int], ids: Sequence[int], name: str) -> ColumnElement[bool]:
        """`column` is one of `ids`, the ids as one parameter (no per-id rendering or binding, one cached
        statement): `= ANY(:ids)` with an integer array on PostgreSQL, `IN (SELECT value FROM
        json_each(:ids))` with a JSON array on SQLite."""
        values = [int(i) for i in ids]
        if self.session.get_bind().dialect.name == "postgresql":
            return column == any_(bindparam(name, values, type_=postgresql.ARRAY(Integer)))
        listed = func.json_each(bindparam(name, orjson.dumps(values).decode(), type_=String)).table_valued("value")
        return column.in_(select(listed.c.value))

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

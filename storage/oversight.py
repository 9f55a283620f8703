"""OversightRepository: what the officers' overview, filtered lists and enterprise pages read, and the
log of what officers recorded (officer_actions).

The jurisdiction's rows are read as plain tuples in three statements (listed enterprises with their
current cycle, those cycles' milestones, the enterprises someone can be reached at), so a province of
10,000 enterprises is three round trips; the caller narrows to a city or county and aggregates.
Repositories flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import FieldError
from storage.models import (
    OFFICER_ACTION_KINDS,
    AuditCycle,
    Contact,
    Enterprise,
    ListEntry,
    ListImport,
    Milestone,
    OfficerAction,
    Reminder,
)


@dataclass(frozen=True, slots=True)
class ListedRow:
    """An enterprise on a list of the province, with its current cycle (the latest list if several)."""

    enterprise_id: int
    name: str | None
    credit_code: str | None
    industry_code: str | None
    city: str | None
    county: str | None
    grounds: tuple[str, ...]
    import_id: int
    published_on: date
    document_number: str | None
    cycle_id: int


@dataclass(frozen=True, slots=True)
class MilestoneRow:
    cycle_id: int
    kind: str
    due: date
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class SentReminder:
    milestone_kind: str
    kind: str
    send_on: date
    queued_at: datetime


def _current_entries(province: str) -> Any:
    return (
        select(ListEntry.enterprise_id, Enterprise.name, Enterprise.credit_code, Enterprise.industry_code,
               func.coalesce(ListEntry.city, Enterprise.city), func.coalesce(ListEntry.county, Enterprise.county),
               ListEntry.grounds, ListEntry.import_id, ListEntry.published_on,
               func.coalesce(ListEntry.document_number, ListImport.document_number), ListEntry.cycle_id)
        .join(ListImport, ListImport.id == ListEntry.import_id)
        .join(Enterprise, Enterprise.id == ListEntry.enterprise_id)
        .join(AuditCycle, AuditCycle.id == ListEntry.cycle_id)
        .where(ListImport.province == province, AuditCycle.superseded_at.is_(None))
    )


class OversightRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the jurisdiction, as tuples ---------------------------------------------------------------

    def list_listed(self, province: str) -> list[ListedRow]:
        """Every enterprise listed in the province with its current cycle, one row per enterprise
        (the latest list wins), by enterprise id."""
        stmt = _current_entries(province).order_by(ListEntry.enterprise_id, ListEntry.published_on)
        rows: dict[int, ListedRow] = {}
        for r in self.session.execute(stmt):
            rows[r[0]] = ListedRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6] or ()), r[7], r[8], r[9], r[10])
        return list(rows.values())

    def list_listed_milestones(self, province: str) -> list[MilestoneRow]:
        """The milestones of those current cycles."""
        cycles = _current_entries(province).with_only_columns(ListEntry.cycle_id)
        stmt = select(Milestone.cycle_id, Milestone.kind, Milestone.due, Milestone.done_at).where(
            Milestone.cycle_id.in_(cycles.scalar_subquery()))
        return [MilestoneRow(c, k, d, at) for c, k, d, at in self.session.execute(stmt)]

    def list_reachable_enterprise_ids(self, province: str) -> set[int]:
        """Listed enterprises of the province with at least one consented, subscribed contact."""
        listed = select(ListEntry.enterprise_id).join(ListImport, ListImport.id == ListEntry.import_id).where(
            ListImport.province == province)
        stmt = select(Contact.enterprise_id).distinct().where(
            Contact.enterprise_id.in_(listed.scalar_subquery()), Contact.consented_at.is_not(None),
            Contact.unsubscribed_at.is_(None))
        return {e for (e,) in self.session.execute(stmt) if e is not None}

    # -- one enterprise ----------------------------------------------------------------------------

    def list_entries_with_imports(self, enterprise_id: int) -> list[tuple[ListEntry, ListImport]]:
        stmt = (select(ListEntry, ListImport).join(ListImport, ListImport.id == ListEntry.import_id)
                .where(ListEntry.enterprise_id == enterprise_id).order_by(ListEntry.published_on.desc()))
        return [(e, i) for e, i in self.session.execute(stmt)]

    def list_contacts(self, enterprise_id: int) -> list[Contact]:
        """Every contact bound to the enterprise (reachable or not), preferred first."""
        stmt = select(Contact).where(Contact.enterprise_id == enterprise_id)
        return list(self.session.scalars(stmt.order_by(Contact.preferred.desc(), Contact.id)))

    def get_contacts_by_ids(self, contact_ids: Sequence[int]) -> dict[int, Contact]:
        if not contact_ids:
            return {}
        return {c.id: c for c in self.session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}

    def list_sent_reminders(self, enterprise_id: int, *, limit: int = 50) -> list[SentReminder]:
        """Reminders handed to the outbox for the enterprise's milestones, newest first."""
        stmt = (
            select(Milestone.kind, Reminder.kind, Reminder.send_on, Reminder.queued_at)
            .join(Milestone, Milestone.id == Reminder.milestone_id)
            .join(AuditCycle, AuditCycle.id == Milestone.cycle_id)
            .where(AuditCycle.enterprise_id == enterprise_id, Reminder.status == "queued",
                   Reminder.queued_at.is_not(None))
            .order_by(Reminder.queued_at.desc(), Reminder.id.desc())
            .limit(limit)
        )
        return [SentReminder(mk, k, d, at) for mk, k, d, at in self.session.execute(stmt) if at is not None]

    # -- the action log ----------------------------------------------------------------------------

    def add_action(self, *, officer_id: int, officer_name: str, enterprise_id: int, kind: str,
                   milestone_id: int | None = None, on_date: date | None = None, reason: str | None = None,
                   evidence: str | None = None, at: datetime | None = None) -> OfficerAction:
        if kind not in OFFICER_ACTION_KINDS:
            raise FieldError("kind", f"{kind!r} is not one of {', '.join(OFFICER_ACTION_KINDS)}")
        action = OfficerAction(officer_id=officer_id, officer_name=officer_name, enterprise_id=enterprise_id,
                               milestone_id=milestone_id, kind=kind, on_date=on_date, reason=reason,
                               evidence=evidence)
        if at is not None:
            action.created_at = at
        self.session.add(action)
        self.session.flush()
        return action

    def list_actions(self, enterprise_id: int) -> list[OfficerAction]:
        """The enterprise's officer actions, newest first."""
        stmt = select(OfficerAction).where(OfficerAction.enterprise_id == enterprise_id)
        return list(self.session.scalars(stmt.order_by(OfficerAction.created_at.desc(), OfficerAction.id.desc())))

    def count_actions(self) -> int:
        return self.session.scalar(select(func.count()).select_from(OfficerAction)) or 0

"""OversightRepository: what the officers' overview, filtered lists and enterprise pages read, and the
log of what officers recorded (officer_actions).

The jurisdiction's rows are read as plain tuples. The overview's counts are GROUP BY queries by raw
place (city, county), so a province of 10,000 enterprises returns a line per place and kind, not a row per
enterprise; the caller keeps the places the officer covers (place names are compared in Python, see
`handlers.officers.place_key`) and sums them into districts. The enterprise list is filtered, sorted and
paged in SQL, restricted to the places the caller passes. A milestone's done day is its `done_at` in China
time (UTC+8, no daylight saving since 1991), as `handlers.compliance.done_day` computes it.
Repositories flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, String, and_, case, exists, false, func, literal, not_, or_, select, true, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

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


# -- dialect-specific expressions ------------------------------------------------------------------


class china_day(FunctionElement[date]):
    """The day (Asia/Shanghai) of a UTC instant column."""

    type = Date()
    inherit_cache = True


@compiles(china_day, "postgresql")
def _china_day_pg(element: china_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai' AS DATE)"


@compiles(china_day)
def _china_day_sqlite(element: china_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"  # stored as naive UTC text


class china_month(FunctionElement[str]):
    """'YYYY-MM' of the day (Asia/Shanghai) of a UTC instant column."""

    type = String()
    inherit_cache = True


@compiles(china_month, "postgresql")
def _china_month_pg(element: china_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


@compiles(china_month)
def _china_month_sqlite(element: china_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, '+8 hours')"


class json_list_has(FunctionElement[bool]):
    """Whether a JSON array column holds a string."""

    inherit_cache = True


@compiles(json_list_has, "postgresql")
def _json_list_has_pg(element: json_list_has, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = list(element.clauses)
    return (f"({compiler.process(column, **kw)} @> "
            f"jsonb_build_array(CAST({compiler.process(value, **kw)} AS TEXT)))")


@compiles(json_list_has)
def _json_list_has_sqlite(element: json_list_has, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = list(element.clauses)
    return (f"EXISTS (SELECT 1 FROM json_each({compiler.process(column, **kw)}) "
            f"WHERE json_each.value = {compiler.process(value, **kw)})")


class code_point_order(FunctionElement[str]):
    """A text column sorted by code point, as Python sorts str (PostgreSQL's "C" collation compares UTF-8
    bytes, which is code point order; SQLite's default BINARY collation already does)."""

    type = String()
    inherit_cache = True


@compiles(code_point_order, "postgresql")
def _code_point_order_pg(element: code_point_order, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


@compiles(code_point_order)
def _code_point_order_sqlite(element: code_point_order, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


# -- what the overview and the list read -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlaceCounts:
    """The listed enterprises of one raw place (city, county as listed): how many, the earliest list day,
    how many nobody can be reached at, how many have an overdue milestone."""

    city: str | None
    county: str | None
    enterprises: int
    first_published: date
    unreachable: int
    overdue: int


@dataclass(frozen=True, slots=True)
class MilestoneCounts:
    """The milestones of one kind of one raw place done in one month (`month` 'YYYY-MM' of the done day,
    'later' for a done day after today, None for not done): how many, how many done or past due
    (counted for the on-time rate), how many done on or before their legal last day."""

    city: str | None
    county: str | None
    kind: str
    month: str | None
    milestones: int
    counted: int
    on_time: int


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What the enterprise list asks for: `places` (city or '', county or '') as listed, a milestone
    status (handlers.oversight.LIST_STATUSES) optionally of one kind, reach, basis; then a page."""

    places: tuple[tuple[str, str], ...]
    status: str = "all"
    kind: str = ""
    reach: str = "all"
    basis: str = ""
    limit: int | None = None
    offset: int = 0


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


def _current(province: str) -> Any:
    """One row per enterprise listed in the province with a current cycle: the latest list wins."""
    rank = func.row_number().over(partition_by=ListEntry.enterprise_id,
                                  order_by=(ListEntry.published_on.desc(), ListEntry.id.desc()))
    inner = _current_entries(province).add_columns(rank.label("rank")).subquery("ranked")
    cols = inner.c
    return select(*(c.label(n) for c, n in zip(
        list(cols)[:11], ("enterprise_id", "name", "credit_code", "industry_code", "city", "county", "grounds",
                          "import_id", "published_on", "document_number", "cycle_id"), strict=True))).where(
        cols.rank == 1).subquery("listed")


def _reachable(enterprise_id: Any) -> ColumnElement[bool]:
    return exists().where(Contact.enterprise_id == enterprise_id, Contact.consented_at.is_not(None),
                          Contact.unsubscribed_at.is_(None))


def _has_milestone(cycle_id: Any, kind: str, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    where = [Milestone.cycle_id == cycle_id, *conditions]
    if kind:
        where.append(Milestone.kind == kind)
    return exists().where(*where)


def _status_condition(cycle_id: Any, status: str, kind: str, today: date) -> ColumnElement[bool]:
    """SQL for handlers.oversight's status filter of one enterprise (its current cycle)."""
    done = Milestone.done_at.is_not(None)
    open_ = Milestone.done_at.is_(None)
    if status == "all":
        return _has_milestone(cycle_id, kind) if kind else true()
    if status == "done":
        return and_(_has_milestone(cycle_id, kind), not_(_has_milestone(cycle_id, kind, open_)))
    if status == "counted":
        return _has_milestone(cycle_id, kind, or_(done, Milestone.due < today))
    if status == "overdue":
        return _has_milestone(cycle_id, kind, open_, Milestone.due < today)
    if status == "due_soon":
        return _has_milestone(cycle_id, kind, open_, Milestone.due >= today,
                              Milestone.due <= today + timedelta(days=30))
    if status == "done_on_time":
        return _has_milestone(cycle_id, kind, done, china_day(Milestone.done_at) <= Milestone.due)
    if status == "done_late":
        return _has_milestone(cycle_id, kind, done, china_day(Milestone.done_at) > Milestone.due)
    if status == "pending":
        return _has_milestone(cycle_id, kind, open_, Milestone.due > today + timedelta(days=30))
    return false()


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
        """The milestones of those current cycles, each cycle's by nominal day."""
        cycles = _current_entries(province).with_only_columns(ListEntry.cycle_id)
        stmt = select(Milestone.cycle_id, Milestone.kind, Milestone.due, Milestone.done_at).where(
            Milestone.cycle_id.in_(cycles.scalar_subquery())).order_by(
            Milestone.cycle_id, Milestone.nominal, Milestone.id)
        return [MilestoneRow(c, k, d, at) for c, k, d, at in self.session.execute(stmt)]

    def list_reachable_enterprise_ids(self, province: str) -> set[int]:
        """Listed enterprises of the province with at least one consented, subscribed contact."""
        listed = select(ListEntry.enterprise_id).join(ListImport, ListImport.id == ListEntry.import_id).where(
            ListImport.province == province)
        stmt = select(Contact.enterprise_id).distinct().where(
            Contact.enterprise_id.in_(listed.scalar_subquery()), Contact.consented_at.is_not(None),
            Contact.unsubscribed_at.is_(None))
        return {e for (e,) in self.session.execute(stmt) if e is not None}

    # -- the overview, counted in SQL --------------------------------------------------------------

    def count_places(self, province: str, today: date) -> list[PlaceCounts]:
        """Per raw place of the province's listed enterprises (see PlaceCounts)."""
        cur = _current(province)
        overdue = exists().where(Milestone.cycle_id == cur.c.cycle_id, Milestone.done_at.is_(None),
                                 Milestone.due < today)
        stmt = select(
            cur.c.city, cur.c.county, func.count(), func.min(cur.c.published_on),
            func.sum(case((_reachable(cur.c.enterprise_id), 0), else_=1)), func.sum(case((overdue, 1), else_=0)),
        ).group_by(cur.c.city, cur.c.county)
        return [PlaceCounts(c, k, n, first, int(u or 0), int(o or 0))
                for c, k, n, first, u, o in self.session.execute(stmt)]

    def count_milestones(self, province: str, today: date) -> list[MilestoneCounts]:
        """Per raw place, milestone kind and month done (see MilestoneCounts)."""
        cur = _current(province)
        day = china_day(Milestone.done_at)
        done = Milestone.done_at.is_not(None)
        per = (
            select(cur.c.city.label("city"), cur.c.county.label("county"), Milestone.kind.label("kind"),
                   case((Milestone.done_at.is_(None), None), (day > today, literal("later")),
                        else_=china_month(Milestone.done_at)).label("month"),
                   case((or_(done, Milestone.due < today), 1), else_=0).label("counted"),
                   case((and_(done, day <= Milestone.due), 1), else_=0).label("on_time"))
            .join(Milestone, Milestone.cycle_id == cur.c.cycle_id)
            .subquery("per")
        )
        stmt = select(per.c.city, per.c.county, per.c.kind, per.c.month, func.count(), func.sum(per.c.counted),
                      func.sum(per.c.on_time)).group_by(per.c.city, per.c.county, per.c.kind, per.c.month)
        return [MilestoneCounts(c, k, kind, m, n, int(good_or_bad or 0), int(good or 0))
                for c, k, kind, m, n, good_or_bad, good in self.session.execute(stmt)]

    # -- the enterprise list, filtered, sorted and paged in SQL -------------------------------------

    def list_places(self, province: str) -> list[tuple[str | None, str | None]]:
        """The raw places (city, county) the province's listed enterprises are in."""
        cur = _current(province)
        return [(c, k) for c, k in self.session.execute(select(cur.c.city, cur.c.county).distinct())]

    def find_listed(self, province: str, q: ListQuery, today: date) -> tuple[int, list[tuple[ListedRow, bool]]]:
        """(how many match, the requested page of them as (row, reachable)), by city, county, name, id."""
        cur = _current(province)
        reachable = _reachable(cur.c.enterprise_id)
        where: list[ColumnElement[bool]] = [
            tuple_(func.coalesce(cur.c.city, ""), func.coalesce(cur.c.county, "")).in_(list(q.places)),
            _status_condition(cur.c.cycle_id, q.status, q.kind, today),
        ]
        if q.basis:
            where.append(json_list_has(cur.c.grounds, literal(q.basis, String())))
        if q.reach == "reachable":
            where.append(reachable)
        elif q.reach == "unreachable":
            where.append(not_(reachable))
        if not q.places:
            where = [false()]
        total = self.session.scalar(select(func.count()).select_from(cur).where(*where)) or 0
        stmt = (
            select(*cur.c, reachable.label("reachable")).where(*where)
            .order_by(*(code_point_order(func.coalesce(c, "")) for c in (cur.c.city, cur.c.county, cur.c.name)),
                      cur.c.enterprise_id)
            .offset(q.offset)
        )
        if q.limit is not None:
            stmt = stmt.limit(q.limit)
        rows = [(ListedRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6] or ()), r[7], r[8], r[9], r[10]), bool(r[11]))
                for r in self.session.execute(stmt)]
        return total, rows

    def list_milestones_of(self, cycle_ids: Sequence[int]) -> list[MilestoneRow]:
        """The milestones of these cycles, each cycle's by nominal day."""
        stmt = select(Milestone.cycle_id, Milestone.kind, Milestone.due, Milestone.done_at).where(
            Milestone.cycle_id.in_(list(cycle_ids))).order_by(Milestone.cycle_id, Milestone.nominal, Milestone.id)
        return [MilestoneRow(c, k, d, at) for c, k, d, at in self.session.execute(stmt)]

    # -- a list seen by an officer below its jurisdiction ---------------------------------------------

    def list_import_places(self, import_id: int) -> list[tuple[str | None, str | None]]:
        """The distinct places (city, county) of the list's entries: the entry's, else its enterprise's (as the
        overview places them)."""
        place = (func.coalesce(ListEntry.city, Enterprise.city), func.coalesce(ListEntry.county, Enterprise.county))
        stmt = (select(*place).join(Enterprise, Enterprise.id == ListEntry.enterprise_id)
                .where(ListEntry.import_id == import_id).distinct())
        return [(c, k) for c, k in self.session.execute(stmt)]

    def list_part_milestones(self, import_ids: Sequence[int]) -> list[
            tuple[int, int, str | None, str | None, str | None, date | None, datetime | None]]:
        """(import id, entry id, city, county, kind, legal due day, done at) of every entry of these lists, one
        row per milestone of its cycle (kind None when it has none): for counting an officer's part of a list."""
        out: list[tuple[int, int, str | None, str | None, str | None, date | None, datetime | None]] = []
        ids = list(import_ids)
        for start in range(0, len(ids), 1000):
            stmt = (select(ListEntry.import_id, ListEntry.id, func.coalesce(ListEntry.city, Enterprise.city),
                           func.coalesce(ListEntry.county, Enterprise.county), Milestone.kind, Milestone.due,
                           Milestone.done_at)
                    .join(Enterprise, Enterprise.id == ListEntry.enterprise_id)
                    .outerjoin(Milestone, Milestone.cycle_id == ListEntry.cycle_id)
                    .where(ListEntry.import_id.in_(ids[start:start + 1000])))
            out.extend((i, e, c, k, kind, due, done) for i, e, c, k, kind, due, done in self.session.execute(stmt))
        return out

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

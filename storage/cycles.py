"""Audit cycles (one per published list naming an enterprise) and their milestones (deadlines)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Integer,
    Row,
    String,
    Table,
    Text,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy import column as value_column
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage._dialect import insert_for
from storage.columns import json_text, utcnow
from storage.errors import DuplicateError, FieldError
from storage.imports import MilestonePlan
from storage.models import CYCLE_SOURCES, MILESTONE_KINDS, AuditCycle, Milestone, Reminder
from storage.reminders import lock_milestones


def _check_source(source: str) -> str:
    if source not in CYCLE_SOURCES:
        raise FieldError("source", f"{source!r} is not one of {', '.join(CYCLE_SOURCES)}")
    return source


_MILESTONE_ARRAYS: dict[str, Any] = {"kind": String, "nominal": Date, "due": Date, "citation": Text, "note": Text,
                     "done_at": DateTime(timezone=True)}
_PLANNED_PG: list[Any] = []


def _planned_pg() -> Any:
    """The milestones' INSERT ... SELECT from unnest() of one array per column as a data-modifying CTE whose
    RETURNING feeds the reminders' INSERT ... SELECT (joined by milestone kind to the unnest() of the planned
    reminders); it returns the milestones added. Arrays keep the statement the same whatever the number of
    rows: built and compiled once (a VALUES list would be compiled anew for every cycle)."""
    if not _PLANNED_PG:
        arrays: list[Any] = [bindparam(f"m_{name}", type_=ARRAY(t)) for name, t in _MILESTONE_ARRAYS.items()]
        columns: list[Any] = [value_column(name, t) for name, t in _MILESTONE_ARRAYS.items()]
        planned_milestones = func.unnest(*arrays).table_valued(*columns).render_derived(name="planned_milestones")
        added = (postgresql.insert(Milestone).from_select(
            ["cycle_id", *_MILESTONE_ARRAYS],
            select(bindparam("cycle_id", type_=Integer), *planned_milestones.c),
        ).on_conflict_do_nothing(index_elements=["cycle_id", "kind"]).returning(*Milestone.__table__.c).cte("added"))
        plan = func.unnest(bindparam("r_milestone_kind", type_=ARRAY(String)), bindparam("r_kind", type_=ARRAY(String)),
                           bindparam("r_send_on", type_=ARRAY(Date))).table_valued(
            value_column("milestone_kind", String), value_column("kind", String), value_column("send_on", Date),
        ).render_derived(name="planned_reminders")
        reminded = (postgresql.insert(Reminder).from_select(
            ["milestone_id", "kind", "send_on", "status", "created_at"],
            select(added.c.id, plan.c.kind, plan.c.send_on, literal_column("'pending'"),
                   bindparam("created_at", type_=Reminder.__table__.c.created_at.type))
            .join_from(added, plan, plan.c.milestone_kind == added.c.kind).where(added.c.done_at.is_(None)),
        ).on_conflict_do_nothing(index_elements=["milestone_id", "kind"]).cte("reminded"))
        _PLANNED_PG.append(select(Milestone).from_statement(select(*added.c).add_cte(reminded)))
    return _PLANNED_PG[0]


_CYCLES = cast(Table, AuditCycle.__table__)
_MILESTONES = cast(Table, Milestone.__table__)
_CURRENT_CYCLE = (select(_CYCLES.c.id).where(_CYCLES.c.enterprise_id == bindparam("enterprise_id"),
                                             _CYCLES.c.superseded_at.is_(None))
                  .order_by(_CYCLES.c.list_published_on.desc().nulls_last(), _CYCLES.c.id.desc()).limit(1))
_CURRENT_MILESTONES = (select(_MILESTONES.c.kind, _MILESTONES.c.nominal, _MILESTONES.c.due, _MILESTONES.c.citation,
                              _MILESTONES.c.note, _MILESTONES.c.done_at)
                       .where(_MILESTONES.c.cycle_id == _CURRENT_CYCLE.scalar_subquery())
                       .order_by(_MILESTONES.c.nominal, _MILESTONES.c.id))


def current_milestones(connection: Connection, enterprise_id: int) -> list[Row[Any]]:
    """The milestones of the enterprise's current cycle (`AuditCycleRepository.get_by_enterprise`) in date
    order, as rows of kind, nominal, due, citation, note and done_at: one Core SELECT, no Session."""
    return list(connection.execute(_CURRENT_MILESTONES, {"enterprise_id": enterprise_id}))


class AuditCycleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, cycle_id: int) -> AuditCycle | None:
        return self.session.get(AuditCycle, cycle_id)

    def get_by_enterprise(self, enterprise_id: int) -> AuditCycle | None:
        """The enterprise's current cycle: not superseded, the latest list first."""
        stmt = (
            select(AuditCycle)
            .where(AuditCycle.enterprise_id == enterprise_id, AuditCycle.superseded_at.is_(None))
            .order_by(AuditCycle.list_published_on.desc().nulls_last(), AuditCycle.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def get_by_list(self, enterprise_id: int, list_published_on: date) -> AuditCycle | None:
        stmt = select(AuditCycle).where(
            AuditCycle.enterprise_id == enterprise_id, AuditCycle.list_published_on == list_published_on
        )
        return self.session.scalars(stmt).one_or_none()

    def list_by_enterprise(self, enterprise_id: int, *, include_superseded: bool = True) -> list[AuditCycle]:
        """The enterprise's cycles, newest first."""
        stmt = select(AuditCycle).where(AuditCycle.enterprise_id == enterprise_id)
        if not include_superseded:
            stmt = stmt.where(AuditCycle.superseded_at.is_(None))
        return list(self.session.scalars(stmt.order_by(AuditCycle.id.desc())))

    def add(
        self,
        enterprise_id: int,
        *,
        source: str,
        grounds: Sequence[Any] = (),
        list_published_on: date | None = None,
        list_document_number: str | None = None,
    ) -> AuditCycle:
        """Open a cycle; DuplicateError if one exists for the same enterprise and list date."""
        if list_published_on is not None and self.get_by_list(enterprise_id, list_published_on):
            raise DuplicateError(
                f"Enterprise {enterprise_id} already has a cycle for the list of {list_published_on}."
            )
        cycle = AuditCycle(
            enterprise_id=enterprise_id,
            source=_check_source(source),
            grounds=list(grounds),
            list_published_on=list_published_on,
            list_document_number=list_document_number,
        )
        self.session.add(cycle)
        try:
            self.session.flush()
        except IntegrityError as e:
            raise DuplicateError(
                f"Enterprise {enterprise_id} already has a cycle for {list_published_on}."
            ) from e
        return cycle

    def add_if_absent(
        self,
        enterprise_id: int,
        list_published_on: date,
        *,
        source: str,
        grounds: Sequence[Any] = (),
        list_document_number: str | None = None,
    ) -> tuple[AuditCycle, bool]:
        """The cycle for (enterprise, list date), opened if new; True when it was opened now.

        Safe when two imports of the same list race (INSERT ... ON CONFLICT DO NOTHING).
        """
        stmt = insert_for(self.session, AuditCycle).values(
            enterprise_id=enterprise_id,
            list_published_on=list_published_on,
            source=_check_source(source),
            list_document_number=list_document_number,
            grounds=list(grounds),
            created_at=utcnow(),
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=["enterprise_id", "list_published_on"])
        inserted = self.session.scalars(stmt.returning(AuditCycle)).one_or_none()
        if inserted is not None:
            return inserted, True
        cycle = self.get_by_list(enterprise_id, list_published_on)
        assert cycle is not None, "the row was not inserted because it existed"
        return cycle, False

    def open_if_absent(
        self,
        enterprise_id: int,
        list_published_on: date,
        *,
        source: str,
        grounds: Sequence[Any] = (),
        list_document_number: str | None = None,
    ) -> tuple[AuditCycle, bool, bool]:
        """`add_if_absent`, and whether the enterprise has other cycles not superseded: the INSERT's RETURNING
        counts them (a subquery), so that a new enterprise's first cycle needs no read of the others.
        (cycle, added, others); a cycle that existed is read, and `others` is then True (not counted)."""
        other = _CYCLES.alias("other")  # the others by the new row's values (the row itself has its list date)
        others = (select(func.count()).select_from(other)
                  .where(other.c.enterprise_id == enterprise_id, other.c.superseded_at.is_(None),
                         other.c.list_published_on.is_distinct_from(list_published_on))
                  .correlate(None).scalar_subquery())
        stmt = insert_for(self.session, AuditCycle).values(
            enterprise_id=enterprise_id,
            list_published_on=list_published_on,
            source=_check_source(source),
            list_document_number=list_document_number,
            grounds=list(grounds),
            created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["enterprise_id", "list_published_on"])
        row = self.session.execute(stmt.returning(AuditCycle, others)).one_or_none()
        if row is not None:
            return row[0], True, bool(row[1])
        cycle = self.get_by_list(enterprise_id, list_published_on)
        assert cycle is not None, "the row was not inserted because it existed"
        return cycle, False, True

    def supersede(self, cycle: AuditCycle, at: datetime) -> AuditCycle:
        """Close a cycle that a newer one replaces; its open milestones stop being reminded.

        Their pending reminders become `cancelled` in the same unit of work.
        """
        cycle.superseded_at = at
        self.session.flush()
        lock_milestones(self.session, [Milestone.cycle_id == cycle.id])
        milestones = select(Milestone.id).where(Milestone.cycle_id == cycle.id)
        self.session.execute(
            update(Reminder)
            .where(Reminder.milestone_id.in_(milestones), Reminder.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session="fetch")
        )
        return cycle


class MilestoneRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, milestone_id: int) -> Milestone | None:
        return self.session.get(Milestone, milestone_id)

    def get_by_kind(self, cycle_id: int, kind: str) -> Milestone | None:
        stmt = select(Milestone).where(Milestone.cycle_id == cycle_id, Milestone.kind == kind)
        return self.session.scalars(stmt).one_or_none()

    def list_by_cycle(self, cycle_id: int) -> list[Milestone]:
        """The cycle's milestones in date order."""
        stmt = (
            select(Milestone).where(Milestone.cycle_id == cycle_id).order_by(Milestone.nominal, Milestone.id)
        )
        return list(self.session.scalars(stmt))

    def list_open_by_enterprise(self, enterprise_id: int) -> list[Milestone]:
        """The enterprise's milestones not done, of cycles not superseded, in date order."""
        stmt = (
            select(Milestone)
            .join(AuditCycle, AuditCycle.id == Milestone.cycle_id)
            .where(
                AuditCycle.enterprise_id == enterprise_id,
                AuditCycle.superseded_at.is_(None),
                Milestone.done_at.is_(None),
            )
            .order_by(Milestone.nominal, Milestone.id)
        )
        return list(self.session.scalars(stmt))

    def list_open_due(self, on_or_before: date, *, after_id: int = 0, limit: int = 1000) -> list[Milestone]:
        """Milestones not done, of cycles not superseded, whose nominal day is on or before the day; by id."""
        stmt = (
            select(Milestone)
            .join(AuditCycle, AuditCycle.id == Milestone.cycle_id)
            .where(
                Milestone.done_at.is_(None),
                AuditCycle.superseded_at.is_(None),
                Milestone.nominal <= on_or_before,
                Milestone.id > after_id,
            )
            .order_by(Milestone.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def add(
        self, cycle_id: int, *, kind: str, nominal: date, due: date, citation: str = "", note: str = ""
    ) -> Milestone:
        """Add a deadline to a cycle; DuplicateError if the cycle already has one of this kind."""
        if kind not in MILESTONE_KINDS:
            raise FieldError("kind", f"{kind!r} is not one of {', '.join(MILESTONE_KINDS)}")
        if due < nominal:
            raise FieldError("due", f"the legal last day {due} is before the nominal day {nominal}")
        if self.get_by_kind(cycle_id, kind) is not None:
            raise DuplicateError(f"Cycle {cycle_id} already has a {kind} milestone.")
        milestone = Milestone(
            cycle_id=cycle_id, kind=kind, nominal=nominal, due=due, citation=citation, note=note
        )
        self.session.add(milestone)
        try:
            self.session.flush()
        except IntegrityError as e:
            raise DuplicateError(f"Cycle {cycle_id} already has a {kind} milestone.") from e
        return milestone

    def add_planned(
        self, cycle_id: int, plans: Sequence[MilestonePlan], *, with_reminders: bool = True,
        done_at: Mapping[str, datetime] | None = None,
    ) -> list[Milestone]:
        """Add the planned milestones the cycle lacks, and (`with_reminders`) their reminders: one multi-row
        INSERT ... ON CONFLICT DO NOTHING for the milestones and one for the reminders, whatever their number.
        Kinds the cycle already has are left as they are. A kind in `done_at` is stored done then, and
        gets no reminders. Returns the milestones added."""
        done_at = done_at or {}
        for plan in plans:
            if plan.kind not in MILESTONE_KINDS:
                raise FieldError("kind", f"{plan.kind!r} is not one of {', '.join(MILESTONE_KINDS)}")
            if plan.due < plan.nominal:
                raise FieldError("due", f"the legal last day {plan.due} is before the nominal day {plan.nominal}")
        if not plans:
            return []
        rows: list[dict[str, Any]] = [
                {"cycle_id": cycle_id, "kind": p.kind, "nominal": p.nominal, "due": p.due, "citation": p.citation,
                 "note": p.note, "done_at": done_at.get(p.kind)} for p in plans]
        planned = [(p.kind, kind, send_on) for p in plans for kind, send_on in p.reminders] if with_reminders else []
        if planned and self.session.get_bind().dialect.name == "postgresql":
            return self._add_planned_pg(rows, planned)
        # A list of parameter sets with RETURNING: SQLAlchemy's "insertmanyvalues" sends one multi-row INSERT,
        # and the statement, the same whatever the number of rows, is compiled once and cached. Each row carries
        # its reminders (`reminder_plan`), which a trigger inserts for a milestone actually added (migration 0011).
        at = utcnow().astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        by_kind: dict[str, list[list[str]]] = {}
        for mkind, kind, send_on in planned:
            by_kind.setdefault(mkind, []).append([kind, send_on.isoformat()])
        for row in rows:
            reminders = by_kind.get(row["kind"]) if row["done_at"] is None else None
            row["reminder_plan"] = json_text({"at": at, "reminders": reminders}) if reminders else None
        stmt = insert_for(self.session, Milestone).on_conflict_do_nothing(index_elements=["cycle_id", "kind"])
        added = list(self.session.scalars(stmt.returning(Milestone), rows))
        for milestone in added:
            set_committed_value(milestone, "reminder_plan", None)  # cleared by the trigger, after RETURNING
        return added

    def _add_planned_pg(self, rows: list[dict[str, Any]], planned: list[tuple[str, str, date]]) -> list[Milestone]:
        """`add_planned` on PostgreSQL in one statement (`_planned_pg`), its rows as one array per column."""
        params: dict[str, Any] = {f"m_{name}": [r[name] for r in rows] for name in _MILESTONE_ARRAYS}
        params.update(cycle_id=rows[0]["cycle_id"], created_at=utcnow(), r_milestone_kind=[p[0] for p in planned],
                      r_kind=[p[1] for p in planned], r_send_on=[p[2] for p in planned])
        return list(self.session.scalars(_planned_pg(), params))

    def mark_done(
        self,
        milestone: Milestone,
        *,
        at: datetime,
        by_contact_id: int | None = None,
        evidence: str | None = None,
    ) -> Milestone:
        """Record that the milestone was met (by whom, with what evidence, e.g. a URL)."""
        milestone.done_at = at
        milestone.done_by_contact_id = by_contact_id
        milestone.evidence = evidence
        self.session.flush()
        return milestone

    def snooze(self, milestone: Milestone, until: date | None) -> Milestone:
        """Hold the milestone's reminders: those due on or before `until` are not sent (None lifts it)."""
        milestone.snoozed_until = until
        self.session.flush()
        return milestone

    def reschedule(self, milestone: Milestone, *, nominal: date, due: date, citation: str, note: str) -> Milestone:
        """Move an open milestone to the days counted from a corrected start (its reminders are the caller's)."""
        if due < nominal:
            raise FieldError("due", f"the legal last day {due} is before the nominal day {nominal}")
        milestone.nominal, milestone.due, milestone.citation, milestone.note = nominal, due, citation, note
        self.session.flush()
        return milestone

    def reopen(self, milestone: Milestone) -> Milestone:
        """Undo `mark_done`."""
        milestone.done_at = None
        milestone.done_by_contact_id = None
        milestone.evidence = None
        self.session.flush()
        return milestone

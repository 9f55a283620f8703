"""ListImportRepository: imported mandatory-audit lists, applied in bulk in the caller's transaction.

`apply` writes one imported list: enterprises upserted by credit code, one audit cycle per
(enterprise, list date) with its milestones and their reminders, and the list's entries. It is
idempotent twice over: by file (province + SHA-256) and by row (an enterprise already listed on the
same date, in any earlier import, is left as it is). Statements are batched (`bulk_insert`: INSERT ...
ON CONFLICT DO NOTHING from arrays on PostgreSQL, executemany on SQLite), so 10,000 rows are a few
dozen round trips, not hundreds of thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from json import dumps as json_dumps
from typing import Any

from sqlalchemy import JSON, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.columns import utcnow
from storage.errors import DuplicateError
from storage.models import AuditCycle, Base, Enterprise, ListEntry, ListImport, Milestone, Reminder

CHUNK = 1000  # rows per IN list / per multi-row INSERT


@dataclass(frozen=True, slots=True)
class MilestonePlan:
    """One deadline to store for a cycle, with the reminders [(kind, send_on)] to plan for it."""

    kind: str
    nominal: date
    due: date
    citation: str
    note: str
    reminders: tuple[tuple[str, date], ...] = ()
    done_on: date | None = None  # the facts already show it done (a later step of the round is)


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """One valid row of a list, with what the rules engine made of it."""

    line: int
    credit_code: str  # compact, validated
    name: str
    published_on: date
    document_number: str | None
    city: str | None
    county: str | None
    grounds: tuple[str, ...]  # the ground kinds the list names (pollution, energy, ...)
    ground_ids: tuple[str, ...]  # the engine's grounds, stored on the cycle as a chat assessment does
    milestones: tuple[MilestonePlan, ...]
    industry_code: str | None = None  # a GB/T 4754-2017 class; fills the enterprise's when still unknown
    contact_name: str | None = None
    contact_phone: str | None = None


@dataclass
class ImportOutcome:
    import_id: int | None  # None when nothing was new (no import row is written then)
    file_seen_before: bool = False
    added: int = 0
    unchanged: list[tuple[int, int]] = field(default_factory=list)  # (line, import id that has it)
    enterprises_created: int = 0
    cycles_created: int = 0
    milestones_created: int = 0
    reminders_created: int = 0


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class ListImportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, import_id: int) -> ListImport | None:
        return self.session.get(ListImport, import_id)

    def get_by_hash(self, province: str, file_sha256: str) -> ListImport | None:
        stmt = select(ListImport).where(ListImport.province == province, ListImport.file_sha256 == file_sha256)
        return self.session.scalars(stmt).one_or_none()

    def list_by_province(self, province: str, *, limit: int = 100) -> list[ListImport]:
        """The province's imports, newest first (filter by city/county in the caller)."""
        stmt = select(ListImport).where(ListImport.province == province).order_by(ListImport.id.desc())
        return list(self.session.scalars(stmt.limit(limit)))

    def count_entries(self, import_id: int) -> int:
        stmt = select(func.count()).select_from(ListEntry).where(ListEntry.import_id == import_id)
        return self.session.scalar(stmt) or 0

    def list_entries(
        self, import_id: int, *, after_enterprise_id: int = 0, limit: int = CHUNK
    ) -> list[tuple[ListEntry, Enterprise]]:
        """The import's entries with their enterprises, by enterprise id (for batched fan-out)."""
        stmt = (
            select(ListEntry, Enterprise)
            .join(Enterprise, Enterprise.id == ListEntry.enterprise_id)
            .where(ListEntry.import_id == import_id, ListEntry.enterprise_id > after_enterprise_id)
            .order_by(ListEntry.enterprise_id)
            .limit(limit)
        )
        return [(entry, enterprise) for entry, enterprise in self.session.execute(stmt)]

    def list_districts(self, import_id: int) -> list[tuple[str | None, str | None]]:
        """The (city, county) pairs the import's entries name, sorted (for a district filter)."""
        stmt = select(ListEntry.city, ListEntry.county).where(ListEntry.import_id == import_id).distinct()
        return sorted(((c, k) for c, k in self.session.execute(stmt)), key=lambda p: (p[0] or "", p[1] or ""))

    def list_entries_by_enterprise(self, enterprise_id: int) -> list[ListEntry]:
        stmt = select(ListEntry).where(ListEntry.enterprise_id == enterprise_id).order_by(ListEntry.published_on)
        return list(self.session.scalars(stmt))

    def count_milestone_status(self, import_id: int, today: date) -> dict[str, dict[str, int]]:
        """Per milestone kind of the list's cycles: {"total", "done", "overdue"} (for a dashboard).

        Two indexed joins: list_entries(import_id) -> milestones(cycle_id, kind).
        """
        overdue = case((Milestone.done_at.is_(None) & (Milestone.nominal < today), 1), else_=0)
        stmt = (
            select(Milestone.kind, func.count(), func.count(Milestone.done_at), func.sum(overdue))
            .join(ListEntry, ListEntry.cycle_id == Milestone.cycle_id)
            .where(ListEntry.import_id == import_id)
            .group_by(Milestone.kind)
        )
        return {
            kind: {"total": int(total), "done": int(done), "overdue": int(late or 0)}
            for kind, total, done, late in self.session.execute(stmt)
        }

    def list_enterprise_milestones(self, import_id: int) -> list[tuple[ListEntry, Enterprise, Milestone | None]]:
        """Each entry of the import with its enterprise and each milestone of its cycle (None when it has
        none), by list line then milestone date (for the officer dashboard and its exports)."""
        stmt = (
            select(ListEntry, Enterprise, Milestone)
            .join(Enterprise, Enterprise.id == ListEntry.enterprise_id)
            .outerjoin(Milestone, Milestone.cycle_id == ListEntry.cycle_id)
            .where(ListEntry.import_id == import_id)
            .order_by(ListEntry.line, ListEntry.id, Milestone.nominal, Milestone.id)
        )
        return [(entry, enterprise, milestone) for entry, enterprise, milestone in self.session.execute(stmt)]

    def list_milestone_dates(self, import_ids: Sequence[int]) -> list[tuple[int, str, date, datetime | None]]:
        """(import id, kind, legal due day, done at) of every milestone of these imports' cycles."""
        out: list[tuple[int, str, date, datetime | None]] = []
        for chunk in _chunks(import_ids):
            stmt = (
                select(ListEntry.import_id, Milestone.kind, Milestone.due, Milestone.done_at)
                .join(ListEntry, ListEntry.cycle_id == Milestone.cycle_id)
                .where(ListEntry.import_id.in_(chunk))
            )
            out.extend((imp, kind, due, done_at) for imp, kind, due, done_at in self.session.execute(stmt))
        return out

    # -- applying an import ----------------------------------------------------------------------

    def apply(
        self,
        *,
        officer_id: int | None,
        province: str,
        city: str | None,
        county: str | None,
        file_sha256: str,
        filename: str,
        skipped: int,
        entries: Sequence[EntryPlan],
        today: date,
        now: datetime | None = None,
    ) -> ImportOutcome:
        """Write one list; see the module docstring. Raises DuplicateError if the same file is being
        imported concurrently (run it again: the second run finds it and changes nothing)."""
        now = now or utcnow()
        seen = self.get_by_hash(province, file_sha256)
        if seen is not None:
            return ImportOutcome(import_id=seen.id, file_seen_before=True)
        entries = list({e.credit_code: e for e in entries}.values())
        outcome = ImportOutcome(import_id=None)
        ids = self._upsert_enterprises(entries, province, now, outcome)
        listed = self._listed(sorted(ids.values()))
        new = []
        for e in entries:
            earlier = listed.get((ids[e.credit_code], e.published_on))
            if earlier is None:
                new.append(e)
            else:
                outcome.unchanged.append((e.line, earlier))
        if not new:
            return outcome
        dates = {e.published_on for e in new}
        numbers = {e.document_number for e in new}
        imp = ListImport(
            officer_id=officer_id, province=province, city=city, county=county, file_sha256=file_sha256,
            filename=filename[:255], published_on=dates.pop() if len(dates) == 1 else None,
            document_number=numbers.pop() if len(numbers) == 1 else None, row_count=len(new),
            skipped_count=skipped, created_at=now,
        )
        self.session.add(imp)
        try:
            self.session.flush()
        except IntegrityError as err:
            raise DuplicateError(f"The file {filename} is being imported by someone else right now.") from err
        outcome.import_id, outcome.added = imp.id, len(new)
        cycles, current = self._open_cycles(new, ids, now, outcome)
        self._add_milestones(new, ids, cycles, current, today, now, outcome)
        self._add_entries(imp.id, new, ids, cycles)
        return outcome

    def _upsert_enterprises(
        self, entries: Sequence[EntryPlan], province: str, now: datetime, outcome: ImportOutcome
    ) -> dict[str, int]:
        existing = self._enterprises([e.credit_code for e in entries])
        fills: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for e in entries:
            known = existing.get(e.credit_code)
            values = {"name": e.name, "province": province, "city": e.city, "county": e.county,
                      "industry_code": e.industry_code}
            if known is None:
                rows.append({"credit_code": e.credit_code, **values, "created_at": now, "updated_at": now})
                continue
            merged = {k: getattr(known, k) if getattr(known, k) is not None else v for k, v in values.items()}
            if any(getattr(known, k) != v for k, v in merged.items()):
                fills.append({"id": known.id, **merged, "updated_at": now})
        bulk_insert(self.session, Enterprise, rows, conflict=("credit_code",))
        if fills:  # only fields still unknown: what a contact told us wins over the list
            self.session.execute(update(Enterprise), fills, execution_options={"synchronize_session": False})
        ids = {code: row.id for code, row in self._enterprises([e.credit_code for e in entries]).items()}
        outcome.enterprises_created = len(ids) - len(existing)
        return ids

    def _enterprises(self, codes: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        cols = (Enterprise.id, Enterprise.credit_code, Enterprise.name, Enterprise.province, Enterprise.city,
                Enterprise.county, Enterprise.industry_code)
        for chunk in _chunks(codes):
            for row in self.session.execute(select(*cols).where(Enterprise.credit_code.in_(chunk))):
                out[row.credit_code] = row
        return out

    def _listed(self, enterprise_ids: Sequence[int]) -> dict[tuple[int, date], int]:
        out: dict[tuple[int, date], int] = {}
        for chunk in _chunks(enterprise_ids):
            stmt = select(ListEntry.enterprise_id, ListEntry.published_on, ListEntry.import_id).where(
                ListEntry.enterprise_id.in_(chunk)
            )
            out.update({(eid, day): imp for eid, day, imp in self.session.execute(stmt)})
        return out

    def _cycles_of(self, enterprise_ids: Sequence[int]) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        for chunk in _chunks(enterprise_ids):
            stmt = select(AuditCycle.id, AuditCycle.enterprise_id, AuditCycle.list_published_on,
                          AuditCycle.superseded_at).where(AuditCycle.enterprise_id.in_(chunk))
            for row in self.session.execute(stmt):
                out.setdefault(row.enterprise_id, []).append(row)
        return out

    def _open_cycles(
        self, new: Sequence[EntryPlan], ids: dict[str, int], now: datetime, outcome: ImportOutcome
    ) -> tuple[dict[tuple[int, date], int], set[int]]:
        """Cycles for the new rows (existing ones reused) and which of them are current.

        A later list supersedes an earlier cycle (its pending reminders are cancelled); a row whose
        enterprise already has a cycle for a later list gets a cycle that is superseded at once.
        """
        enterprise_ids = sorted({ids[e.credit_code] for e in new})
        before = {(c.enterprise_id, c.list_published_on) for cs in self._cycles_of(enterprise_ids).values() for c in cs}
        rows = [
            {"enterprise_id": ids[e.credit_code], "list_published_on": e.published_on, "source": "import",
             "list_document_number": e.document_number, "grounds": list(e.ground_ids), "created_at": now}
            for e in new if (ids[e.credit_code], e.published_on) not in before
        ]
        bulk_insert(self.session, AuditCycle, rows, conflict=("enterprise_id", "list_published_on"))
        outcome.cycles_created = len(rows)
        cycles: dict[tuple[int, date], int] = {}
        stale: list[int] = []
        for eid, found in self._cycles_of(enterprise_ids).items():
            dated = [c for c in found if c.list_published_on is not None]
            latest = max(c.list_published_on for c in dated)
            for c in dated:
                cycles[(eid, c.list_published_on)] = c.id
                if c.list_published_on < latest and c.superseded_at is None:
                    stale.append(c.id)
        self._supersede(stale, now)
        stale_set = set(stale)
        current = {cid for cid in cycles.values() if cid not in stale_set}
        return cycles, current

    def _supersede(self, cycle_ids: Sequence[int], now: datetime) -> None:
        for chunk in _chunks(cycle_ids):
            self.session.execute(
                update(AuditCycle).where(AuditCycle.id.in_(chunk)).values(superseded_at=now),
                execution_options={"synchronize_session": False},
            )
            milestones = select(Milestone.id).where(Milestone.cycle_id.in_(chunk))
            self.session.execute(
                update(Reminder)
                .where(Reminder.milestone_id.in_(milestones), Reminder.status == "pending")
                .values(status="cancelled"),
                execution_options={"synchronize_session": False},
            )

    def _milestones_of(self, cycle_ids: Sequence[int]) -> dict[tuple[int, str], int]:
        out: dict[tuple[int, str], int] = {}
        for chunk in _chunks(cycle_ids):
            stmt = select(Milestone.id, Milestone.cycle_id, Milestone.kind).where(Milestone.cycle_id.in_(chunk))
            out.update({(cycle_id, kind): mid for mid, cycle_id, kind in self.session.execute(stmt)})
        return out

    def _add_milestones(
        self,
        new: Sequence[EntryPlan],
        ids: dict[str, int],
        cycles: dict[tuple[int, date], int],
        current: set[int],
        today: date,
        now: datetime,
        outcome: ImportOutcome,
    ) -> None:
        """The milestones the cycles lack, and for those of current cycles their reminders from today on."""
        plans: dict[tuple[int, str], MilestonePlan] = {}
        for e in new:
            cycle_id = cycles[(ids[e.credit_code], e.published_on)]
            for m in e.milestones:
                plans[(cycle_id, m.kind)] = m
        cycle_ids = sorted({cycle_id for cycle_id, _ in plans})
        before = self._milestones_of(cycle_ids)
        rows = [
            {"cycle_id": cycle_id, "kind": kind, "nominal": m.nominal, "due": m.due, "citation": m.citation,
             "note": m.note}
            for (cycle_id, kind), m in plans.items() if (cycle_id, kind) not in before
        ]
        bulk_insert(self.session, Milestone, rows, conflict=("cycle_id", "kind"))
        created = {key: mid for key, mid in self._milestones_of(cycle_ids).items() if key not in before}
        outcome.milestones_created = len(created)
        reminders = [
            {"milestone_id": mid, "kind": kind, "send_on": day, "status": "pending", "created_at": now}
            for (cycle_id, mkind), mid in created.items() if cycle_id in current
            for kind, day in plans[(cycle_id, mkind)].reminders if day >= today
        ]
        reminders.sort(key=lambda r: (r["milestone_id"], r["kind"]))
        bulk_insert(self.session, Reminder, reminders, conflict=None)  # their milestones are new: no conflict
        outcome.reminders_created = len(reminders)

    def _add_entries(
        self, import_id: int, new: Sequence[EntryPlan], ids: dict[str, int], cycles: dict[tuple[int, date], int]
    ) -> None:
        rows = [
            {"import_id": import_id, "enterprise_id": ids[e.credit_code],
             "cycle_id": cycles[(ids[e.credit_code], e.published_on)], "line": e.line, "grounds": list(e.grounds),
             "published_on": e.published_on, "document_number": e.document_number, "city": e.city,
             "county": e.county, "contact_name": e.contact_name, "contact_phone": e.contact_phone}
            for e in new
        ]
        bulk_insert(self.session, ListEntry, rows, conflict=("import_id", "enterprise_id"))


def bulk_insert(
    session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], *, conflict: Sequence[str] | None
) -> None:
    """INSERT ... ON CONFLICT (conflict) DO NOTHING of many rows with the same keys, fast.

    A list of 10,000 enterprises plans ~400,000 reminders; statement-per-row executemany (what the
    ORM amounts to on psycopg) takes tens of seconds. PostgreSQL gets one INSERT ... SELECT FROM
    unnest(arrays) per 50,000 rows; SQLite the driver's own executemany. Values go through each
    column's bind processor, so they are stored exactly as the ORM stores them; JSON columns are
    serialized with the column type's own processor (SQLite) or sent as text and cast (PostgreSQL).
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    columns = [model.__table__.c[name] for name in names]
    convert = [_converter(c, dialect) for c in columns]
    target = f"INSERT INTO {model.__tablename__} ({', '.join(names)})"
    tail = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING" if conflict else ""
    if dialect.name == "postgresql" and not conflict and not any(isinstance(c.type, JSON) for c in columns):
        _copy_rows(connection, model.__tablename__, names, convert, rows)  # nothing can conflict: COPY
        return
    if dialect.name == "postgresql":
        _unnest_insert(connection, target + " SELECT {picks} FROM unnest({arrays}) AS t({names})" + tail,
                       names, columns, convert, rows)
        return
    sql = f"{target} VALUES ({', '.join('?' for _ in names)}){tail}"
    connection.exec_driver_sql(sql, [tuple(f(r[n]) for f, n in zip(convert, names, strict=True)) for r in rows])


def _copy_rows(
    connection: Any, table: str, names: Sequence[str], convert: Sequence[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """PostgreSQL COPY ... FROM STDIN on the session's own connection (same transaction), for rows that
    cannot conflict with existing ones (e.g. the reminders of milestones created in this transaction)."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row([f(r[n]) for f, n in zip(convert, names, strict=True)])


def _unnest_insert(
    connection: Any, template: str, names: Sequence[str], columns: Sequence[Any], convert: Sequence[Any],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """PostgreSQL: one INSERT ... SELECT FROM unnest(one binary array per column) per 50,000 rows. A
    column with the same value in every row (a status, a timestamp) is sent once, not as an array."""
    dialect = connection.dialect
    same = [all(r[name] == rows[0][name] for r in rows) for name in names]
    same[0] = False  # at least one array, so that n identical rows stay n rows
    sql_types = ["text" if isinstance(c.type, JSON) else c.type.compile(dialect) for c in columns]
    varying = [i for i in range(len(names)) if not same[i]]
    picks = []
    for i, column in enumerate(columns):
        value = f"%(c{i})s::{sql_types[i]}" if same[i] else f"c{i}"
        picks.append(f"{value}::jsonb" if isinstance(column.type, JSON) else value)
    sql = template.format(picks=", ".join(picks), names=", ".join(f"c{i}" for i in varying),
                          arrays=", ".join(f"%(c{i})b::{sql_types[i]}[]" for i in varying))
    constants = {f"c{i}": convert[i](rows[0][names[i]]) for i in range(len(names)) if same[i]}
    for chunk in _chunks(rows, 50 * CHUNK):
        params = dict(constants)
        params.update({f"c{i}": [convert[i](r[names[i]]) for r in chunk] for i in varying})
        connection.exec_driver_sql(sql, params)


def _converter(column: Any, dialect: Any) -> Any:
    """A column value -> what the driver gets (memoized for hashable values such as dates)."""
    if isinstance(column.type, JSON):
        dump = column.type.dialect_impl(dialect).bind_processor(dialect) if dialect.name != "postgresql" else None
        return dump or (lambda v: json_dumps(v))
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda v: v
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            return memo[value]
        except KeyError:
            memo[value] = out = process(value)
            return out
        except TypeError:  # unhashable
            return process(value)

    return convert

"""Who meets which deadline of an imported list, for the officers' dashboard: milestone statuses, on-time
rates, and the lists an officer may see (inside their jurisdiction). No HTTP and no markup here.

A milestone is *done on time* when done on or before its legal `due` day (Beijing date), *done late*
after it, *overdue* when not done and `due` has passed, *due soon* when not done and due within 30 days.
The on-time rate counts milestones that are done or whose due day has passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from handlers.officers import ForbiddenError, Jurisdiction, authorize
from rules.i18n import DEFAULT_LOCALE, N_
from storage import Enterprise, Milestone, Repositories
from storage.models import ListImport, Officer

TZ = ZoneInfo("Asia/Shanghai")
DUE_SOON_DAYS = 30
STATUSES = ("all", "overdue", "due_soon", "done")
STATUS_LABELS = {
    "all": N_("All"), "overdue": N_("Overdue"), "due_soon": N_("Due within 30 days"), "done": N_("Done"),
    "done_on_time": N_("Done on time"), "done_late": N_("Done late"), "pending": N_("Not yet due"),
}


def local_today() -> date:
    return datetime.now(TZ).date()


def done_day(done_at: datetime) -> date:
    return (done_at if done_at.tzinfo else done_at.replace(tzinfo=UTC)).astimezone(TZ).date()


def milestone_status(due: date, done_at: datetime | None, today: date) -> str:
    """done_on_time, done_late, overdue, due_soon or pending (see the module docstring)."""
    if done_at is not None:
        return "done_on_time" if done_day(done_at) <= due else "done_late"
    if due < today:
        return "overdue"
    return "due_soon" if due <= today + timedelta(days=DUE_SOON_DAYS) else "pending"


def on_time_rates(items: Iterable[tuple[str, date, datetime | None]], today: date) -> dict[str, tuple[int, int]]:
    """Per kind: (done on time, counted), counting milestones done or past their due day."""
    out: dict[str, tuple[int, int]] = {}
    for kind, due, done_at in items:
        status = milestone_status(due, done_at, today)
        if status in ("done_on_time", "done_late", "overdue"):
            good, total = out.get(kind, (0, 0))
            out[kind] = (good + (status == "done_on_time"), total + 1)
    return out


def enterprise_matches(statuses: list[str], wanted: str) -> bool:
    if wanted == "all":
        return True
    if wanted == "done":
        return bool(statuses) and all(s.startswith("done") for s in statuses)
    return wanted in statuses


def rate_text(rate: tuple[int, int]) -> str:
    good, total = rate
    return f"{100 * good / total:.0f}% ({good}/{total})" if total else "—"


@dataclass(frozen=True, slots=True)
class Row:
    enterprise: Enterprise
    line: int
    milestones: list[tuple[Milestone, str]]


@dataclass(frozen=True, slots=True)
class ListView:
    list_import: ListImport
    rows: list[Row]
    rates: dict[str, tuple[int, int]]
    mine: int = 0  # enterprises of the list in the officer's jurisdiction (before the page's filters)
    total: int = 0  # enterprises on the whole list; more than `mine` when the officer sees their part only

    @property
    def part(self) -> bool:
        return self.mine < self.total


@dataclass(frozen=True, slots=True)
class ImportSummary:
    list_import: ListImport
    enterprises: int  # in the officer's jurisdiction
    counts: dict[str, int]
    rate: tuple[int, int]
    total: int = 0  # on the whole list

    @property
    def part(self) -> bool:
        return self.enterprises < self.total


def load_officer(sessions: sessionmaker[Session], officer_id: int) -> Officer | None:
    with sessions() as session:
        officer = Repositories(session).officers.get_by_id(officer_id)
        if officer is not None:
            session.expunge(officer)
        return officer


def covers(officer: Officer, imp: ListImport) -> bool:
    """Whether the whole list lies inside the officer's jurisdiction."""
    try:
        authorize(officer, imp.province, imp.city, imp.county)
    except ForbiddenError:
        return False
    return True


def place_inside(officer: Officer, imp: ListImport, city: str | None, county: str | None) -> bool:
    """Whether an entry of the list placed in (city, county) lies in the officer's jurisdiction."""
    return Jurisdiction.of(officer).covers(imp.province, city, county)


def reaches(repos: Repositories, officer: Officer, imp: ListImport) -> bool:
    """Whether the officer may open the list: it lies inside their jurisdiction, or at least one of its
    enterprises does (a city officer and the province's list: they see their city's part of it)."""
    return covers(officer, imp) or (imp.province == officer.province and any(
        place_inside(officer, imp, c, k) for c, k in repos.oversight.list_import_places(imp.id)))


def check_reach(repos: Repositories, officer: Officer, imp: ListImport, *, locale: str = DEFAULT_LOCALE) -> bool:
    """True if the officer sees the whole list, False if their part of it; ForbiddenError (as `authorize`
    words it) when none of its enterprises is in their jurisdiction."""
    if covers(officer, imp):
        return True
    if reaches(repos, officer, imp):
        return False
    authorize(officer, imp.province, imp.city, imp.county, locale=locale)
    raise AssertionError("authorize refuses a list the officer does not cover")


def visible_import(officer: Officer, imp: ListImport | None) -> ListImport | None:
    """`imp` if the officer may know of it: a file already imported by an office above or beside them
    is not named to them (its id would reveal a list outside their jurisdiction)."""
    return imp if imp is not None and covers(officer, imp) else None


def _summary(imp: ListImport, entries: int, total: int,
             items: list[tuple[str, date, datetime | None]], today: date) -> ImportSummary:
    counts = {s: 0 for s in STATUS_LABELS}
    for _, due, done in items:
        counts[milestone_status(due, done, today)] += 1
    rates = on_time_rates(items, today).values()
    rate = (sum(g for g, _ in rates), sum(t for _, t in rates))
    return ImportSummary(imp, entries, counts, rate, total)


def load_index(sessions: sessionmaker[Session], officer: Officer, today: date) -> list[ImportSummary]:
    """The lists the officer may open, newest first: those inside their jurisdiction, and those holding at
    least one of its enterprises, counted over that part only (`ImportSummary.part`)."""
    with sessions() as session:
        repos = Repositories(session)
        lists = repos.imports.list_by_province(officer.province)
        mine = [i for i in lists if covers(officer, i)]
        dates = repos.imports.list_milestone_dates([i.id for i in mine])
        whole: dict[int, ImportSummary] = {}
        for imp in mine:
            items = [(k, due, done) for iid, k, due, done in dates if iid == imp.id]
            n = repos.imports.count_entries(imp.id)
            whole[imp.id] = _summary(imp, n, n, items, today)
        wider = {i.id: i for i in lists if i.id not in whole}
        parts: dict[int, tuple[set[int], set[int], list[tuple[str, date, datetime | None]]]] = {}
        for iid, entry_id, city, county, kind, due, done in repos.oversight.list_part_milestones(list(wider)):
            inside, every, items = parts.setdefault(iid, (set(), set(), []))
            every.add(entry_id)
            if place_inside(officer, wider[iid], city, county):
                inside.add(entry_id)
                if kind is not None and due is not None:
                    items.append((kind, due, done))
        for iid, (inside, every, items) in parts.items():
            if inside:
                whole[iid] = _summary(wider[iid], len(inside), len(every), items, today)
        session.expunge_all()
        return [whole[i.id] for i in lists if i.id in whole]


def load_list(sessions: sessionmaker[Session], officer: Officer, import_id: int, today: date, status: str,
              industry: str) -> ListView | None:
    """The list, filtered; None if there is no such list, ForbiddenError if none of its enterprises is in
    the officer's jurisdiction. A list wider than the jurisdiction is shown as the officer's part of it:
    its rows, counts and rates are of those enterprises only (`ListView.part`)."""
    with sessions() as session:
        repos = Repositories(session)
        imp = repos.imports.get_by_id(import_id)
        if imp is None:
            return None
        whole = check_reach(repos, officer, imp)
        rows: dict[int, Row] = {}
        every: set[int] = set()
        for entry, enterprise, milestone in repos.imports.list_enterprise_milestones(import_id):
            every.add(entry.id)
            if not whole and not place_inside(officer, imp, entry.city or enterprise.city,
                                              entry.county or enterprise.county):
                continue
            row = rows.setdefault(entry.id, Row(enterprise, entry.line, []))
            if milestone is not None:
                row.milestones.append((milestone, milestone_status(milestone.due, milestone.done_at, today)))
        all_items = [(m.kind, m.due, m.done_at) for r in rows.values() for m, _ in r.milestones]
        session.expunge_all()
    kept = [r for r in rows.values() if (r.enterprise.industry_code or "").upper().startswith(industry.upper())
            and enterprise_matches([s for _, s in r.milestones], status)]
    return ListView(imp, kept, on_time_rates(all_items, today), len(rows), len(every))

"""What officers follow and record, for the dashboard's overview, filtered lists and enterprise pages.
No HTTP and no markup here; queries are in `storage.oversight`.

- **The jurisdiction** is every enterprise on a list of the officer's province whose place (the list's
  市/县, else the enterprise's) the officer covers: a province officer sees every city, a city officer
  the city, a county officer the county (`handlers.officers.Jurisdiction`).
- **The overview** groups it one level below the officer (cities for a province officer, counties for
  a city or county officer): enterprises, the on-time rate per milestone (`handlers.compliance`),
  enterprises with an overdue milestone (enterprises, not milestones), enterprises nobody can be
  reached at yet; and the share of each milestone done by the end of each month.
- **Officer actions** (report received, evaluation passed, acceptance passed: a date; a disclosure's
  evidence rejected: a reason) are logged with who and when; a stage marks its open milestone done on
  that day; a rejection reopens the milestone, plans its reminders again and tells each reachable
  contact why, in the contact's language, through the outbox. Nothing is written when a check fails.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session, sessionmaker

from handlers.compliance import TZ, done_day, milestone_status, on_time_rates
from handlers.messages import Choice, Outbound
from handlers.officers import ForbiddenError, Jurisdiction, place_key
from handlers.reminders import (
    ACTION_WORDS,
    DONE_LABELS,
    DONE_WORDS,
    ReminderPolicy,
    initial_reminders,
    outbound_payload,
)
from handlers.status import KIND_LABELS
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, gettext_for
from storage import Contact, Enterprise, Milestone, Repositories, utcnow
from storage.models import AuditCycle, ListEntry, ListImport, Officer, OfficerAction
from storage.oversight import ListedRow, ListQuery, SentReminder

BASIS_LABELS = {
    "pollution": N_("over the emission limits"), "energy": N_("high energy use"), "toxic": N_("toxic substances"),
    "key_industry": N_("key industry"), "master_list": N_("master list"),
}
ACTION_LABELS = {
    "report_received": N_("Audit report received"), "evaluation_passed": N_("Evaluation passed"),
    "acceptance_passed": N_("Acceptance passed"), "evidence_rejected": N_("Evidence rejected"),
}
STAGES = {"report_received": "report", "evaluation_passed": "evaluation", "acceptance_passed": "acceptance"}
# The steps of one audit round in the order they happen: a step recorded proves the earlier ones were done.
ROUND_STEPS = ("start", "report", "evaluation", "acceptance")
LIST_STATUSES = ("all", "overdue", "due_soon", "done", "done_on_time", "done_late", "counted")
LIST_STATUS_LABELS = {
    "all": N_("All"), "overdue": N_("Overdue"), "due_soon": N_("Due within 30 days"), "done": N_("Done"),
    "done_on_time": N_("Done on time"), "done_late": N_("Done late"), "counted": N_("Done or past due"),
}
REACH = ("all", "unreachable", "reachable")
PAGE_SIZE = 100
MAX_REASON = 500
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PLACE = re.compile(r"^[^\x00-\x1f<>\"'&]{1,64}$")
OUTSIDE = N_("Forbidden: this enterprise is outside your jurisdiction.")


class OversightError(QingshenError):
    """A dashboard input is wrong; `field` names it and the message says what is expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# -- masking (个人信息保护法: an officer sees that someone is bound, not who) ---------------------------


def mask_name(name: str | None) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***, Li Lei → L*****; empty → ''."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678; a landline 0351-1234567 → 0351-***4567; other ids keep 2 + 2."""
    digits = (phone or "").strip()
    if not digits:
        return ""
    if re.fullmatch(r"1\d{10}", digits):
        return digits[:3] + "****" + digits[-4:]
    if m := re.fullmatch(r"(0\d{2,3})-?(\d{7,8})", digits):
        return f"{m.group(1)}-" + "*" * (len(m.group(2)) - 4) + m.group(2)[-4:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * min(8, len(digits) - 4) + digits[-2:]


# -- filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    city: str = ""
    county: str = ""
    status: str = "all"
    kind: str = ""
    reach: str = "all"
    basis: str = ""
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str], tr: Gettext) -> Filters:
        """From a query string; OversightError naming the parameter for anything not understood."""
        def place(name: str) -> str:
            value = unicodedata.normalize("NFKC", query.get(name, "")).strip()
            if value and not PLACE.match(value):
                raise OversightError(name, tr(N_("{field}: not a place name.")).format(field=name))
            return value

        def one_of(name: str, allowed: Iterable[str], default: str) -> str:
            value = query.get(name, default).strip() or default
            options = tuple(allowed)
            if value not in options:
                raise OversightError(name, tr(N_("{field}: {value} is not one of {allowed}.")).format(
                    field=name, value=value[:40], allowed=", ".join(o for o in options if o)))
            return value

        page_text = query.get("page", "1").strip() or "1"
        if not page_text.isascii() or not page_text.isdigit() or not 1 <= int(page_text) <= 10_000:
            raise OversightError("page", tr(N_("{field}: a page number from 1 is expected.")).format(field="page"))
        return cls(place("city"), place("county"), one_of("status", LIST_STATUSES, "all"),
                   one_of("kind", ("", *KIND_LABELS), ""), one_of("reach", REACH, "all"),
                   one_of("basis", ("", *BASIS_LABELS), ""), int(page_text))

    def query(self, **changes: object) -> dict[str, str]:
        """The non-default parameters, with `changes` applied (for links)."""
        values = {"city": self.city, "county": self.county, "status": self.status, "kind": self.kind,
                  "reach": self.reach, "basis": self.basis, "page": str(self.page)}
        values.update({k: str(v) for k, v in changes.items()})
        defaults = {"status": "all", "reach": "all", "page": "1"}
        return {k: v for k, v in values.items() if v and v != defaults.get(k)}


# -- the jurisdiction --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tracked:
    """One listed enterprise in the jurisdiction: its row, its milestones [(kind, due, done_at, status)]."""

    row: ListedRow
    milestones: tuple[tuple[str, date, datetime | None, str], ...]
    reachable: bool

    def statuses(self, kind: str = "") -> list[str]:
        return [s for k, _, _, s in self.milestones if not kind or k == kind]


def _status_matches(t: Tracked, f: Filters) -> bool:
    statuses = t.statuses(f.kind)
    if f.status == "all":
        return not f.kind or bool(statuses)
    if f.status == "done":
        return bool(statuses) and all(s.startswith("done") for s in statuses)
    if f.status == "counted":
        return any(s in ("done_on_time", "done_late", "overdue") for s in statuses)
    return f.status in statuses


def district_of(officer: Officer, row: ListedRow) -> tuple[str, str]:
    """(city, county) of the overview line the row falls in: the city for a province officer, the city
    and county for a city or county officer."""
    return district_of_place(officer, row.city, row.county)


def district_of_place(officer: Officer, city: str | None, county: str | None) -> tuple[str, str]:
    if officer.city is None:
        return (city or "", "")
    return (city or officer.city or "", county or "")


def place_matches(officer: Officer, f: Filters, city: str | None, county: str | None) -> bool:
    """Whether a raw place (as listed) passes the list's city and county filters."""
    d_city, d_county = district_of_place(officer, city, county)
    if f.city and place_key(city or d_city) != place_key(f.city):
        return False
    return not (f.county and place_key(county or d_county) != place_key(f.county))


def covered_places(sessions: sessionmaker[Session], officer: Officer) -> set[tuple[str | None, str | None]]:
    """The raw places of the province's lists the officer covers."""
    scope = Jurisdiction.of(officer)
    with sessions() as session:
        places = Repositories(session).oversight.list_places(officer.province)
    return {p for p in places if scope.covers(officer.province, *p)}


def find_tracked(sessions: sessionmaker[Session], officer: Officer, f: Filters, today: date,
                 page_size: int | None = PAGE_SIZE) -> tuple[int, list[Tracked]]:
    """(how many enterprises match the filters, page `f.page` of them, or all when page_size is None), by
    district then name: what `select_tracked(officer, load_tracked(...), f)` gives, filtered, sorted and
    paged in SQL."""
    scope = Jurisdiction.of(officer)
    with sessions() as session:
        repos = Repositories(session)
        places = tuple(sorted({(c or "", k or "") for c, k in repos.oversight.list_places(officer.province)
                               if scope.covers(officer.province, c, k) and place_matches(officer, f, c, k)}))
        q = ListQuery(places, f.status, f.kind, f.reach, f.basis, page_size,
                      (f.page - 1) * page_size if page_size is not None else 0)
        total, rows = repos.oversight.find_listed(officer.province, q, today)
        milestones = repos.oversight.list_milestones_of([r.cycle_id for r, _ in rows])
    by_cycle: dict[int, list[tuple[str, date, datetime | None, str]]] = {}
    for m in milestones:
        status = milestone_status(m.due, m.done_at, today)
        by_cycle.setdefault(m.cycle_id, []).append((m.kind, m.due, m.done_at, status))
    return total, [Tracked(r, tuple(by_cycle.get(r.cycle_id, ())), reachable) for r, reachable in rows]


def load_tracked(sessions: sessionmaker[Session], officer: Officer, today: date) -> list[Tracked]:
    """Every listed enterprise inside the officer's jurisdiction, with milestone statuses (all of them in
    Python: the reference `load_overview` and `find_tracked` are checked against in tests)."""
    scope = Jurisdiction.of(officer)
    with sessions() as session:
        repos = Repositories(session)
        rows = repos.oversight.list_listed(officer.province)
        milestones = repos.oversight.list_listed_milestones(officer.province)
        reachable = repos.oversight.list_reachable_enterprise_ids(officer.province)
    covered: dict[tuple[str | None, str | None], bool] = {}
    by_cycle: dict[int, list[tuple[str, date, datetime | None, str]]] = {}
    status_of: dict[tuple[date, datetime | None], str] = {}
    for m in milestones:
        key = (m.due, m.done_at)
        status = status_of.get(key)
        if status is None:
            status = status_of[key] = milestone_status(m.due, m.done_at, today)
        by_cycle.setdefault(m.cycle_id, []).append((m.kind, m.due, m.done_at, status))
    out = []
    for r in rows:
        place = (r.city, r.county)
        if place not in covered:
            covered[place] = scope.covers(officer.province, r.city, r.county)
        if covered[place]:
            out.append(Tracked(r, tuple(by_cycle.get(r.cycle_id, ())), r.enterprise_id in reachable))
    return out


def select_tracked(officer: Officer, tracked: Iterable[Tracked], f: Filters) -> list[Tracked]:
    """The enterprises behind a number of the overview, by district then name."""
    city, county = place_key(f.city), place_key(f.county)
    out = []
    for t in tracked:
        d_city, d_county = district_of(officer, t.row)
        if f.city and place_key(t.row.city or d_city) != city:
            continue
        if f.county and place_key(t.row.county or d_county) != county:
            continue
        if f.basis and f.basis not in t.row.grounds:
            continue
        if (f.reach == "unreachable" and t.reachable) or (f.reach == "reachable" and not t.reachable):
            continue
        if _status_matches(t, f):
            out.append(t)
    out.sort(key=lambda t: (t.row.city or "", t.row.county or "", t.row.name or "", t.row.enterprise_id))
    return out


# -- the overview ------------------------------------------------------------------------------------


@dataclass
class DistrictLine:
    city: str
    county: str
    enterprises: int = 0
    overdue: int = 0  # enterprises with at least one overdue milestone
    unreachable: int = 0
    rates: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, t: Tracked, today: date) -> None:
        self.enterprises += 1
        self.overdue += "overdue" in t.statuses()
        self.unreachable += not t.reachable
        for kind, (good, total) in on_time_rates(((k, d, at) for k, d, at, _ in t.milestones), today).items():
            g, n = self.rates.get(kind, (0, 0))
            self.rates[kind] = (g + good, n + total)


@dataclass(frozen=True, slots=True)
class Overview:
    lines: list[DistrictLine]
    total: DistrictLine
    kinds: list[str]
    trend: dict[str, list[tuple[date, float]]]  # per kind: (month end, share done by then, 0..1)


def load_overview(sessions: sessionmaker[Session], officer: Officer, today: date) -> Overview:
    """The overview counted in SQL, by raw place, then summed here into the officer's districts: the same
    figures as `overview(officer, load_tracked(...), today)` in two statements that return a row per place
    (and per kind and month), not per enterprise."""
    scope = Jurisdiction.of(officer)
    with sessions() as session:
        repos = Repositories(session)
        places = repos.oversight.count_places(officer.province, today)
        milestones = repos.oversight.count_milestones(officer.province, today)
    covered: dict[tuple[str | None, str | None], bool] = {}

    def inside(city: str | None, county: str | None) -> bool:
        if (city, county) not in covered:
            covered[(city, county)] = scope.covers(officer.province, city, county)
        return covered[(city, county)]

    lines: dict[tuple[str, str], DistrictLine] = {}
    total = DistrictLine("", "")
    first: date | None = None

    def line_of(city: str | None, county: str | None) -> DistrictLine:
        key = district_of_place(officer, city, county)
        if key not in lines:
            lines[key] = DistrictLine(*key)
        return lines[key]

    for p in places:
        if not inside(p.city, p.county):
            continue
        first = p.first_published if first is None else min(first, p.first_published)
        for line in (line_of(p.city, p.county), total):
            line.enterprises += p.enterprises
            line.overdue += p.overdue
            line.unreachable += p.unreachable
    counts: dict[str, int] = {}
    done_by_month: dict[str, dict[str, int]] = {}
    for m in milestones:
        if not inside(m.city, m.county):
            continue
        counts[m.kind] = counts.get(m.kind, 0) + m.milestones
        if m.month is not None:
            months = done_by_month.setdefault(m.kind, {})
            months[m.month] = months.get(m.month, 0) + m.milestones
        if m.counted:
            for line in (line_of(m.city, m.county), total):
                good, n = line.rates.get(m.kind, (0, 0))
                line.rates[m.kind] = (good + m.on_time, n + m.counted)
    present = set(counts)
    kinds = [k for k in KIND_LABELS if k in present] + sorted(present - set(KIND_LABELS))
    out: dict[str, list[tuple[date, float]]] = {}
    if first is not None:
        ends = month_ends(first, today)
        for kind, n in counts.items():
            months = done_by_month.get(kind, {})
            points = []
            for i, end in enumerate(ends):
                last = i == len(ends) - 1  # today: every day done so far, this month's included
                upto = f"{end.year:04d}-{end.month:02d}"
                done = sum(c for month, c in months.items() if month != "later" and (last or month <= upto))
                points.append((end, done / n))
            out[kind] = points
    return Overview(sorted(lines.values(), key=lambda d: (d.city, d.county)), total, kinds, out)


def overview(officer: Officer, tracked: list[Tracked], today: date) -> Overview:
    lines: dict[tuple[str, str], DistrictLine] = {}
    total = DistrictLine("", "")
    for t in tracked:
        city, county = district_of(officer, t.row)
        line = lines.get((city, county))
        if line is None:
            line = lines[(city, county)] = DistrictLine(city, county)
        line.add(t, today)
        total.add(t, today)
    present = {k for t in tracked for k, _, _, _ in t.milestones}
    kinds = [k for k in KIND_LABELS if k in present] + sorted(present - set(KIND_LABELS))
    return Overview(sorted(lines.values(), key=lambda d: (d.city, d.county)), total, kinds, trend(tracked, today))


def month_ends(first: date, last: date) -> list[date]:
    """The last day of each month from `first`'s to the month before `last`'s, then `last` (at most 36)."""
    out: list[date] = []
    y, m = first.year, first.month
    while (y, m) < (last.year, last.month):
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append(date(y, m, 1) - timedelta(days=1))
    return [*out[-35:], last]


def trend(tracked: list[Tracked], today: date) -> dict[str, list[tuple[date, float]]]:
    """Per milestone kind, the share of the jurisdiction's milestones done by the end of each month."""
    if not tracked:
        return {}
    ends = month_ends(min(t.row.published_on for t in tracked), today)
    done: dict[str, list[date]] = {}
    counts: dict[str, int] = {}
    for t in tracked:
        for kind, _, done_at, _ in t.milestones:
            counts[kind] = counts.get(kind, 0) + 1
            if done_at is not None:
                done.setdefault(kind, []).append(done_day(done_at))
    out = {}
    for kind, n in counts.items():
        days = sorted(done.get(kind, []))
        points, i = [], 0
        for end in ends:
            while i < len(days) and days[i] <= end:
                i += 1
            points.append((end, i / n))
        out[kind] = points
    return out


# -- one enterprise ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactLine:
    name: str  # masked
    address: str  # masked
    channel: str
    reachable: bool
    consented: date | None


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    milestone: Milestone
    status: str
    done_on: date | None
    who: str  # masked name of the contact who gave it ('' when unknown or an officer)


@dataclass(frozen=True, slots=True)
class EnterpriseView:
    enterprise: Enterprise
    province: str
    city: str | None
    county: str | None
    entries: list[tuple[ListEntry, ListImport]]
    cycle: AuditCycle | None
    milestones: list[EvidenceLine]
    contacts: list[ContactLine]
    reminders: list[SentReminder]
    actions: list[OfficerAction]


def place_of(repos: Repositories, enterprise: Enterprise) -> tuple[str | None, str | None, str | None]:
    """(province, city, county) the enterprise is supervised in: its latest list, else its own fields."""
    entries = repos.oversight.list_entries_with_imports(enterprise.id)
    if entries:
        entry, imp = entries[0]
        return imp.province, entry.city or imp.city or enterprise.city, entry.county or imp.county or enterprise.county
    return enterprise.province, enterprise.city, enterprise.county


def _enterprise_in_scope(repos: Repositories, officer: Officer, enterprise_id: int,
                         tr: Gettext) -> tuple[Enterprise, tuple[str, str | None, str | None]] | None:
    """The enterprise if it exists; ForbiddenError when it lies outside the officer's jurisdiction."""
    enterprise = repos.enterprises.get_by_id(enterprise_id)
    if enterprise is None:
        return None
    province, city, county = place_of(repos, enterprise)
    if province is None or not Jurisdiction.of(officer).covers(province, city, county):
        raise ForbiddenError(tr(OUTSIDE))
    return enterprise, (province, city, county)


def _cycle_milestones(repos: Repositories, enterprise_id: int) -> tuple[AuditCycle | None, list[Milestone]]:
    cycle = repos.cycles.get_by_enterprise(enterprise_id)
    return cycle, (repos.milestones.list_by_cycle(cycle.id) if cycle is not None else [])


def load_enterprise(sessions: sessionmaker[Session], officer: Officer, enterprise_id: int, today: date,
                    tr: Gettext) -> EnterpriseView | None:
    """The enterprise page's data; None if there is no such enterprise, ForbiddenError outside."""
    with sessions() as session:
        repos = Repositories(session)
        found = _enterprise_in_scope(repos, officer, enterprise_id, tr)
        if found is None:
            return None
        enterprise, (province, city, county) = found
        cycle, milestones = _cycle_milestones(repos, enterprise_id)
        contacts = repos.oversight.list_contacts(enterprise_id)
        by_id = {c.id: c for c in contacts}
        others = [m.done_by_contact_id for m in milestones
                  if m.done_by_contact_id is not None and m.done_by_contact_id not in by_id]
        by_id.update(repos.oversight.get_contacts_by_ids(others))
        lines = [EvidenceLine(m, milestone_status(m.due, m.done_at, today),
                              done_day(m.done_at) if m.done_at is not None else None,
                              _who(by_id.get(m.done_by_contact_id) if m.done_by_contact_id else None))
                 for m in milestones]
        view = EnterpriseView(
            enterprise, province, city, county, repos.oversight.list_entries_with_imports(enterprise_id), cycle,
            lines, [_contact_line(c) for c in contacts], repos.oversight.list_sent_reminders(enterprise_id),
            repos.oversight.list_actions(enterprise_id))
        session.expunge_all()
        return view


def _who(contact: Contact | None) -> str:
    if contact is None:
        return ""
    return mask_name(contact.display_name) or mask_phone(contact.user_id)


def _contact_line(c: Contact) -> ContactLine:
    consented = c.consented_at.astimezone(TZ).date() if c.consented_at is not None else None
    reachable = c.consented_at is not None and c.unsubscribed_at is None
    return ContactLine(mask_name(c.display_name), mask_phone(c.user_id), c.channel, reachable, consented)


def parse_day(text: str, today: date, tr: Gettext, *, name: str = "date") -> date:
    """A YYYY-MM-DD day, not after today; OversightError naming the field otherwise."""
    text = text.strip()
    try:
        day = date.fromisoformat(text) if ISO_DAY.match(text) else None
    except ValueError:
        day = None
    if day is None:
        raise OversightError(name, tr(N_("{field}: a day as YYYY-MM-DD is expected, not {value}.")).format(
            field=name, value=text[:20] or "—"))
    if day > today:
        raise OversightError(name, tr(N_("{field}: {day} is in the future.")).format(field=name, day=day))
    if day.year < 2000:
        raise OversightError(name, tr(N_("{field}: {day} is before 2000.")).format(field=name, day=day))
    return day


def _noon(day: date) -> datetime:
    """The moment a day stated by an officer is stored at: noon in Beijing."""
    return datetime.combine(day, time(12), TZ).astimezone(UTC)


def record_stage(sessions: sessionmaker[Session], officer: Officer, enterprise_id: int, kind: str,
                 day_text: str, today: date, tr: Gettext) -> OfficerAction | None:
    """Log a report received / evaluation passed / acceptance passed on a day, and mark the current
    cycle's open milestone of that stage done on that day (its reminders stop), with the round's earlier
    steps still open (a report received shows the audit was started: done by that day at the latest).
    None if there is no such enterprise; ForbiddenError outside the jurisdiction; OversightError for a bad
    kind, a stage that would close nothing (no open milestone of it nor an earlier open step in the current
    round: nothing is logged), or a day in the future or before the list was published. A stage the round has
    no open milestone of, but with earlier steps open, closes those and is logged without a milestone (the
    action log says so)."""
    if kind not in STAGES:
        raise OversightError("kind", tr(N_("{field}: {value} is not one of {allowed}.")).format(
            field="kind", value=kind[:40], allowed=", ".join(STAGES)))
    day = parse_day(day_text, today, tr)
    with sessions.begin() as session:
        repos = Repositories(session)
        if _enterprise_in_scope(repos, officer, enterprise_id, tr) is None:
            return None
        cycle, milestones = _cycle_milestones(repos, enterprise_id)
        if cycle is not None and cycle.list_published_on is not None and day < cycle.list_published_on:
            why = tr(N_("{field}: {day} is before the list was published ({published})."))
            raise OversightError("date", why.format(field="date", day=day, published=cycle.list_published_on))
        target = next((m for m in milestones if m.kind == STAGES[kind] and m.done_at is None), None)
        earlier = ROUND_STEPS[:ROUND_STEPS.index(STAGES[kind])]
        if target is None and not any(m.done_at is None and m.kind in earlier for m in milestones):
            raise OversightError("kind", _nothing_open(kind, milestones, tr))
        for m in milestones:
            if m.done_at is None and (m is target or m.kind in earlier):
                repos.milestones.mark_done(m, at=_noon(day))
                repos.reminders.cancel_for_milestone(m.id)
        action = repos.oversight.add_action(officer_id=officer.id, officer_name=officer.name,
                                            enterprise_id=enterprise_id, kind=kind, on_date=day,
                                            milestone_id=target.id if target is not None else None)
        session.expunge(action)
        return action


def _nothing_open(kind: str, milestones: list[Milestone], tr: Gettext) -> str:
    """Why recording the stage would change nothing: its milestone is done already (on which day), or the
    current round has none of it."""
    stage = tr(ACTION_LABELS[kind])
    done = [m for m in milestones if m.kind == STAGES[kind] and m.done_at is not None]
    if done:
        day = max(done_day(m.done_at) for m in done if m.done_at is not None)
        return tr(N_("{field}: “{stage}” is already recorded as done on {day} in this round: there was nothing open "
                     "to close, so nothing was recorded.")).format(field="kind", stage=stage, day=day)
    return tr(N_("{field}: this round has no “{stage}” milestone (none was planned for this enterprise): there was "
                 "nothing open to close, so nothing was recorded.")).format(field="kind", stage=stage)


def rejection_message(milestone: Milestone, evidence: str, reason: str, locale: str) -> Outbound:
    """What a contact is told when an officer rejects the evidence given for a milestone."""
    tr = gettext_for(locale)
    what = tr(KIND_LABELS.get(milestone.kind, milestone.kind))
    text = tr(N_("The authority did not accept the evidence given for \"{what}\" ({link}). Reason: {reason}\n"
                 "Please correct it and reply {done} with the new link.")).format(
        what=what, link=evidence, reason=reason,
        done=DONE_WORDS.get(milestone.kind, ACTION_WORDS["done"]).first(locale))
    return Outbound(text, (Choice(f"done:{milestone.id}", tr(DONE_LABELS.get(milestone.kind, N_("Done")))),))


def reject_evidence(sessions: sessionmaker[Session], officer: Officer, enterprise_id: int, milestone_id: int,
                    reason: str, today: date, tr: Gettext,
                    policy: ReminderPolicy | None = None) -> tuple[OfficerAction, int] | None:
    """Reject the evidence of a done milestone: log it, reopen the milestone, plan its reminders again and
    queue the reason to each reachable contact. (action, messages queued); None if the enterprise or the
    milestone is not there; ForbiddenError outside; OversightError for a missing reason or no evidence."""
    reason = " ".join("".join(ch for ch in reason if unicodedata.category(ch) != "Cc" or ch.isspace()).split())
    if not reason:
        raise OversightError("reason", tr(N_("{field}: say why the evidence is rejected.")).format(field="reason"))
    if len(reason) > MAX_REASON:
        raise OversightError("reason", tr(N_("{field}: at most {n} characters.")).format(field="reason", n=MAX_REASON))
    with sessions.begin() as session:
        repos = Repositories(session)
        if _enterprise_in_scope(repos, officer, enterprise_id, tr) is None:
            return None
        _, milestones = _cycle_milestones(repos, enterprise_id)
        milestone = next((m for m in milestones if m.id == milestone_id), None)
        if milestone is None:
            return None
        if milestone.done_at is None or not milestone.evidence:
            raise OversightError("milestone", tr(N_("{field}: this milestone has no evidence to reject.")).format(
                field="milestone"))
        evidence = milestone.evidence
        action = repos.oversight.add_action(officer_id=officer.id, officer_name=officer.name,
                                            enterprise_id=enterprise_id, kind="evidence_rejected",
                                            milestone_id=milestone.id, reason=reason, evidence=evidence)
        repos.milestones.reopen(milestone)
        plan = initial_reminders(milestone.nominal, policy or ReminderPolicy(), today)
        repos.reminders.add_for_milestone(milestone.id, [(f"{k}_r{action.id}", d) for k, d in plan])
        sent = 0
        for contact in repos.contacts.list_by_enterprise(enterprise_id):
            message = rejection_message(milestone, evidence, reason, contact.locale or DEFAULT_LOCALE)
            sent += repos.outbox.add_if_absent(f"oa:{action.id}:{contact.id}", channel=contact.channel,
                                               address=contact.user_id,
                                               payload=outbound_payload(message, kind="evidence_rejected"),
                                               not_before=utcnow())
        session.expunge(action)
        return action, sent

"""The overview counted in SQL (`load_overview`) and the enterprise list filtered, sorted and paged in SQL
(`find_tracked`) give exactly what the in-Python reference gives (`overview` / `select_tracked` over
`load_tracked`), on SQLite and PostgreSQL, for a seeded jurisdiction built to catch the hard cases:

- done at 23:59 and at 00:00 China time on and after the legal last day (15:59 / 16:00 UTC);
- done at 00:30 China time on the 1st of a month (the previous month in UTC), and done after today;
- places written as listed and as the enterprise has them (no 市/县 on the list row), 太原 for 太原市,
  full-width and spaced variants, no place at all;
- an enterprise on two lists in different cities (the latest list wins), a superseded cycle;
- names that sort differently by code point than in an English collation (Zeta before alpha), equal
  names (then by id), no name;
- contacts consented, unsubscribed (one or two), none."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handlers.oversight import (
    BASIS_LABELS,
    LIST_STATUSES,
    REACH,
    Filters,
    find_tracked,
    load_overview,
    load_tracked,
    overview,
    select_tracked,
)
from storage import AuditCycle, Contact, Enterprise, Milestone, Repositories
from storage.models import ListEntry, ListImport, Officer
from tests.dashboard.dashkit import code

TODAY = date(2026, 4, 10)
KINDS = ("disclosure", "start", "report", "acceptance")
PLACES = [("太原市", "小店区"), ("太原", "小店区"), ("太原市", "迎泽区"), ("太原市 ", "小店"), ("ＴＹ市", None),
          ("大同市", "平城区"), ("大同市", None), (None, None), (None, "平城区"), ("长治市", "潞州区")]
NAMES = ["Zeta厂", "alpha厂", "甲厂", "乙厂", "Ａ厂", "甲厂", None, "小店甲厂", "b厂"]
GROUNDS = [["pollution"], ["energy"], ["toxic"], ["pollution", "toxic"], [], ["key_industry"]]


def _done_at(rng: random.Random, due: date) -> datetime | None:
    """Mostly the edges: the due day's last and next day's first China minute, a month's first China
    half hour, after today; or not done."""
    pick = rng.randrange(8)
    edge = datetime(due.year, due.month, due.day, tzinfo=UTC)
    if pick == 0:
        return None
    if pick == 1:
        return edge + timedelta(hours=15, minutes=59)  # 23:59 in Beijing on the due day: on time
    if pick == 2:
        return edge + timedelta(hours=16)  # 00:00 in Beijing the next day: late
    if pick == 3:
        first = date(due.year + (due.month == 12), due.month % 12 + 1, 1)
        return datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=7, minutes=30)
    if pick == 4:
        return datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) + timedelta(days=rng.randrange(1, 5))
    if pick == 5:  # 00:10 in Beijing on the day after today (still today in UTC)
        return datetime(TODAY.year, TODAY.month, TODAY.day, 16, 10, tzinfo=UTC)
    return edge - timedelta(days=rng.randrange(0, 90))


def _seed(sessions: sessionmaker[Session], n: int = 90) -> None:
    rng = random.Random(13)
    with sessions.begin() as s:
        repos = Repositories(s)
        province = repos.officers.add(name="省", role="ecology", province="shanxi", password_hash="x")
        repos.officers.add(name="市", role="ecology", province="shanxi", city="太原市", password_hash="x")
        repos.officers.add(name="县", role="ecology", province="shanxi", city="太原", county="小店区",
                           password_hash="x")
        repos.officers.add(name="同", role="ecology", province="shanxi", city="大同", password_hash="x")
        old = ListImport(officer_id=province.id, province="shanxi", file_sha256="a" * 64, filename="old.xlsx",
                         published_on=date(2025, 6, 1), row_count=n)
        new = ListImport(officer_id=province.id, province="shanxi", city=None, file_sha256="b" * 64,
                         filename="new.xlsx", published_on=date(2026, 1, 15), row_count=n)
        other = ListImport(officer_id=None, province="shandong", file_sha256="c" * 64, filename="sd.xlsx",
                           published_on=date(2026, 1, 15), row_count=1)
        s.add_all([old, new, other])
        s.flush()
        for i in range(n):
            city, county = rng.choice(PLACES)
            own_city, own_county = rng.choice(PLACES)
            e = Enterprise(credit_code=code(f"911401{i % 7:02d}MA{i:07d}"), name=rng.choice(NAMES),
                           province="shandong" if i == n - 1 else "shanxi", city=own_city, county=own_county)
            s.add(e)
            s.flush()
            lists = [(other, date(2026, 1, 15))] if i == n - 1 else (
                [(old, date(2025, 6, 1)), (new, date(2026, 1, 15))] if i % 5 == 0 else
                [(rng.choice([old, new]), None)])
            for number, (imp, day) in enumerate(lists):
                published = day or imp.published_on
                assert published is not None
                superseded = number < len(lists) - 1 or i % 17 == 3
                cycle = AuditCycle(enterprise_id=e.id, list_published_on=published, source="import", grounds=[],
                                   superseded_at=datetime(2026, 1, 20, tzinfo=UTC) if superseded else None)
                s.add(cycle)
                s.flush()
                for kind in rng.sample(KINDS, rng.randrange(0, len(KINDS) + 1)):
                    due = date(2025, 11, 30) + timedelta(days=rng.randrange(0, 200))
                    s.add(Milestone(cycle_id=cycle.id, kind=kind, nominal=due, due=due, citation="", note="",
                                    done_at=_done_at(rng, due)))
                listed_city, listed_county = (city, county) if rng.random() < 0.7 else (None, None)
                if number == 0 and len(lists) == 2:
                    listed_city, listed_county = "长治市", "潞州区"  # the older list had it elsewhere
                s.add(ListEntry(import_id=imp.id, enterprise_id=e.id, cycle_id=cycle.id, line=i + 2,
                                grounds=rng.choice(GROUNDS), published_on=published, city=listed_city,
                                county=listed_county))
            for state in rng.sample(["consented", "unsubscribed", "left"], rng.randrange(0, 3)):
                s.add(Contact(channel="test", user_id=f"u{i}{state}", enterprise_id=e.id, locale="zh_CN",
                              consented_at=datetime(2026, 2, 1, tzinfo=UTC),
                              unsubscribed_at=None if state == "consented" else datetime(2026, 3, 1, tzinfo=UTC)))


def _officers(sessions: sessionmaker[Session]) -> list[Officer]:
    with sessions() as s:
        officers = [o for o in (Repositories(s).officers.get_by_id(i) for i in range(1, 5)) if o is not None]
        s.expunge_all()
    assert len(officers) == 4
    return officers


def test_overview_in_sql_equals_the_reference(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    for officer in _officers(sessions):
        expected = overview(officer, load_tracked(sessions, officer, TODAY), TODAY)
        got = load_overview(sessions, officer, TODAY)
        assert got == expected, officer.name
        assert expected.total.enterprises > 0 and expected.trend  # the seed reaches every officer
    province = _officers(sessions)[0]
    total = load_overview(sessions, province, TODAY).total
    assert total.overdue and total.unreachable and total.rates  # numbers that could be wrong, not zeros


@pytest.mark.parametrize("status", LIST_STATUSES)
def test_enterprise_list_in_sql_equals_the_reference(sessions: sessionmaker[Session], status: str) -> None:
    _seed(sessions)
    rng = random.Random(status)
    for officer in _officers(sessions):
        tracked = load_tracked(sessions, officer, TODAY)
        cases = [{"status": status}, {"status": status, "kind": rng.choice(KINDS)},
                 {"status": status, "reach": rng.choice(REACH[1:]), "basis": rng.choice(list(BASIS_LABELS))},
                 {"status": status, "city": "太原", "county": "小店区"}, {"status": status, "city": "大同市"},
                 {"status": status, "county": "平城"}, {"status": status, "city": "ＴＹ"}]
        for query in cases:
            f = Filters.parse(query, str)
            expected = select_tracked(officer, tracked, f)
            count, every = find_tracked(sessions, officer, f, TODAY, None)
            assert (count, every) == (len(expected), expected), (officer.name, query)
            for size in (7, 100):
                pages = [find_tracked(sessions, officer, Filters.parse({**query, "page": str(p)}, str), TODAY, size)
                         for p in range(1, len(expected) // size + 3)]
                assert [t for _, page in pages for t in page] == expected, (officer.name, query, size)
                assert {c for c, _ in pages} == {len(expected)}

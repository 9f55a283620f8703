"""The dashboard's pages run as many SQL statements for 60 listed enterprises as for 6: no query per enterprise
(what keeps the overview and the list fast for a jurisdiction of 10,000, measured by `make bench`, section
"dashboard"). Counted with an SQLAlchemy `before_cursor_execute` listener over real HTTP, SQLite and
PostgreSQL: a count, not a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.dashboard import dashboard_routes
from bot.server import create_app
from handlers.invitations import Place
from handlers.officers import hash_password
from storage import AuditCycle, Contact, Enterprise, Milestone, Repositories
from storage.models import ListEntry
from tests.dashboard.dashkit import PASSWORD, SECRET, TODAY, NoConversation, _add_list, code, login, serve

PAGES = ["/officer/overview", "/officer/enterprises", "/officer/enterprises?status=overdue&city=太原市",
         "/officer/", "/officer/lists/{list}", "/officer/lists/{list}/invitations"]
CITIES = ("太原市", "大同市", "长治市")


def _rows(n: int, start: int) -> list[tuple]:
    """n enterprises in three cities, each with an overdue disclosure and a start due later."""
    return [(f"企业{i}有限公司", code(f"911401{i % 3:02d}MA{i:07d}"), "C2611", [
        ("disclosure", date(2026, 3, 10), None, None), ("start", date(2026, 4, 20), None, None),
    ]) for i in range(start, start + n)]


@pytest.fixture
def counted(engine: Engine, sessions: sessionmaker[Session]) -> Iterator[tuple[httpx.Client, list[str], int]]:
    """A logged-in Shanxi officer's client, the statements run since the last clear, and the list's id."""
    with sessions.begin() as s:
        officer = Repositories(s).officers.add(name="晋官员", role="ecology", province="shanxi",
                                                password_hash=hash_password(PASSWORD))
        list_id = _add_list(s, officer.id, "shanxi", None, [], "c" * 64)
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    settings = Settings.model_validate({"database_url": "sqlite://", "api_keys": ("k" * 24,)})
    routes = dashboard_routes(sessions, session_secret=SECRET, today=lambda: TODAY,
                              place=Place("清审", "https://qs.example/"))
    with serve(create_app(settings, NoConversation(), routes=routes)) as url, \
            httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
        assert login(client, "晋官员").status_code == 303
        event.listen(engine, "before_cursor_execute", count)
        try:
            yield client, seen, list_id
        finally:
            event.remove(engine, "before_cursor_execute", count)


def _grow(sessions: sessionmaker[Session], list_id: int, n: int, start: int) -> None:
    """n more enterprises on the list (in its cities), every other one with a consented contact."""
    with sessions.begin() as s:
        for i, (name, credit, industry, milestones) in enumerate(_rows(n, start)):
            city = CITIES[i % len(CITIES)]
            e = Enterprise(credit_code=credit, name=name, province="shanxi", city=city, industry_code=industry)
            s.add(e)
            s.flush()
            cycle = AuditCycle(enterprise_id=e.id, list_published_on=date(2026, 1, 15), source="import", grounds=[])
            s.add(cycle)
            s.flush()
            for kind, due, done_at, evidence in milestones:
                s.add(Milestone(cycle_id=cycle.id, kind=kind, nominal=due, due=due, citation="第八条", note="",
                                done_at=done_at, evidence=evidence))
            s.add(ListEntry(import_id=list_id, enterprise_id=e.id, cycle_id=cycle.id, line=start + i + 2,
                            grounds=["pollution"], published_on=date(2026, 1, 15), city=city))
            if i % 2:
                s.add(Contact(channel="test", user_id=f"c{start + i}", enterprise_id=e.id, locale="zh_CN",
                              consented_at=datetime(2026, 3, 1, tzinfo=UTC)))


def _statements(client: httpx.Client, seen: list[str], path: str) -> int:
    client.get(path)  # the first visit may create what later ones only read (the invitation codes)
    seen.clear()
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return len(seen)


def test_no_page_runs_a_query_per_enterprise(counted: tuple[httpx.Client, list[str], int],
                                            sessions: sessionmaker[Session]) -> None:
    client, seen, list_id = counted
    pages = [p.format(list=list_id) for p in PAGES]
    _grow(sessions, list_id, 6, 0)
    few = {p: _statements(client, seen, p) for p in pages}
    assert "企业1有限公司" in client.get("/officer/enterprises").text
    _grow(sessions, list_id, 54, 6)
    many = {p: _statements(client, seen, p) for p in pages}
    assert "企业59有限公司" in client.get("/officer/enterprises").text  # the 54 new ones are shown
    assert many == few, {p: (few[p], many[p]) for p in pages if few[p] != many[p]}
    assert all(n > 0 for n in few.values())

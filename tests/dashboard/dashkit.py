"""Helpers for the dashboard tests: a fixture list in Shanxi (and one in Shandong), officers with
passwords, a real uvicorn server with `dashboard_routes`, and logging in with httpx."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp
from stdnum.cn import uscc

from bot.config import Settings
from bot.dashboard import dashboard_routes
from bot.server import create_app
from handlers.messages import Inbound, Outbound
from handlers.officers import hash_password
from storage import AuditCycle, Enterprise, Milestone, Repositories
from storage.models import ListEntry, ListImport
from tests.webkit import serve

TODAY = date(2026, 4, 1)
LISTED = date(2026, 1, 15)
PASSWORD = "correct horse 42"
SCRIPT_NAME = "<script>alert(1)</script>"
SECRET = b"test-secret-0123456789abcdef0123"


@dataclass(frozen=True)
class Fixture:
    shanxi_officer: int
    shandong_officer: int
    shanxi_list: int
    shandong_list: int


class NoConversation:
    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        return []

    def inbox(self, channel: str, user_id: str) -> list[Outbound]:
        return []


def code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def _at(day: str, hour: int = 2) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# (name, credit code, industry, [(kind, due, done_at, evidence)])
SHANXI = [
    ("按时企业有限公司", code("91140100MA0000001"), "C2611", [
        ("disclosure", date(2026, 3, 10), _at("2026-03-09"), "https://example.org/evidence/a"),
        ("start", date(2026, 4, 20), None, None),
    ]),
    (SCRIPT_NAME, code("91140100MA0000002"), "C3011", [
        ("disclosure", date(2026, 3, 10), _at("2026-03-15"), "盖章公示截图"),
        ("start", date(2026, 3, 25), None, None),
    ]),
    ("远期企业有限公司", code("91140100MA0000003"), "D4411", [
        ("report", date(2026, 3, 20), _at("2026-03-20", 15), None),  # 23:00 in Beijing: on time
        ("disclosure", date(2026, 6, 30), None, None),
    ]),
]


def _add_list(session: Session, officer_id: int, province: str, city: str | None, rows: list, sha: str) -> int:
    imp = ListImport(officer_id=officer_id, province=province, city=city, county=None, file_sha256=sha,
                     filename=f"{province}-list.xlsx", document_number="环发〔2026〕1号", published_on=LISTED,
                     row_count=len(rows))
    session.add(imp)
    session.flush()
    for line, (name, code, industry, milestones) in enumerate(rows, start=2):
        enterprise = Enterprise(credit_code=code, name=name, province=province, city=city, industry_code=industry)
        session.add(enterprise)
        session.flush()
        cycle = AuditCycle(enterprise_id=enterprise.id, list_published_on=LISTED, source="import", grounds=[])
        session.add(cycle)
        session.flush()
        for kind, due, done_at, evidence in milestones:
            session.add(Milestone(cycle_id=cycle.id, kind=kind, nominal=due, due=due, citation="第八条", note="",
                                  done_at=done_at, evidence=evidence))
        session.add(ListEntry(import_id=imp.id, enterprise_id=enterprise.id, cycle_id=cycle.id, line=line,
                              grounds=[], published_on=LISTED, city=city))
    session.flush()
    return imp.id


def seed(sessions: sessionmaker[Session]) -> Fixture:
    with sessions.begin() as session:
        repos = Repositories(session)
        pw = hash_password(PASSWORD)
        sx = repos.officers.add(name="晋官员", role="ecology", province="shanxi", password_hash=pw)
        sd = repos.officers.add(name="鲁官员", role="ecology", province="shandong", password_hash=pw)
        sx_list = _add_list(session, sx.id, "shanxi", None, SHANXI, "a" * 64)
        sd_list = _add_list(session, sd.id, "shandong", None, [
            ("山东秘密企业有限公司", code("91370100MA0000009"), "C2611",
             [("disclosure", date(2026, 3, 1), None, None)])], "b" * 64)
        return Fixture(sx.id, sd.id, sx_list, sd_list)


def app_for(sessions: sessionmaker[Session]) -> ASGIApp:
    settings = Settings.model_validate({"database_url": "sqlite://", "api_keys": ("k" * 24,)})
    routes = dashboard_routes(sessions, session_secret=SECRET, today=lambda: TODAY)
    return create_app(settings, NoConversation(), routes=routes)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


def login(client: httpx.Client, who: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(client.get("/officer/login").text)
    return client.post("/officer/login", data={"login": who, "password": password, "csrf": token})


@contextmanager
def from_address(base_url: str, local: str) -> Iterator[httpx.Client]:
    """A client whose requests come from another loopback address (127.0.0.2, ...): another desk."""
    transport = httpx.HTTPTransport(local_address=local)
    with httpx.Client(base_url=base_url, transport=transport, follow_redirects=False, timeout=20) as client:
        yield client


LIST_HEADER = ("企业名称", "统一社会信用代码", "审核依据", "名单公布日期", "文号", "市/县")


def list_csv(rows: list[tuple[str, str, str]], day: str = "2026-03-31") -> bytes:
    """A list file as officers upload it: (name, credit code, place) per row, all listed for 超标."""
    lines = [",".join(LIST_HEADER)] + [f"{name},{code_},超标,{day},晋环发〔2026〕9号,{place}"
                                       for name, code_, place in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def bad_check(code_: str) -> str:
    return code_[:-1] + ("0" if code_[-1] != "0" else "1")


# Three good rows (one already listed in the fixture's Shanxi list), a wrong check character, a duplicate.
UPLOAD_ROWS = [
    ("新上榜甲有限公司", code("91140100MA0000101"), "太原市/清徐县"),
    ("新上榜乙有限公司", code("91140200MA0000102"), "大同市/平城区"),
    ("按时企业有限公司", code("91140100MA0000001"), "太原市/小店区"),
    ("校验错误有限公司", bad_check(code("91140100MA0000103")), "太原市/清徐县"),
    ("重复有限公司", code("91140100MA0000101"), "太原市/清徐县"),
]


@contextmanager
def served_dashboard(folder: Path) -> Iterator[tuple[str, Fixture, sessionmaker[Session]]]:
    """The seeded dashboard over real HTTP on a fresh SQLite file in `folder`: (base URL, fixture, sessions)."""
    from storage import make_engine, session_factory, upgrade

    url = f"sqlite:///{folder / 'qingshen.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    sessions: sessionmaker[Session] = session_factory(engine)
    fixture = seed(sessions)
    with serve(app_for(sessions)) as base:
        yield base, fixture, sessions
    engine.dispose()


def log_in_page(page: Any, base: str, who: str = "晋官员", password: str = PASSWORD) -> None:
    """Log a Playwright page in through the login form and wait for the dashboard."""
    page.goto(base + "/officer/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", password)
    page.click("form.login button")
    page.wait_for_url(base + "/officer/")


@contextmanager
def logged_in(base_url: str, who: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """An HTTP client logged in as `who` (the login answered 303 to the dashboard)."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        response = login(client, who, password)
        assert response.status_code == 303 and response.headers["location"] == "/officer/"
        yield client

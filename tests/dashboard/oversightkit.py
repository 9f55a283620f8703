"""A Shanxi jurisdiction of four listed enterprises in two cities and three counties, with officers at
province, city and county level (and one in Shandong), for the overview and enterprise-page tests.

| enterprise | city · county | basis | milestones (today 2026-04-01) | contact |
|---|---|---|---|---|
| 小店甲厂 | 太原市 · 小店区 | 双超 | disclosure on time with a link; start, report overdue | 张三, en |
| 迎泽乙厂 | 太原市 · 迎泽区 | 高耗能 | disclosure overdue | nobody |
| 平城丙厂 | 大同市 · 平城区 | 双有 | disclosure done late; report overdue; acceptance ahead | unsubscribed |
| 平城丁厂 | 大同市 · 平城区 | 双超 | disclosure ahead | nobody |

So the province has 4 enterprises, 3 of them overdue (4 milestones overdue), 3 not reachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session, sessionmaker

from handlers.officers import hash_password
from storage import AuditCycle, Contact, Enterprise, Milestone, Reminder, Repositories
from storage.models import ListEntry, ListImport
from tests.dashboard.dashkit import LISTED, PASSWORD, code

__all__ = ["PASSWORD", "Jurisdictions", "seed_jurisdictions"]

EVIDENCE = "https://example.org/disclosure/xiaodian"


def at(day: str, hour: int = 2) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# (name, credit-code body, city, county, grounds, [(kind, due, done_at, evidence)], contact)
ROWS = [
    ("小店甲厂", "91140100MA0000101", "太原市", "小店区", ["pollution"], [
        ("disclosure", date(2026, 2, 14), at("2026-02-10"), EVIDENCE),
        ("start", date(2026, 3, 16), None, None),
        ("report", date(2026, 3, 30), None, None),
    ], "reachable"),
    ("迎泽乙厂", "91140100MA0000102", "太原市", "迎泽区", ["energy"], [
        ("disclosure", date(2026, 2, 14), None, None),
    ], None),
    ("平城丙厂", "91140200MA0000103", "大同市", "平城区", ["toxic"], [
        ("disclosure", date(2026, 2, 14), at("2026-02-20"), "https://example.org/disclosure/pingcheng"),
        ("report", date(2026, 3, 1), None, None),
        ("acceptance", date(2026, 12, 31), None, None),
    ], "unsubscribed"),
    ("平城丁厂", "91140200MA0000104", "大同市", "平城区", ["pollution"], [
        ("disclosure", date(2026, 6, 30), None, None),
    ], None),
]


@dataclass(frozen=True)
class Jurisdictions:
    enterprises: dict[str, int]  # by name
    milestones: dict[tuple[str, str], int]  # (enterprise name, kind) -> id
    contact: int


def seed_jurisdictions(sessions: sessionmaker[Session]) -> Jurisdictions:
    with sessions.begin() as session:
        repos = Repositories(session)
        pw = hash_password(PASSWORD)
        province = repos.officers.add(name="省官员", role="ecology", province="shanxi", password_hash=pw)
        repos.officers.add(name="太原官员", role="ecology", province="shanxi", city="太原市", password_hash=pw)
        repos.officers.add(name="小店官员", role="ecology", province="shanxi", city="太原", county="小店区",
                           password_hash=pw)
        repos.officers.add(name="鲁官员", role="ecology", province="shandong", password_hash=pw)
        imp = ListImport(officer_id=province.id, province="shanxi", city=None, county=None, file_sha256="c" * 64,
                         filename="shanxi-2026.xlsx", document_number="晋环发〔2026〕1号", published_on=LISTED,
                         row_count=len(ROWS))
        session.add(imp)
        session.flush()
        enterprises: dict[str, int] = {}
        milestones: dict[tuple[str, str], int] = {}
        contact_id = 0
        for line, (name, body, city, county, grounds, plan, contact) in enumerate(ROWS, start=2):
            e = Enterprise(credit_code=code(body), name=name, province="shanxi", city=city, county=county,
                           industry_code="C3011")
            session.add(e)
            session.flush()
            cycle = AuditCycle(enterprise_id=e.id, list_published_on=LISTED, source="import", grounds=[])
            session.add(cycle)
            session.flush()
            for kind, due, done_at, evidence in plan:
                m = Milestone(cycle_id=cycle.id, kind=kind, nominal=due, due=due, citation="第八条", note="",
                              done_at=done_at, evidence=evidence)
                session.add(m)
                session.flush()
                milestones[(name, kind)] = m.id
            session.add(ListEntry(import_id=imp.id, enterprise_id=e.id, cycle_id=cycle.id, line=line,
                                  grounds=grounds, published_on=LISTED, city=city, county=county))
            if contact is not None:
                c = Contact(channel="web", user_id=f"1381234{line:04d}", enterprise_id=e.id,
                            consented_at=at("2026-01-20"), display_name="张三" if contact == "reachable" else None,
                            locale="en" if contact == "reachable" else "zh_CN",
                            unsubscribed_at=at("2026-03-01") if contact == "unsubscribed" else None)
                session.add(c)
                session.flush()
                if contact == "reachable":
                    contact_id = c.id
                    done_by = session.get(Milestone, milestones[(name, "disclosure")])
                    assert done_by is not None
                    done_by.done_by_contact_id = c.id
            enterprises[name] = e.id
        session.add(Reminder(milestone_id=milestones[("小店甲厂", "start")], kind="overdue_1",
                             send_on=date(2026, 3, 17), status="queued", queued_at=at("2026-03-17")))
        sd = ListImport(officer_id=None, province="shandong", file_sha256="d" * 64, filename="sd.xlsx",
                        published_on=LISTED, row_count=1)
        session.add(sd)
        session.flush()
        e = Enterprise(credit_code=code("91370100MA0000105"), name="山东戊厂", province="shandong")
        session.add(e)
        session.flush()
        cycle = AuditCycle(enterprise_id=e.id, list_published_on=LISTED, source="import", grounds=[])
        session.add(cycle)
        session.flush()
        session.add(ListEntry(import_id=sd.id, enterprise_id=e.id, cycle_id=cycle.id, line=2, grounds=["energy"],
                              published_on=LISTED))
        enterprises["山东戊厂"] = e.id
        return Jurisdictions(enterprises, milestones, contact_id)

"""删除我的数据 leaves nothing of the person: a Henan contact fills the application form, invites a colleague,
subscribes the calendar and gets reminders queued, then asks to be forgotten. Every table of the database
(SQLite and PostgreSQL) is then read in full and holds no byte of them; the form link, the calendar link
and the invitation code are dead (over real HTTP, through the real dispatcher). A listed enterprise the
officer needs stays, anonymised."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from bot.calendar import calendar_routes
from bot.channels.registry import PushedChoices
from bot.channels.wecom import first_time
from bot.config import Settings
from bot.server import create_app
from bot.sweep import sweep
from handlers import henan_form
from handlers.dispatcher import Dispatcher
from handlers.messages import Choice, Inbound, Outbound
from handlers.reminders import ReminderPolicy
from storage import Milestone, Repositories
from storage.models import EnterpriseInvitation, ListEntry, ListImport
from tests.storage.erasure_kit import dump, traces
from tests.webkit import serve

TODAY = date(2026, 4, 1)
NOON = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)  # 12:00 in China: reminders due today are queued
PERSON = "wx-open-id-erasure-7f3a91"
PHONE, EMAIL = "13912345678", "wang.qiang.erasure@example.com"
LEGAL_REP, CONTACT_NAME = "王强", "李华"
ANSWERS: dict[str, str] = {
    "name": "郑州清源化工有限公司", "address": "河南省郑州市金水区经三路1号", "legal_representative": LEGAL_REP,
    "industry_name": "有机化学原料制造", "industry_code": "2614", "output_10k_yuan": "1.2亿",
    "energy_tce": "3500.5吨标煤", "pollutants": "COD 12吨", "products": "甲醇 5万吨", "contact_name": CONTACT_NAME,
    "contact_title": "环保科长", "mobile": PHONE, "email": EMAIL, "eia_accepted": "否", "has_permit": "否",
    "auditor_intent": "否", "restructuring": "否", "filled_by": CONTACT_NAME,
}


def code_of(body: str) -> str:
    return body + uscc.calc_check_digit(body)


class Person:
    """One chat id talking to the real dispatcher."""

    def __init__(self, dispatcher: Dispatcher, user: str, channel: str = "wechat") -> None:
        self.dispatcher, self.user, self.channel = dispatcher, user, channel
        self.last: list[Outbound] = []

    def say(self, text: str | None = None, choice: str | None = None) -> str:
        self.last = self.dispatcher.dispatch(Inbound(self.channel, self.user, text=text, choice=choice))
        return "\n".join(o.text for o in self.last)

    def consent(self, code: str) -> None:
        self.say("你好")
        self.say(choice="consent:yes")
        self.say(code)


def form_asking(sessions: sessionmaker[Session], channel: str, user: str) -> str | None:
    with sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address(channel, user)
        assert contact is not None
        conversation = repos.conversations.get_by_contact_id(contact.id)
        form = (conversation.state if conversation else {}).get(henan_form.STATE_KEY)
        return None if form is None or form.get("stage") != "asking" else str(form["asking"])


def test_erasure_leaves_no_byte_of_the_person(engine: Engine, sessions: sessionmaker[Session]) -> None:
    base: dict[str, str] = {}
    dispatcher = Dispatcher(sessions, today=lambda: TODAY, calendar_url=lambda t: f"{base['url']}/calendar/{t}.ics")
    app = create_app(Settings.model_validate({"database_url": "sqlite://", "api_keys": ["k" * 20]}), dispatcher,
                     routes=[*calendar_routes(sessions), *henan_form.henan_routes(sessions)])
    credit = code_of("91410100MA4A7777L")
    with serve(app) as url:
        base["url"] = url
        person = Person(dispatcher, PERSON)
        person.consent(credit)
        with sessions.begin() as s:  # the eligible voluntary verdict (the interview's questions are tested elsewhere)
            repos = Repositories(s)
            contact = repos.contacts.get_by_address("wechat", PERSON)
            assert contact is not None and contact.enterprise_id is not None
            enterprise_id = contact.enterprise_id
            repos.assessments.add(facts={"province": "henan", "industry_code": "2614"}, as_of=TODAY,
                                  obligation="voluntary", result={"voluntary": {"eligible": True}}, pack_versions={},
                                  enterprise_id=enterprise_id, contact_id=contact.id)
            cycle = repos.cycles.add(enterprise_id, source="chat", list_published_on=date(2026, 3, 31))
            milestone = repos.milestones.add(cycle.id, kind="disclosure", nominal=date(2026, 4, 30),
                                             due=date(2026, 4, 30), citation="《清洁生产审核办法》第十一条")
            repos.reminders.add_for_milestone(milestone.id, [("before_30", TODAY)])

        # the application form, with the phone, the e-mail and the legal representative
        assert "申请表" in person.say("申请表")
        for _ in range(40):
            asking = form_asking(sessions, "wechat", PERSON)
            if asking is None:
                break
            person.say(ANSWERS[asking])
        assert "请核对申请表内容" in "\n".join(o.text for o in person.last), person.last
        links = re.findall(r"(http://\S+/forms/henan/(\S+)\.xlsx)", person.say("确认"))
        assert links, person.last
        form_link, form_token = links[0]
        form = httpx.get(form_link)
        assert form.status_code == 200 and form.content[:2] == b"PK"

        # a colleague's invitation code, the calendar, queued reminders
        invite = re.search(r"绑定 ([A-Z0-9]{8})", person.say("邀请同事"))
        assert invite is not None, person.last
        code = invite.group(1)
        status = person.say("我的期限")
        calendar = re.search(r"(http://\S+/calendar/(\S+)\.ics)", status)
        assert calendar is not None, status
        calendar_link, calendar_token = calendar.groups()
        assert httpx.get(calendar_link).status_code == 200
        assert sweep(sessions, now=NOON, policy=ReminderPolicy()).queued >= 1
        # what the WeChat adapter keeps per chat id: pushed choices, an event's dedupe row, the 48-hour window
        PushedChoices(sessions, "wechat").remember(PERSON, [Choice("done:disclosure", "已公布")])
        assert first_time(sessions, f"wechat:evt:{PERSON}:1775000000:subscribe")
        with sessions.begin() as s:
            Repositories(s).kv.put(f"wechat:seen:{PERSON}", NOON.isoformat(), expires_at=NOON + timedelta(hours=47))

        needles = {"chat id": PERSON, "phone": PHONE, "email": EMAIL, "legal representative": LEGAL_REP,
                   "contact name": CONTACT_NAME, "form token": form_token, "calendar token": calendar_token,
                   "invitation code": code, "credit code": credit}
        before = {what for line in traces(engine, needles) for what in [line.split(":")[0]]}
        assert before == set(needles), before  # the test sees every trace while it is there
        assert any(PERSON in row for row in dump(engine)["outbox"])

        assert person.say("删除我的数据") and [c.id for c in person.last[-1].choices] == ["forget:yes", "forget:no"]
        assert "已删除" in person.say(choice="forget:yes")

        left = traces(engine, needles)
        assert left == [], "\n".join(left)
        with sessions() as s:
            assert Repositories(s).enterprises.get_by_id(enterprise_id) is None  # only this person told us of it

        assert httpx.get(form_link).status_code == 404
        assert httpx.get(calendar_link).status_code == 404
        colleague = Person(dispatcher, "colleague-1", channel="test")
        colleague.consent("跳过")
        colleague.say(f"绑定 {code}")
        with sessions() as s:
            other = Repositories(s).contacts.get_by_address("test", "colleague-1")
            assert other is not None and other.enterprise_id is None  # the code was refused


def test_a_listed_enterprise_stays_without_the_person(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """The officer needs a listed enterprise's milestones: they stay, with the done date and the evidence
    link, but not who confirmed; the printed invitation code stays used, but not by whom."""
    credit = code_of("91410100MA4A6666L")
    with sessions.begin() as s:
        repos = Repositories(s)
        enterprise = repos.enterprises.add(credit_code=credit, name="河南列名企业有限公司", province="henan")
        listed = ListImport(province="henan", file_sha256="0" * 64, filename="list.xlsx", row_count=1,
                            published_on=date(2026, 3, 31))
        s.add(listed)
        s.flush()
        cycle = repos.cycles.add(enterprise.id, source="import", list_published_on=date(2026, 3, 31))
        s.add(ListEntry(import_id=listed.id, enterprise_id=enterprise.id, cycle_id=cycle.id, line=2, grounds=[],
                        published_on=date(2026, 3, 31)))
        repos.milestones.add(cycle.id, kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 4, 30))
        s.add(EnterpriseInvitation(code="QSXSTR22", enterprise_id=enterprise.id, list_import_id=listed.id))
        enterprise_id = enterprise.id
    dispatcher = Dispatcher(sessions, today=lambda: TODAY, calendar_url=lambda t: f"http://qs.example/calendar/{t}.ics")
    person = Person(dispatcher, PERSON)
    person.consent("跳过")
    assert "2026-04-30" in person.say("绑定 QSXSTR22"), person.last  # joined: the listed deadlines
    evidence = "https://www.example.gov.cn/gs/2026/qingyuan.html"
    person.say(f"已公布 {evidence}")
    status = person.say("我的期限")
    calendar = re.search(r"/calendar/(\S+)\.ics", status)
    assert calendar is not None, status
    with sessions() as s:
        done: Any = s.scalars(select(Milestone)).one()
        assert done.done_at is not None and done.done_by_contact_id is not None, person.last

    person.say("删除我的数据")
    assert "已删除" in person.say(choice="forget:yes")

    left = traces(engine, {"chat id": PERSON, "calendar token": calendar.group(1)})
    assert left == [], "\n".join(left)
    with sessions() as s:
        repos = Repositories(s)
        kept = repos.enterprises.get_by_id(enterprise_id)
        assert kept is not None and kept.credit_code == credit and kept.calendar_token is None
        milestone = s.scalars(select(Milestone)).one()
        assert milestone.done_at is not None and milestone.evidence == evidence
        assert milestone.done_by_contact_id is None
        invitation = s.scalars(select(EnterpriseInvitation)).one()
        assert invitation.used_at is not None and invitation.used_by_contact_id is None
        assert repos.contacts.get_by_address("wechat", PERSON) is None

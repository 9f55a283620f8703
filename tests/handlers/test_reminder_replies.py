"""Replies to reminders, read like conversations: confirm a step (with its evidence link), snooze,
unsubscribe, see the deadlines, and fetch them as an .ics calendar. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest
from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from bot.calendar import calendar_ics
from storage import Contact, Repositories
from tests.handlers.chatkit import ChatBot, credit_code
from tests.handlers.chatkit import milestones as _milestones

TODAY = date(2026, 3, 31)
CODE = credit_code("91140100MA0K5555Q")


@pytest.fixture
def bot(sessions: sessionmaker[Session]) -> ChatBot:
    bot = ChatBot(sessions, TODAY)
    bot.dispatcher.calendar_url = lambda token: f"https://qs.example/calendar/{token}.ics"
    bot.start(code=CODE)                   # 9114…: the province is Shanxi
    bot.push("我们排放超标")                  # exceeds an emission standard: mandatory
    bot.push("2026-03-31")                 # the list was published today: the clock starts
    bot.skip_follow_ups()                  # never audited before, not evaluated
    return bot




def _pending_reminders(sessions: sessionmaker[Session], milestone_id: int) -> list[str]:
    with sessions() as s:
        return [r.kind for r in Repositories(s).reminders.list_by_milestone(milestone_id) if r.status == "pending"]


def test_the_verdict_opens_a_cycle_with_milestones_and_reminders(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    ms = _milestones(sessions)
    assert {"disclosure", "start", "report"} <= set(ms)
    assert ms["disclosure"].nominal == date(2026, 4, 30)
    assert "企业名称" in ms["disclosure"].note            # a disclosure reminder says what to publish
    kinds = _pending_reminders(sessions, ms["report"].id)
    assert "before_30" in kinds and "on_day" in kinds and "overdue_w1" in kinds
    assert "overdue_w2" not in kinds                    # the sweep plans each next weekly one as it sends one
    # the disclosure's 30-days-before reminder (2026-03-31) is today: still ahead, so it is planned
    assert "before_30" in _pending_reminders(sessions, ms["disclosure"].id)


def test_confirming_the_disclosure_asks_for_the_link_and_stops_its_reminders(
    bot: ChatBot, sessions: sessionmaker[Session]
) -> None:
    ms = _milestones(sessions)
    bot.pick(f"done:{ms['disclosure'].id}")
    assert "网址" in bot.text
    bot.push("公布在 https://example.gov.cn/notice/123 这里")
    assert "已记录" in bot.text and "https://example.gov.cn/notice/123" in bot.text
    done = _milestones(sessions)["disclosure"]
    assert done.done_at is not None and done.evidence == "https://example.gov.cn/notice/123"
    assert _pending_reminders(sessions, done.id) == []
    assert _pending_reminders(sessions, ms["start"].id)     # the other steps keep theirs


def test_a_typed_confirmation_with_its_link_needs_no_button(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.push("已公布 https://example.com/x")
    assert "已记录" in bot.text
    assert _milestones(sessions)["disclosure"].evidence == "https://example.com/x"
    bot.push("已开展")
    assert _milestones(sessions)["start"].done_at is not None


def test_someone_elses_milestone_cannot_be_confirmed(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.pick("done:999999")
    assert "没有找到" in bot.text


def test_snooze_and_unsubscribe(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    ms = _milestones(sessions)
    bot.pick(f"snooze:{ms['start'].id}")
    assert "2026-04-07" in bot.text
    assert _milestones(sessions)["start"].snoozed_until == date(2026, 4, 7)
    assert "snooze_2026-04-07" in _pending_reminders(sessions, ms["start"].id)   # sent on 2026-04-08
    bot.pick("unsubscribe")
    assert "恢复提醒" in bot.text
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "u1")
        assert isinstance(contact, Contact) and contact.unsubscribed_at is not None
    bot.push("恢复提醒")
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "u1")
        assert contact is not None and contact.unsubscribed_at is None


def test_status_lists_the_deadlines_and_a_calendar_link_that_serves_an_ics(
    bot: ChatBot, sessions: sessionmaker[Session]
) -> None:
    bot.push("已公布 https://example.com/x")
    bot.push("我的期限")
    assert "2026-05-31" in bot.text and "公布企业相关信息：已于" in bot.text   # the disclosure: done, with its day
    found = re.search(r"https://qs\.example/calendar/([\w-]+)\.ics", bot.text)
    assert found is not None, bot.text
    token = found.group(1)
    body = calendar_ics(sessions, token)
    assert body is not None
    events = [c for c in Calendar.from_ical(body).walk("VEVENT")]
    assert {str(e["dtstart"].dt) for e in events} >= {"2026-04-30", "2026-05-31", "2027-03-31"}
    assert calendar_ics(sessions, "not-a-token-at-all") is None


def test_a_henan_voluntary_audit_gets_its_four_yearly_re_review(sessions: sessionmaker[Session]) -> None:
    bot = ChatBot(sessions, date(2026, 11, 22))
    bot.start(code=credit_code("91410100MA4A7777K"))
    bot.deny_grounds()                      # 9141…: the province is Henan
    bot.push("水泥厂，年营业收入5000万")         # cement: industrial (section C); above designated size
    bot.confirm()                              # the trade was named in passing: confirmed before it is kept
    assert "符合条件" in bot.text and "验收" in bot.text   # eligible; asked when a voluntary audit passed acceptance
    bot.push("2025-12-01")
    assert "2029-12-01" in bot.text          # re-review every four years (七、（二）)
    bot.push("我的期限")
    assert "2029-12-01" in bot.text


def test_a_shanxi_enterprise_is_asked_for_its_evaluation_day_and_gets_the_acceptance_deadline(
    sessions: sessionmaker[Session],
) -> None:
    bot = ChatBot(sessions, date(2026, 11, 22))
    bot.start(code=credit_code("91140100MA0K6666R"))
    bot.push("排放超标")                      # over an emission standard
    bot.push("2025-12-31")                  # listed: an audit round, so a report that may have been evaluated
    bot.pick("none")                        # never audited before
    assert "评估" in bot.text                # Shanxi counts acceptance from the evaluation
    bot.push("2026-08-20")
    assert "2027-08-20" in bot.text          # acceptance within a year of the evaluation


def test_an_eligible_henan_contact_can_ask_for_the_application_form(sessions: sessionmaker[Session]) -> None:
    bot = ChatBot(sessions, date(2026, 11, 22))
    bot.start(code=credit_code("91410100MA4A8888L"))
    bot.deny_grounds()
    bot.push("我们是水泥厂，营业收入5000万")      # above designated size: eligible
    bot.confirm()
    bot.skip_follow_ups()
    bot.push("申请表")
    assert "取消" in bot.text and "申请表" in bot.text          # the form starts, one question at a time


def test_correcting_the_list_date_in_chat_moves_the_deadlines_and_their_reminders(
    sessions: sessionmaker[Session],
) -> None:
    bot = ChatBot(sessions, date(2026, 4, 1))
    bot.start(code=credit_code("91140100MA0K7777X"))
    bot.push("超标排放")
    bot.push("2026-06-30")                   # a day after today is refused at once, never stored
    assert "晚于今天（2026-04-01）" in bot.text
    bot.push("2026-02-28")                   # a typo: the list was published on 2026-03-31
    bot.skip_follow_ups()
    bot.push("重新开始")
    bot.push("超标排放")
    bot.push("2026-03-31")
    bot.skip_follow_ups()
    with sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address("test", "u1")
        assert contact is not None and contact.enterprise_id is not None
        current = repos.cycles.get_by_enterprise(contact.enterprise_id)
        assert current is not None and current.list_published_on == date(2026, 3, 31)
        cycles = repos.cycles.list_by_enterprise(contact.enterprise_id)
        wrong = next(c for c in cycles if c.list_published_on == date(2026, 2, 28))
        assert wrong.superseded_at is not None
        for m in repos.milestones.list_by_cycle(wrong.id):      # the mistaken clock reminds nobody
            assert all(r.status != "pending" for r in repos.reminders.list_by_milestone(m.id))
    bot.push("我的期限")
    assert "2026-04-30" in bot.text and "2026-03-28" not in bot.text


def test_correcting_the_last_audit_day_moves_the_five_year_round(sessions: sessionmaker[Session]) -> None:
    bot = ChatBot(sessions, date(2026, 11, 22))
    bot.start(code=credit_code("91650100MA7H1111T"))
    bot.push("排放超标")                        # over an emission standard (6501…: Xinjiang)
    bot.push("不是")                            # not a central enterprise (it would also report nationally)
    bot.pick("none")                          # no list yet
    bot.push("2022-06-30")                    # last audit completed
    bot.push("返回")
    bot.push("2023-06-30")                    # corrected
    bot.push("我的期限")
    assert "2028-06-30" in bot.text and "2027-06-30" not in bot.text

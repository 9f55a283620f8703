"""A list notice and the bind reply show each deadline as of the day they are built (done, due in N days,
overdue by N days with the penalty and what to do now) and promise only the reminders still ahead.

The Shanxi list of 2026-03-31, seen on 2026-12-02 (issue 10): publishing (target 2026-04-30) and starting the
audit (2026-05-31, legal last day 2026-06-01) are months past; the report (2027-03-31) is ahead.
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handlers.broadcast import fan_out, plan_notice
from handlers.cycles import import_rows
from handlers.listimport import read_list
from handlers.officers import Jurisdiction, redeem
from handlers.reminders import ReminderPolicy
from storage import Repositories
from tests.handlers.english import assert_no_chinese
from tests.officers.officerkit import NOW, add_contact, add_officer, csv_bytes, row, shanxi_code

IMPORTED = date(2026, 4, 1)
ASKED = date(2026, 12, 2)
ASKED_AT = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in China
POLICY = ReminderPolicy()


@pytest.fixture
def listed(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """(officer id, import id): the list of 2026-03-31 with enterprise 1 (two contacts: zh and en) and 2 (none)."""
    officer = add_officer(sessions)
    p = read_list(csv_bytes([row(1), row(2)]), "l.csv", Jurisdiction("shanxi"), today=IMPORTED)
    with sessions.begin() as s:
        repos = Repositories(s)
        out = import_rows(repos, repos.officers.get_by_id(officer.id) or officer, p, accept_partial=False,
                          today=IMPORTED, policy=POLICY, now=NOW)
        assert out.import_id is not None
        e = repos.enterprises.get_by_credit_code(shanxi_code(1))
        assert e is not None
        add_contact(repos, "zh", enterprise_id=e.id)
        add_contact(repos, "en", enterprise_id=e.id, locale="en")
        return officer.id, out.import_id


def notices(sessions: sessionmaker[Session], officer_id: int, import_id: int, today: date) -> dict[str, str]:
    """The notice text each contact of enterprise 1 gets, by address."""
    with sessions.begin() as s:
        repos = Repositories(s)
        officer = repos.officers.get_by_id(officer_id)
        assert officer is not None
        bid = plan_notice(repos, officer, import_id).id
        scope = Jurisdiction.of(officer)
    fan_out(sessions, scope, bid, today=today, policy=POLICY)
    out = {}
    with sessions() as s:
        repos = Repositories(s)
        for user in ("zh", "en"):
            contact = repos.contacts.get_by_address("test", user)
            assert contact is not None
            message = repos.outbox.get_by_key(f"bc:{bid}:{contact.id}")
            assert message is not None
            out[user] = str(message.payload["text"])
    return out


def promise(text: str, start: str) -> str:
    """The paragraph of `text` that starts with `start` (the reminder promise)."""
    found = [p for p in text.split("\n") if p.startswith(start)]
    assert len(found) == 1, text
    return found[0]


class TestNotice:
    def test_months_later_the_passed_deadlines_are_overdue_and_only_the_report_is_promised(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        zh = notices(sessions, *listed, ASKED)["zh"]
        assert "截至2026-12-02，您的期限" in zh
        assert "公布企业相关信息：已逾期216天：法定最后一日为2026-04-30" in zh, zh
        assert "开展清洁生产审核：已逾期184天：法定最后一日为2026-06-01" in zh, zh
        assert "完成审核并报送审核报告：还有119天，2027-03-31前完成" in zh, zh
        assert "风险：依照《中华人民共和国清洁生产促进法》第三十六条" in zh     # publishing: the penalty article
        assert "现在应当：立即办理" in zh                                      # and what to do now
        ahead = promise(zh, "每项尚未到期的期限到期前我都会提醒您")
        assert "完成审核并报送审核报告" in ahead
        assert "公布企业相关信息" not in ahead and "开展清洁生产审核" not in ahead
        assert "每项期限到期前我都会提醒您" not in zh                           # the old blanket promise
        late = promise(zh, "以下事项逾期已久，不再安排提醒")              # the policy's 8 weekly ones are used up
        assert "公布企业相关信息" in late and "开展清洁生产审核" in late
        assert "企业名称" in zh                                                # what to publish, still

    def test_the_english_notice_says_the_same_in_english(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        en = notices(sessions, *listed, ASKED)["en"]
        assert "Your deadlines as of 2026-12-02:" in en
        assert "Publish the enterprise's information: OVERDUE by 216 days: the legal last day was 2026-04-30" in en
        assert "Start the audit: OVERDUE by 184 days: the legal last day was 2026-06-01" in en
        assert "Complete the audit and submit the report: due in 119 days, by 2027-03-31" in en
        ahead = promise(en, "I will remind you before each deadline that is still ahead")
        assert "Complete the audit and submit the report)" in ahead
        assert "(Disclose last year's environmental information (yearly)" in ahead   # 令第24号, by 2027-03-15
        assert "“unsubscribe”" in en and "“my deadlines”" in en
        assert "(「晋环发〔2026〕1号」)" in en                   # the document number as the officer wrote it
        assert_no_chinese(en, allow=("企业1有限公司",))            # the enterprise's name is a name

    def test_on_the_day_after_the_list_everything_is_ahead(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        zh = notices(sessions, *listed, IMPORTED)["zh"]
        assert "已逾期" not in zh and "风险" not in zh
        assert "公布企业相关信息：还有29天，2026-04-30前完成" in zh, zh
        ahead = promise(zh, "每项尚未到期的期限到期前我都会提醒您")
        assert "公布企业相关信息" in ahead and "开展清洁生产审核" in ahead and "完成审核并报送审核报告" in ahead


class TestBindReply:
    def bind(self, sessions: sessionmaker[Session], import_id: int, *, locale: str = "zh_CN",
             unsubscribed: bool = False) -> str:
        """Enterprise 2 (nobody reachable) gets an invitation code; a new contact redeems it on 2026-12-02."""
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(2))
            assert e is not None
            code = repos.invitations.ensure_enterprise_invitations(import_id, [e.id], now=NOW)[e.id].code
            me = add_contact(repos, "newcomer", locale=locale)
            if unsubscribed:
                repos.contacts.unsubscribe(me, NOW)
            replies = redeem(repos, me, f"绑定 {code}", now=ASKED_AT, today=ASKED, policy=POLICY)
            assert replies is not None and len(replies) == 1
            return replies[0].text

    def test_the_bind_reply_shows_the_status_and_promises_only_the_report(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        text = self.bind(sessions, listed[1])
        assert "已绑定" in text or shanxi_code(2) in text
        assert "公布企业相关信息：已逾期216天" in text and "开展清洁生产审核：已逾期184天" in text, text
        assert "完成审核并报送审核报告：还有119天" in text
        assert "现在应当：立即办理" in text
        ahead = promise(text, "每项尚未到期的期限到期前我都会提醒您")
        assert "完成审核并报送审核报告" in ahead and "公布企业相关信息" not in ahead
        assert "每项期限到期前我都会提醒您" not in text
        assert "退订" in text

    def test_today_defaults_to_the_day_in_china(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(2))
            assert e is not None
            code = repos.invitations.ensure_enterprise_invitations(listed[1], [e.id], now=NOW)[e.id].code
            me = add_contact(repos, "late-evening")
            late = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 04:00 on 2026-12-02 in China
            replies = redeem(repos, me, f"绑定 {code}", now=late)
            assert replies is not None
        assert "截至2026-12-02" in replies[0].text

    def test_an_unsubscribed_contact_gets_the_status_but_no_promise(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        text = self.bind(sessions, listed[1], unsubscribed=True)
        assert "已逾期216天" in text and "还有119天" in text
        assert "提醒您" not in text                        # no promise of any reminder
        assert "恢复提醒" in text

    def test_in_english(self, sessions: sessionmaker[Session], listed: tuple[int, int]) -> None:
        text = self.bind(sessions, listed[1], locale="en")
        assert "Start the audit: OVERDUE by 184 days" in text
        ahead = promise(text, "I will remind you before each deadline that is still ahead")
        assert "Start the audit" not in ahead
        assert "“unsubscribe”" in text
        assert_no_chinese(text, allow=("企业2有限公司",))
        off = self.bind_again_unsubscribed(sessions, listed[1])
        assert "“resubscribe”" in off and "I will remind you" not in off
        assert_no_chinese(off, allow=("企业1有限公司",))

    def bind_again_unsubscribed(self, sessions: sessionmaker[Session], import_id: int) -> str:
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None
            code = repos.invitations.ensure_enterprise_invitations(import_id, [e.id], now=NOW)[e.id].code
            me = add_contact(repos, "en-off", locale="en")
            repos.contacts.unsubscribe(me, NOW)
            replies = redeem(repos, me, f"bind {code}", now=ASKED_AT, today=ASKED, policy=POLICY)
            assert replies is not None
            return replies[0].text

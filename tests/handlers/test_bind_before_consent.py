"""A first message `绑定 <code>` (from an invitation sheet's QR code or typed) comes before the consent question:
it is kept in memory, not stored, and redeemed right after the contact agrees; when the contact declines it is
dropped unused and nothing about the chat id is written. Real dispatcher, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import Contact, Repositories
from storage.models import EnterpriseInvitation, ListEntry, ListImport
from tests.handlers.chatkit import ChatBot, credit_code
from tests.storage.erasure_kit import traces

TODAY = date(2026, 4, 10)
LISTED = date(2026, 3, 31)
CODE = "QSXSTR22"
NAME = "山西列名企业有限公司"


def _listed_enterprise(sessions: sessionmaker[Session]) -> int:
    """An enterprise of an imported Shanxi list, with its disclosure deadline and an unused invitation code."""
    with sessions.begin() as s:
        repos = Repositories(s)
        e = repos.enterprises.add(credit_code=credit_code("91140100MA0000001"), name=NAME, province="shanxi")
        imp = ListImport(province="shanxi", file_sha256="0" * 64, filename="list.xlsx", row_count=1,
                         published_on=LISTED)
        s.add(imp)
        s.flush()
        cycle = repos.cycles.add(e.id, source="import", list_published_on=LISTED)
        s.add(ListEntry(import_id=imp.id, enterprise_id=e.id, cycle_id=cycle.id, line=2, grounds=[],
                        published_on=LISTED))
        repos.milestones.add(cycle.id, kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 4, 30))
        s.add(EnterpriseInvitation(code=CODE, enterprise_id=e.id, list_import_id=imp.id))
        return e.id


def _contact(sessions: sessionmaker[Session], user: str) -> Contact | None:
    with sessions() as s:
        return Repositories(s).contacts.get_by_address("test", user)


def _invitation(sessions: sessionmaker[Session]) -> EnterpriseInvitation:
    with sessions() as s:
        return s.scalars(select(EnterpriseInvitation).where(EnterpriseInvitation.code == CODE)).one()


def test_a_bind_before_consent_is_completed_right_after_consent(engine: Engine,
                                                                 sessions: sessionmaker[Session]) -> None:
    enterprise_id = _listed_enterprise(sessions)
    bot = ChatBot(sessions, TODAY)
    bot.push(f"绑定 {CODE}")
    assert "邀请码" in bot.text and "个人信息保护法" in bot.text, bot.text   # the code is kept; consent is asked
    assert bot.choice_ids() == ["consent:yes", "consent:no"]
    assert traces(engine, {"chat id": "u1", "code use": "used_by"}) == []     # nothing written before consent
    assert _invitation(sessions).used_at is None

    bot.pick("consent:yes")
    assert f"您已绑定{NAME}" in bot.text, bot.text
    assert "2026-04-30" in bot.text                                        # the listed deadline, as of today
    assert "统一社会信用代码是什么" not in bot.text                           # bound: the enterprise is known
    contact = _contact(sessions, "u1")
    assert contact is not None and contact.consented_at is not None
    assert contact.enterprise_id == enterprise_id
    used = _invitation(sessions)
    assert used.used_at is not None and used.used_by_contact_id == contact.id
    bot.push("我的期限")
    assert "2026-04-30" in bot.text                                        # the binding holds on


def test_a_bind_before_declining_is_dropped_and_nothing_is_stored(engine: Engine,
                                                                  sessions: sessionmaker[Session]) -> None:
    _listed_enterprise(sessions)
    bot = ChatBot(sessions, TODAY)
    bot.push(f"绑定 {CODE}", user="visitor-9d3f")
    bot.pick("consent:no", user="visitor-9d3f")
    assert "没有使用您的邀请码" in bot.text, bot.text
    assert bot.last[-1].choices, "the verdict's first question is still asked, with its choices"
    assert _contact(sessions, "visitor-9d3f") is None
    assert _invitation(sessions).used_at is None                          # the code still works for someone else
    assert traces(engine, {"chat id": "visitor-9d3f"}) == []
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0


def test_an_unknown_code_before_consent_is_answered_and_the_question_stands(sessions: sessionmaker[Session]) -> None:
    _listed_enterprise(sessions)
    bot = ChatBot(sessions, TODAY)
    bot.push("绑定 ABCD2345")
    bot.pick("consent:yes")
    assert "ABCD2345" in bot.text and "统一社会信用代码是什么" in bot.text, bot.text
    contact = _contact(sessions, "u1")
    assert contact is not None and contact.consented_at is not None and contact.enterprise_id is None


def test_a_colleague_code_before_consent_joins_after_consent(sessions: sessionmaker[Session]) -> None:
    bot = ChatBot(sessions, TODAY)
    bot.start("alice", code=credit_code("91140100MA0000077"))
    bot.push("邀请同事", user="alice")
    invite = re.search(r"绑定 ([A-Z0-9]{8})", bot.text)
    assert invite, bot.text
    bot.push(f"绑定 {invite.group(1)}", user="bob")
    bot.pick("consent:yes", user="bob")
    assert "您已加入同事的企业" in bot.text or "同事" in bot.text, bot.text
    alice, bob = _contact(sessions, "alice"), _contact(sessions, "bob")
    assert alice is not None and bob is not None
    assert bob.enterprise_id is not None and bob.enterprise_id == alice.enterprise_id


def test_bind_in_english_before_consent(sessions: sessionmaker[Session]) -> None:
    enterprise_id = _listed_enterprise(sessions)
    bot = ChatBot(sessions, TODAY)
    bot.push(f"bind {CODE}")
    assert "invitation code" in bot.text, bot.text                         # an English first message
    bot.pick("consent:yes")
    assert "You are now bound to" in bot.text, bot.text
    contact = _contact(sessions, "u1")
    assert contact is not None and contact.enterprise_id == enterprise_id

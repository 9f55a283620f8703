"""The Henan form interrupted (我的期限, 语言) and asked for before a credit code is given: the form's open
question comes back, and a refusal says what is missing and how to give it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code, sqlite_bot
from tests.henan.henankit import add_enterprise

ADDRESS_QUESTION = "注册地址"


def _eligible_contact(sessions: sessionmaker[Session]) -> ChatBot:
    add_enterprise(sessions, "u1")  # consented, bound, an eligible voluntary verdict, the interview done
    return ChatBot(sessions, date(2026, 11, 22))


def test_my_deadlines_inside_the_form_asks_the_address_again(sessions: sessionmaker[Session]) -> None:
    bot = _eligible_contact(sessions)
    bot.push("申请表")
    assert ADDRESS_QUESTION in bot.text
    bot.push("我的期限")
    assert bot.last[-1].text.count(ADDRESS_QUESTION) == 1   # the form's open question, last
    bot.push("河南省郑州市金水区经三路1号")                  # still taken as the address
    assert "法定代表人是谁？" in bot.text


def test_language_inside_the_form_asks_the_address_again_in_english(sessions: sessionmaker[Session]) -> None:
    bot = _eligible_contact(sessions)
    bot.push("申请表")
    bot.push("language")
    last = bot.last[-1].text
    assert "address" in last.lower() and not any("\u4e00" <= ch <= "\u9fff" for ch in last)


def test_the_form_without_a_credit_code_says_what_is_missing(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path)                               # consented, credit code skipped
    bot.push("申请表")
    assert "重新开始" not in bot.text
    assert "统一社会信用代码" in bot.text and "18" in bot.text  # what is missing, and what it looks like
    bot.push(credit_code("91410100MA4A8888L"))                # giving it now works: no restart needed
    with bot.dispatcher.sessions() as session:
        contact = Repositories(session).contacts.get_by_address("test", "u1")
        assert contact is not None and contact.enterprise_id is not None
    assert "ck:none" in bot.choice_ids()                     # and the interview goes on (Henan, from the code)


def test_the_form_without_a_credit_code_in_english(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path)
    bot.push("english")
    bot.push("application form")
    assert "restart" not in bot.text and "credit code" in bot.text
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in bot.text.replace("统一社会信用代码", ""))

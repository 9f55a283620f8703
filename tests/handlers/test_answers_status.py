"""我的期限 for a Henan voluntary contact: no mandatory-list deadlines, the programme's own yearly dates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handlers.status import no_deadlines_text
from rules.i18n import gettext_for
from storage.db import make_engine, session_factory
from storage.migrate import upgrade
from tests.handlers.chatkit import ChatBot
from tests.handlers.english import assert_no_chinese

TODAY = date(2026, 12, 1)


@pytest.fixture
def sessions(tmp_path) -> sessionmaker[Session]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/t.sqlite3"
    upgrade(url)
    return session_factory(make_engine(url))


def test_henan_voluntary_status_gives_the_programme_dates_not_the_list(sessions: sessionmaker[Session]) -> None:
    bot = ChatBot(sessions, today=TODAY)
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push("跳过")
    bot.push("河南 机械制造厂 年营业收入5000万 无超标 无有毒有害 能耗不超")
    bot.push("都没有")
    bot.pick("ind:3484")
    assert "自愿开展" in bot.text
    bot.push("我的期限")
    text = bot.text
    assert "名单公布之日起算的期限不适用" in text
    assert "2027-03-15" in text and "七、（三）" in text   # next applicants' collection of 七、（三）
    assert "我询问时请告诉我公布日期" not in text


def test_no_deadlines_text_in_english_and_for_a_mandatory_contact() -> None:
    en = no_deadlines_text("voluntary", "henan", TODAY, gettext_for("en"))
    assert "do not apply" in en and "2027-03-15" in en
    assert_no_chinese(en)
    mandatory = no_deadlines_text("mandatory", "henan", TODAY, gettext_for("zh_CN"))
    assert "名单公布之日起算" in mandatory and "2027-03-15" not in mandatory
    assert "2027-03-15" not in no_deadlines_text("voluntary", "shanxi", TODAY, gettext_for("en"))

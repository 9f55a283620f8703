"""好的 / 收到 / ok right after a reminder: acknowledged (the reminder goes on until the step is confirmed, and how
to confirm it), not the help line; the same words with no reminder since the contact last wrote are left to the
conversation as before."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.sweep import sweep
from handlers.reminders import ReminderPolicy
from tests.handlers.chatkit import ChatBot, credit_code

TODAY = date(2026, 12, 1)


def _listed_enterprise(sessions: sessionmaker[Session]) -> ChatBot:
    bot = ChatBot(sessions, TODAY)
    bot.start(code=credit_code("91370300MA3C12345"))
    bot.push("山东的化工厂，排放超标，2026年3月15日上的名单")
    assert "应当实施强制性清洁生产审核" in bot.text, bot.text
    return bot


def _remind(sessions: sessionmaker[Session]) -> None:
    # the report's 30-days-before reminder (due 2027-03-15), 10:00 Beijing time
    assert sweep(sessions, now=datetime(2027, 2, 12, 2, 0, tzinfo=UTC), policy=ReminderPolicy()).messages


@pytest.mark.parametrize("word", ["好的", "收到", "收到，谢谢", "ok"])
def test_a_bare_acknowledgement_after_a_reminder_is_acknowledged(sessions: sessionmaker[Session], word: str) -> None:
    bot = _listed_enterprise(sessions)
    _remind(sessions)
    bot.push(word)
    assert bot.text.startswith("收到。“") and "的提醒会一直发送" in bot.text, bot.text
    assert "帮助" not in bot.text
    assert "已于11月28日完成" in bot.text


def test_without_a_reminder_since_the_last_message_it_is_not_taken_as_one(sessions: sessionmaker[Session]) -> None:
    bot = _listed_enterprise(sessions)
    _remind(sessions)
    bot.push("好的")
    assert "提醒会一直发送" in bot.text
    bot.push("好的")                       # nothing new came since: not acknowledged as a reminder again
    assert "提醒会一直发送" not in bot.text

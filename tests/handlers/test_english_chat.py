"""English conversations: every reply a contact sees in English is English (the check runs over the rendered
replies, not the catalogs), and the commands work in English."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.handlers.chatkit import ChatBot
from tests.handlers.english import chinese_left

TODAY = date(2026, 12, 1)


@pytest.fixture
def bot(sessions: sessionmaker[Session]) -> ChatBot:
    return ChatBot(sessions, TODAY)


def _english(bot: ChatBot, said: list[str]) -> None:
    for reply in bot.last:
        left = chinese_left(reply.text) + [c.label for c in reply.choices if chinese_left(c.label)]
        assert not left, (said, reply.text, left)


def _talk(bot: ChatBot, messages: list[str]) -> list[str]:
    said: list[str] = []
    for m in messages:
        said.append(m)
        bot.pick(m[1:]) if m.startswith("!") else bot.push(m)
        _english(bot, said)
    return said


def test_an_english_contact_reads_english_from_greeting_to_deadlines(bot: ChatBot) -> None:
    bot.push("hello")
    bot.push("English")
    _english(bot, ["English"])
    _talk(bot, ["!consent:yes", "!skip", "We are a cement plant in Shanxi", "!ok:yes", "2026-03-31", "!none", "!none",
                "my deadlines", "help", "back", "restart"])
    assert "restart" in bot.text.lower() or "province" in bot.text.lower()


def test_english_answers_in_a_yes_no_interview(bot: ChatBot) -> None:
    bot.push("你好")
    bot.push("language")                      # switches from Chinese to English
    _talk(bot, ["!consent:yes", "!skip", "Hebei", "no", "not sure", "no", "none of them", "my deadlines",
                "forget", "!forget:no"])


def test_a_first_message_in_english_is_answered_in_english(bot: ChatBot) -> None:
    bot.push("we are a coking plant in Shanxi")
    _english(bot, ["we are a coking plant in Shanxi"])
    _talk(bot, ["!consent:yes", "!ok:yes"])
    assert "MANDATORY" in bot.text


def test_declining_in_english_still_gives_an_english_verdict(bot: ChatBot) -> None:
    bot.push("hi")
    bot.push("english")
    _talk(bot, ["!consent:no", "a coking plant in Shandong", "!ok:yes", "yes", "my deadlines", "agree"])

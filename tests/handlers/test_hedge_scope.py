"""A hedge covers the fact it is said of, not a whole unpunctuated message (qa4 finding 6; voice-to-text has no
punctuation): tests.handlers.chatkit.ChatBot on real SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot, stored_facts


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path, start=False)


def _describe(bot: ChatBot, message: str) -> None:
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push("跳过")
    bot.push(message)


@pytest.mark.parametrize("hedge", ["可能是", "大概是", "好像是"])
def test_a_hedge_on_the_list_month_leaves_the_facts_stated_plainly(bot: ChatBot, hedge: str) -> None:
    """可能 anywhere in the one clause made 没有超标 and 挖煤 doubtful: both were asked again."""
    _describe(bot, f"山西太原的焦化厂三百多人没有超标只挖煤不洗煤{hedge}四月份上的名单")
    facts = stored_facts(bot)
    assert facts["province"] == "shanxi"
    assert facts["employees"] == 300
    assert facts["exceeds_emission_standard"] is False
    assert facts["has_extraction"] is True
    assert "list_published_on" not in facts


def test_a_hedge_before_a_fact_still_covers_it(bot: ChatBot) -> None:
    _describe(bot, "山西太原的焦化厂三百多人可能没有超标")
    facts = stored_facts(bot)
    assert facts["employees"] == 300
    assert "exceeds_emission_standard" not in facts


def test_a_hedged_list_day_is_asked_back_not_stored(bot: ChatBot) -> None:
    """好像是去年4月15日上的名单 was stored as 2025-04-15 and the deadlines counted from it."""
    _describe(bot, "山西的焦化厂，三百多人，没有超标，好像是去年4月15日上的名单")
    assert "list_published_on" not in stored_facts(bot)
    for _ in range(4):  # the trade, then what is still asked before the list's day
        if "2025-04-15" in bot.text:
            break
        bot.pick("ok:yes")
    assert "2025-04-15" in bot.text and "ok:yes" in bot.choice_ids()
    bot.pick("ok:yes")
    assert stored_facts(bot)["list_published_on"] == "2025-04-15"


def test_not_remembering_the_list_day_does_not_drop_the_facts_before_it(bot: ChatBot) -> None:
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push("我们是山西晋城的一家煤矿企业只挖煤不洗煤员工两千多人年营收十几个亿没有超标去年被列入名单了具体日期记不清了好像是四月份")
    facts = stored_facts(bot)
    assert facts["exceeds_emission_standard"] is False
    assert facts["has_extraction"] is True
    assert facts["employees"] == 2000

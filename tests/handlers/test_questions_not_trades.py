"""A question of the contact's own at the industry question is never searched as a trade (qa3 findings 10, 18):
tests.handlers.chatkit.ChatBot on real SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot, stored_facts


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path)


@pytest.mark.parametrize("question", ["申请什么时候截止", "你们收费吗", "下一轮什么时候"])
def test_a_question_at_the_industry_question_is_no_trade(bot: ChatBot, question: str) -> None:
    """申请什么时候截止 offered 7930 土地登记服务; 下一轮什么时候 3780 非公路休闲车."""
    bot.push("山西的")
    assert "属于什么行业" in bot.text
    bot.push(question)
    assert not [c for c in bot.choice_ids() if c.startswith("ind:")]
    assert "回答不了" in bot.text and "属于什么行业" in bot.text
    bot.push("焦化")
    assert stored_facts(bot)["industry_code"] == "2521"


def test_a_question_at_the_pick_list_keeps_the_list(bot: ChatBot) -> None:
    bot.push("山西的")
    bot.push("化工")
    offered = bot.choice_ids()
    bot.push("申请什么时候截止")
    assert "ind:7930" not in bot.choice_ids() and bot.choice_ids() == offered


def test_a_question_naming_a_trade_is_still_read(bot: ChatBot) -> None:
    bot.push("山西的")
    bot.push("焦化厂要审核吗")
    assert stored_facts(bot)["industry_code"] == "2521"

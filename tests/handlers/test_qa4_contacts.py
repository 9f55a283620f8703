"""Contacts of the qa4 round (tests/handlers/chatkit.ChatBot on real SQLite): a description with a doubt in it
given for the credit code, who the bot speaks for, a yes at a date question, English with Chinese names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot, stored_facts


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path, start=False)


@pytest.mark.parametrize("message", [
    "我们是山西晋城的一家煤矿企业只挖煤不洗煤员工两千多人年营收十几个亿没有超标去年被列入名单了具体日期记不清了好像是四月份",
    "山西的焦化厂，名单日期忘了",
    "山西的煤矿，日期不清楚",
])
def test_a_description_with_a_doubt_in_it_at_the_credit_code_question_is_read(bot: ChatBot, message: str) -> None:
    """记不清 / 忘了 / 不清楚 anywhere in it made the whole description a "skip": the province was asked next."""
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push(message)
    assert "在哪个省" not in bot.text
    assert stored_facts(bot)["province"] == "shanxi"


def test_not_knowing_the_code_still_skips_it(bot: ChatBot) -> None:
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push("不清楚")
    assert "在哪个省" in bot.text


def test_asking_whether_the_bot_is_the_government_is_answered_and_the_question_kept(bot: ChatBot) -> None:
    """你们是政府的吗 at the list-date question offered 5414 公共自行车服务 for 政府 and replaced the open question
    by an industry question Shandong does not need."""
    bot.start()
    bot.push("山东的，有危废")
    assert "名单是哪一天公布的" in bot.text
    bot.push("你们是政府的吗")
    assert "不是政府部门" in bot.text
    assert "名单是哪一天公布的" in bot.text
    assert "ind:" not in " ".join(bot.choice_ids())
    bot.push("2025年3月15日")
    assert stored_facts(bot)["list_published_on"] == "2025-03-15"


@pytest.mark.parametrize("yes", ["对", "是的", "是"])
def test_a_yes_at_the_list_day_question_asks_the_day(bot: ChatBot, yes: str) -> None:
    bot.start()
    bot.push("山西的焦化厂")
    bot.confirm()
    assert "名单是哪一天公布的" in bot.text
    bot.push(yes)
    assert "是哪一天" in bot.text and "抱歉" not in bot.text
    assert "list_published_on" not in stored_facts(bot)


def test_english_with_chinese_names_in_a_chinese_session_switches_to_english(bot: ChatBot) -> None:
    bot.start()
    bot.push("Hi, we are a chemical company in 淄博, we produce 有机化学原料, about 800 people")
    assert "You are writing in English" in bot.text
    assert "Shandong · 800 employees" in bot.text
    bot.push("山东的化工厂，有危废")  # a Chinese sentence switches back
    assert "判定结果" in bot.text


@pytest.mark.parametrize("message", ["山东的化工厂，ISO14001认证有的，OK", "我们有ppt, 山西的水泥厂",
                                     "OK 山东 淄博 化工"])
def test_a_few_english_words_in_chinese_do_not_switch(bot: ChatBot, message: str) -> None:
    bot.start()
    bot.push(message)
    assert "You are writing in English" not in bot.text


def test_my_deadlines_before_the_verdict_names_the_list_day_given(bot: ChatBot) -> None:
    """It said 'tell me its date when I ask' although the contact had given it."""
    bot.start()
    bot.push("山西的，2025年3月10日上的名单")
    bot.push("我的期限")
    assert "2025-03-10" in bot.text and "起算" in bot.text
    assert "行业" in bot.text  # the open question follows


def test_my_deadlines_without_a_list_day_still_says_they_start_from_the_list(bot: ChatBot) -> None:
    bot.start()
    bot.push("山西的")
    bot.push("我的期限")
    assert "名单" in bot.text and "2025-03-10" not in bot.text

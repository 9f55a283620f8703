"""Questions about penalties are answered from the penalty table, then the open question is asked again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot
from tests.handlers.english import assert_no_chinese


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path)


@pytest.mark.parametrize("text", ["罚款多少", "不审核会罚多少钱", "不做会怎么样？"])
def test_a_penalty_question_cites_the_articles_and_resumes(bot: ChatBot, text: str) -> None:
    bot.push("山东")
    bot.push(text)
    assert "未按期履行各项义务的法律后果" in bot.text
    assert "第三十六条" in bot.text and "10万元" in bot.text and "第三十九条" in bot.text
    assert "山东省清洁生产审核实施细则" not in bot.text          # expired 2022-05-19: not cited
    assert bot.last[-1].choices and "ck:none" in bot.choice_ids()  # the checklist is asked again


def test_a_statement_about_a_fine_is_read_as_a_fact(bot: ChatBot) -> None:
    bot.push("山东")
    bot.push("去年因为超标被罚款了")
    assert "未按期履行各项义务的法律后果" not in bot.text and "污染物排放超过排放标准" in bot.text


def test_in_english(bot: ChatBot) -> None:
    bot.push("English")
    bot.push("Shandong")
    bot.push("what is the penalty if we do not audit?")
    assert "What the law attaches to a missed step" in bot.text and "100,000 yuan" in bot.text
    assert_no_chinese(bot.last[0].text)


def test_henan_ineligibility_says_which_condition_fails(bot: ChatBot) -> None:
    for text in ("河南", "都没有", "塑料制品"):
        bot.push(text)
    bot.pick("ind:2927")
    bot.push("营收1500万")
    assert "不符合的原因：年主营业务收入1500万元，未达到规模以上工业企业的2000万元" in bot.text


def test_a_hotel_is_not_an_industrial_enterprise(bot: ChatBot) -> None:
    for text in ("河南郑州的酒店，营收五千万，排放都达标", "都没有", "酒店"):
        bot.push(text)
    bot.pick("ind:6110")
    assert "不符合的原因：6110 旅游饭店不属于工业企业" in bot.text


def test_the_reason_in_english_gives_millions(bot: ChatBot) -> None:
    for text in ("English", "Henan", "none of them", "plastic products"):
        bot.push(text)
    bot.pick("ind:2927")
    bot.push("revenue 15 million yuan")
    assert "Why not: its annual revenue, 15 million yuan, is below the 20 million yuan" in bot.text

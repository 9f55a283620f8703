"""Three readings the bot gave with confidence and now asks back (tests/handlers/chatkit.ChatBot): an output
value (产值) as the operating revenue, an audit's year beside its acceptance as the round's completion, and a
ground said in a clause beside a past event (去年被罚过，因为超标) as the enterprise's state now."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot
from tests.handlers.chatkit import stored_facts as facts
from tests.handlers.english import chinese_left


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path)


# -- 1. 产值 is not 营业收入 ----------------------------------------------------------------------------


def test_an_output_value_in_a_description_is_not_stored_as_the_revenue(bot: ChatBot) -> None:
    bot.push("我们是山东省淄博市的一家化工企业，主要生产有机化学原料，员工大约八百人，年产值三个多亿")
    assert "revenue_10k_yuan" not in facts(bot) and facts(bot)["employees"] == 800
    assert "年营业收入" not in bot.text


def _henan_output(bot: ChatBot, amount: str) -> None:
    bot.push(f"河南的，做化肥的，300人，年产值{amount}")
    assert "revenue_10k_yuan" not in facts(bot)
    bot.deny_grounds()
    bot.pick("ind:2621")


def test_an_output_value_is_asked_back_as_the_revenue_saying_why(bot: ChatBot) -> None:
    """Henan: 规上 (2000万元 of revenue) decides the voluntary programme, and 两千多万 of output says nothing of it."""
    _henan_output(bot, "两千多万")
    assert "判定结果" not in bot.text and "revenue_10k_yuan" not in facts(bot)
    assert "产值" in bot.text and "营业收入" in bot.text and "《统计上大中小微型企业划分办法》" in bot.text
    assert "年营业收入2000万元" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no"]
    bot.pick("ok:no")  # not the revenue: the revenue question itself is asked
    assert "revenue_10k_yuan" not in facts(bot) and "2000万元" in bot.text
    bot.push("营收1500万")
    assert facts(bot)["revenue_10k_yuan"] == 1500 and "未达到规模以上工业企业" in bot.text


def test_an_output_value_confirmed_is_the_revenue(bot: ChatBot) -> None:
    _henan_output(bot, "三个多亿")
    bot.pick("ok:yes")
    assert facts(bot)["revenue_10k_yuan"] == 30000 and "判定结果" in bot.text


def test_another_amount_typed_at_the_output_ask_back_is_the_revenue(bot: ChatBot) -> None:
    _henan_output(bot, "三个多亿")
    bot.push("营业收入是1800万")
    assert facts(bot)["revenue_10k_yuan"] == 1800


def test_the_output_ask_back_in_english(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("Hello")
    bot.push("I agree")
    bot.push("skip")
    bot.push("河南的，做化肥的，300人，年产值两千多万")  # a Chinese sentence switches the session to Chinese
    assert "您在用中文书写" in bot.text
    bot.push("English")  # switched back by the contact
    bot.deny_grounds()
    bot.pick("ind:2621")
    assert "output value" in bot.text and "operating revenue" in bot.text
    assert not chinese_left(bot.text.replace("年产值两千多万", ""))


# -- 2. which day completed the last round ---------------------------------------------------------------


def _shanxi_audited(bot: ChatBot) -> None:
    bot.push("19年做过一次审核，21年验收的，山西的水泥厂")
    bot.confirm(limit=1)  # 水泥制造（3011）
    assert "判定结果" in bot.text
    bot.pick("none")  # not on a list


def test_an_audit_year_beside_its_acceptance_asks_which_day_completed_the_round(bot: ChatBot) -> None:
    _shanxi_audited(bot)
    assert "last_audit_completed_on" not in facts(bot)
    assert "验收" in bot.text and "审核报告" in bot.text and "五年" in bot.text and "2019年" in bot.text
    bot.push("6月30日")
    assert facts(bot)["last_audit_completed_on"] == "2019-06-30"


def test_the_round_completed_in_another_year_is_taken_as_typed(bot: ChatBot) -> None:
    _shanxi_audited(bot)
    bot.push("2020年5月8日")
    assert facts(bot)["last_audit_completed_on"] == "2020-05-08"


def test_an_audit_said_completed_beside_its_acceptance_is_not_explained_again(bot: ChatBot) -> None:
    """完成审核 names the completion (rules/READINGS.md: the report's submission): only its day is asked."""
    bot.push("19年完成审核，21年验收的，山西的水泥厂")
    bot.confirm(limit=1)
    bot.pick("none")
    assert "2019年" in bot.text and "验收日期另行记录" not in bot.text


# -- 3. a past event in another clause ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["山东的，去年被罚过，因为超标", "山东的，超标，被罚过", "山东的，去年，超标排放"])
def test_a_ground_beside_a_past_event_is_asked_as_it_is_now(bot: ChatBot, text: str) -> None:
    bot.push(text)
    assert "判定结果" not in bot.text and "exceeds_emission_standard" not in facts(bot)
    assert "现在还超标吗？" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no"]
    bot.pick("ok:no")
    assert facts(bot)["exceeds_emission_standard"] is False and "应当实施强制性清洁生产审核" not in bot.text


def test_a_past_ground_still_so_decides(bot: ChatBot) -> None:
    bot.push("山东的，去年被罚过，因为超标")
    bot.pick("ok:yes")
    assert facts(bot)["exceeds_emission_standard"] is True and "应当实施强制性清洁生产审核" in bot.text


@pytest.mark.parametrize("text", ["山东的，去年被罚过。现在超标", "山东的，去年上了名单，超标了"])
def test_a_ground_said_of_now_is_stored(bot: ChatBot, text: str) -> None:
    """Another sentence, or a past that is a step's day (the list's), leaves the ground as said."""
    bot.push(text)
    assert facts(bot)["exceeds_emission_standard"] is True


def test_a_year_at_the_last_audit_question_beside_an_acceptance_asks_which_day(bot: ChatBot) -> None:
    """At the last-audit question "19年做的，21年验收" does not say that 2019 completed the round either."""
    bot.push("山东化工")
    bot.push("4")
    bot.pick("tox:hazardous_waste")
    bot.push("去年三月十五号")
    assert "上一轮清洁生产审核" in bot.text
    bot.push("19年做的，21年验收")
    assert "last_audit_completed_on" not in facts(bot)
    assert "验收日期另行记录" in bot.text and "2019年" in bot.text

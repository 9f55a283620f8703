"""Replies a tester typed that became confident wrong facts, each now read as what it says or asked back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot
from tests.handlers.chatkit import stored_facts as facts


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path)


@pytest.mark.parametrize("text", ["不是，你先告诉我要不要做", "不审核会罚多少钱", "没有名单这回事"])
def test_a_question_or_aside_at_the_checklist_is_not_none_of_them(bot: ChatBot, text: str) -> None:
    bot.push("山东")
    assert "ck:none" in bot.choice_ids()
    bot.push(text)
    assert "判定结果" not in bot.text and "ck:none" in bot.choice_ids()
    assert not any(k.startswith("exceeds") for k in facts(bot))


def test_whether_we_must_audit_is_answered_by_the_interview(bot: ChatBot) -> None:
    bot.push("山东")
    bot.push("不是，你先告诉我要不要做")
    assert "这正是我要判断的" in bot.text


@pytest.mark.parametrize("text", ["去年3月", "3月份吧", "用了5吨硫酸"])
def test_numbers_in_a_sentence_do_not_pick_a_substance_class(bot: ChatBot, text: str) -> None:
    bot.push("山东")
    bot.push("4")                                   # toxic substances: which class is asked next
    bot.push(text)
    assert "toxic_classes" not in facts(bot)


def test_waste_oil_is_hazardous_waste(bot: ChatBot) -> None:
    bot.push("山东")
    bot.push("4")
    bot.push("有3吨废机油")
    assert facts(bot)["toxic_classes"] == ["hazardous_waste"]


def test_numbers_then_words_keep_every_picked_ground(bot: ChatBot) -> None:
    bot.push("山东")
    bot.push("1，4，危废")
    f = facts(bot)
    assert f["exceeds_emission_standard"] is True and f["toxic_classes"] == ["hazardous_waste"]
    assert f["exceeds_total_quota"] is False


def test_a_day_after_today_is_not_stored(bot: ChatBot) -> None:
    bot.push("山东 化工厂 有危废")
    bot.push("2027年1月5日")
    assert "晚于今天（2026-12-01）" in bot.text and "list_published_on" not in facts(bot)
    bot.push("2026-03-31")
    bot.push("2030年1月1日")
    assert "晚于今天" in bot.text and "last_audit_completed_on" not in facts(bot)


def test_no_after_a_verdict_corrects_the_ground_not_the_list_date(bot: ChatBot) -> None:
    bot.push("江苏南通 化工 二氧化硫超标")
    assert "判定结果" in bot.text
    bot.push("不对，没超标")
    assert bot.choice_ids()[:2] == ["ok:yes", "ok:no"]
    bot.pick("ok:yes")
    f = facts(bot)
    assert f["exceeds_emission_standard"] is False and "list_published_on" not in f


def test_not_this_ground_but_that_one_replaces_it(bot: ChatBot) -> None:
    bot.push("江苏南通 化工 二氧化硫超标")
    bot.push("不对，我们不是超标，是超总量")
    assert facts(bot)["exceeds_total_quota"] is True
    assert bot.choice_ids()[:2] == ["ok:yes", "ok:no"]         # the replaced answer is asked back at once
    bot.pick("ok:yes")
    assert facts(bot)["exceeds_emission_standard"] is False


def test_a_corrected_list_date_at_the_next_question_is_asked_back(bot: ChatBot) -> None:
    bot.push("山东 化工厂 有危废")
    bot.push("2026.3.31")
    bot.push("不对 名单是5月31号公布的")
    assert "2026-05-31" in bot.text
    bot.pick("ok:yes")
    assert facts(bot)["list_published_on"] == "2026-05-31"
    assert "法定最后一日为2026-06-30" in bot.text                 # disclosure counted from the corrected day


def test_another_month_at_the_day_question_moves_the_month(bot: ChatBot) -> None:
    bot.push("山东 化工厂 有危废")
    bot.push("今年五月份")
    assert "2026年05月的哪一天" in bot.text
    bot.push("不对是6月")
    assert "2026年06月的哪一天" in bot.text


def test_a_completed_round_at_the_list_question_is_the_last_audit(bot: ChatBot) -> None:
    bot.push("山东 化工厂 有危废")
    bot.push("2019年6月完成过一轮")
    assert "2019年06月的哪一天（上一轮审核完成日期）" in bot.text


def test_none_of_these_at_the_industry_pick_list_is_not_a_trade(bot: ChatBot) -> None:
    bot.push("山西")
    bot.push("塑料制品")
    assert "ind:none" in bot.choice_ids()
    bot.push("都没有")
    assert "5431" not in bot.text and "industry_code" not in facts(bot)
    assert "请换个说法描述行业" in bot.text


def test_toneless_shanxi_in_a_sentence_is_asked(bot: ChatBot) -> None:
    bot.push("我们是shanxi的焦化厂")
    assert "山西还是陕西" in bot.text and "province" not in facts(bot)
    bot.pick("opt:shaanxi")
    assert facts(bot)["province"] == "shaanxi"


@pytest.mark.parametrize("opening", [["广东东莞 线路板厂 双有企业"], ["山东", "4"]])
def test_toxic_substances_of_an_unknown_class_still_decide(bot: ChatBot, opening: list[str]) -> None:
    for text in opening:
        bot.push(text)
    bot.push("不清楚")
    assert "类别不影响判定" in bot.text and "判定结果：贵企业应当实施强制性清洁生产审核" in bot.text
    assert facts(bot)["toxic_classes"] == ["other_toxic"]


def test_not_sure_whether_there_are_toxic_substances_stays_unknown(bot: ChatBot) -> None:
    bot.push("山东")
    bot.push("1")                      # only 超标: toxic substances answered no by the checklist
    assert facts(bot)["toxic_classes"] == []

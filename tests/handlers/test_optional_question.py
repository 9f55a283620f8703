"""能不能不做 / 必须做吗 / "do we have to" after the verdict: answered from the verdict (a mandatory audit is a
duty, with what a missed step costs; a voluntary one the enterprise's choice; on a list without a ground in the
answers, the list decides), then the open question again; not "I cannot answer that"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot

TODAY = date(2026, 12, 1)


def _shanxi_cement(tmp_path: Path) -> ChatBot:
    bot = sqlite_bot(tmp_path, TODAY)
    bot.push("山西的水泥厂")
    if bot.choice_ids() and bot.choice_ids()[0] == "ok:yes":
        bot.pick("ok:yes")
    assert "应当实施强制性清洁生产审核" in bot.text
    return bot


@pytest.mark.parametrize("question", ["能不能不做", "我们可以不做吗", "必须要做吗", "这个是强制的吗", "不审核行不行"])
def test_a_mandatory_verdict_says_the_audit_is_a_duty_and_what_a_miss_costs(tmp_path: Path, question: str) -> None:
    bot = _shanxi_cement(tmp_path)
    bot.push(question)
    assert "回答不了" not in bot.text, bot.text
    assert "必须开展" in bot.text and "第二十七条" in bot.text and "水泥制造（3011）" in bot.text
    assert "第三十九条" in bot.text and "50万元以下的罚款" in bot.text   # the penalty for not auditing
    assert "名单是哪一天公布的" in bot.text                              # and the open question again


def test_a_voluntary_verdict_says_it_is_the_enterprises_choice(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, TODAY)
    for text in ("河南的纺织厂", "三百人", "五千万营收", "都没有"):
        bot.push(text)
    bot.pick("ind:1711")
    assert "自愿" in bot.text
    bot.push("能不能不做")
    assert "不是必须的" in bot.text and "必须开展" not in bot.text, bot.text


def test_on_a_list_without_a_ground_the_list_decides(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, TODAY)
    bot.push("山东的化工厂，2026年3月15日上的名单")
    bot.pick("ck:none")
    bot.push("可以不做吗")
    assert "以名单为准" in bot.text and "2026-03-15公布的名单" in bot.text, bot.text
    assert "不是必须的" not in bot.text


def test_the_same_in_english(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, TODAY, start=False)
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push("skip")
    bot.push("We are a cement plant in Shanxi")
    if bot.choice_ids() and bot.choice_ids()[0] == "ok:yes":
        bot.pick("ok:yes")
    bot.push("Do we have to do the audit?")
    assert "Your enterprise has to" in bot.text and "article 27" in bot.text, bot.text

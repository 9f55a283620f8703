"""The industry question never stores a guess: a class is taken only when it is the one named."""

from __future__ import annotations

import pytest

from handlers.questions import QUESTIONS
from rules.industries import WEAK_TIER, search_tiers


def _read(text: str):
    return QUESTIONS["industry_code"].read(text, {})


@pytest.mark.parametrize(("text", "code"), [("做轮胎的", "2911"), ("焦化厂", "2521"), ("水泥制造", "3011"),
                                           ("生产采煤机", "3511"), ("做铝型材的", "3252")])
def test_the_one_class_named_is_taken(text: str, code: str) -> None:
    answer = _read(text)
    assert answer is not None and answer.facts == {"industry_code": code}


@pytest.mark.parametrize("text", ["做假发的", "假发", "生产假发"])
def test_words_around_a_trade_match_nothing(text: str) -> None:
    # 做假发的 once became 6512 支撑软件开发 through the bigram 发的 of 开发的; 生产采煤机 offered 中成药生产
    assert _read(text) is None
    assert search_tiers(text) == []


def test_a_single_guess_among_weak_ones_is_offered_not_taken() -> None:
    answer = _read("开饭店的")            # 饭店: a hotel (6110) or a restaurant (621x)
    assert answer is not None and not answer.facts and answer.candidates == ("6110",)


def test_weak_guesses_are_dropped_when_a_name_matches() -> None:
    found = search_tiers("开饭店的")
    assert found[0][1] < WEAK_TIER and any(tier == WEAK_TIER for _, tier in found)
    answer = _read("开饭店的")
    assert answer is not None and "8030" not in answer.candidates    # 洗染服务 shared only 店的


def test_the_interview_says_it_found_no_industry(tmp_path) -> None:
    from tests.handlers.chatkit import sqlite_bot

    bot = sqlite_bot(tmp_path)
    bot.push("山西")
    assert "行业" in bot.text
    bot.push("做假发的")
    assert "没有找到与之对应的国民经济行业" in bot.text and "贵企业属于什么行业" in bot.text

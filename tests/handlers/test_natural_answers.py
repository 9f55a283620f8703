"""Answers as contacts type them (a QA pass): vague dates, hedged sizes, negatives in plain words, pinyin,
"all but one" at the checklist. Each is read as what it says, or asked back when it is not certain."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot
from tests.handlers.chatkit import stored_facts as facts

LIST_QUESTION = "名单是哪一天公布的"


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path)


def _at_list_question(bot: ChatBot) -> None:
    bot.push("山东的水泥厂")
    bot.push("1")                                    # over the emission standard: mandatory
    assert LIST_QUESTION in bot.text


# -- 5. a year alone is not a day ------------------------------------------------------------------


@pytest.mark.parametrize(("year_said", "year"), [("21年", "2021"), ("去年", "2025"), ("2021", "2021"),
                                                 ("前年吧", "2024")])
def test_a_year_alone_at_the_list_question_asks_the_month_and_day(bot: ChatBot, year_said: str, year: str) -> None:
    _at_list_question(bot)
    bot.push(year_said)
    assert f"{year}年的几月几日" in bot.text
    assert "list_published_on" not in facts(bot)    # never 1 January
    bot.push("3月")
    assert f"{year}年03月的哪一天" in bot.text and "list_published_on" not in facts(bot)
    bot.push("15")
    assert facts(bot)["list_published_on"] == f"{year}-03-15"


def test_a_month_and_day_after_the_year_is_the_whole_date(bot: ChatBot) -> None:
    _at_list_question(bot)
    bot.push("21年")
    bot.push("3月31日")
    assert facts(bot)["list_published_on"] == "2021-03-31"
    assert "期限" in bot.text


def test_year_end_after_the_year_asks_the_day_of_december(bot: ChatBot) -> None:
    _at_list_question(bot)
    bot.push("21年")
    bot.push("年底")
    assert "2021年12月的哪一天" in bot.text and "list_published_on" not in facts(bot)


def test_a_year_in_the_first_message_is_asked_back_at_the_list_question(bot: ChatBot) -> None:
    bot.push("山东的水泥厂，去年上了名单")
    assert "list_published_on" not in facts(bot)
    bot.push("1")
    assert "2025年的几月几日" in bot.text
    bot.push("5月20号")
    assert facts(bot)["list_published_on"] == "2025-05-20"


def test_a_year_alone_not_known_further_counts_no_deadline(bot: ChatBot) -> None:
    _at_list_question(bot)
    bot.push("2021")
    bot.push("不清楚")
    assert "list_published_on" not in facts(bot)
    assert "暂时无法计算期限" in bot.text


def test_a_month_without_a_day_asks_the_day(bot: ChatBot) -> None:
    _at_list_question(bot)
    bot.push("去年3月")
    assert "2025年03月的哪一天" in bot.text and "list_published_on" not in facts(bot)


def test_a_year_alone_in_english(bot: ChatBot) -> None:
    bot.push("english")
    _at_list_question_en(bot)
    bot.push("2021")
    assert "which day of 2021" in bot.text
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in bot.text)
    bot.push("2021-03-31")
    assert facts(bot)["list_published_on"] == "2021-03-31"


def _at_list_question_en(bot: ChatBot) -> None:
    bot.push("a cement plant in Shandong")
    bot.push("1")
    assert "on what day was the list published" in bot.text


# -- 4. sizes in plain words -----------------------------------------------------------------------

SIZE_QUESTION = "企业规模属于哪一类"


def _at_size_question(bot: ChatBot) -> None:
    bot.push("山西的汽车零部件厂，有喷涂")           # Shanxi's annex: industrial coating, large or medium
    bot.pick("ok:yes")
    assert SIZE_QUESTION in bot.text


def test_medium_said_plainly_is_medium(bot: ChatBot) -> None:
    _at_size_question(bot)
    bot.push("中等")
    assert facts(bot)["scale"] == "medium" and "判定结果" in bot.text


def test_medium_with_a_hedge_is_said_back_before_it_decides(bot: ChatBot) -> None:
    _at_size_question(bot)
    bot.push("中等吧")
    assert "中型企业？" in bot.text and "scale" not in facts(bot)
    bot.pick("ok:yes")
    assert facts(bot)["scale"] == "medium" and "判定结果" in bot.text


def test_medium_with_a_hedge_denied_asks_the_size_again(bot: ChatBot) -> None:
    _at_size_question(bot)
    bot.push("中等吧")
    bot.pick("ok:no")
    assert "scale" not in facts(bot) and SIZE_QUESTION in bot.text


def test_a_bare_number_after_the_revenue_is_the_headcount(bot: ChatBot) -> None:
    _at_size_question(bot)
    bot.push("营收8000万")
    assert "从业人员有多少人" in bot.text
    bot.push("200")
    assert facts(bot)["employees"] == 200


def test_a_bare_number_after_the_headcount_is_the_revenue(bot: ChatBot) -> None:
    _at_size_question(bot)
    bot.push("350人")
    bot.push("8000万")
    f = facts(bot)
    assert f["employees"] == 350 and f["revenue_10k_yuan"] == 8000 and "判定结果" in bot.text


def test_a_bare_number_at_the_first_size_question_is_asked_back_as_people(bot: ChatBot) -> None:
    _at_size_question(bot)
    bot.push("200")
    assert "200人？" in bot.text and "employees" not in facts(bot)
    bot.pick("ok:yes")
    assert facts(bot)["employees"] == 200 and "年营业收入是多少" in bot.text


def test_medium_with_a_hedge_in_english(bot: ChatBot) -> None:
    bot.push("english")
    bot.push("a car parts plant in Shanxi with spray painting")
    bot.pick("ok:yes")
    bot.push("medium I guess")
    assert "Do you mean: medium-sized enterprise?" in bot.text


# -- 3. negatives and partials of the grounds --------------------------------------------------------


@pytest.mark.parametrize("text", ["能耗不高", "能耗也达标", "能耗没有超过限额", "能耗方面没超标"])
def test_energy_use_not_high_at_the_checklist_is_the_energy_ground_only(bot: ChatBot, text: str) -> None:
    bot.push("山东的水泥厂")
    assert "ck:exceeds_energy_limit" in bot.choice_ids()
    bot.push(text)
    f = facts(bot)
    assert f["exceeds_energy_limit"] is False
    assert "exceeds_emission_standard" not in f         # 达标 said of energy use is not the emission standard
    assert "ck:exceeds_energy_limit" not in bot.choice_ids() and "ck:exceeds_emission_standard" in bot.choice_ids()


def test_no_toxic_materials_in_plain_words(bot: ChatBot) -> None:
    bot.push("山东的水泥厂")
    bot.push("不用有毒的")
    assert facts(bot)["toxic_classes"] == []
    assert "ck:toxic_classes" not in bot.choice_ids()


def test_negatives_in_the_first_description_are_kept(bot: ChatBot) -> None:
    bot.push("山东的化工厂，能耗也达标，不用有毒的")
    f = facts(bot)
    assert f["province"] == "shandong" and f["exceeds_energy_limit"] is False and f["toxic_classes"] == []
    assert "exceeds_emission_standard" not in f
    assert "能耗未超过限额标准" in bot.text               # said back


def test_washing_coal_only_has_no_extraction_process(bot: ChatBot) -> None:
    bot.push("山西的煤矿，只洗煤不挖煤")
    assert facts(bot)["has_extraction"] is False
    assert "ind:0610" in bot.choice_ids()                # the class (开采洗选) is still picked
    bot.pick("ind:0610")
    bot.pick("ck:none")
    bot.push("否")                                       # not on the master list
    assert "自愿" in bot.text or "不属于强制" in bot.text or "判定结果" in bot.text
    assert "应当实施强制性清洁生产审核" not in bot.text   # annex rows 0610-0690 need an extraction process


def test_washing_only_after_the_class_is_picked_asks_nothing_more_about_the_class(bot: ChatBot) -> None:
    bot.push("山西的煤矿")
    bot.pick("ind:0610")
    bot.push("都没有")
    bot.push("只洗煤，不挖煤")
    assert facts(bot)["has_extraction"] is False and facts(bot)["industry_code"] == "0610"
    assert "ind:0610" not in bot.choice_ids()


def test_a_coal_mine_that_mines_is_read_as_extraction(bot: ChatBot) -> None:
    bot.push("山西的煤矿，自己采煤")
    assert facts(bot)["has_extraction"] is True


# -- 1. "I don't know" in pinyin -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["bu zhi dao", "Bu Zhi Dao", "buzhidao", "bzd"])
def test_i_do_not_know_in_pinyin_skips_the_checklist(bot: ChatBot, text: str) -> None:
    bot.push("山东的水泥厂")
    assert "ck:none" in bot.choice_ids()
    bot.push(text)
    assert "没能把这句话读作" not in bot.text              # not "could not read that"
    assert "不会当作“没有”" in bot.text and "只要其中任何一项属实" in bot.text  # unknown, with the verdict meanwhile
    assert not any(k.startswith("exceeds") for k in facts(bot))


def test_no_in_pinyin_answers_a_yes_no_question(bot: ChatBot) -> None:
    bot.push("山西的")
    bot.push("bu zhi dao")  # the industry
    bot.push("bu zhi dao")  # the grounds together
    assert bot.choice_ids()[:2] == ["yes", "no"]  # the master list
    bot.push("meiyou")
    assert facts(bot)["on_master_list"] is False


def test_i_do_not_know_in_pinyin_skips_the_credit_code(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push("buzhidao")
    assert "统一社会信用代码" not in bot.text and "哪个省" in bot.text


# -- 2. "all but" and "only" at the numbered checklist ---------------------------------------------


@pytest.mark.parametrize(("text", "yes"), [
    ("除了4都没有", {"toxic_classes"}),
    ("除了4以外都没有", {"toxic_classes"}),
    ("只有3", {"exceeds_energy_limit"}),
    ("只有第三项", {"exceeds_energy_limit"}),
    ("除了第二个都有", {"exceeds_emission_standard", "exceeds_energy_limit", "toxic_classes"}),
    ("除了1和3，其他都有", {"exceeds_total_quota", "toxic_classes"}),
])
def test_all_but_or_only_at_the_checklist(bot: ChatBot, text: str, yes: set[str]) -> None:
    bot.push("山东的水泥厂")
    grounds = [c[3:] for c in bot.choice_ids() if c.startswith("ck:") and c != "ck:none"]
    assert grounds == ["exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit", "toxic_classes"]
    bot.push(text)
    f = facts(bot)
    for g in grounds:
        if g == "toxic_classes":
            assert ("toxic_classes" not in f) if g in yes else (f["toxic_classes"] == [])
        else:
            assert f[g] is (g in yes)
    if "toxic_classes" in yes:                            # which substances: asked next
        assert "tox:heavy_metal" in bot.choice_ids()


def test_only_a_number_not_listed_is_asked_again(bot: ChatBot) -> None:
    bot.push("山东的水泥厂")
    bot.push("只有7")
    assert not any(k.startswith("exceeds") for k in facts(bot)) and "ck:none" in bot.choice_ids()


def test_none_except_in_english(bot: ChatBot) -> None:
    bot.push("english")
    bot.push("a cement plant in Shandong")
    bot.push("none except 3")
    f = facts(bot)
    assert f["exceeds_energy_limit"] is True and f["exceeds_emission_standard"] is False
    assert "MANDATORY" in bot.text

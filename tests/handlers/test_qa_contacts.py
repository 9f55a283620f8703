"""Contacts played against the bot (tests/handlers/chatkit.ChatBot), each reply that went wrong now read as
what it says or asked back."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code, sqlite_bot
from tests.handlers.chatkit import stored_facts as facts


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path)


def _shandong_listed(bot: ChatBot, day: str = "去年三月十五号") -> None:
    bot.push("山东化工")
    bot.push("4")
    bot.pick("tox:hazardous_waste")
    assert "判定结果" in bot.text
    bot.push(day)
    assert facts(bot)["list_published_on"] == "2025-03-15"
    assert "上一轮清洁生产审核" in bot.text


@pytest.mark.parametrize("text", ["不对，是去年四月十五", "说错了，2025年4月15日", "不是的，是2025-04-15"])
def test_a_correction_of_the_list_day_is_not_the_last_audit(bot: ChatBot, text: str) -> None:
    """"不对，…" with a day at the last-audit question corrects the list day: it is asked back as that, and
    nothing is marked done (it was stored as the last audit, which marked this round's start and report done)."""
    _shandong_listed(bot)
    bot.push(text)
    assert "last_audit_completed_on" not in facts(bot)
    assert "已于2025-04-15完成" not in bot.text
    assert "名单公布于 2025-04-15" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no"]
    bot.pick("ok:yes")
    f = facts(bot)
    assert f["list_published_on"] == "2025-04-15" and "last_audit_completed_on" not in f
    assert "按更正后的回答" in bot.text and "2025-05-15" in bot.text  # disclosure a month after the new day
    assert "上一轮清洁生产审核" in bot.text                              # the open question again


def test_a_declined_correction_keeps_the_list_day_and_asks_the_open_question(bot: ChatBot) -> None:
    _shandong_listed(bot)
    bot.push("不对，是去年四月十五")
    bot.pick("ok:no")
    f = facts(bot)
    assert f["list_published_on"] == "2025-03-15" and "last_audit_completed_on" not in f
    assert "上一轮清洁生产审核" in bot.text


def test_a_correction_with_a_month_asks_the_list_day(bot: ChatBot) -> None:
    _shandong_listed(bot)
    bot.push("不对，是去年四月")
    assert "2025年04月的哪一天（名单公布日期）" in bot.text
    bot.push("十五号")
    assert facts(bot)["list_published_on"] == "2025-04-15" and "last_audit_completed_on" not in facts(bot)


def test_words_naming_the_audit_still_give_the_last_audit(bot: ChatBot) -> None:
    _shandong_listed(bot)
    bot.push("不对，审核是2021年4月15日完成的")
    assert facts(bot)["last_audit_completed_on"] == "2021-04-15"
    assert facts(bot)["list_published_on"] == "2025-03-15"


@pytest.mark.parametrize(("month", "day", "stored"), [
    ("去年3月", "3月15日", "2025-03-15"),     # the year of the question, not this year (was 2026-03-15 asked back)
    ("去年3月", "4月2号", "2025-04-02"),
    ("今年3月", "十五号", "2026-03-15"),       # a day in Chinese numerals (was not read: the month was lost)
    ("今年3月", "三十一", "2026-03-31"),
    ("今年3月", "15号吧", "2026-03-15"),
    ("去年3月", "2024年3月5日", "2024-03-05"),  # a whole date of its own wins
])
def test_the_day_of_a_month_already_given(bot: ChatBot, month: str, day: str, stored: str) -> None:
    bot.push("山西的")
    bot.push("水泥")
    bot.push(month)
    assert "的哪一天（名单公布日期）" in bot.text
    bot.push(day)
    assert facts(bot)["list_published_on"] == stored
    assert "上一轮清洁生产审核" in bot.text


def test_a_headcount_at_the_day_question_is_no_day(bot: ChatBot) -> None:
    bot.push("山西的")
    bot.push("水泥")
    bot.push("去年3月")
    bot.push("三百人")
    assert "list_published_on" not in facts(bot) and facts(bot)["employees"] == 300
    assert "2025年03月的哪一天" in bot.text


def _bound_code(bot: ChatBot) -> str | None:
    with bot.dispatcher.sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address(bot.channel, "u1")
        assert contact is not None
        if contact.enterprise_id is None:
            return None
        enterprise = repos.enterprises.get_by_id(contact.enterprise_id)
        return None if enterprise is None else enterprise.credit_code


@pytest.mark.parametrize(("text", "code"), [
    ("9137 0300 ma3c 1234 5k", "91370300MA3C12345K"),   # was read as 年营业收入0.5万元 (5k), asked back
    ("山西水泥厂，统一社会信用代码 91140100 mA0K 1234 5y", "91140100MA0K12345Y"),  # was ignored
    ("91140100-MA0K12345Y", "91140100MA0K12345Y"),
])
def test_a_credit_code_typed_in_groups_is_read(tmp_path: Path, text: str, code: str) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push(text)
    assert _bound_code(bot) == code
    assert "revenue_10k_yuan" not in facts(bot) and "年营业收入" not in bot.text
    assert facts(bot)["province"] == {"37": "shandong", "14": "shanxi"}[code[2:4]]


def test_a_wrong_check_character_in_groups_binds_nothing(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push("9137 0300 ma3c 1234 5x")
    assert _bound_code(bot) is None


@pytest.mark.parametrize("first", ["山东化工，3/15上的名单", "山东化工"])
def test_a_month_and_day_with_a_slash_is_a_day_asked_back(bot: ChatBot, first: str) -> None:
    """"3/15上的名单" was dropped without a word; now it is 2026-03-15, asked back (the year is a guess)."""
    bot.push(first)
    bot.push("4")
    bot.pick("tox:hazardous_waste")
    if first == "山东化工":
        bot.push("3/15")
    assert "名单公布于 2026-03-15" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no"]
    assert "list_published_on" not in facts(bot)
    bot.pick("ok:yes")
    assert facts(bot)["list_published_on"] == "2026-03-15"


def test_a_share_with_a_slash_is_no_day(bot: ChatBot) -> None:
    bot.push("山东化工，产能的1/3停了")
    bot.push("4")
    bot.pick("tox:hazardous_waste")
    assert "名单公布于" not in bot.text and "list_published_on" not in facts(bot)


def test_a_date_at_the_industry_confirmation_asks_it_again(bot: ChatBot) -> None:
    """"2026年1月30日" at "是水泥制造（3011）吗？" offered 1521 碳酸饮料制造, then 是 a list of unrelated classes."""
    bot.push("山西水泥")
    assert bot.choice_ids() == ["ok:yes", "ok:no"]
    bot.push("2026年1月30日")
    assert not any(c.startswith("ind:") for c in bot.choice_ids())
    assert "水泥制造（3011）吗" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no"]
    bot.push("是")
    assert facts(bot)["industry_code"] == "3011" and "判定结果" in bot.text


@pytest.mark.parametrize("text", ["2026年1月30日", "是", "嗯", "好的", "300"])
def test_no_trade_is_searched_in_a_date_or_a_yes(bot: ChatBot, text: str) -> None:
    bot.push("山西的")
    assert "什么行业" in bot.text
    bot.push(text)
    assert not any(c.startswith("ind:") for c in bot.choice_ids())
    assert "industry_code" not in facts(bot) and "什么行业" in bot.text


def test_no_such_day_keeps_the_month(bot: ChatBot) -> None:
    bot.push("山西的")
    bot.push("水泥")
    bot.push("今年2月")
    bot.push("30号")                       # February has no 30th: the day is asked again, the month kept
    assert "2026年02月的哪一天" in bot.text and "list_published_on" not in facts(bot)
    bot.push("28号")
    assert facts(bot)["list_published_on"] == "2026-02-28"


def test_the_form_asked_for_before_the_verdict_keeps_the_interview(tmp_path: Path) -> None:
    """申请表 in the middle of the interview said "请先回答问题（发送“重新开始”）", which throws the answers
    away, and left the open question unasked; now it says the answers are kept and asks it again."""
    bot = sqlite_bot(tmp_path, start=False)
    bot.start(code=credit_code("91410100MA4X12345"))
    bot.push("做纺织的，三百人，五千万营收")
    bot.push("都没有")
    assert "ind:1711" in bot.choice_ids()
    bot.push("申请表")
    assert "重新开始" not in bot.text and "已有的回答都会保留" in bot.text
    assert "ind:1711" in bot.choice_ids()          # the pick list again
    bot.pick("ind:1711")
    assert "判定结果" in bot.text and facts(bot)["industry_code"] == "1711"


def test_the_form_asked_for_without_a_code_asks_the_open_question_again(bot: ChatBot) -> None:
    bot.push("河南的企业，想申请自愿审核")
    assert "ck:none" in bot.choice_ids()
    bot.push("申请表")
    assert "统一社会信用代码" in bot.text and "ck:none" in bot.choice_ids()
    bot.push("都没有")
    assert "province" in facts(bot) and facts(bot)["exceeds_emission_standard"] is False


@pytest.mark.parametrize(("text", "fact"), [
    ("山东的，可能有点超标", "exceeds_emission_standard"),     # a doubt: was a mandatory verdict at once
    ("山东的，估计超标了", "exceeds_emission_standard"),
    ("山东的，以前超标过，现在不超了", "exceeds_emission_standard"),  # a past put right: was a mandatory verdict
    ("山东的，曾经超过总量", "exceeds_total_quota"),
])
def test_a_doubted_or_past_ground_is_asked_back(bot: ChatBot, text: str, fact: str) -> None:
    bot.push(text)
    assert "判定结果" not in bot.text and fact not in facts(bot)
    assert bot.choice_ids() == ["ok:yes", "ok:no"]
    bot.pick("ok:no")
    assert facts(bot).get(fact) is not True and "应当实施强制性清洁生产审核" not in bot.text


def test_a_doubted_ground_confirmed_decides(bot: ChatBot) -> None:
    bot.push("山东的，可能有点超标")
    bot.pick("ok:yes")
    assert facts(bot)["exceeds_emission_standard"] is True and "应当实施强制性清洁生产审核" in bot.text


def test_wei_fei_typed_as_a_homophone_is_asked_back(bot: ChatBot) -> None:
    """"山冻的，做危费处理的": 山东 was asked back, 危费 (for 危废) was lost and the checklist asked as if unsaid."""
    bot.push("山冻的，有危费")
    bot.pick("opt:shandong")
    assert "有毒有害物质：危险废物" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no"]
    assert "toxic_classes" not in facts(bot)
    bot.pick("ok:yes")
    assert facts(bot)["toxic_classes"] == ["hazardous_waste"] and "应当实施强制性清洁生产审核" in bot.text


@pytest.mark.parametrize(("said", "day"), [("上个月底", "2026-11-30"), ("去年3月底", "2025-03-31")])
def test_the_end_of_a_month_is_confirmed_as_its_last_day(bot: ChatBot, said: str, day: str) -> None:
    """"上个月底" asked "2026年11月的哪一天？" although 月底 says the day; now the last day is confirmed."""
    _shandong_listed_at(bot, said)
    assert f"名单公布于 {day}" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no"]
    bot.push("是")
    assert facts(bot)["list_published_on"] == day


def test_not_the_last_day_asks_the_day_of_that_month(bot: ChatBot) -> None:
    _shandong_listed_at(bot, "上个月底")
    bot.pick("ok:no")
    assert "2026年11月的哪一天" in bot.text and "list_published_on" not in facts(bot)
    bot.push("20号")
    assert facts(bot)["list_published_on"] == "2026-11-20"


def test_the_end_of_a_year_still_asks_the_day(bot: ChatBot) -> None:
    _shandong_listed_at(bot, "去年底")
    assert "2025年12月的哪一天" in bot.text and "list_published_on" not in facts(bot)


def _shandong_listed_at(bot: ChatBot, said: str) -> None:
    bot.push("山东化工")
    bot.push("4")
    bot.pick("tox:hazardous_waste")
    bot.push(said)


def test_a_correction_of_a_list_day_given_in_one_breath_in_english(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push("skip")
    bot.push("We're a chemical plant in Shandong, we produce hazardous waste, listed on 15 March 2025")
    assert facts(bot)["list_published_on"] == "2025-03-15" and "last cleaner-production audit" in bot.text
    bot.push("no, it was April 15, 2025")
    assert "list published on 2025-04-15" in bot.text and "last_audit_completed_on" not in facts(bot)
    bot.pick("ok:yes")
    assert facts(bot)["list_published_on"] == "2025-04-15" and "last_audit_completed_on" not in facts(bot)
    assert "With the corrected answer" in bot.text


def test_who_are_you_at_the_credit_code_question_is_answered(tmp_path: Path) -> None:
    """"你们是谁？" was answered "没有从中读到统一社会信用代码或企业情况"."""
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push("你们是谁？")
    assert "我是清审" in bot.text and "没有从中读到" not in bot.text and bot.choice_ids() == ["skip"]


@pytest.mark.parametrize("text", ["你是机器人吗", "你们是谁？"])
def test_who_are_you_at_the_industry_question_names_no_trade(bot: ChatBot, text: str) -> None:
    """"你是机器人吗" offered 3491 工业机器人制造 as the enterprise's trade."""
    bot.push("山西的")
    bot.push(text)
    assert "我是清审" in bot.text and not any(c.startswith("ind:") for c in bot.choice_ids())
    assert "industry_code" not in facts(bot) and "什么行业" in bot.text


def test_who_are_you_in_english(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push("skip")
    bot.push("who are you?")
    assert "I am Qingshen" in bot.text and "shandong" in bot.choice_ids()


def test_a_listed_enterprise_without_grounds_is_not_told_it_is_simply_voluntary(bot: ChatBot) -> None:
    """On the published list, then 都没有 at the grounds: the verdict said "不属于强制性审核范围，可自愿开展" and
    nothing else, against the authorities' list; now it says the list applies and to check the answers."""
    bot.push("山东的，我们上了强制性清洁生产审核名单，2025年3月15日公布的")
    bot.push("都没有")
    assert "已列入2025-03-15公布的强制性清洁生产审核企业名单" in bot.text and "须按名单的期限开展审核" in bot.text
    # the disagreement leads; the voluntary reading comes after it, as what the answers alone give
    assert bot.text.index("需要核实") < bot.text.index("仅按您的回答") < bot.text.index("可自愿开展")


def test_an_unlisted_enterprise_without_grounds_gets_no_list_warning(bot: ChatBot) -> None:
    bot.push("山东的")
    bot.push("都没有")
    assert "可自愿开展" in bot.text and "名单的期限" not in bot.text

"""Readings the QA round still found missing (tests/handlers/chatkit.ChatBot on real SQLite): 不清楚 for the
grounds asked together, English typed in a Chinese session (and the reverse), 危废经营单位 and the Shanxi
十四五 list in plain words, ranged headcounts, and an audit's year and its acceptance in two messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.chatkit import ChatBot, sqlite_bot
from tests.handlers.chatkit import stored_facts as facts
from tests.handlers.english import chinese_left

GROUNDS = ("exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit", "toxic_classes")


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path)


# -- 1. 不清楚 at the grounds checklist ------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["不清楚", "不知道", "不确定", "都不清楚", "!unknown"])
def test_not_knowing_the_grounds_gets_one_reply_with_the_conditional_verdict(bot: ChatBot, answer: str) -> None:
    bot.push("山东的水泥厂")
    assert "ck:none" in bot.choice_ids()
    bot.pick("unknown") if answer.startswith("!") else bot.push(answer)
    text = bot.text
    assert not any(g in facts(bot) for g in GROUNDS)  # 不清楚 is never 没有
    assert bot.choice_ids() == [] and "ck:none" not in bot.choice_ids()  # no ground asked one by one
    assert "不会当作“没有”" in text and "排污许可证" in text and "能源审计" in text and "危险废物管理计划" in text
    assert "判定结果：尚不能确定" in text
    assert "只要其中任何一项属实，就须开展强制性清洁生产审核" in text
    assert "《中华人民共和国清洁生产促进法》第二十七条" in text
    assert "如果都没有，属于自愿性审核" in text


def test_not_knowing_the_grounds_before_another_question_says_the_verdict_meanwhile(bot: ChatBot) -> None:
    """Shanxi: the master list is asked next, so the conditional comes with the 不清楚 reply itself."""
    bot.push("山西的")
    bot.push("不清楚")  # the industry
    assert "ck:none" in bot.choice_ids()
    bot.push("不清楚")
    assert "在查清之前，结论是有条件的" in bot.text and "还需要更多信息才能确定" in bot.text
    assert "判定结果：" not in bot.text and bot.choice_ids() == ["yes", "no", "unknown"]
    assert not any(g in facts(bot) for g in GROUNDS)


def test_back_after_not_knowing_the_grounds_asks_the_checklist_again(bot: ChatBot) -> None:
    bot.push("山东的水泥厂")
    bot.push("不清楚")
    bot.push("返回")
    assert "ck:none" in bot.choice_ids()
    bot.push("1")
    assert facts(bot)["exceeds_emission_standard"] is True and "应当实施强制性清洁生产审核" in bot.text


def test_not_knowing_the_grounds_in_english(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push("skip")
    bot.push("a cement plant in Shandong")
    assert "ck:none" in bot.choice_ids()
    bot.push("not sure")
    assert "if any one of them applies, the audit is MANDATORY" in bot.text
    assert chinese_left(bot.text) == []


# -- 2. the session follows the language the contact writes in ---------------------------------------------


def _contact_locale(bot: ChatBot, user: str = "u1") -> str:
    from storage import Repositories

    with bot.dispatcher.sessions() as s:
        contact = Repositories(s).contacts.get_by_address(bot.channel, user)
        assert contact is not None
        return contact.locale


def test_english_sentences_in_a_chinese_session_switch_it_to_english(bot: ChatBot) -> None:
    bot.push("Hello, we are a chemical plant in Shandong")
    assert "You are writing in English, so I answer in English from now on" in bot.text
    assert facts(bot)["province"] == "shandong"
    assert chinese_left(bot.text) == [] and "None of them" in [c.label for c in bot.choices]
    assert _contact_locale(bot) == "en"  # reminders and list notices are worded in the contact's stored language
    bot.push("not sure")
    assert "if any one of them applies" in bot.text and chinese_left(bot.text) == []


def test_the_switch_reaches_the_web_page_and_the_reminders(bot: ChatBot) -> None:
    from handlers.messages import Inbound

    replies, locale = bot.dispatcher.dispatch_with_locale(
        Inbound(bot.channel, "u1", text="We are a cement plant in Shanxi with about 300 employees"))
    assert locale == "en" and "You are writing in English" in replies[0].text


@pytest.mark.parametrize("word", ["ok", "yes", "bu zhi dao", "meiyou", "not sure", "91370300MA3C12345K"])
def test_one_english_word_or_pinyin_does_not_switch(bot: ChatBot, word: str) -> None:
    bot.push("山东的水泥厂")
    bot.push(word)
    assert "You are writing in English" not in bot.text and _contact_locale(bot) == "zh_CN"


def test_chinese_sentences_in_an_english_session_switch_it_to_chinese(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push("skip")
    bot.push("山东")  # a name alone is no sentence: the session stays English
    assert "您在用中文书写" not in bot.text and _contact_locale(bot) == "en"
    bot.push("我们是化工厂，三百人左右")
    assert "您在用中文书写，此后我用中文回复" in bot.text and "以上都不是" in [c.label for c in bot.choices]
    assert _contact_locale(bot) == "zh_CN"


@pytest.mark.parametrize("name", ["山西太原水泥有限公司", "山西太原钢铁（集团）有限公司", "太原市小店区"])
def test_a_name_written_in_chinese_does_not_switch_an_english_session(tmp_path: Path, name: str) -> None:
    """Registered names and places are written in Chinese by everyone: typing one is no sign of the
    contact's language (a sentence around it is: 我们是山西的一家水泥厂)."""
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push("skip")
    bot.push("We are a cement plant in Shanxi")
    bot.push(name)
    assert "您在用中文书写" not in bot.text and _contact_locale(bot) == "en", bot.text
    bot.push("我们是山西的一家水泥厂")
    assert "您在用中文书写" in bot.text and _contact_locale(bot) == "zh_CN"


# -- 3. a hazardous-waste operator; the Shanxi 十四五 list in plain words -----------------------------------


def test_a_hazardous_waste_operator_is_said_back_and_asked_whether_it_discharges_hazardous_waste(bot: ChatBot) -> None:
    bot.push("山东的，我们是危废经营单位")
    assert "toxic_classes" not in facts(bot)  # operating is no ground: nothing stored yet
    assert "我理解的是：“危废经营”" in bot.text and "危险废物经营本身不是强制审核的情形" in bot.text
    assert "第二十七条第二款第（三）项" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no", "unknown"]
    bot.pick("ok:yes")
    assert facts(bot)["toxic_classes"] == ["hazardous_waste"] and "应当实施强制性清洁生产审核" in bot.text


def test_a_hazardous_waste_operator_that_discharges_none_is_asked_the_toxic_question(bot: ChatBot) -> None:
    bot.push("山东的，我们是危废经营单位")
    bot.pick("ok:no")
    assert "toxic_classes" not in facts(bot) and "tox:none" in bot.choice_ids()  # raw materials still open


@pytest.mark.parametrize("said", ["山西的，上了省里的清洁生产审核名单，十四五的", "山西的，上了名单"])
def test_the_shanxi_list_in_plain_words_asks_the_master_list(bot: ChatBot, said: str) -> None:
    bot.push(said)
    assert "on_master_list" not in facts(bot)
    assert "名录总库" in bot.text and "三、（一）" in bot.text and bot.choice_ids() == ["ok:yes", "ok:no", "unknown"]
    bot.pick("ok:yes")
    assert facts(bot)["on_master_list"] is True
    assert "《山西省“十四五”重点行业清洁生产审核实施方案》三、（一）" in bot.text


def test_the_shanxi_list_denied_is_not_in_the_master_list(bot: ChatBot) -> None:
    bot.push("山西的，上了省里的清洁生产审核名单，十四五的")
    bot.push("不是")
    assert facts(bot)["on_master_list"] is False


def test_not_on_a_list_says_nothing_of_the_master_list(bot: ChatBot) -> None:
    bot.push("山西的，没上名单")
    assert "on_master_list" not in facts(bot) and "名录总库中提出" not in bot.text


# -- 4. ranged headcounts ----------------------------------------------------------------------------------


def _henan_ranged(bot: ChatBot, people: str) -> None:
    bot.push(f"河南的，做化肥的，{people}")


def test_a_range_across_a_size_bound_is_said_back_and_asked(bot: ChatBot) -> None:
    _henan_ranged(bot, "大概两三百人")
    assert "“两三百人”即200到300人" in bot.text and "中型企业的下限300人" in bot.text
    assert "employees" not in facts(bot)
    bot.deny_grounds()
    bot.pick("ind:2621")
    assert "在200到300人之间" in bot.text and "请问大约有多少人" in bot.text
    bot.push("280")
    assert facts(bot)["employees"] == 280


@pytest.mark.parametrize(("people", "low", "high"), [("一两百人", 100, 200), ("三五百人", 300, 500),
                                                     ("两三千人", 2000, 3000)])
def test_a_range_within_one_size_band_is_taken_and_said_so(bot: ChatBot, people: str, low: int, high: int) -> None:
    _henan_ranged(bot, people)
    assert f"“{people}”即{low}到{high}人" in bot.text and "具体人数不影响规模等级" in bot.text
    assert facts(bot)["employees"] == low


def test_a_range_in_english_is_said_back_in_english(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path, start=False)
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push("skip")
    bot.push("Henan, fertiliser, 两三百人")
    assert "as 200 to 300 employees" in bot.text and chinese_left(bot.text, allow=["两三百人"]) == []


# -- 5. the audit's year and its acceptance in two messages ---------------------------------------------


def test_an_acceptance_year_after_the_audit_year_asks_the_rounds_completion_day(bot: ChatBot) -> None:
    bot.push("山西的水泥厂")
    bot.confirm(limit=1)  # 水泥制造（3011）
    bot.pick("none")  # not on a list
    assert "上一轮清洁生产审核是哪一天完成的" in bot.text
    bot.push("19年做过一次审核")
    assert "2019年的几月几日" in bot.text
    bot.push("21年验收的")
    assert "last_audit_completed_on" not in facts(bot) and "accepted_on" not in facts(bot)
    assert "这是两个不同的日期" in bot.text and "报送审核报告之日" in bot.text
    assert "2019年的几月几日（上一轮审核完成日期）" in bot.text  # not "which day of 2021 (acceptance)"
    bot.push("6月30日")
    assert facts(bot)["last_audit_completed_on"] == "2019-06-30" and "accepted_on" not in facts(bot)


@pytest.mark.parametrize(("people", "low", "high"), [("几百人", 200, 900), ("大概三五百人", 300, 500)])
def test_a_vague_or_about_range_is_asked(bot: ChatBot, people: str, low: int, high: int) -> None:
    _henan_ranged(bot, people)
    assert f"即{low}到{high}人" in bot.text and "employees" not in facts(bot)
    bot.deny_grounds()
    bot.pick("ind:2621")
    assert f"在{low}到{high}人之间" in bot.text and "请问大约有多少人" in bot.text
    bot.push("不清楚")
    assert "employees" not in facts(bot)


@pytest.mark.parametrize(("people", "low"), [("三百几十人", 310), ("十几人", 11), ("几千人", 2000)])
def test_a_few_tens_or_hundreds_is_a_range_not_a_product(bot: ChatBot, people: str, low: int) -> None:
    """三百几十人 was read as 3000 people (三百 × 十) and stored; 几十人 as 10."""
    _henan_ranged(bot, people)
    assert facts(bot)["employees"] == low and "具体人数不影响规模等级" in bot.text

"""Conversations that understand people (issue 9): several facts per message, no misread ever becomes a
verdict, the most decisive question first, interruptions resumed, a verdict without consent.
Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code

TODAY = date(2026, 12, 1)
SHANXI_CODE = credit_code("91140100MA0K5678Q")


@pytest.fixture
def bot(sessions: sessionmaker[Session]) -> ChatBot:
    return ChatBot(sessions, TODAY)


def _facts(sessions: sessionmaker[Session], user: str = "u1") -> dict[str, object]:
    with sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address("test", user)
        assert contact is not None
        row = repos.conversations.get_by_contact_id(contact.id)
        assert row is not None
        return dict(row.state["interview"]["facts"])


def _consent(bot: ChatBot, user: str = "u1") -> None:
    bot.push("你好", user)
    bot.pick("consent:yes", user)


def test_a_description_right_after_consent_is_read_not_refused_as_a_credit_code(
    bot: ChatBot, sessions: sessionmaker[Session]
) -> None:
    _consent(bot)
    bot.push("我们是山东的一家化工厂，双有企业，去年3月上了名单")
    assert "统一社会信用代码" not in bot.text or "不是有效" not in bot.text
    assert "我理解的是" in bot.text and "山东省" in bot.text
    facts = _facts(sessions)
    assert facts.get("province") == "shandong"
    assert "list_published_on" not in facts          # a month without a day is never guessed
    answers = 0
    while "判定结果" not in bot.text and answers < 4:
        ids = bot.choice_ids()
        if "tox:heavy_metal" in ids:
            bot.pick("tox:heavy_metal")
        elif ids and ids[0].startswith("ind:"):
            bot.pick(ids[0])
        else:
            bot.push("31")                           # the day of 去年3月
        answers += 1
    assert "强制性清洁生产审核" in bot.text
    assert answers <= 2


def test_the_one_breath_description_sent_first_is_read_after_consent(bot: ChatBot) -> None:
    bot.push("山西太原的水泥厂，想问下要不要做清洁生产审核")
    assert "同意" in bot.text                           # consent first: nothing is read into storage before
    bot.pick("consent:yes")
    assert "水泥制造（3011）" in bot.text and "自身的行业" in bot.text  # a trade in a sentence is confirmed first
    bot.confirm()
    assert "判定结果" in bot.text and "强制性清洁生产审核" in bot.text   # cement in Shanxi: the annex decides


@pytest.mark.parametrize("industry_answer", ["有机化学原料", "有机化学原料制造"])
def test_an_industry_typed_at_a_yes_no_question_is_never_a_yes(bot: ChatBot, sessions: sessionmaker[Session],
                                                               industry_answer: str) -> None:
    bot.start()
    bot.push("河北")
    assert "排放标准" in bot.text
    bot.push(industry_answer)
    assert "强制性清洁生产审核" not in bot.text
    bot.confirm()                                       # "is your own trade 有机化学原料制造?": yes
    facts = _facts(sessions)
    assert "exceeds_emission_standard" not in facts
    assert facts.get("industry_code", "2614") == "2614"
    assert "排放标准" in bot.text                        # the open question is asked again


def test_stainless_steel_is_never_a_no(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start()
    bot.push("河北")
    bot.push("不锈钢加工")
    assert "exceeds_emission_standard" not in _facts(sessions)
    assert "判定结果" not in bot.text


def test_jargon_and_negation_are_read_as_the_answer(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start()
    bot.push("河北")
    bot.push("我们一直达标排放")
    assert _facts(sessions).get("exceeds_emission_standard") is False
    assert "判定结果" not in bot.text and "都没有" in bot.text   # the other grounds, asked together
    bot.push("应该没有")                                # none of them
    facts = _facts(sessions)
    assert facts.get("exceeds_total_quota") is False and facts.get("toxic_classes") == []
    assert "可自愿开展" in bot.text


def test_two_hundred_million_makes_a_henan_enterprise_above_designated_size(bot: ChatBot) -> None:
    bot.start()
    bot.push("河南")
    bot.deny_grounds()
    for _ in range(3):
        if "行业" in bot.last[-1].text:
            bot.push("电镀")
            if bot.choice_ids() and bot.choice_ids()[0].startswith("ind:"):
                bot.pick("ind:3360")
        elif "2000万元" in bot.last[-1].text:
            bot.push("年营业额两个亿")
        else:
            break
    assert "自愿性清洁生产审核：符合条件" in bot.text and "不符合" not in bot.text


@pytest.mark.parametrize("aside", ["我们做水泥的", "大概300人", "两个亿"])
def test_a_fact_typed_while_a_yes_no_question_is_open_is_kept(
    bot: ChatBot, sessions: sessionmaker[Session], aside: str
) -> None:
    bot.start()
    bot.push("河北")
    bot.push(aside)
    if "您的意思是" in bot.text or "自身的行业" in bot.text:  # a bare amount or a trade: confirmed first
        bot.push("是的")
    else:
        assert "我理解的是" in bot.text
    facts = _facts(sessions)
    assert "exceeds_emission_standard" not in facts
    assert {"industry_code", "employees", "revenue_10k_yuan"} & set(facts)
    assert "排放标准" in bot.last[-1].text           # and the open question is asked again


def test_shanxi_asks_the_industry_first_and_cement_needs_two_answers(bot: ChatBot) -> None:
    bot.start()
    bot.push("山西")
    assert "行业" in bot.text                           # the annex decides most Shanxi cases
    bot.push("水泥")
    if bot.choice_ids() and bot.choice_ids()[0].startswith("ind:"):
        bot.pick("ind:3011")
    assert "强制性清洁生产审核" in bot.text


def test_the_credit_code_gives_the_province(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start(code=SHANXI_CODE)
    assert _facts(sessions).get("province") == "shanxi"
    assert "哪个省" not in bot.text
    assert "山西" in bot.text


def test_a_command_in_the_middle_of_a_question_is_answered_and_the_question_asked_again(bot: ChatBot) -> None:
    bot.start()
    bot.push("河北")
    question = bot.last[-1].text
    for command in ("我的期限", "帮助", "my deadlines"):
        bot.push(command)
        assert bot.last[-1].text == question, command
        assert len(bot.last) >= 2
    bot.push("否")
    assert "总量" in bot.text


def test_back_in_pinyin_and_typos_are_understood(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start()
    bot.push("山希")                                     # a typo: asked back, never stored as a guess
    assert "province" not in _facts(sessions)
    assert "山西" in bot.text
    bot.pick(bot.choice_ids()[0])
    assert _facts(sessions).get("province") == "shanxi"
    bot.push("fanhui")
    assert "已撤销" in bot.text
    assert "province" not in _facts(sessions)


def test_a_central_enterprise_question_is_read(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start()
    bot.push("我们是中央直属企业，这个有影响吗")
    assert _facts(sessions).get("central_enterprise") is True


def test_declining_consent_still_gives_the_verdict_and_stores_nothing(
    bot: ChatBot, sessions: sessionmaker[Session]
) -> None:
    bot.push("你好")
    bot.pick("consent:no")
    assert "没有保存" in bot.text
    bot.push("山西的焦化厂")                                            # 2521 coking: the Shanxi annex decides
    bot.confirm()
    assert "判定结果" in bot.text and "应当实施强制性清洁生产审核" in bot.text
    bot.push("我的期限")
    assert "不记录期限" in bot.text
    for _ in range(4):
        if not bot.choice_ids():
            break
        bot.pick(bot.choice_ids()[0])
    assert "未保存" in bot.text
    with sessions() as s:
        repos = Repositories(s)
        assert repos.contacts.get_by_address("test", "u1") is None      # not even the chat id
        assert repos.assessments.count_by_obligation() == {}
    bot.push("同意")                                                  # changed their mind: from now on kept
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "u1")
        assert contact is not None and contact.consented_at is not None


def test_an_english_description_is_read(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start()
    bot.push("English")
    bot.push("We are a cement plant in Shanxi with 300 employees")
    bot.confirm()
    assert "MANDATORY" in bot.text
    assert _facts(sessions).get("province") == "shanxi"


def test_what_is_kept_in_memory_only_expires_and_is_bounded() -> None:
    from handlers.dispatcher import Ephemeral

    store = Ephemeral(ttl_s=3600, limit=2)
    store.put(("web", "a"), 1)
    store.put(("web", "b"), 2)
    store.put(("web", "c"), 3)                     # the oldest makes room
    assert store.get(("web", "a")) is None and store.get(("web", "c")) == 3
    gone = Ephemeral(ttl_s=-1)
    gone.put(("web", "a"), 1)
    assert gone.get(("web", "a")) is None and gone.pop(("web", "a")) is None


@pytest.mark.parametrize("forged", ["opt:atlantis", "ck:nothing", "ind:9999", "tox:plutonium", "sq:maybe",
                                    "ok:perhaps"])
def test_a_choice_id_never_offered_is_asked_again_not_stored(
    bot: ChatBot, sessions: sessionmaker[Session], forged: str
) -> None:
    bot.start()
    bot.push("山希")                                      # an ask-back with province options is open
    bot.pick(forged)
    assert bot.text                                       # a reply, not an error
    assert "province" not in _facts(sessions)
    bot.push("河北")
    bot.pick(forged)                                      # at the grounds checklist
    facts = _facts(sessions)
    assert set(facts) == {"province"}

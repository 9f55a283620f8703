"""Conversations, read like conversations: one per seed province, plus typos, back, restart,
forget, consent and a second contact of the same enterprise. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code

TODAY = date(2026, 11, 22)
CODE = credit_code("91140100MA0K1234X")
OTHER_CODE = credit_code("91370100MA3C9876Y")


@pytest.fixture
def bot(sessions: sessionmaker[Session]) -> ChatBot:
    return ChatBot(sessions, TODAY)


def test_first_message_asks_for_consent_and_stores_nothing_personal(
    bot: ChatBot, sessions: sessionmaker[Session]
) -> None:
    bot.push("你好")
    assert "个人信息保护法" in bot.text
    assert bot.choice_ids() == ["consent:yes", "consent:no"]
    with sessions() as s:
        assert Repositories(s).contacts.get_by_address("test", "u1") is None  # not even the chat id


def test_declining_consent_stores_nothing(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.push("你好")
    bot.push("不同意")
    assert "没有保存" in bot.text
    with sessions() as s:
        assert Repositories(s).contacts.get_by_address("test", "u1") is None   # not even the chat id


def test_shanxi_cement_maker_is_mandatory_under_the_annex(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start()
    assert "省" in bot.text and "shanxi" in bot.choice_ids()
    bot.push("晋")                      # the one-character abbreviation
    assert "行业" in bot.text             # the annex decides most Shanxi cases: the industry comes first
    bot.push("水泥")
    if bot.choice_ids() and bot.choice_ids()[0].startswith("ind:"):
        assert bot.choice_ids()[0] == "ind:3011"   # a short pick list, 3011 水泥制造 first
        bot.pick("ind:3011")
    verdict = bot.pop()
    assert "强制性清洁生产审核" in verdict
    assert "附件" in verdict and "水泥制造（3011）" in verdict
    assert "市生态环境局" in verdict          # where to report
    assert "企业名称" in verdict             # what to publish
    assert "名单" in bot.pop()              # follow-up: the list's publication date
    bot.push("2026年3月31日")
    assert "上一轮" in bot.text or "审核" in bot.text
    bot.skip_follow_ups()
    assert "2026-04-30" in bot.text        # disclosure: one month after 2026-03-31
    assert "2026-05-31" in bot.text        # start: two months
    assert "2027-03-31" in bot.text        # report: one year
    bot.push("我的期限")
    assert "2026-04-30" in bot.text


def test_shandong_in_2021_asks_the_energy_target_and_cites_the_shandong_rules(
    sessions: sessionmaker[Session],
) -> None:
    bot = ChatBot(sessions, date(2021, 6, 1))
    bot.start()
    bot.push("山东省")
    assert "节能目标" in bot.text            # only Shandong makes this a ground: it is among the grounds asked
    assert "ck:missed_energy_target" in bot.choice_ids()
    bot.pick("ck:missed_energy_target")
    verdict = bot.pop()
    assert "强制性清洁生产审核" in verdict and "山东省清洁生产审核实施细则" in verdict
    assert "第八条第一款第（二）项" in verdict


def test_xinjiang_heavy_metal_user_is_mandatory_with_xinjiang_offices(bot: ChatBot) -> None:
    bot.start()
    bot.push("新疆")
    bot.push("不超标")                     # typed freely: a negation reads as "no"
    assert "总量" in bot.text and "有毒有害" in bot.text   # the other grounds, asked together
    bot.push("有，含铅和镉的物质")
    verdict = bot.text
    assert "强制性清洁生产审核" in verdict
    assert "新疆维吾尔自治区清洁生产审核暂行办法" in verdict


def test_henan_voluntary_enterprise_learns_it_is_eligible(bot: ChatBot) -> None:
    bot.start()
    bot.push("河南")
    bot.deny_grounds()
    asked = set()
    for _ in range(3):                      # the industry and the revenue: the voluntary programme's conditions
        if "行业" in bot.last[-1].text:
            asked.add("industry")
            bot.push("电镀")
            if bot.choice_ids()[0].startswith("ind:"):
                bot.pick("ind:3360")
        elif "2000万元" in bot.last[-1].text:
            asked.add("revenue")
            bot.push("去年营收五千万")
        else:
            break
    assert asked == {"industry", "revenue"}
    assert "自愿" in bot.text and "符合条件" in bot.text
    assert "关于开展自愿性清洁生产审核工作的通知" in bot.text


def test_typos_get_a_clear_reask(bot: ChatBot) -> None:
    bot.start()
    bot.push("火星")
    assert "没能" in bot.text and "省" in bot.text
    bot.push("河北")
    bot.push("也许吧")
    assert "没能" in bot.text and "排放标准" in bot.text


def test_back_undoes_the_last_answer_and_asks_it_again(bot: ChatBot) -> None:
    bot.start()
    bot.push("河北")
    bot.push("否")
    question = bot.text
    bot.push("返回")
    assert "已撤销" in bot.text and "排放标准" in bot.text
    assert question != bot.text


def test_restart_forgets_the_answers_but_keeps_consent(bot: ChatBot) -> None:
    bot.start()
    bot.push("山西")
    bot.push("重新开始")
    assert "重新开始" in bot.text and "省" in bot.text
    assert "shanxi" in bot.choice_ids()


def test_numbered_answers_pick_the_listed_choice(bot: ChatBot) -> None:
    bot.start()
    bot.push("2")                          # the second listed province: 山东
    assert "排放标准" in bot.text


def test_forget_deletes_the_contacts_data(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.start(code=CODE)                   # 9114…: registered in Shanxi, the province is not asked
    bot.push("我们排放超标")                  # mandatory at once
    bot.skip_follow_ups()
    bot.push("删除我的数据")
    assert bot.choice_ids() == ["forget:yes", "forget:no"]
    bot.pick("forget:yes")
    assert "已删除" in bot.text
    with sessions() as s:
        repos = Repositories(s)
        assert repos.contacts.get_by_address("test", "u1") is None
        assert repos.assessments.count_by_obligation() == {}           # its assessments went with it
        # the enterprise only this contact told us about goes too (tests/storage/test_erasure.py: a listed one stays)
        assert repos.enterprises.count_all() == 0


def test_a_second_contact_of_the_same_enterprise_joins_with_a_colleagues_invitation(
    bot: ChatBot, sessions: sessionmaker[Session]
) -> None:
    bot.start(user="alice", code=CODE)
    bot.push("排放超标了", user="alice")      # exceeds an emission standard: mandatory
    bot.push("2026-03-31", user="alice")
    bot.skip_follow_ups(user="alice")
    # a credit code is public: giving it is not enough to see or act on the enterprise's data
    bot.start(user="bob", code=CODE.lower())
    assert "邀请同事" in bot.text and "2026-03-31" not in bot.text
    with sessions() as s:
        bob = Repositories(s).contacts.get_by_address("test", "bob")
        assert bob is not None and bob.enterprise_id is None
    bot.push("邀请同事", user="alice")
    invite = re.search(r"绑定 ([A-Z0-9]{8})", bot.text)
    assert invite is not None, bot.text
    bot.push(f"绑定 {invite.group(1)}", user="bob")
    assert "同事" in bot.text and "强制性清洁生产审核" in bot.text   # the verdict comes without asking again
    bot.push("返回", user="bob")                                      # an inherited answer can be undone
    assert "已撤销" in bot.text
    bot.push(f"绑定 {invite.group(1)}", user="carol")                 # the code worked once
    with sessions() as s:
        repos = Repositories(s)
        alice = repos.contacts.get_by_address("test", "alice")
        bob = repos.contacts.get_by_address("test", "bob")
        assert alice is not None and bob is not None
        assert alice.enterprise_id == bob.enterprise_id is not None
        assert repos.enterprises.count_all() == 1
        carol = repos.contacts.get_by_address("test", "carol")
        assert carol is None or carol.enterprise_id is None


def test_an_invalid_credit_code_is_refused_with_a_reason(bot: ChatBot) -> None:
    bot.push("你好")
    bot.pick("consent:yes")
    bot.push(CODE[:-1] + ("0" if CODE[-1] != "0" else "1"))
    assert "校验" in bot.text and "统一社会信用代码" in bot.text


def test_language_switches_to_english_and_back(bot: ChatBot) -> None:
    bot.start()
    bot.push("English")
    assert "province" in bot.text
    bot.push("中文")
    assert "省" in bot.text


def test_help_lists_the_commands(bot: ChatBot) -> None:
    bot.start()
    bot.push("帮助")
    for word in ("重新开始", "返回", "我的期限", "删除我的数据"):
        assert word in bot.text


def test_a_province_without_rules_gets_the_national_layer(bot: ChatBot) -> None:
    bot.start()
    bot.push("河北")
    bot.deny_grounds()
    assert "自愿" in bot.text
    assert "河北省" in bot.text               # the note: no provincial rules loaded for 河北省

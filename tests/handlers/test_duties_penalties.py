"""Issue 12 in what the contact sees: the yearly environmental-information disclosure named in the verdict and
kept as a milestone with reminders; an overdue deadline's penalty under the law in force when it was missed,
the provincial article that refers to it, and what else a penalty brings (Shandong's credit record)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

import rules
from handlers.cycles import plan_milestones
from handlers.reminders import ReminderPolicy
from handlers.render import render_verdict
from handlers.status import StatusItem, render_status
from rules.i18n import gettext_for
from tests.handlers.chatkit import ChatBot, credit_code, milestones
from tests.handlers.english import assert_no_chinese

ZH = gettext_for("zh_CN")
EN = gettext_for("en")
HEBEI = {"province": "hebei", "exceeds_emission_standard": True, "list_published_on": "2026-03-31"}
ENV = "《企业环境信息依法披露管理办法》第七条、第十四条，及其每年3月15日前披露上一年度环境信息的规定"


def test_a_mandatory_verdict_names_the_yearly_disclosure_and_the_media_publication() -> None:
    a = rules.assess(HEBEI, date(2026, 11, 22))
    text = render_verdict(a, ZH, "zh_CN")
    assert "另须履行：" in text
    assert "每年3月15日前披露上一年度环境信息，包括实施强制性清洁生产审核的原因" in text
    assert "下一次为2027-03-15前披露2026年度的信息（《企业环境信息依法披露管理办法》第七条、第十四条" in text
    assert "《中华人民共和国清洁生产促进法》第二十七条第四款" in text and "在本地区主要媒体上公布" in text
    english = render_verdict(a, EN, "en")
    assert "Every year by 3/15, disclose the previous year's environmental information" in english
    assert "next by 2027-03-15, for 2026" in english
    assert_no_chinese(english)


def test_before_the_disclosure_measures_took_effect_the_verdict_names_no_yearly_disclosure() -> None:
    a = rules.assess({**HEBEI, "list_published_on": "2021-03-31"}, date(2022, 2, 7))
    assert "每年3月15日前" not in render_verdict(a, ZH, "zh_CN")
    b = rules.assess({**HEBEI, "list_published_on": "2021-03-31"}, date(2022, 2, 8))
    assert "下一次为2022-03-15前披露2021年度的信息" in render_verdict(b, ZH, "zh_CN")


def test_the_yearly_disclosure_is_planned_as_a_milestone_with_reminders() -> None:
    a = rules.assess(HEBEI, date(2026, 11, 22))
    plans = {m.kind: m for m in plan_milestones(a, today=date(2026, 11, 22), policy=ReminderPolicy())}
    env = plans["env_disclosure"]
    assert env.nominal == env.due == date(2027, 3, 15)          # a fixed day: no Civil Code shift
    assert env.citation == ENV
    assert "披露2026年度环境信息" in env.note and "实施强制性清洁生产审核的原因" in env.note
    kinds = [kind for kind, _ in env.reminders]
    assert kinds[:4] == ["before_30", "before_7", "before_1", "on_day"], kinds
    assert all(day <= date(2027, 3, 15) for _, day in env.reminders[:4])


def test_a_missed_yearly_disclosure_risks_the_measures_fines() -> None:
    item = StatusItem("env_disclosure", date(2026, 3, 15), date(2026, 3, 15), ENV)
    text = render_status([item], date(2026, 4, 1), ZH, province="hebei")
    assert "披露上一年度环境信息（每年）：已逾期17天" in text
    assert "责令改正，通报批评，并可以处1万元以上、10万元以下的罚款" in text
    assert "超过规定时限的规定，条号未核实）" in text and "并可以处5万元以下的罚款" in text
    english = render_status([item], date(2026, 4, 1), EN, province="hebei")
    assert "criticises it publicly and may fine it 10,000 yuan to 100,000 yuan" in english
    assert_no_chinese(english)


def test_an_overdue_shandong_deadline_adds_the_credit_record_of_art_34() -> None:
    a = rules.assess({"province": "shandong", "exceeds_energy_limit": True, "list_published_on": "2021-03-31"},
                     date(2022, 3, 1))
    items = [StatusItem.from_hit(h) for h in a.deadlines]
    text = render_status(items, date(2022, 3, 1), ZH, province="shandong")
    assert "《山东省清洁生产审核实施细则》第三十一条规定按该条处罚" in text
    credit = "还将建立信用记录，归集至全国信用信息共享平台，由有关部门实行联合惩戒（《山东省清洁生产审核实施细则》"
    assert text.count(credit + "第三十四条）") == 2
    assert "延期申请" in text                                    # 第十八条 for the missed start
    english = render_status(items, date(2022, 3, 1), EN, province="shandong")
    assert "credit record" in english
    assert_no_chinese(english)


def test_a_deadline_missed_in_2010_is_punished_under_the_2002_law() -> None:
    a = rules.assess({"province": "shanxi", "exceeds_emission_standard": True, "list_published_on": "2010-03-01"},
                     date(2013, 1, 1))
    items = [StatusItem.from_hit(h) for h in a.deadlines]
    text = render_status(items, date(2013, 1, 1), ZH, province="shanxi")
    assert "《中华人民共和国清洁生产促进法》（2002年）第四十一条" in text
    old = "《中华人民共和国清洁生产促进法》（2002年）第四十条"
    assert f"{old}，由主管部门责令限期改正；拒不改正的，处10万元以下的罚款" in text
    assert "5万元以上" not in text                              # the 2012 amounts are heavier: not applied
    assert "信用山西" not in text and "信用网站" not in text      # the 14th-plan programme came later


@pytest.fixture
def bot(sessions: sessionmaker[Session]) -> ChatBot:
    return ChatBot(sessions, date(2026, 11, 22))


def test_the_chat_keeps_the_yearly_disclosure_and_lists_it_in_my_deadlines(
    bot: ChatBot, sessions: sessionmaker[Session]
) -> None:
    bot.start(code=credit_code("91140100MA0K1234X"))   # a Shanxi code
    bot.push("我们排放超标")
    verdict = bot.text
    assert "每年3月15日前披露上一年度环境信息" in verdict
    bot.push("2026年3月31日")
    bot.skip_follow_ups()
    env = milestones(sessions)["env_disclosure"]
    assert env.nominal == env.due == date(2027, 3, 15)
    bot.push("我的期限")
    assert "披露上一年度环境信息（每年）：还有113天，2027-03-15前完成" in bot.text

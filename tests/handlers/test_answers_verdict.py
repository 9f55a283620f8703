"""Tester findings on the verdict text: disclosure contents listed once (Shanxi, Xinjiang), a done deadline
without its period notes, a running re-audit interval citing only documents still in force."""

from __future__ import annotations

from datetime import date

import pytest

import rules
from handlers.render import render_verdict
from handlers.status import StatusItem
from rules.i18n import gettext_for
from tests.handlers.english import assert_no_chinese

ZH = gettext_for("zh_CN")
EN = gettext_for("en")
TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("province", ["shanxi", "xinjiang"])
def test_disclosure_contents_name_the_exceedance_once(province: str) -> None:
    a = rules.assess({"province": province, "exceeds_emission_standard": True}, TODAY)
    fields = a.disclosure_fields
    assert "超标、超总量情况" in fields and "超标及超总量情况" not in fields
    text = render_verdict(a, ZH, "zh_CN", today=TODAY)
    assert text.count("超总量情况") == 1
    if province == "shanxi":
        assert "实施清洁生产情况" in fields   # the 细则 第十条's own extra field stays


def test_a_done_deadline_drops_its_holiday_shift_note_and_an_open_one_keeps_it() -> None:
    listed = {"province": "shandong", "toxic_classes": ["hazardous_waste"], "list_published_on": "2026-03-31"}
    open_ = rules.assess(listed, TODAY)
    done = rules.assess({**listed, "last_audit_completed_on": "2026-07-01"}, TODAY)
    for locale, tr in (("zh_CN", ZH), ("en", EN)):
        shifted = render_verdict(open_, tr, locale, today=TODAY)
        closed = render_verdict(done, tr, locale, today=TODAY)
        assert "2026-05-31" in shifted and "2026-06-01" in shifted   # start: Sunday 05-31 moves to 06-01
        start = closed[closed.index(tr("Start the audit")):]
        start = start[:start.index("•")]   # up to the next deadline
        assert "2026-07-01" in start and "2026-06-01" not in start and "2026-05-31" not in start
        if locale == "en":
            assert_no_chinese(closed)
    item = StatusItem.from_hit(next(h for h in done.deadlines if h.kind == "start"), ZH)
    assert item.done_on == date(2026, 7, 1) and "顺延" not in item.note and item.note


def test_a_running_reaudit_interval_cites_no_expired_document() -> None:
    facts = {"province": "shandong", "toxic_classes": ["hazardous_waste"], "list_published_on": "2026-03-31",
             "last_audit_completed_on": "2022-03-01"}
    a = rules.assess(facts, TODAY)
    reaudit = next(h for h in a.deadlines if h.kind == "reaudit")
    assert reaudit.nominal == date(2027, 3, 1)
    assert "山东" not in reaudit.citation and "清洁生产审核办法" in reaudit.citation
    text = render_verdict(a, ZH, "zh_CN", today=TODAY)
    assert "已于2022-05-19失效" in text
    assert "《山东省清洁生产审核实施细则》第八条" not in text


def test_overdue_advice_without_a_list_names_the_local_authority_not_a_list_notice() -> None:
    unlisted = rules.assess({"province": "shandong", "toxic_classes": ["hazardous_waste"],
                             "last_audit_completed_on": "2020-03-01"}, TODAY)
    listed = rules.assess({"province": "shandong", "toxic_classes": ["hazardous_waste"],
                           "list_published_on": "2026-03-31"}, TODAY)
    zh = render_verdict(unlisted, ZH, "zh_CN", today=TODAY)
    assert "已逾期" in zh and "下达名单通知" not in zh and "企业所在地的主管部门" in zh
    en = render_verdict(unlisted, EN, "en", today=TODAY)
    advice = [line for line in en.splitlines() if "What to do now" in line]
    assert advice and all("list notice" not in line and "ecology and environment bureau" in line for line in advice)
    assert_no_chinese(en)
    assert "下达名单通知" in render_verdict(listed, ZH, "zh_CN", today=TODAY)   # a listed step keeps it

"""handlers.documents (questions about the documents), handlers.offices (one line per office), the
verdict's explanation of the documents, and the English check over rendered verdicts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import rules
from handlers.documents import answer_document_question
from handlers.offices import is_legal_wording_request, merge_offices, render_offices_legal
from handlers.reminders import ReminderPolicy
from handlers.render import render_deadlines, render_verdict
from rules.i18n import gettext_for
from tests.handlers.english import assert_no_chinese, chinese_left

ZH = gettext_for("zh_CN")
EN = gettext_for("en")
ASKED = date(2026, 12, 2)
NO_GROUNDS = {"exceeds_emission_standard": False, "exceeds_total_quota": False, "exceeds_energy_limit": False,
              "toxic_classes": []}
CASES: dict[str, tuple[dict[str, Any], date]] = {
    "shanxi": ({"province": "shanxi", "exceeds_emission_standard": True, "list_published_on": "2026-03-31"}, ASKED),
    "shanxi_annex": ({"province": "shanxi", "industry_code": "3011", "scale": "large", **NO_GROUNDS}, ASKED),
    "shandong_2021": ({"province": "shandong", "exceeds_emission_standard": True, "exceeds_energy_limit": True,
                       "list_published_on": "2021-06-01"}, date(2021, 6, 1)),
    "shandong_late": ({"province": "shandong", "exceeds_emission_standard": True,
                       "list_published_on": "2022-03-01"}, ASKED),
    "xinjiang": ({"province": "xinjiang", "toxic_classes": ["heavy_metal"], "central_enterprise": True,
                  "list_published_on": "2026-03-31"}, ASKED),
    "henan": ({"province": "henan", "industry_code": "3011", "revenue_10k_yuan": 5000, **NO_GROUNDS}, ASKED),
    "guangdong": ({"province": "guangdong", "exceeds_energy_limit": True, "list_published_on": "2026-03-31"}, ASKED),
}


def assess(case: str) -> rules.Assessment:
    facts, as_of = CASES[case]
    return rules.assess(facts, as_of)


# -- questions about the documents ------------------------------------------------------------


@pytest.mark.parametrize("question", ["山东的细则现在还有效吗？", "山东细则过期了吗",
                                      "山东省清洁生产审核实施细则还有效吗"])
def test_the_shandong_rules_are_expired_and_the_answer_says_what_they_still_govern(question: str) -> None:
    answer = answer_document_question(question, None, ASKED, ZH)
    assert answer is not None
    assert "《山东省清洁生产审核实施细则》" in answer
    assert "已失效：有效期为2017-05-20至2022-05-19" in answer and "第三十七条" in answer
    assert "文本未载文号" in answer
    assert "对2022-05-19及以前公布的名单，其期限仍适用本文件" in answer
    assert "《中华人民共和国清洁生产促进法》" in answer          # what applies instead


def test_the_contacts_province_is_used_when_the_question_names_none() -> None:
    answer = answer_document_question("细则还有效吗", "shandong", ASKED, ZH)
    assert answer is not None and "已失效" in answer
    answer = answer_document_question("细则还有效吗", "shanxi", ASKED, ZH)
    assert answer is not None and "《山西省清洁生产审核实施细则》" in answer and "按有效处理" in answer
    assert "十四五" not in answer                               # 细则 picks the 细则, not the plan


def test_the_shandong_question_in_english() -> None:
    answer = answer_document_question("is the Shandong rule still in force", None, ASKED, EN)
    assert answer is not None and "expired: in force from 2017-05-20 to 2022-05-19" in answer
    assert_no_chinese(answer, allow=("文号",))


def test_which_documents_apply() -> None:
    answer = answer_document_question("适用哪些文件", "shanxi", ASKED, ZH)
    assert answer is not None
    for title in ("《中华人民共和国清洁生产促进法》", "《清洁生产审核办法》", "《山西省清洁生产审核实施细则》",
                  "《山西省“十四五”重点行业清洁生产审核实施方案》"):
        assert title in answer
    assert "规划期已于2025-12-31结束" in answer
    shandong = answer_document_question("适用哪些文件", "shandong", ASKED, ZH)
    assert shandong is not None and "2026-12-02山东省没有有效的省级文件：判定仅依据国家层面的文件" in shandong
    hebei = answer_document_question("河北的文件还有效吗", None, ASKED, ZH)
    assert hebei is not None and "尚未载入河北省的省级文件" in hebei
    english = answer_document_question("which documents apply", "guangdong", ASKED, EN)
    assert english is not None and "No provincial document is loaded for Guangdong" in english
    assert_no_chinese(english)


@pytest.mark.parametrize("text", ["山西", "我的期限", "是", "2026年3月31日", "有效", "帮助", "水泥"])
def test_other_messages_are_not_document_questions(text: str) -> None:
    assert answer_document_question(text, "shanxi", ASKED, ZH) is None


# -- where to hand in ---------------------------------------------------------------------------


def offices(case: str) -> list[tuple[str, str, bool]]:
    a = assess(case)
    lines = merge_offices(list(a.report_to), CASES[case][0]["province"])
    merged = [w for line in lines for w in line.legal]
    assert sorted(merged) == sorted(a.report_to)        # every wording in exactly one line
    return [(line.office, line.level, line.or_above) for line in lines]


def test_merged_offices_for_each_seed_province() -> None:
    assert offices("shanxi") == [("environment", "city", False), ("industry", "city", False),
                                 ("coordination", "county", True)]
    assert offices("shanxi_annex") == [("environment", "city", False), ("coordination", "county", True)]
    assert offices("shandong_2021") == [("environment", "county", False), ("industry", "county", False),
                                        ("coordination", "county", True)]
    assert offices("xinjiang") == [("environment", "county", True), ("development_reform", "county", True),
                                   ("industry", "county", True), ("coordination", "county", True),
                                   ("environment", "national", False), ("development_reform", "national", False)]
    assert offices("henan") == []                          # voluntary: nothing to report
    assert offices("guangdong") == [("coordination", "county", True), ("environment", "county", True),
                                    ("energy_saving", "county", True)]


def test_the_verdict_lists_one_line_per_office_with_its_current_name() -> None:
    text = render_verdict(assess("shanxi"), ZH, "zh_CN")
    block = text[text.index("审核报告报送："):].split("\n\n")[0]
    assert "• 市生态环境局（市级）" in block and "• 市工业和信息化局（市级）" in block
    assert "环保部门" not in block and "环境保护" not in block      # the old names are in 法律原文 only
    assert block.count("•") == 3
    shandong = render_verdict(assess("shandong_2021"), ZH, "zh_CN")
    assert "• 县（市、区）生态环境局（县级）" in shandong
    assert "• 县工业和信息化局（节能主管部门）（县级）" in shandong
    assert "回复“法律原文”" in shandong


def test_the_legal_wording_on_demand() -> None:
    assert is_legal_wording_request("法律原文") and is_legal_wording_request("legal wording")
    assert not is_legal_wording_request("法律原文是什么意思，我不太懂")
    text = render_offices_legal(assess("shanxi"), ZH)
    assert "• 市生态环境局：" in text
    assert "市级环保部门（《山西省清洁生产审核实施细则》第十一条第一款）" in text
    assert ("所在地县级以上地方人民政府环境保护部门（今生态环境部门）"
            "（《中华人民共和国清洁生产促进法》第二十七条第四款）") in text
    assert_no_chinese(render_offices_legal(assess("xinjiang"), EN))


# -- the documents in the verdict ---------------------------------------------------------------


def test_the_verdict_explains_an_expired_document_used_for_a_deadline() -> None:
    text = render_verdict(assess("shandong_late"), ZH, "zh_CN", today=ASKED)
    assert "• 《山东省清洁生产审核实施细则》：已于2022-05-19失效" in text
    assert "故用于计算该期限" in text
    assert "2026-12-02山东省没有有效的省级文件：判定仅依据国家层面的文件" in text


def test_a_province_without_a_pack_is_judged_under_the_national_layer() -> None:
    text = render_verdict(assess("guangdong"), ZH, "zh_CN")
    assert "尚未载入广东省的省级规定，仅适用国家层面的文件" in text


# -- English -------------------------------------------------------------------------------------


def test_the_english_check_itself() -> None:
    assert chinese_left("Deadline: 公布企业相关信息") != []
    assert chinese_left("• （县级）") != []                              # full-width parentheses are Chinese text
    assert chinese_left("Basis: 「《清洁生产审核办法》第十一条」; 《山东省清洁生产审核实施细则》") == []
    assert chinese_left("Pass acceptance (验收) by 2026-05-01") == []
    assert chinese_left("Type 返回 to go back") != []
    assert chinese_left("Type 返回 to go back", allow=("返回",)) == []


@pytest.mark.parametrize("case", list(CASES))
def test_english_verdicts_have_no_chinese_left(case: str) -> None:
    a = assess(case)
    for text in (render_verdict(a, EN, "en"), render_verdict(a, EN, "en", today=ASKED, policy=ReminderPolicy()),
                 render_deadlines(a, EN, "en"), render_deadlines(a, EN, "en", today=ASKED)):
        assert_no_chinese(text)

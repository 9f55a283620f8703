"""handlers.status: where each deadline stands on a fixed day, the penalty and what to do now; its use in
the verdict (handlers.render) and in reminders (handlers.reminders)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

import rules
from handlers.reminders import ReminderPolicy, reminder_message
from handlers.render import render_deadlines, render_verdict
from handlers.status import StatusItem, reminder_promise, render_status, state_of, status_line
from rules.i18n import gettext_for
from tests.handlers.english import assert_no_chinese

ZH = gettext_for("zh_CN")
EN = gettext_for("en")
ASKED = date(2026, 12, 2)
SHANXI = {"province": "shanxi", "exceeds_emission_standard": True, "list_published_on": "2026-03-31"}


def shanxi_items() -> list[StatusItem]:
    return [StatusItem.from_hit(h) for h in rules.assess(SHANXI, ASKED).deadlines]


def milestone(**kw: Any) -> Any:
    base = {"id": 7, "kind": "disclosure", "nominal": date(2026, 4, 30), "due": date(2026, 4, 30), "note": "",
            "citation": "《清洁生产审核办法》第十一条；《山西省清洁生产审核实施细则》第十条", "done_at": None}
    return SimpleNamespace(**{**base, **kw})


def test_shanxi_list_of_march_asked_in_december_shows_two_overdue_and_one_ahead() -> None:
    items = {i.kind: i for i in shanxi_items()}
    assert state_of(items["disclosure"], ASKED) == ("overdue", 216)   # legal last day 2026-04-30
    assert state_of(items["start"], ASKED) == ("overdue", 184)        # 2026-05-31 is a Sunday: 2026-06-01
    assert state_of(items["report"], ASKED) == ("ahead", 119)         # 2027-03-31
    text = render_status(items.values(), ASKED, ZH, province="shanxi")
    assert "截至2026-12-02" in text
    assert "公布企业相关信息：已逾期216天：法定最后一日为2026-04-30" in text
    assert "开展清洁生产审核：已逾期184天：法定最后一日为2026-06-01（目标日2026-05-31）" in text
    assert "完成审核并报送审核报告：还有119天，2027-03-31前完成" in text
    # the penalty the law attaches, with the current number and the 2002 one the Shanxi 细则 cites
    assert "《中华人民共和国清洁生产促进法》第三十六条" in text and "10万元以下的罚款" in text
    assert "《山西省清洁生产审核实施细则》第二十五条第一款引用的是2002年法律的条号第四十一条，现为第三十六条" in text
    assert "《中华人民共和国清洁生产促进法》第三十九条" in text and "5万元以上、50万元以下" in text
    assert "第四十条" in text
    assert text.count("现在应当：立即办理") == 2                       # the report is not late: nothing to do yet
    assert "第十八条" not in text                                    # Shandong's extension is not Shanxi's


def test_status_lines_for_every_state_in_english() -> None:
    item = StatusItem("report", date(2026, 5, 31), date(2026, 6, 1))
    assert "due in 3 days, by 2026-05-31" in status_line(item, date(2026, 5, 28), EN)
    assert "due tomorrow" in status_line(item, date(2026, 5, 30), EN)
    assert "due today, 2026-05-31" in status_line(item, date(2026, 5, 31), EN)
    assert "the legal last day is today, 2026-06-01" in status_line(item, date(2026, 6, 1), EN)
    assert "OVERDUE by 1 day: the legal last day was 2026-06-01" in status_line(item, date(2026, 6, 2), EN)
    assert "OVERDUE by 30 days" in status_line(item, date(2026, 7, 1), EN)
    done = StatusItem("report", date(2026, 5, 31), date(2026, 6, 1), done_on=date(2026, 5, 20))
    assert status_line(done, date(2026, 7, 1), EN) == "• Complete the audit and submit the report: done on 2026-05-20"
    for day in (date(2026, 5, 28), date(2026, 6, 1), date(2026, 7, 1)):
        assert_no_chinese(render_status([item, done], day, EN, province="shanxi", policy=ReminderPolicy()),
                          allow=("验收", "复审"))


def test_a_done_milestone_shows_its_day_in_china_time() -> None:
    stored = milestone(done_at=datetime(2026, 4, 20, 17, 0, tzinfo=UTC))   # 01:00 on the 21st in Beijing
    item = StatusItem.from_milestone(stored)
    assert item.done_on == date(2026, 4, 21)
    assert "已于2026-04-21完成" in render_status([item], ASKED, ZH)
    assert "风险" not in render_status([item], ASKED, ZH)


def test_the_reminder_promise_covers_only_what_is_ahead() -> None:
    policy = ReminderPolicy()
    promise = reminder_promise(shanxi_items(), ASKED, ZH, policy=policy)
    assert "每项尚未到期的期限到期前我都会提醒您（完成审核并报送审核报告）" in promise
    assert "不再安排提醒（公布企业相关信息、开展清洁生产审核）" in promise    # long past the weekly reminders
    assert "每周" not in promise
    # a week after the disclosure day the weekly overdue reminders are still running
    early = reminder_promise(shanxi_items(), date(2026, 5, 8), ZH, policy=policy)
    assert "公布企业相关信息已过期限：在您确认完成之前，我每周发送一次逾期提醒（最多还有8次）" in early
    assert "每项尚未到期的期限到期前我都会提醒您（开展清洁生产审核、完成审核并报送审核报告）" in early
    assert "不再安排提醒" not in early
    no_weekly = reminder_promise(shanxi_items(), date(2026, 5, 8), ZH, policy=ReminderPolicy(weekly_overdue=0))
    assert "每周" not in no_weekly                                    # the policy decides what is promised


def test_verdict_and_deadlines_show_the_status_only_when_today_is_given() -> None:
    a = rules.assess(SHANXI, ASKED)
    plain = render_verdict(a, ZH, "zh_CN")
    assert "2026-04-30前（法定最后一日 2026-04-30）" in plain and "已逾期" not in plain
    dated = render_verdict(a, ZH, "zh_CN", today=ASKED, policy=ReminderPolicy())
    assert "期限（截至2026-12-02）" in dated
    assert "已逾期216天" in dated and "已逾期184天" in dated and "还有119天" in dated
    assert "第三十六条" in dated and "第三十九条" in dated
    assert "每项尚未到期的期限到期前我都会提醒您" in dated
    assert "已逾期216天" in render_deadlines(a, ZH, "zh_CN", today=ASKED)


def test_shandong_extension_request_only_where_the_shandong_rules_govern_the_deadline() -> None:
    facts = {"province": "shandong", "exceeds_emission_standard": True}
    old = rules.assess({**facts, "list_published_on": "2022-03-01"}, ASKED)   # clock started under the 细则
    text = render_deadlines(old, ZH, "zh_CN", today=ASKED)
    assert "提交延期申请（《山东省清洁生产审核实施细则》第十八条第二款）" in text
    assert "所在地县（市、区）级清洁生产综合协调部门或环境保护主管部门" in text
    assert "《山东省清洁生产审核实施细则》第三十二条规定按该条处罚" in text
    assert "第四十条" not in text                       # the Shandong 细则 cites the 2012 numbers
    new = rules.assess({**facts, "list_published_on": "2026-03-31"}, ASKED)   # after it expired
    text = render_deadlines(new, ZH, "zh_CN", today=ASKED)
    assert "第十八条" not in text and "山东省清洁生产审核实施细则" not in text
    assert "现在应当：立即办理" in text and "第三十九条" in text
    near = render_deadlines(old, ZH, "zh_CN", today=date(2023, 2, 1))       # report still ahead: no advice yet
    grace = render_deadlines(old, ZH, "zh_CN", today=date(2022, 5, 3))      # start: 05-01 passed, last day 05-05
    assert "目标日2022-05-01已过；法定最后一日为2022-05-05，还有2天" in grace
    assert "现在应当：在法定最后一日2022-05-05前办理完毕" in grace and "延期申请" in grace
    assert "还有28天" in near


def test_overdue_reminder_states_the_penalty_and_what_to_do() -> None:
    out = reminder_message(milestone(), "overdue_w1", enterprise_name="示例公司", locale="zh_CN", today=ASKED)
    assert "已逾期" in out.text
    assert "风险：依照《中华人民共和国清洁生产促进法》第三十六条" in out.text
    assert "第四十一条" in out.text                       # the Shanxi 细则 cites the 2002 number
    assert "现在应当：立即办理" in out.text
    before = reminder_message(milestone(), "before_7", enterprise_name=None, locale="zh_CN", today=date(2026, 4, 23))
    assert "风险" not in before.text and "现在应当" not in before.text
    english = reminder_message(milestone(), "overdue_w1", enterprise_name=None, locale="en", today=ASKED)
    assert "Risk: under" in english.text and "What to do now" in english.text
    assert_no_chinese(english.text, allow=("已公布",))        # the reply word confirm.py reads


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_a_voluntary_audit_is_never_told_its_deadlines_count_from_a_list(locale: str) -> None:
    facts = {"province": "henan", "industry_code": "3011", "revenue_10k_yuan": 5000,
             "exceeds_emission_standard": False, "exceeds_total_quota": False, "exceeds_energy_limit": False,
             "toxic_classes": []}
    a = rules.assess(facts, ASKED)
    assert a.obligation == "voluntary" and not a.deadlines
    tr = gettext_for(locale)
    for text in (render_deadlines(a, tr, locale), render_deadlines(a, tr, locale, today=ASKED),
                 render_verdict(a, tr, locale, today=ASKED)):
        assert "名单公布之日起算" not in text and "start from the day the list is published" not in text
    assert "自愿性清洁生产审核没有法定期限" in render_deadlines(a, ZH, "zh_CN")


def test_a_reminder_between_the_target_day_and_the_legal_last_day_is_not_called_overdue() -> None:
    start = milestone(kind="start", nominal=date(2026, 5, 31), due=date(2026, 6, 1))   # a Sunday
    out = reminder_message(start, "overdue_1", enterprise_name=None, locale="zh_CN", today=date(2026, 6, 1))
    assert "开展清洁生产审核的目标日2026-05-31已过，法定最后一日为2026-06-01" in out.text
    assert "已逾期" not in out.text and "风险" not in out.text
    assert "现在应当：在法定最后一日2026-06-01前办理完毕" in out.text


def test_the_penalty_table_is_checked(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import rules.penalties as penalties
    from rules import RulePackError

    bad = tmp_path / "penalties.yaml"
    text = penalties.PENALTIES_FILE.read_text(encoding="utf-8").replace("pack: shandong_rules_2017", "pack: shandong_x")
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setattr(penalties, "PENALTIES_FILE", bad)
    penalties.penalty_table.cache_clear()
    try:
        with pytest.raises(RulePackError, match=r"penalties.yaml: provincial\[4\].pack: unknown pack 'shandong_x'"):
            penalties.penalty_table()
    finally:
        monkeypatch.undo()
        penalties.penalty_table.cache_clear()
    assert penalties.penalty_table().law_title == "《中华人民共和国清洁生产促进法》"


def test_a_late_shanxi_acceptance_may_ask_for_a_later_acceptance_but_has_no_fine() -> None:
    a = rules.assess({"province": "shanxi", "industry_code": "3011", "scale": "large", "evaluated_on": "2026-08-01"},
                     ASKED)
    text = render_deadlines(a, ZH, "zh_CN", today=date(2027, 9, 1))
    assert "通过清洁生产审核验收：已逾期30天：法定最后一日为2027-08-02（目标日2027-08-01）" in text
    assert "可向市生态环境局申请延期验收，但最长应在一个审核周期内完成验收" in text
    assert "风险" not in text                                     # the law attaches no fine to a late acceptance
    assert "；2027年国务院节假日安排尚未公布" in text and "。；" not in text      # notes joined without a doubled stop

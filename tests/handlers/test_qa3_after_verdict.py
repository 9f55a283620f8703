"""Contacts after the verdict (tests/handlers/chatkit.ChatBot on real SQLite): the stored milestones follow what
the verdict says, steps said done in the contact's words, the day they were done, and questions about deadlines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code, milestones, sqlite_bot

SHANDONG = credit_code("91370300MA3C12345")
SHANXI = credit_code("91140100MA3C12345")


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path, start=False)


def _pending(bot: ChatBot, milestone_id: int) -> list[str]:
    with bot.dispatcher.sessions() as s:
        return [r.kind for r in Repositories(s).reminders.list_by_milestone(milestone_id) if r.status == "pending"]


def _shandong_2023(bot: ChatBot) -> None:
    bot.start(code=SHANDONG)
    bot.push("化工厂，有危废，2023年3月15日上的名单")
    assert "判定结果：贵企业应当实施强制性清洁生产审核" in bot.text
    assert "上一轮清洁生产审核" in bot.text


def test_the_last_audit_given_after_the_verdict_marks_the_stored_steps_done(bot: ChatBot) -> None:
    """The first verdict stored start and report open (overdue since 2023); the last audit given next completes
    them: 我的期限 said them overdue by 1296 / 991 days and "请立即办理" while the verdict said them done."""
    _shandong_2023(bot)
    bot.push("2026年3月16日")
    assert "已于2026-03-16完成" in bot.text
    ms = milestones(bot.dispatcher.sessions)
    for kind in ("start", "report"):
        assert ms[kind].done_at is not None, kind
        assert _pending(bot, ms[kind].id) == []
    assert ms["disclosure"].done_at is None                 # not shown done by any fact
    assert ms["reaudit"].nominal == date(2031, 3, 16)
    bot.push("我的期限")
    assert "开展清洁生产审核：已于2026-03-16完成" in bot.text
    assert "完成审核并报送审核报告：已于2026-03-16完成" in bot.text
    assert "已逾期1296天" not in bot.text and "已逾期991天" not in bot.text
    assert "公布企业相关信息：已逾期1324天" in bot.text


def test_a_corrected_last_audit_moves_the_stored_next_round(bot: ChatBot) -> None:
    _shandong_2023(bot)
    bot.push("2026年3月16日")
    bot.push("不对，审核是2026年4月20日完成的")
    bot.confirm()
    ms = milestones(bot.dispatcher.sessions)
    assert ms["reaudit"].nominal == date(2031, 4, 20), bot.text
    bot.push("我的期限")
    assert "2031-04-20" in bot.text and "2031-03-16" not in bot.text


def test_the_evaluation_given_after_the_verdict_in_shanxi(bot: ChatBot) -> None:
    bot.start(code=SHANXI)
    bot.push("水泥厂，三百人，营收五千万，2023年4月10日上的名单")
    bot.push("2024年3月20日")
    bot.push("2025年8月20日")
    bot.push("我的期限")
    assert "开展清洁生产审核：已于2024-03-20完成" in bot.text
    assert "通过清洁生产审核验收：已逾期103天" in bot.text
    assert "已逾期965天" not in bot.text


def _done_day(bot: ChatBot, kind: str) -> date | None:
    from handlers.status import StatusItem
    return StatusItem.from_milestone(milestones(bot.dispatcher.sessions)[kind]).done_on


def _shandong_2023_never_audited(bot: ChatBot) -> None:
    _shandong_2023(bot)
    bot.pick("none")
    assert "以上就是全部问题" in bot.text


def test_a_step_said_done_in_own_words_with_a_vague_time_asks_the_day(bot: ChatBot) -> None:
    """"上周在网上公示了" after the verdict was answered with the help line; "已公布 昨天" recorded the clock's day."""
    _shandong_2023_never_audited(bot)
    bot.push("上周在网上公示了")
    assert "公布企业相关信息是哪一天完成的" in bot.text
    assert _done_day(bot, "disclosure") is None               # nothing stored before the day is known
    bot.push("20号")
    assert "公布企业相关信息是2026-11-20完成的吗" in bot.text
    assert bot.choice_ids() == ["stepday:yes", "stepday:no"]
    bot.pick("stepday:yes")
    assert "网址" in bot.text                                  # the disclosure's link, as after 已公布
    bot.push("https://www.example.cn/gs/1")
    assert "已记录：公布企业相关信息已于2026-11-20完成（https://www.example.cn/gs/1）" in bot.text
    assert "比法定最后一日2023-04-17晚1313天" in bot.text
    assert _done_day(bot, "disclosure") == date(2026, 11, 20)
    assert _pending(bot, milestones(bot.dispatcher.sessions)["disclosure"].id) == []


def test_a_correction_right_after_a_confirmation_corrects_that_step_not_the_list(bot: ChatBot) -> None:
    """"不对，是上个月公示的" after the disclosure was confirmed asked the list's day (名单公布日期)."""
    _shandong_2023_never_audited(bot)
    bot.push("已公布 https://www.example.cn/gs/1")
    assert "公布企业相关信息是哪一天完成的" in bot.text       # overdue: whether it was late depends on the day
    bot.pick("stepday:today")
    assert "已记录：公布企业相关信息已于2026-12-01完成" in bot.text
    bot.push("不对，是上个月公示的")
    assert "名单公布日期" not in bot.text
    assert "公布企业相关信息是2026-11的哪一天完成的" in bot.text
    bot.push("15")
    assert "已于2026-11-15完成" in bot.text
    assert _done_day(bot, "disclosure") == date(2026, 11, 15)
    from tests.handlers.chatkit import stored_facts
    assert stored_facts(bot)["list_published_on"] == "2023-03-15"


@pytest.mark.parametrize(("said", "kind", "day"), [
    ("2026年11月20日在公司网站公布了 https://x.cn/p", "disclosure", date(2026, 11, 20)),
    ("审核昨天已经开始了", "start", date(2026, 11, 30)),
    ("报告2024年3月10日交了", "report", date(2024, 3, 10)),
    ("前天报上去了报告", "report", date(2026, 11, 29)),
])
def test_a_step_said_done_with_its_day_is_recorded_on_that_day(bot: ChatBot, said: str, kind: str, day: date) -> None:
    _shandong_2023_never_audited(bot)
    bot.push(said)
    assert f"已于{day.isoformat()}完成" in bot.text, bot.text
    assert _done_day(bot, kind) == day


def test_a_passed_step_said_done_without_a_day_asks_it(bot: ChatBot) -> None:
    """Overdue since 2023: whether it was late depends on the day, so "我们已经公示了" asks it (today is a button)."""
    _shandong_2023_never_audited(bot)
    bot.push("审核已经开始了")
    assert "开展清洁生产审核是哪一天开始的" in bot.text
    assert bot.choice_ids() == ["stepday:today", "stepday:unknown"]
    bot.push("2023年5月4日")
    assert "已于2023-05-04完成" in bot.text and "晚" not in bot.text   # in time: no lateness
    assert _done_day(bot, "start") == date(2023, 5, 4)


def test_a_step_not_done_yet_gets_where_it_stands(bot: ChatBot) -> None:
    _shandong_2023_never_audited(bot)
    bot.push("报告还没交")
    assert "好的，完成审核并报送审核报告尚未完成" in bot.text
    assert "已逾期991天" in bot.text and "第三十九条" in bot.text
    assert _done_day(bot, "report") is None


def test_a_day_after_today_is_not_recorded(bot: ChatBot) -> None:
    _shandong_2023_never_audited(bot)
    bot.push("审核已经开始了")
    bot.push("2026年12月20日")
    assert "2026-12-20在今天（2026-12-01）之后" in bot.text
    assert _done_day(bot, "start") is None


def test_a_step_said_done_without_a_credit_code_says_what_is_needed(tmp_path: Path) -> None:
    bot = sqlite_bot(tmp_path)
    bot.push("山东的化工厂，有危废，2023年3月15日上的名单")
    bot.pick("none")
    bot.push("我们已经公示了")
    assert "统一社会信用代码" in bot.text


def test_english_contact_says_a_step_done(bot: ChatBot) -> None:
    from tests.handlers.english import assert_no_chinese
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push(SHANDONG)
    bot.push("chemical plant, we produce hazardous waste, listed on 15 March 2023")
    bot.pick("none")
    bot.push("we published the information yesterday https://x.cn/p")
    assert "was done on 2026-11-30 (https://x.cn/p)" in bot.text
    assert_no_chinese(bot.text)
    bot.push("we have not started the audit yet")
    assert "Start the audit is not done yet" in bot.text and "OVERDUE" in bot.text
    assert_no_chinese(bot.text)


@pytest.mark.parametrize("question", ["什么时候要交报告？", "还来得及吗", "已经晚了怎么办", "哪些已经逾期了",
                                      "现在该怎么办", "我的期限是什么时候", "能延期吗"])
def test_deadline_questions_in_own_words_get_the_deadlines(bot: ChatBot, question: str) -> None:
    """They were answered with the help line; only the exact command 我的期限 worked."""
    _shandong_2023_never_audited(bot)
    bot.push(question)
    assert "截至2026-12-01，您的期限" in bot.text, bot.text
    assert "完成审核并报送审核报告：已逾期991天" in bot.text and "现在应当" in bot.text


@pytest.mark.parametrize(("question", "expected"), [
    ("报告交给哪个部门", "县（市、区）生态环境局"),
    ("报给谁？", "县级清洁生产综合协调部门"),
    ("需要公示哪些内容", "危险废物的产生和处置情况"),
    ("公示什么内容", "企业名称"),
    ("环境信息依法披露什么时候", "2027-03-15前披露2026年度的信息"),
])
def test_where_to_report_what_to_publish_and_the_yearly_disclosure(bot: ChatBot, question: str,
                                                                   expected: str) -> None:
    _shandong_2023_never_audited(bot)
    bot.push(question)
    assert expected in bot.text, bot.text
    assert "输入“我的期限”查看期限，“重新开始”从头再来" not in bot.text


def test_the_next_round_before_any_round_is_completed(bot: ChatBot) -> None:
    _shandong_2023_never_audited(bot)
    bot.push("下一轮审核什么时候")
    assert "下一轮审核须在本轮审核完成（报送审核报告）之日起五年内完成" in bot.text
    assert "第八条第（三）项" in bot.text                    # hazardous waste: ground 三's five-year interval


def test_the_report_said_submitted_completes_the_round_and_counts_the_next(bot: ChatBot) -> None:
    _shandong_2023_never_audited(bot)
    bot.push("报告2024年3月10日交了")
    assert "已记录：完成审核并报送审核报告已于2024-03-10完成" in bot.text
    assert "下一轮清洁生产审核须在2029-03-10前完成（法定最后一日2029-03-12）" in bot.text
    ms = milestones(bot.dispatcher.sessions)
    assert ms["reaudit"].nominal == date(2029, 3, 10)
    assert ms["start"].done_at is not None                    # the round completed after the list: started too


def test_a_round_before_the_list_is_the_last_audit_not_this_rounds_report(bot: ChatBot) -> None:
    from tests.handlers.chatkit import stored_facts
    _shandong_2023_never_audited(bot)
    bot.push("审核2021年6月30日完成了")
    assert stored_facts(bot)["last_audit_completed_on"] == "2021-06-30"
    assert milestones(bot.dispatcher.sessions)["report"].done_at is None


def test_english_questions_after_the_verdict(bot: ChatBot) -> None:
    from tests.handlers.english import assert_no_chinese
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push(SHANDONG)
    bot.push("chemical plant, we produce hazardous waste, listed on 15 March 2023")
    bot.pick("none")
    bot.push("when is the report due?")
    assert "OVERDUE by 991 days" in bot.text
    bot.push("who do we report to?")
    assert "Report the audit to" in bot.text
    bot.push("what do we have to disclose?")
    assert "What to publish" in bot.text
    assert_no_chinese(bot.text)


def test_a_day_without_its_year_after_today_is_last_years(bot: ChatBot) -> None:
    """"12月15号" said on 2026-12-01 of a report submitted was asked back as 2026-12-15, then refused as future."""
    bot.start(code=credit_code("91650100MA3C12345"))     # Xinjiang
    bot.push("超标，2024年12月20日上了名单")
    bot.push("否")                                          # not a central enterprise
    bot.pick("none")
    bot.push("报告已经交了，12月15号")
    assert "完成审核并报送审核报告是2025-12-15完成的吗" in bot.text
    bot.pick("stepday:yes")
    assert "已于2025-12-15完成" in bot.text
    assert "下一轮清洁生产审核须在2030-12-15前完成（法定最后一日2030-12-16）" in bot.text   # 2030-12-15 is a Sunday
    assert "第十一条" in bot.text                             # Xinjiang: five years for every mandatory enterprise


def test_evaluation_said_passed_at_its_question_asks_the_day(bot: ChatBot) -> None:
    from tests.handlers.chatkit import stored_facts
    bot.start(code=SHANXI)
    bot.push("水泥厂，三百人，营收五千万，2023年4月10日上的名单")
    bot.push("2024年3月20日")
    bot.push("评估通过了")
    assert "抱歉" not in bot.text and "是哪一天？请输入日期" in bot.text
    assert "evaluated_on" not in stored_facts(bot)
    bot.push("2025年8月20日")
    assert stored_facts(bot)["evaluated_on"] == "2025-08-20"


def test_a_completion_day_at_the_last_audit_question_is_not_an_industry(bot: ChatBot) -> None:
    """"2021年6月30日完成的审核" with the industry known offered "“完成”：6020 快递服务 | 8341 普通高等教育"."""
    from tests.handlers.chatkit import stored_facts
    bot.start(code=SHANXI)
    bot.push("焦化厂，三百人，营收五千万")
    bot.pick("none")                                        # not on a list
    assert "上一轮清洁生产审核" in bot.text
    bot.push("2021年6月30日完成的审核")
    assert "快递服务" not in bot.text and "ind:" not in " ".join(bot.choice_ids())
    f = stored_facts(bot)
    assert f["last_audit_completed_on"] == "2021-06-30" and f["industry_code"] == "2521"


def _shandong_listed_last_month(bot: ChatBot) -> None:
    bot.start(code=SHANDONG)
    bot.push("化工厂，有危废，上个月20号上的名单")
    bot.pick("none")
    assert "以上就是全部问题" in bot.text


def test_a_day_given_while_the_link_is_asked_is_the_steps_day(bot: ChatBot) -> None:
    """"不是今天，是11月28日" while the disclosure's link was asked got the help line; 今天 there is denied."""
    _shandong_listed_last_month(bot)
    bot.push("已公布")
    assert "网址" in bot.text
    bot.push("不是今天，是11月28日")
    assert "公布企业相关信息是2026-11-28完成的吗" in bot.text
    bot.pick("stepday:yes")
    assert "网址" in bot.text
    bot.push("无")
    assert "已记录：公布企业相关信息已于2026-11-28完成" in bot.text
    assert _done_day(bot, "disclosure") == date(2026, 11, 28)


def test_a_day_asked_back_answered_no_with_another_day(bot: ChatBot) -> None:
    _shandong_listed_last_month(bot)
    bot.push("报告11月20号交了")
    assert "是2026-11-20完成的吗" in bot.text
    bot.push("否，是11月25日")
    assert "已记录：完成审核并报送审核报告已于2026-11-25完成" in bot.text


def test_english_day_and_month_without_a_year(bot: ChatBot) -> None:
    bot.push("Hello")
    bot.pick("consent:yes")
    bot.push(SHANDONG)
    bot.push("chemical plant with hazardous waste, listed on 20 November 2026")
    bot.pick("none")
    bot.push("we submitted the report last month")
    assert "On which day was" in bot.text
    bot.push("20")
    assert "done on 2026-11-20?" in bot.text
    bot.push("no, it was 25 November")
    assert "was done on 2026-11-25" in bot.text


@pytest.mark.parametrize("said", ["不对，是去年4月15日公布的", "去年4月15日公布的"])
def test_published_with_a_day_and_no_word_of_our_own_is_still_asked_as_the_list(bot: ChatBot, said: str) -> None:
    """公布 with a day alone is the list's publication as much as the enterprise's: the interview asks it back."""
    _shandong_2023_never_audited(bot)
    bot.push(said)
    assert "名单公布于 2025-04-15？" in bot.text
    assert _done_day(bot, "disclosure") is None


@pytest.mark.parametrize(("said", "asked"), [
    ("审核2021年完成", "2021年的几月几日（上一轮审核完成日期）"),   # a round before the list of 2023: the last audit
    ("评估2025年8月20日通过", "评估通过于 2025-08-20"),            # no evaluation milestone: the interview's fact
])
def test_what_the_interview_reads_is_left_to_it(bot: ChatBot, said: str, asked: str) -> None:
    _shandong_2023_never_audited(bot)
    bot.push(said)
    assert asked in bot.text, bot.text


def test_a_period_is_not_a_step_and_a_step_done_says_what_is_recorded(bot: ChatBot) -> None:
    _shandong_2023_never_audited(bot)
    bot.push("公示期过了")
    assert "是哪一天完成的" not in bot.text
    bot.push("2026年3月16日完成的审核")                         # the last audit, after the list: this round is done
    bot.push("已经开始了")
    assert "记录显示开展清洁生产审核已于2026-03-16完成" in bot.text


def _henan_voluntary(bot: ChatBot) -> None:
    bot.start(code=credit_code("91410100MA3C12345"))
    bot.push("氮肥厂，三百人，营收五千万")
    bot.pick("ck:none")
    bot.confirm()
    assert "可自愿开展清洁生产审核" in bot.text and "自愿性清洁生产审核已通过验收" in bot.text


def test_another_step_at_a_date_question_is_not_its_yes(bot: ChatBot) -> None:
    """"我们已经公示了" at Henan's acceptance question was answered "好的。是哪一天？" as if accepted."""
    _henan_voluntary(bot)
    bot.push("我们已经公示了")
    assert "是哪一天？请输入日期" not in bot.text
    bot.push("验收过了")
    assert "是哪一天？请输入日期" in bot.text


def test_the_next_round_of_a_voluntary_verdict_is_not_the_mandatory_interval(bot: ChatBot) -> None:
    _henan_voluntary(bot)
    bot.pick("none")
    bot.push("下一轮什么时候")
    assert "两次审核间隔" not in bot.text and "再次列入名单" not in bot.text
    assert "复审" in bot.text

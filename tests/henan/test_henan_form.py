"""Henan's 自愿性清洁生产审核申请表 in chat: every field checked by what it is, commands never stored as values,
the summary to confirm or correct, the typed sub-state (old rows still resumable), English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handlers import henan_form
from handlers.henan_fields import FIELDS, FORM_FIELDS, Value
from handlers.henan_form import (
    CHOICE_ID,
    CONFIRM_ID,
    EDIT_PREFIX,
    HenanFormState,
    apply_step,
    is_offered,
    offer_choice,
    start_state,
)
from rules.i18n import gettext_for
from storage import Repositories
from tests.henan.henankit import FILL, STORED, TODAY, Chat, add_enterprise, henan_code

ZH = gettext_for("zh_CN")
EN = gettext_for("en")
KNOWN: dict[str, Any] = {"name": "郑州清源化工有限公司", "credit_code": henan_code(1),
                         "industry_name": "有机化学原料制造", "industry_code": "2614", "filled_on": "2026-04-01"}

# A wrong value for every field the contact can be asked, and a right one.
WRONG_AND_RIGHT: dict[str, tuple[str, str]] = {
    "name": ("王强", "郑州清源化工有限公司"),
    "address": ("王强", "河南省郑州市金水区经三路1号"),
    "legal_representative": ("河南省郑州市金水区经三路1号", "王强"),
    "credit_code": ("91410100MA0000001", henan_code(1)),
    "industry_name": ("13812345678", "有机化学原料制造"),
    "industry_code": ("9999", "2614"),
    "output_10k_yuan": ("很多", "两个亿"),
    "energy_tce": ("不清楚", "1.2万吨"),
    "pollutants": ("很多", "COD 12吨"),
    "products": ("甲醇", "甲醇 5万吨"),
    "contact_name": ("13812345678", "李华"),
    "contact_title": ("13812345678", "环保科长"),
    "mobile": ("1381234567", "0371-65509953"),
    "email": ("lihua at example", "lihua@example.com"),
    "eia_accepted": ("也许吧", "是"),
    "eia_number": ("有", "豫环审〔2020〕8号"),
    "has_permit": ("说不好", "是"),
    "permit_number": ("91130200699229617X001", "91130200699229617X001P"),
    "auditor_intent": ("可能吧", "yes"),
    "auditor_name": ("李华", "河南绿源环境咨询有限公司"),
    "restructuring": ("也许", "否"),
    "filled_by": ("经理", "李华"),
    "filled_on": ("明天", "2026-04-02"),
}


def asking(key: str, locale: str = "zh_CN") -> HenanFormState:
    """A form asking `key`, with the yes/no fields that make it asked answered 是."""
    answers: dict[str, Value] = {k: True for k in ("eia_accepted", "has_permit", "auditor_intent") if k != key}
    return HenanFormState(locale=locale, stage="asking", asking=key, answers=answers)


# -- every field, by what it is ----------------------------------------------------------------------


@pytest.mark.parametrize("key", list(WRONG_AND_RIGHT))
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_a_wrong_value_is_refused_naming_the_field_and_nothing_is_stored(key: str, locale: str) -> None:
    tr = gettext_for(locale)
    wrong, right = WRONG_AND_RIGHT[key]
    form = asking(key, locale)
    step = apply_step(form, wrong, {})
    assert step.outcome == "open"
    assert key not in step.state.answers and step.state.asking == key
    problem, question = step.replies
    assert tr(FIELDS[key].name) in problem.text, problem.text  # the field is named
    assert question.text == tr(FIELDS[key].prompt)  # and asked again
    step = apply_step(step.state, right, {})
    assert key in step.state.answers and step.state.asking != key


def test_the_whole_form_with_a_wrong_value_in_every_field(sessions: sessionmaker[Session]) -> None:
    """Through `handle` and the database: each field is first given a wrong value (refused, the field named,
    not stored), then the right one; the permit and the auditor are answered 是 so their numbers are asked."""
    enterprise_id = add_enterprise(sessions, "w1")
    chat = Chat(sessions, "w1")
    assert "注册地址" in chat.text("申请表")
    asked = []
    while (form := chat.form()) is not None and form["stage"] == "asking":
        key = form["asking"]
        asked.append(key)
        wrong, right = WRONG_AND_RIGHT[key]
        reply = chat.text(wrong)
        assert ZH(FIELDS[key].name) in reply, (key, reply)
        after = chat.form()
        assert after is not None and after["asking"] == key and key not in after["answers"], key
        chat.text(right)
    assert asked == [f.key for f in FORM_FIELDS if f.source == "ask"]  # every field the contact answers
    assert chat.form()["stage"] == "summary"  # type: ignore[index]
    out = chat.text("确认")
    assert "加盖公章" in out and chat.links
    with sessions() as session:
        stored = henan_form.load_application(Repositories(session), enterprise_id)
    assert stored is not None
    answers = stored["answers"]
    assert answers["output_10k_yuan"] == 20000.0 and answers["energy_tce"] == 12000.0  # 两个亿, 1.2万吨
    assert answers["mobile"] == "0371-65509953" and answers["permit_number"] == "91130200699229617X001P"
    assert answers["auditor_intent"] is True and answers["auditor_name"] == "河南绿源环境咨询有限公司"
    for key, (wrong, _) in WRONG_AND_RIGHT.items():
        assert answers.get(key) != wrong, key


def test_a_persons_name_is_refused_as_the_address(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "a1")
    chat = Chat(sessions, "a1")
    chat.text("申请表")
    reply = chat.text("王强")
    assert "注册地址" in reply and "地址" in reply and "人名" in reply
    assert chat.form()["asking"] == "address" and "address" not in chat.form()["answers"]  # type: ignore[index]


def test_a_phone_number_is_refused_as_the_job_title(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "t1")
    chat = Chat(sessions, "t1")
    chat.fill(upto="contact_title")
    reply = chat.text("13812345678")
    assert "职务" in reply and "电话号码" in reply
    form = chat.form()
    assert form is not None and form["asking"] == "contact_title" and "contact_title" not in form["answers"]
    assert "手机号码" in chat.text("环保科长")  # the next question follows
    assert chat.form()["answers"]["contact_title"] == "环保科长"  # type: ignore[index]


# -- commands --------------------------------------------------------------------------------------------


def test_back_at_the_legal_representative_is_never_saved_as_a_value(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "b1")
    chat = Chat(sessions, "b1")
    chat.text("申请表")
    assert chat.text("河南省郑州市金水区经三路1号") == "法定代表人是谁？"
    reply = chat.text("返回")  # undoes the address and asks it again
    assert "已撤销" in reply and "注册地址" in reply and "企业的注册地址是什么" in reply
    form = chat.form()
    assert form is not None and form["asking"] == "address" and "address" not in form["answers"]
    assert "返回" not in str(chat.state())
    chat.text("河南省郑州市金水区经三路1号")
    chat.text("back")  # English works too
    assert chat.form()["asking"] == "address"  # type: ignore[index]
    chat.text("河南省郑州市金水区经三路1号")
    chat.text("王强")
    form = chat.form()
    assert form is not None and form["answers"]["legal_representative"] == "王强"
    assert form["asking"] == "output_10k_yuan"
    assert "返回" not in str(form) and "back" not in str(form["answers"])


def test_back_at_the_first_question_has_nothing_to_undo(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "b2")
    chat = Chat(sessions, "b2")
    chat.text("申请表")
    reply = chat.text("返回")
    assert ZH("There is no earlier answer to undo.") in reply and "注册地址" in reply
    assert chat.form()["answers"].get("address") is None  # type: ignore[index]


def test_back_undoes_a_yes_and_the_number_it_asked(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "b3")
    chat = Chat(sessions, "b3")
    chat.fill(upto="eia_number")
    chat.text("返回")  # at the approval number: back to the yes/no
    form = chat.form()
    assert form is not None and form["asking"] == "eia_accepted" and "eia_accepted" not in form["answers"]
    assert chat.choice_ids() == ["yes", "no"]
    chat.text(choice="no")
    assert chat.form()["asking"] == "has_permit"  # type: ignore[index]


def test_help_explains_the_form_and_how_to_leave_it(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "h1")
    chat = Chat(sessions, "h1")
    chat.fill(upto="legal_representative")
    for word in ("帮助", "help"):
        reply = chat.text(word)
        assert "申请表" in reply and "取消" in reply and "返回" in reply and "法定代表人是谁？" in reply
        form = chat.form()
        assert form is not None and form["asking"] == "legal_representative"
        assert "legal_representative" not in form["answers"]


@pytest.mark.parametrize("word", ["取消", "cancel"])
def test_cancel_leaves_the_form_and_stores_nothing(sessions: sessionmaker[Session], word: str) -> None:
    enterprise_id = add_enterprise(sessions, "c1")
    chat = Chat(sessions, "c1")
    chat.fill(upto="email")
    reply = chat.text(word)
    assert "已取消" in reply
    state = chat.state()
    assert state is not None and "henan_form" not in state and state["stage"] == "done"
    with sessions() as session:
        assert henan_form.load_application(Repositories(session), enterprise_id) is None
    assert chat.say("李华") is None  # the form is closed: the interview answers


@pytest.mark.parametrize("word", ["重新开始", "restart", "删除我的数据"])
def test_restart_and_forget_drop_the_form_and_are_left_to_the_interview(
        sessions: sessionmaker[Session], word: str) -> None:
    add_enterprise(sessions, "r1")
    chat = Chat(sessions, "r1")
    chat.fill(upto="mobile")
    assert chat.say(word) is None
    assert chat.passed_state is not None and "henan_form" not in chat.passed_state  # what the interview gets
    state = chat.state()
    assert state is not None and "henan_form" not in state


@pytest.mark.parametrize("word", ["我的期限", "语言", "english"])
def test_deadlines_and_language_go_to_the_interview_and_the_form_waits(
        sessions: sessionmaker[Session], word: str) -> None:
    add_enterprise(sessions, "s1")
    chat = Chat(sessions, "s1")
    chat.fill(upto="mobile")
    assert chat.say(word) is None
    form = chat.form()
    assert form is not None and form["asking"] == "mobile"
    assert "手机" in chat.text("我的手机")  # refused: no phone number
    assert chat.form()["asking"] == "mobile"  # type: ignore[index]


def test_asking_for_the_form_again_repeats_the_question(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "q1")
    chat = Chat(sessions, "q1")
    chat.fill(upto="mobile")
    for text, choice in (("申请表", None), (None, CHOICE_ID)):
        reply = chat.text(text, choice)
        assert "已在填写" in reply and "手机号码" in reply
        assert chat.form()["asking"] == "mobile" and "mobile" not in chat.form()["answers"]  # type: ignore[index]


def test_a_reminder_button_is_not_for_the_form(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "k1")
    chat = Chat(sessions, "k1")
    chat.fill(upto="mobile")
    assert chat.say(choice="remind:done:7") is None
    assert chat.form()["asking"] == "mobile"  # type: ignore[index]


# -- the summary ---------------------------------------------------------------------------------------


def summary_lines(text: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^(\d+)\. (.*)$", text, re.M)}


def test_the_summary_shows_every_value_numbered_and_only_confirm_makes_the_form(
        sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "m1")
    chat = Chat(sessions, "m1")
    text = chat.fill()
    assert "请核对申请表内容" in text and not chat.links
    lines = summary_lines(text)
    shown = [f for f in FORM_FIELDS if f.when is None or STORED.get(f.when) is True]
    assert len(lines) == len(shown) == 21  # the permit's and the auditor's lines are left out (否)
    assert lines[1] == "企业名称：河南企业1有限公司"
    assert lines[2] == "注册地址：河南省郑州市金水区经三路1号"
    assert lines[7] == "上一年工业产值：12000 万元" and lines[8] == "上一年用能总量：3500.5 吨标煤"
    assert lines[13] == "手机：13812345678" and lines[15] == "是否已通过环评和环境保护设施竣工验收：是"
    assert chat.choice_ids() == [EDIT_PREFIX + f.key for f in shown] + [CONFIRM_ID, henan_form.CANCEL_ID]
    with sessions() as session:
        assert henan_form.load_application(Repositories(session), enterprise_id) is None  # not yet
    chat.text("不知道")  # neither a field nor confirm: the summary again
    assert chat.form()["stage"] == "summary"  # type: ignore[index]
    reply = chat.text("确认")
    assert "申请表已生成" in reply and "https://qs.example/forms/henan/" in reply
    with sessions() as session:
        stored = henan_form.load_application(Repositories(session), enterprise_id)
    assert stored is not None
    assert stored["answers"] == {**STORED, "name": "河南企业1有限公司", "credit_code": henan_code(1),
                                 "industry_name": "有机化学原料制造", "industry_code": "2614"}
    assert "henan_form" not in chat.state()  # type: ignore[operator]


def test_a_correction_from_the_summary(sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "m2")
    chat = Chat(sessions, "m2")
    chat.fill()
    # by number: the address is line 2
    reply = chat.text("2")
    assert "“注册地址”目前为：河南省郑州市金水区经三路1号" in reply and "企业的注册地址是什么" in reply
    assert chat.form()["stage"] == "correcting"  # type: ignore[index]
    reply = chat.text("李华")  # a name is still no address
    assert "注册地址" in reply and chat.form()["answers"]["address"] == "河南省郑州市金水区经三路1号"  # type: ignore[index]
    reply = chat.text("河南省郑州市二七区大学路8号")
    assert summary_lines(reply)[2] == "注册地址：河南省郑州市二七区大学路8号"
    # by button: the phone
    chat.text(choice=EDIT_PREFIX + "mobile")
    assert "手机" in chat.text("返回")  # back keeps the old value and shows the summary again
    assert chat.form()["answers"]["mobile"] == "13812345678" and chat.form()["stage"] == "summary"  # type: ignore[index]
    # by name: a 否 turned into 是 asks for the permit's number before the summary
    chat.text("改排污许可证")
    assert chat.choice_ids() == ["yes", "no"]
    reply = chat.text("是")
    assert "排污许可证编号是什么" in reply
    reply = chat.text("91130200699229617X001P")
    lines = summary_lines(reply)
    assert "排污许可证编号：91130200699229617X001P" in lines.values()
    assert "“所属行业”目前为：有机化学原料制造" in chat.text("5")  # line 5 is the industry
    chat.text("返回")
    chat.text("确认")
    with sessions() as session:
        stored = henan_form.load_application(Repositories(session), enterprise_id)
    assert stored is not None
    assert stored["answers"]["address"] == "河南省郑州市二七区大学路8号"
    assert stored["answers"]["has_permit"] is True and stored["answers"]["permit_number"] == "91130200699229617X001P"


def test_a_yes_turned_no_in_the_summary_drops_its_number(sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "m3")
    chat = Chat(sessions, "m3")
    chat.fill()
    chat.text("环评")
    reply = chat.text("否")
    assert "批文号" not in reply.split("请核对申请表内容")[-1]
    chat.text(choice=CONFIRM_ID)
    with sessions() as session:
        stored = henan_form.load_application(Repositories(session), enterprise_id)
    assert stored is not None and stored["answers"]["eia_accepted"] is False and "eia_number" not in stored["answers"]


# -- the typed state ------------------------------------------------------------------------------------


def test_the_state_is_the_typed_model_dumped_as_json(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "j1")
    chat = Chat(sessions, "j1")
    chat.fill(upto="energy_tce")
    raw = chat.form()
    form = HenanFormState.model_validate(raw)
    assert form.stage == "asking" and form.asking == "energy_tce" and form.answers["output_10k_yuan"] == 12000.0
    assert raw == form.model_dump(mode="json")
    assert chat.state()["stage"] == "done"  # type: ignore[index]  # the conversation around it is kept


def test_an_old_shape_state_row_is_still_resumable(sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "o1")
    old = {"locale": "zh_CN", "asking": "filled_by",
           "answers": {**{k: v for k, v in STORED.items() if k != "filled_by"}, "name": "河南企业1有限公司"}}
    with sessions.begin() as session:
        repos = Repositories(session)
        contact = repos.contacts.get_by_address("test", "o1")
        assert contact is not None
        repos.conversations.save(contact.id, {"stage": "done", "locale": "zh_CN", "facts": {}, "henan_form": old})
    chat = Chat(sessions, "o1")
    reply = chat.text("李华")
    assert "请核对申请表内容" in reply
    assert chat.form()["stage"] == "summary"  # type: ignore[index]
    chat.text("确认")
    with sessions() as session:
        stored = henan_form.load_application(Repositories(session), enterprise_id)
    assert stored is not None and stored["answers"]["filled_by"] == "李华"


def test_an_old_row_missing_a_field_asks_it_before_the_form_is_made() -> None:
    old = {"locale": "zh_CN", "asking": None, "answers": {k: v for k, v in STORED.items() if k != "email"}}
    form = HenanFormState.model_validate(old)
    step = apply_step(form, None, KNOWN)
    assert step.state.asking == "email" and step.replies[-1].text == ZH(FIELDS["email"].prompt)


def test_unreadable_or_unknown_keys_in_a_row_are_dropped() -> None:
    form = HenanFormState.model_validate({"locale": "fr", "asking": "nope", "answers": {"nope": 1, "email": "a@b.cn"},
                                          "cancelled": False})
    assert form.locale == "zh_CN" and form.asking is None and form.answers == {"email": "a@b.cn"}


# -- English -------------------------------------------------------------------------------------------

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def assert_english(text: str, allow: tuple[str, ...] = ()) -> None:
    rest = text
    for s in sorted(allow, key=len, reverse=True):
        rest = rest.replace(s, " ")
    assert not HAN.search(rest), text


def test_an_english_contact_fills_the_form_in_english(sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "e1", locale="en")
    chat = Chat(sessions, "e1")
    first = chat.text("application form")
    assert_english(first)
    assert "registered address" in first
    reply = chat.text("Wang Qiang")
    assert_english(reply)
    assert reply.startswith("Registered address must be an address")
    values = [v for _, v in FILL]
    for _, value in FILL:
        reply = chat.text(value)
        assert_english(reply, allow=(*values, "河南企业1有限公司", "有机化学原料制造"))
    assert "Please check the application form" in reply
    chat.text("help")
    chat.text("correct 3")  # the legal representative
    assert_english(chat.text("back"), allow=(*values, "河南企业1有限公司", "有机化学原料制造"))
    reply = chat.text("confirm")
    assert_english(reply)
    assert "Download: https://qs.example/forms/henan/" in reply
    with sessions() as session:
        assert henan_form.load_application(Repositories(session), enterprise_id) is not None


def test_english_cancel(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "e2", locale="en")
    chat = Chat(sessions, "e2")
    chat.text("application form")
    reply = chat.text("cancel")
    assert_english(reply)
    assert "cancelled" in reply and chat.form() is None


# -- the offer after a verdict ---------------------------------------------------------------------------


def test_the_offered_choice_opens_the_form(sessions: sessionmaker[Session]) -> None:
    choice = offer_choice(ZH)
    assert choice.id == CHOICE_ID == "cmd:henan_form" and choice.label == "填写申请表"
    assert offer_choice(EN).label == "Fill in the application form"
    assert is_offered("henan", "voluntary", {"voluntary": {"eligible": True}})
    assert not is_offered("henan", "voluntary", {"voluntary": {"eligible": False}})
    assert not is_offered("shanxi", "voluntary", {"voluntary": {"eligible": True}})
    add_enterprise(sessions, "v1")
    chat = Chat(sessions, "v1")
    assert "注册地址" in chat.text(choice=CHOICE_ID)


def test_the_number_of_the_offered_choice_opens_the_form(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "v2")
    with sessions.begin() as session:
        repos = Repositories(session)
        contact = repos.contacts.get_by_address("test", "v2")
        assert contact is not None
        repos.conversations.save(contact.id, {"stage": "done", "locale": "zh_CN", "facts": {},
                                              "offered": ["cmd:status", CHOICE_ID]})
    chat = Chat(sessions, "v2")
    assert chat.say("1") is None
    assert "注册地址" in chat.text("2")


def test_the_first_question_comes_after_an_introduction() -> None:
    step = apply_step(start_state(KNOWN), None, KNOWN)
    assert step.state.asking == "address" and step.replies[-1].text == ZH(FIELDS["address"].prompt)
    assert TODAY.isoformat() == step.state.answers["filled_on"]


def test_back_from_the_summary_undoes_the_last_answer(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "z1")
    chat = Chat(sessions, "z1")
    chat.fill()
    reply = chat.text("返回")
    assert "已撤销" in reply and "填表人是谁？" in reply
    form = chat.form()
    assert form is not None and form["stage"] == "asking" and "filled_by" not in form["answers"]
    assert "请核对申请表内容" in chat.text("李华")


def test_an_unreadable_form_row_is_dropped_and_the_interview_answers(sessions: sessionmaker[Session]) -> None:
    add_enterprise(sessions, "z2")
    with sessions.begin() as session:
        repos = Repositories(session)
        contact = repos.contacts.get_by_address("test", "z2")
        assert contact is not None
        repos.conversations.save(contact.id, {"stage": "done", "locale": "zh_CN", "facts": {}, "henan_form": [1, 2]})
    chat = Chat(sessions, "z2")
    assert chat.say("李华") is None
    assert chat.form() is None and chat.state()["stage"] == "done"  # type: ignore[index]

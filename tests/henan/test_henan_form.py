"""Henan's 自愿性清洁生产审核申请表: the sub-interview, the XLSX, who may apply, the download and the officers' list."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from stdnum.cn import uscc

from bot import officer_cli
from handlers import henan_form
from handlers.henan_form import FORM_FIELDS, STAMP_NOTE, TITLE, application_xlsx, apply_step, handle, henan_routes
from handlers.messages import Inbound, Outbound
from handlers.officers import create_officer
from storage import Repositories

TODAY = date(2026, 4, 1)
NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
LABELS = {f.key: f.label for f in FORM_FIELDS}

ANSWERS: dict[str, Any] = {
    "name": "郑州清源化工有限公司", "address": "河南省郑州市金水区经三路1号", "legal_representative": "王强",
    "credit_code": "91410100MA0000001X", "industry_name": "有机化学原料制造", "industry_code": "2614",
    "output_10k_yuan": 12000.0, "energy_tce": 3500.5, "pollutants": "COD 12吨，SO2 3吨",
    "products": "甲醇 5万吨", "contact_name": "李华", "contact_title": "环保科长", "mobile": "13812345678",
    "email": "lihua@example.com", "eia_accepted": True, "eia_number": "豫环审〔2020〕8号", "has_permit": False,
    "auditor_intent": True, "auditor_name": "河南绿源环境咨询有限公司", "restructuring": False,
    "filled_by": "李华", "filled_on": "2026-04-01",
}


def henan_code(n: int) -> str:
    body = f"914101{n:011d}"
    return body + uscc.calc_check_digit(body)


def add_enterprise(sessions: sessionmaker[Session], user: str, *, province: str = "henan",
                   obligation: str = "voluntary", eligible: bool | None = True,
                   n: int = 1, city: str | None = "郑州市") -> int:
    """A consented contact bound to an enterprise whose latest assessment has the given verdict."""
    with sessions.begin() as session:
        repos = Repositories(session)
        enterprise = repos.enterprises.add(credit_code=henan_code(n), name=f"河南企业{n}有限公司", province=province,
                                           city=city, industry_code="2614")
        repos.assessments.add(facts={"province": province, "industry_code": "2614"}, as_of=TODAY,
                              obligation=obligation, result={"voluntary": {"eligible": eligible}},
                              pack_versions={}, enterprise_id=enterprise.id)
        contact = repos.contacts.add("test", user)
        repos.contacts.record_consent(contact, NOW)
        repos.contacts.bind_enterprise(contact, enterprise.id)
        repos.conversations.save(contact.id, {"stage": "done", "locale": "zh_CN", "facts": {}})
        return enterprise.id


class Chat:
    """Messages through `henan_form.handle` as the dispatcher calls it first; None means 'for the interview'."""

    def __init__(self, sessions: sessionmaker[Session], user: str) -> None:
        self.sessions, self.user = sessions, user
        self.links: list[str] = []

    def say(self, text: str | None = None, choice: str | None = None) -> list[Outbound] | None:
        with self.sessions.begin() as session:
            repos = Repositories(session)
            contact = repos.contacts.add_if_absent("test", self.user)
            conversation = repos.conversations.get_by_contact_id(contact.id)
            state = dict(conversation.state) if conversation is not None else None
            return handle(repos, contact, state, Inbound("test", self.user, text=text, choice=choice), today=TODAY,
                          file_url=self.link)

    def link(self, token: str) -> str:
        self.links.append(token)
        return f"https://qs.example/forms/henan/{token}.xlsx"

    def text(self, text: str) -> str:
        out = self.say(text)
        assert out is not None
        return "\n".join(o.text for o in out)


# -- the sub-interview -----------------------------------------------------------------------------


def run(known: dict[str, Any], inputs: list[str]) -> tuple[dict[str, Any], list[list[Outbound]], bool]:
    state = henan_form.start_state(known)
    state, first, done = apply_step(state, "", known)
    transcript = [first]
    for text in inputs:
        state, replies, done = apply_step(state, text, known)
        transcript.append(replies)
    return state, transcript, done


def test_known_fields_are_not_asked_and_bad_inputs_are_asked_again() -> None:
    known = {k: ANSWERS[k] for k in ("name", "credit_code", "industry_name", "industry_code", "filled_on")}
    state, first, done = apply_step(henan_form.start_state(known), "", known)
    assert not done and state["asking"] == "address"
    assert "注册地址" in first[0].text
    inputs = {
        "address": [ANSWERS["address"]],
        "legal_representative": [ANSWERS["legal_representative"]],
        "output_10k_yuan": ["很多", "1.2亿"],
        "energy_tce": ["不清楚", "3500.5吨标煤"],
        "pollutants": [ANSWERS["pollutants"]],
        "products": [ANSWERS["products"]],
        "contact_name": [ANSWERS["contact_name"]],
        "contact_title": [ANSWERS["contact_title"]],
        "mobile": ["1381234567", "23812345678", "138 1234 5678"],
        "email": ["lihua at example", ANSWERS["email"]],
        "eia_accepted": ["也许吧", "是"],
        "eia_number": [ANSWERS["eia_number"]],
        "has_permit": ["否"],
        "auditor_intent": ["yes"],
        "auditor_name": [ANSWERS["auditor_name"]],
        "restructuring": ["没有"],
        "filled_by": [ANSWERS["filled_by"]],
    }
    reasked = []
    for key, answers in inputs.items():
        for i, text in enumerate(answers):
            assert state["asking"] == key
            state, replies, done = apply_step(state, text, known)
            if i < len(answers) - 1:
                assert not done and state["asking"] == key, (key, text)
                assert len(replies) == 2  # what is wrong, then the question again
                reasked.append(key)
    assert done and state["asking"] is None
    assert reasked == ["output_10k_yuan", "energy_tce", "mobile", "mobile", "email", "eia_accepted"]
    assert state["answers"] == ANSWERS  # 1.2亿 is 12000 万元
    assert state["answers"]["mobile"] == "13812345678"


def test_a_no_skips_the_number_of_that_document_and_yes_no_buttons_are_offered() -> None:
    known = {k: v for k, v in ANSWERS.items() if k not in ("has_permit", "permit_number", "eia_accepted", "eia_number")}
    state, first, _ = apply_step(henan_form.start_state(known), "", known)
    assert state["asking"] == "eia_accepted"
    assert [c.id for c in first[-1].choices] == ["yes", "no"]
    state, _, _ = apply_step(state, "no", known)
    assert state["asking"] == "has_permit"
    state, _, done = apply_step(state, "不是", known)
    assert done
    assert state["answers"]["eia_accepted"] is False and "eia_number" not in state["answers"]


def test_cancel_stops_the_form() -> None:
    state, transcript, done = run({}, ["取消"])
    assert done and state["cancelled"] and "申请表" in transcript[-1][0].text


# -- the XLSX ------------------------------------------------------------------------------------------


def _sheet(data: bytes) -> Any:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return book.active


def _right_of(ws: Any, label: str) -> Any:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label:
                return ws.cell(row=cell.row, column=cell.column + 1).value
    raise AssertionError(f"no cell {label!r}")


def test_the_xlsx_has_every_answer_next_to_its_label() -> None:
    ws = _sheet(application_xlsx(ANSWERS))
    assert ws["A1"].value == TITLE
    for key in ("name", "address", "legal_representative", "credit_code", "industry_name", "industry_code",
                "pollutants", "products", "contact_name", "contact_title", "mobile", "email", "eia_number",
                "auditor_name"):
        assert _right_of(ws, LABELS[key]) == ANSWERS[key], key
    assert _right_of(ws, LABELS["output_10k_yuan"]) == 12000
    assert _right_of(ws, LABELS["energy_tce"]) == 3500.5
    assert _right_of(ws, LABELS["permit_number"]) in ("", None)  # 否: no number
    for key, yes in (("eia_accepted", True), ("has_permit", False), ("auditor_intent", True), ("restructuring", False)):
        row = next(r for r in ws.iter_rows() if r[0].value == LABELS[key])
        assert (row[1].value, row[2].value) == (("☑ 是", "☐ 否") if yes else ("☐ 是", "☑ 否")), key
    assert _right_of(ws, "填表人：") == "李华"
    assert _right_of(ws, "填表日期：") == "2026-04-01"
    values = [c.value for r in ws.iter_rows() for c in r]
    assert STAMP_NOTE in values
    # the seed's order: name first, the four questions before 填表人
    labels = [r[0].value for r in ws.iter_rows() if r[0].value]
    assert labels.index(LABELS["name"]) < labels.index(LABELS["mobile"]) < labels.index(LABELS["restructuring"]) \
        < labels.index("填表人：")


# -- the conversation, the link and the download --------------------------------------------------------


class Client:
    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://qs") as c:
                return await c.get(path)

        return asyncio.run(fetch())


FILL = ["河南省郑州市金水区经三路1号", "王强", "12000", "3500", "COD 12吨", "甲醇 5万吨", "李华", "环保科长",
        "13812345678", "lihua@example.com", "是", "豫环审〔2020〕8号", "否", "否", "否", "李华"]


def test_an_eligible_henan_contact_fills_the_form_and_downloads_it(sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "u1")
    chat = Chat(sessions, "u1")
    assert chat.say("你好") is None  # not for the form: the interview answers
    first = chat.text("申请表")
    assert "注册地址" in first
    for text in FILL[:-1]:
        assert chat.say(text) is not None
    with sessions() as session:
        state = Repositories(session).conversations.get_by_contact_id(
            Repositories(session).contacts.get_by_address("test", "u1").id).state  # type: ignore[union-attr]
        assert state["henan_form"]["asking"] == "filled_by" and state["stage"] == "done"
    last = chat.text(FILL[-1])
    assert "加盖公章" in last and "https://qs.example/forms/henan/" in last
    token = chat.links[-1]
    with sessions() as session:
        repos = Repositories(session)
        state = repos.conversations.get_by_contact_id(repos.contacts.get_by_address("test", "u1").id).state  # type: ignore[union-attr]
        assert "henan_form" not in state and state["stage"] == "done"
        stored = henan_form.load_application(repos, enterprise_id)
    assert stored is not None and stored["token"] == token
    assert stored["answers"]["name"] == "河南企业1有限公司" and stored["answers"]["industry_code"] == "2614"
    assert stored["answers"]["filled_on"] == "2026-04-01"
    client = Client(Starlette(routes=henan_routes(sessions)))
    response = client.get(f"/forms/henan/{token}.xlsx")
    assert response.status_code == 200
    ws = _sheet(response.content)
    assert _right_of(ws, LABELS["name"]) == "河南企业1有限公司"
    assert _right_of(ws, LABELS["mobile"]) == "13812345678"
    assert client.get("/forms/henan/not-a-real-token-at-all.xlsx").status_code == 404
    # applying again replaces the link
    chat.text("申请表")
    for text in FILL:
        chat.say(text)
    assert chat.links[-1] != token
    assert client.get(f"/forms/henan/{token}.xlsx").status_code == 404
    assert client.get(f"/forms/henan/{chat.links[-1]}.xlsx").status_code == 200


@pytest.mark.parametrize(("province", "obligation", "eligible", "why"), [
    ("shanxi", "voluntary", True, "河南"),
    ("henan", "mandatory", None, "not voluntary"),
    ("henan", "voluntary", False, "does not meet"),
])
def test_a_contact_who_may_not_apply_is_told_why(sessions: sessionmaker[Session], province: str, obligation: str,
                                                 eligible: bool | None, why: str) -> None:
    add_enterprise(sessions, "u2", province=province, obligation=obligation, eligible=eligible)
    chat = Chat(sessions, "u2")
    out = chat.say("申请表")
    assert out is not None and len(out) == 1
    from rules.i18n import gettext_for

    msgids = {
        "河南": "The 自愿性清洁生产审核申请表 is Henan's form: it is only for enterprises in Henan.",
        "not voluntary": "The voluntary application form is only for enterprises that are not obliged to carry out "
                         "an audit; my latest verdict for yours is not voluntary.",
        "does not meet": "By my latest verdict your enterprise does not meet Henan's conditions for a voluntary "
                         "audit, so I cannot fill the application form.",
    }
    assert out[0].text == gettext_for("zh_CN")(msgids[why])
    assert chat.say("李华") is None  # no form was started


def test_a_real_henan_verdict_opens_the_form(sessions: sessionmaker[Session]) -> None:
    from rules import default_engine, derive, parse_facts

    facts = {"province": "henan", "industry_code": "1811", "scale": "medium", "exceeds_emission_standard": False,
             "exceeds_total_quota": False, "exceeds_energy_limit": False, "missed_energy_target": False,
             "toxic_classes": [], "has_extraction": False, "has_industrial_coating": False,
             "above_designated_size": True, "on_master_list": False}
    a = default_engine().assess(derive(parse_facts(facts)), TODAY)
    with sessions.begin() as session:
        repos = Repositories(session)
        enterprise = repos.enterprises.add(credit_code=henan_code(9), name="河南纺织有限公司", province="henan")
        repos.assessments.add(facts=facts, as_of=TODAY, obligation=a.obligation, result=a.to_dict(),
                              pack_versions=a.pack_versions, enterprise_id=enterprise.id)
        contact = repos.contacts.add("test", "r1")
        repos.contacts.record_consent(contact, NOW)
        repos.contacts.bind_enterprise(contact, enterprise.id)
    chat = Chat(sessions, "r1")
    assert "注册地址" in chat.text("申请表")
    with sessions() as session:
        repos = Repositories(session)
        state = repos.conversations.get_by_contact_id(repos.contacts.get_by_address("test", "r1").id)  # type: ignore[union-attr]
        assert state is not None and state.state["henan_form"]["answers"]["industry_code"] == "1811"
    assert chat.text("取消")
    with sessions() as session:
        repos = Repositories(session)
        assert repos.conversations.get_by_contact_id(repos.contacts.get_by_address("test", "r1").id) is None  # type: ignore[union-attr]


def test_the_form_link_hangs_off_the_calendar_base_url() -> None:
    url = henan_form.form_url_from(lambda t: f"https://qs.example/app/calendar/{t}.ics")
    assert url is not None and url("abc") == "https://qs.example/app/forms/henan/abc.xlsx"
    assert henan_form.form_url_from(None) is None
    assert henan_form.form_url_from(lambda t: f"https://x/{t}") is None


def test_an_unbound_contact_is_told_to_give_the_credit_code(sessions: sessionmaker[Session]) -> None:
    chat = Chat(sessions, "u3")
    out = chat.say("自愿审核申请")
    assert out is not None and len(out) == 1
    with sessions() as session:
        repos = Repositories(session)
        assert repos.conversations.get_by_contact_id(repos.contacts.get_by_address("test", "u3").id) is None  # type: ignore[union-attr]


# -- officers --------------------------------------------------------------------------------------------


def add_officer(sessions: sessionmaker[Session], province: str, city: str | None = None) -> int:
    with sessions.begin() as session:
        officer, _ = create_officer(Repositories(session), name="张三", role="industry", province=province, city=city,
                                    now=NOW)
        return officer.id


def cli(sessions: sessionmaker[Session], *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = officer_cli.main(list(argv), sessions=sessions, out=out, err=err, stdin=io.StringIO(""), today=TODAY)
    return code, out.getvalue(), err.getvalue()


def submit(sessions: sessionmaker[Session], user: str) -> None:
    chat = Chat(sessions, user)
    chat.text("申请表")
    for text in FILL:
        chat.say(text)
    assert chat.links


def test_a_henan_officer_sees_the_applicants_and_a_shanxi_officer_is_refused(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    applicant = add_enterprise(sessions, "a1", n=1)
    add_enterprise(sessions, "a2", n=2)  # eligible, but never asked for the form
    other_city = add_enterprise(sessions, "a3", n=3, city="洛阳市")
    submit(sessions, "a1")
    submit(sessions, "a3")
    henan, zhengzhou, shanxi = add_officer(sessions, "henan"), add_officer(sessions, "henan", "郑州市"), \
        add_officer(sessions, "shanxi")

    code, out, err = cli(sessions, "applicants", str(henan), "--xlsx", str(tmp_path / "a.xlsx"))
    assert code == 0, err
    lines = [line.split("\t") for line in out.splitlines() if "\t" in line]
    assert [int(line[0]) for line in lines] == [applicant, other_city]
    assert lines[0][1] == "河南企业1有限公司" and lines[0][2] == henan_code(1) and "13812345678" in lines[0]
    ws = _sheet((tmp_path / "a.xlsx").read_bytes())
    header = [c.value for c in ws[1]]
    assert ws.max_row == 3 and ws.cell(row=2, column=1).value == applicant
    assert ws.cell(row=2, column=header.index(LABELS["mobile"]) + 1).value == "13812345678"
    assert ws.cell(row=2, column=header.index(LABELS["eia_accepted"]) + 1).value == "是"

    code, out, _ = cli(sessions, "applicants", str(zhengzhou))
    assert code == 0
    assert [int(line.split("\t")[0]) for line in out.splitlines() if "\t" in line] == [applicant]

    code, out, err = cli(sessions, "applicants", str(shanxi))
    assert code == officer_cli.EXIT_FORBIDDEN
    assert out == "" and err


def test_an_applicant_whose_verdict_changed_is_no_longer_listed(sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "b1")
    submit(sessions, "b1")
    henan = add_officer(sessions, "henan")
    with sessions.begin() as session:
        Repositories(session).assessments.add(facts={"province": "henan"}, as_of=TODAY, obligation="mandatory",
                                              result={}, pack_versions={}, enterprise_id=enterprise_id)
    code, out, _ = cli(sessions, "applicants", str(henan))
    assert code == 0 and "\t" not in out

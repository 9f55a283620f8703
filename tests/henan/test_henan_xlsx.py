"""Henan's 自愿性清洁生产审核申请表: the XLSX laid out like the seed's 附件, the download link, who may apply,
and the officers' list of applicants."""

from __future__ import annotations

import asyncio
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from bot import officer_cli
from handlers import henan_form
from handlers.henan_fields import FORM_FIELDS
from handlers.henan_form import ANNEX, LAYOUT, STAMP_NOTE, TABLE_TOP, TITLE, application_xlsx, henan_routes
from handlers.officers import create_officer
from storage import Repositories
from tests.henan.henankit import NOW, STORED, TODAY, Chat, add_enterprise, henan_code, right_of, sheet

LABELS = {f.key: f.label for f in FORM_FIELDS}
ANSWERS: dict[str, Any] = {
    **STORED, "name": "郑州清源化工有限公司", "credit_code": henan_code(1), "industry_name": "有机化学原料制造",
    "industry_code": "2614", "eia_accepted": True, "has_permit": False, "auditor_intent": True,
    "auditor_name": "河南绿源环境咨询有限公司",
}

# The annex of the seed (../shared/seeds/004_21b53c2384472b3a.txt, 附件 自愿性清洁生产审核申请表), row by row:
# the four cells of each row of its table, as the seed prints them.
SEED_TABLE = [
    ["企业名称 (加盖公章)", "", "", ""],
    ["注册地址", "", "", ""],
    ["法定代表人", "", "社会统一信用代码", ""],
    ["所属行业(按照《国民经济行业分类》)", "", "行业代码", ""],
    ["企业上一年工业产值 (万元)", "", "企业上一年用能总量 (吨标煤)", ""],
    ["企业上一年主要污染 物排放量", "", "", ""],
    ["主要产品 及产量", "", "", ""],
    ["联系人", "", "职 务", ""],
    ["手 机", "", "邮 箱", ""],
    ["企业是否已通过当地环保部门组织的环评和环境 保护设施竣工验收", "是 ☐", "否 ☐", ""],
    ["环评和环境保护设施竣工验收批文号", "", "", ""],
    ["企业是否已获得排污许可证", "是 ☐", "否 ☐", ""],
    ["排污许可证编号", "", "", ""],
    ["企业是否已与第三方审核机构有合同意向", "是 ☐", "否 ☐", ""],
    ["有意向的第三方审核机构名称", "", "", ""],
    ["近两年内是否列入区县关停并转等结构调整计划", "是 ☐", "否 ☐", ""],
]
# The seed's text as shipped with the packs (rules/sources/henan_voluntary_2018.txt, copied from the seed).
SEED = Path(__file__).resolve().parents[2] / "rules" / "sources" / "henan_voluntary_2018.txt"


def same(a: Any, b: Any) -> bool:
    """Equal once widths (NFKC) and the seed's line-break spaces are set aside."""
    def norm(v: Any) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "" if v is None else str(v)))
    return norm(a) == norm(b)


def test_the_xlsx_matches_the_seed_annex_cell_by_cell() -> None:
    ws = sheet(application_xlsx(ANSWERS))
    assert ws["A1"].value == ANNEX and same(ANNEX, "附件")
    assert ws["A2"].value == TITLE == "自愿性清洁生产审核申请表" and "A2:D2" in {str(r) for r in ws.merged_cells.ranges}
    values = {  # what the answers put in the value cells, by (row, column) of the table
        (0, 1): "郑州清源化工有限公司", (1, 1): "河南省郑州市金水区经三路1号", (2, 1): "王强", (2, 3): henan_code(1),
        (3, 1): "有机化学原料制造", (3, 3): "2614", (4, 1): 12000, (4, 3): 3500.5, (5, 1): "COD 12吨，SO2 3吨",
        (6, 1): "甲醇 5万吨", (7, 1): "李华", (7, 3): "环保科长", (8, 1): "13812345678", (8, 3): "lihua@example.com",
        (9, 1): "是 ☑", (9, 2): "否 ☐", (10, 1): "豫环审〔2020〕8号", (11, 1): "是 ☐", (11, 2): "否 ☑",
        (12, 1): "", (13, 1): "是 ☑", (13, 2): "否 ☐", (14, 1): "河南绿源环境咨询有限公司", (15, 1): "是 ☐",
        (15, 2): "否 ☑",
    }
    merged = {str(r) for r in ws.merged_cells.ranges}
    for i, seed_row in enumerate(SEED_TABLE):
        row = TABLE_TOP + i
        cells = [ws.cell(row=row, column=c).value for c in range(1, 5)]
        assert same(cells[0], seed_row[0]), (row, cells[0], seed_row[0])
        if seed_row[2] and "☐" not in seed_row[2]:  # two label/value pairs
            assert same(cells[2], seed_row[2]), (row, cells[2], seed_row[2])
            assert f"B{row}:D{row}" not in merged
        elif "☐" not in seed_row[1]:  # one value over three columns
            assert f"B{row}:D{row}" in merged, row
        for col in range(1, 4):
            if (i, col) in values:
                assert cells[col] == values[(i, col)] or (cells[col] is None and values[(i, col)] == ""), \
                    (row, col, cells[col])
        for c in range(1, 5):  # a ruled table (inside a merged value only its top and bottom count)
            border = ws.cell(row=row, column=c).border
            assert border.top.style == border.bottom.style == "thin", (row, c)
        assert ws.cell(row=row, column=1).border.left.style == ws.cell(row=row, column=4).border.right.style == "thin"
    after = TABLE_TOP + len(SEED_TABLE)
    assert all(ws.cell(row=after, column=c).value in (None, "") for c in range(1, 5))
    assert same(ws.cell(row=after + 1, column=1).value, "填表人:") and ws.cell(row=after + 1, column=2).value == "李华"
    assert same(ws.cell(row=after + 2, column=1).value, "填表日期:")
    assert ws.cell(row=after + 2, column=2).value == "2026年4月1日"
    assert ws.cell(row=after + 4, column=1).value == STAMP_NOTE
    assert ws.max_row == after + 4


def test_a_no_leaves_the_number_it_would_ask_empty() -> None:
    ws = sheet(application_xlsx({**ANSWERS, "auditor_intent": False}))
    assert right_of(ws, LABELS["auditor_name"]) in ("", None)
    row = TABLE_TOP + 13
    assert (ws.cell(row=row, column=2).value, ws.cell(row=row, column=3).value) == ("是 ☐", "否 ☑")


def test_the_layout_covers_every_printed_field_once() -> None:
    printed = [k for row in LAYOUT for k in row]
    assert sorted(printed) == sorted(f.key for f in FORM_FIELDS if f.key not in ("filled_by", "filled_on"))
    assert len(LAYOUT) == len(SEED_TABLE)


def test_the_layout_is_the_seeds_table() -> None:
    """The labels read from the seed file itself, row by row, are the XLSX's."""
    text = SEED.read_text(encoding="utf-8")
    annex = text[text.index("自愿性清洁生产审核申请表", text.index("附 件")):]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in annex.splitlines()
            if line.startswith("|") and not set(line) <= set("|- ")]
    rows = [r for r in rows if any(r)]
    assert len(rows) == len(LAYOUT)
    for seed_row, keys in zip(rows, LAYOUT, strict=True):
        assert same(seed_row[0], LABELS[keys[0]]), (seed_row, keys)
        if len(keys) == 2:
            assert same(seed_row[2], LABELS[keys[1]]), (seed_row, keys)
    assert "填表人" in annex and "填表日期" in annex


class Client:
    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://qs") as c:
                return await c.get(path)

        return asyncio.run(fetch())


def test_an_eligible_henan_contact_fills_the_form_and_downloads_it(sessions: sessionmaker[Session]) -> None:
    enterprise_id = add_enterprise(sessions, "u1")
    chat = Chat(sessions, "u1")
    assert chat.say("你好") is None  # not for the form: the interview answers
    chat.fill(upto="filled_by")
    form = chat.form()
    assert form is not None and form["asking"] == "filled_by" and chat.state()["stage"] == "done"  # type: ignore[index]
    assert "请核对" in chat.text("李华") and not chat.links
    last = chat.text("确认")
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
    ws = sheet(response.content)
    assert right_of(ws, LABELS["name"]) == "河南企业1有限公司"
    assert right_of(ws, LABELS["mobile"]) == "13812345678"
    assert client.get("/forms/henan/not-a-real-token-at-all.xlsx").status_code == 404
    # applying again replaces the link
    chat.fill()
    chat.text("确认")
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
        "河南": "The application form for a voluntary audit is Henan's: it is only for enterprises in Henan.",
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
    chat.fill()
    chat.text("确认")
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
    ws = sheet((tmp_path / "a.xlsx").read_bytes())
    header = [c.value for c in ws[1]]
    assert ws.max_row == 3 and ws.cell(row=2, column=1).value == applicant
    assert ws.cell(row=2, column=header.index("手机") + 1).value == "13812345678"
    assert "职务" in header and "填表日期" in header
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

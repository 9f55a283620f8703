"""The overview by district, the filtered enterprise lists, the enterprise page and its officer actions,
and the exports officers file, over HTTP against a real uvicorn server (SQLite, and PostgreSQL under
scripts/with-postgres). Each officer level is shown to see and act only inside its jurisdiction."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handlers.oversight import mask_name, mask_phone
from storage import Milestone, OutboxMessage, Reminder, Repositories
from storage.models import OfficerAction
from tests.dashboard.dashkit import app_for, csrf_of, logged_in, serve
from tests.dashboard.oversightkit import EVIDENCE, Jurisdictions, seed_jurisdictions


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Jurisdictions:
    return seed_jurisdictions(sessions)


@pytest.fixture
def base_url(sessions: sessionmaker[Session], world: Jurisdictions) -> Iterator[str]:
    with serve(app_for(sessions)) as url:
        yield url


client_for = logged_in


@pytest.fixture
def province(base_url: str) -> Iterator[httpx.Client]:
    with client_for(base_url, "省官员") as c:
        yield c


@pytest.fixture
def city(base_url: str) -> Iterator[httpx.Client]:
    with client_for(base_url, "太原官员") as c:
        yield c


@pytest.fixture
def county(base_url: str) -> Iterator[httpx.Client]:
    with client_for(base_url, "小店官员") as c:
        yield c


def cells(page: str, row_label: str) -> dict[str, str]:
    """The linked numbers of the overview row whose header is `row_label`: {class: href}."""
    rows = re.findall(r"<tr class=\"(?:district|total)\">(.*?)</tr>", page, re.S)
    row = next(r for r in rows if re.search(r'<th scope="row">' + re.escape(row_label), r))
    return {cls: html.unescape(href) + "#" + text for href, cls, text in
            [(h, c, t) for c, h, t in re.findall(r'<a class="(n-\w+)" href="([^"]+)">(\d+)</a>', row)]}


def names(page: str) -> list[str]:
    return re.findall(r'<td class="name"><a href="/officer/enterprises/\d+">([^<]+)</a>', page)


def actions(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(OfficerAction)) or 0


def outbox(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("oa:"))))


def post(client: httpx.Client, path: str, page_path: str, **data: str) -> httpx.Response:
    token = csrf_of(client.get(page_path).text) if "csrf" not in data else data.pop("csrf")
    return client.post(path, data={"csrf": token, **data})


class TestOverview:
    def test_a_province_officer_sees_every_city_with_enterprises_not_milestones_counted_overdue(
            self, province: httpx.Client) -> None:
        page = province.get("/officer/overview")
        assert page.status_code == 200
        taiyuan, datong, total = cells(page.text, "太原市"), cells(page.text, "大同市"), cells(page.text, "合计")
        assert [v.split("#")[1] for v in (taiyuan["n-enterprises"], taiyuan["n-overdue"], taiyuan["n-unreachable"])] \
            == ["2", "2", "1"]
        assert [v.split("#")[1] for v in (datong["n-enterprises"], datong["n-overdue"], datong["n-unreachable"])] \
            == ["2", "1", "2"]
        assert total["n-overdue"].endswith("#3")  # 3 enterprises, although 4 milestones are overdue
        assert re.search(r'<td class="rate" data-kind="disclosure"[^>]*>33% \(', page.text)  # 1 of 3 done or due
        assert 'id="chart-data"' in page.text and "uplot-1.6.32.iife.min.js" in page.text

    def test_every_number_links_to_the_enterprises_behind_it(self, province: httpx.Client) -> None:
        page = province.get("/officer/overview").text
        taiyuan = cells(page, "太原市")
        for cls, expected in (("n-enterprises", ["小店甲厂", "迎泽乙厂"]), ("n-overdue", ["小店甲厂", "迎泽乙厂"]),
                              ("n-unreachable", ["迎泽乙厂"])):
            href, count = taiyuan[cls].split("#")
            shown = names(province.get(href).text)
            assert sorted(shown) == sorted(expected) and len(shown) == int(count), (cls, href)
        rate = re.search(r'data-kind="report"[^>]*>\d+% \(<a href="([^"]+)">(\d+)</a>/<a href="([^"]+)">(\d+)</a>',
                         page)
        assert rate is not None
        on_time = names(province.get(html.unescape(rate.group(1))).text)
        counted = names(province.get(html.unescape(rate.group(3))).text)
        assert len(on_time) == int(rate.group(2)) and len(counted) == int(rate.group(4))

    def test_a_city_officer_sees_its_counties_only(self, city: httpx.Client) -> None:
        page = city.get("/officer/overview").text
        assert "小店区" in page and "迎泽区" in page and "大同市" not in page and "平城区" not in page
        assert sorted(names(city.get("/officer/enterprises").text)) == ["小店甲厂", "迎泽乙厂"]

    def test_a_county_officer_sees_its_county_only(self, county: httpx.Client) -> None:
        assert names(county.get("/officer/enterprises").text) == ["小店甲厂"]
        assert "迎泽区" not in county.get("/officer/overview").text

    @pytest.mark.parametrize(("query", "field"), [("status=bogus", "status"), ("kind=水泥", "kind"),
                                                   ("reach=maybe", "reach"), ("page=0", "page"),
                                                   ("city=%3Cscript%3E", "city"), ("basis=x", "basis")])
    def test_a_filter_it_does_not_understand_is_refused_naming_it(self, province: httpx.Client, query: str,
                                                                 field: str) -> None:
        response = province.get(f"/officer/enterprises?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field

    def test_without_a_session_pages_go_to_the_login_and_exports_are_401(self, base_url: str) -> None:
        with httpx.Client(base_url=base_url, follow_redirects=False) as anonymous:
            assert anonymous.get("/officer/overview").headers["location"] == "/officer/login"
            assert anonymous.get("/officer/enterprises/export.xlsx").status_code == 401


class TestEnterprisePage:
    def test_it_shows_facts_grounds_milestones_evidence_masked_contacts_and_reminders(
            self, province: httpx.Client, world: Jurisdictions) -> None:
        page = province.get(f"/officer/enterprises/{world.enterprises['小店甲厂']}").text
        assert "小店区" in page and "双超" in page and "晋环发〔2026〕1号" in page
        assert EVIDENCE in page and "2026-02-10" in page
        assert "张*" in page and "张三" not in page
        assert "138****0002" in page and "13812340002" not in page
        assert "overdue_1" in page  # the reminder sent

    @pytest.mark.parametrize(("who", "name"), [("太原官员", "平城丙厂"), ("小店官员", "迎泽乙厂"),
                                               ("鲁官员", "小店甲厂"), ("省官员", "山东戊厂")])
    def test_an_officer_cannot_open_or_act_on_an_enterprise_outside(
            self, base_url: str, world: Jurisdictions, sessions: sessionmaker[Session], who: str, name: str) -> None:
        target = world.enterprises[name]
        with client_for(base_url, who) as c:
            assert c.get(f"/officer/enterprises/{target}").status_code == 403
            token = csrf_of(c.get("/officer/overview").text)
            stage = c.post(f"/officer/enterprises/{target}/stage",
                           data={"csrf": token, "kind": "acceptance_passed", "date": "2026-03-31"})
            milestone = world.milestones.get((name, "disclosure"), 0)
            reject = c.post(f"/officer/enterprises/{target}/reject",
                            data={"csrf": token, "milestone": str(milestone), "reason": "不清晰"})
            assert stage.status_code == 403 and reject.status_code == 403
            assert name not in c.get("/officer/enterprises").text
        assert actions(sessions) == 0 and outbox(sessions) == []

    def test_an_enterprise_that_does_not_exist_is_404(self, province: httpx.Client) -> None:
        assert province.get("/officer/enterprises/999999").status_code == 404


class TestActions:
    def test_recording_an_acceptance_marks_the_milestone_and_is_logged_on_the_page(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session]) -> None:
        path = f"/officer/enterprises/{world.enterprises['平城丙厂']}"
        response = post(province, path + "/stage", path, kind="acceptance_passed", date="2026-03-31")
        assert response.status_code == 303 and response.headers["location"] == path + "#actions"
        with sessions() as session:
            m = session.get(Milestone, world.milestones[("平城丙厂", "acceptance")])
            assert m is not None and m.done_at is not None and m.done_at.date().isoformat() == "2026-03-31"
        page = province.get(path).text
        log = page[page.index('id="actions"'):]
        assert "验收通过 2026-03-31" in log and "省官员" in log

    def test_a_report_received_closes_the_rounds_earlier_steps_so_the_enterprise_is_no_longer_overdue(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session]) -> None:
        """An audit whose report is in was started: 开展清洁生产审核 is done by that day at the latest (it stayed
        overdue for ever, and no officer action could close it)."""
        path = f"/officer/enterprises/{world.enterprises['小店甲厂']}"
        assert cells(province.get("/officer/overview").text, "太原市")["n-overdue"].endswith("#2")
        response = post(province, path + "/stage", path, kind="report_received", date="2026-03-25")
        assert response.status_code == 303
        with sessions() as session:
            for kind in ("start", "report"):
                m = session.get(Milestone, world.milestones[("小店甲厂", kind)])
                assert m is not None and m.done_at is not None and m.done_at.date().isoformat() == "2026-03-25", kind
            disclosure = session.get(Milestone, world.milestones[("小店甲厂", "disclosure")])
            assert disclosure is not None and disclosure.evidence == EVIDENCE  # not a step of the audit: untouched
        assert cells(province.get("/officer/overview").text, "太原市")["n-overdue"].endswith("#1")  # 迎泽乙厂 only
        assert "小店甲厂" not in names(province.get("/officer/enterprises?status=overdue").text)

    def test_a_stage_day_before_the_list_was_published_is_refused_naming_the_date(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session]) -> None:
        path = f"/officer/enterprises/{world.enterprises['小店甲厂']}"
        response = post(province, path + "/stage", path, kind="report_received", date="2025-03-01")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["field"] == "date" and "2026-01-15" in error["message"]
        assert actions(sessions) == 0
        with sessions() as session:
            m = session.get(Milestone, world.milestones[("小店甲厂", "report")])
            assert m is not None and m.done_at is None

    @pytest.mark.parametrize(("name", "kind", "said"), [
        ("迎泽乙厂", "evaluation_passed", "本轮没有“评估通过”节点"),  # its round plans no evaluation
        ("平城丁厂", "acceptance_passed", "本轮没有“验收通过”节点"),
    ])
    def test_a_stage_with_no_open_milestone_says_so_and_logs_nothing(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session], name: str,
            kind: str, said: str) -> None:
        path = f"/officer/enterprises/{world.enterprises[name]}"
        before = province.get(path).text
        response = post(province, path + "/stage", path, kind=kind, date="2026-03-31")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["field"] == "kind" and said in error["message"] and "未作任何记录" in error["message"]
        assert actions(sessions) == 0
        assert province.get(path).text == before  # nothing changed on the page either

    def test_a_stage_without_its_milestone_closes_the_earlier_steps_and_the_log_says_so(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session]) -> None:
        path = f"/officer/enterprises/{world.enterprises['小店甲厂']}"  # no acceptance milestone; start, report open
        assert post(province, path + "/stage", path, kind="acceptance_passed", date="2026-03-31").status_code == 303
        with sessions() as session:
            for kind in ("start", "report"):
                m = session.get(Milestone, world.milestones[("小店甲厂", kind)])
                assert m is not None and m.done_at is not None, kind
        log = province.get(path).text
        row = re.search(r'<tr class="action acceptance_passed">.*?</tr>', log, re.S)
        assert row is not None and "本轮没有此阶段的未完成节点：该日期关闭了此前未完成的步骤" in row.group(0)
        assert actions(sessions) == 1

    def test_a_stage_recorded_twice_says_when_it_was_done(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session]) -> None:
        path = f"/officer/enterprises/{world.enterprises['平城丙厂']}"
        assert post(province, path + "/stage", path, kind="report_received", date="2026-03-20").status_code == 303
        again = post(province, path + "/stage", path, kind="report_received", date="2026-03-31")
        assert again.status_code == 400
        assert "“已收到审核报告”已于 2026-03-20 记为完成" in again.json()["error"]["message"]
        assert actions(sessions) == 1
        with sessions() as session:
            m = session.get(Milestone, world.milestones[("平城丙厂", "report")])
            assert m is not None and m.done_at is not None and m.done_at.date().isoformat() == "2026-03-20"

    @pytest.mark.parametrize(("data", "field"), [({"kind": "acceptance_passed", "date": "2026-13-01"}, "date"),
                                                 ({"kind": "acceptance_passed", "date": "2026-04-02"}, "date"),
                                                 ({"kind": "acceptance_passed", "date": ""}, "date"),
                                                 ({"kind": "promoted", "date": "2026-03-31"}, "kind")])
    def test_a_wrong_field_is_400_naming_it_and_nothing_is_written(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session],
            data: dict[str, str], field: str) -> None:
        path = f"/officer/enterprises/{world.enterprises['平城丙厂']}"
        response = post(province, path + "/stage", path, **data)
        assert response.status_code == 400 and response.json()["error"]["field"] == field
        assert actions(sessions) == 0

    def test_rejecting_evidence_reopens_it_and_tells_the_contact_why_in_their_language(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session]) -> None:
        path = f"/officer/enterprises/{world.enterprises['小店甲厂']}"
        milestone = world.milestones[("小店甲厂", "disclosure")]
        response = post(province, path + "/reject", path, milestone=str(milestone), reason="链接打不开，缺少能耗数据")
        assert response.status_code == 303
        with sessions() as session:
            m = session.get(Milestone, milestone)
            assert m is not None and m.done_at is None and m.evidence is None
            planned = session.scalars(select(Reminder.kind).where(Reminder.milestone_id == milestone)).all()
            assert planned and all(k.endswith("_r1") for k in planned)  # planned again after the rejection
        sent = outbox(sessions)
        assert len(sent) == 1 and sent[0].address == "13812340002"
        text = sent[0].payload["text"]
        assert text.startswith("The authority did not accept the evidence") and EVIDENCE in text
        assert "链接打不开，缺少能耗数据" in text
        assert sent[0].payload["choices"][0]["id"] == f"done:{milestone}"
        log = province.get(path).text
        assert "退回证明材料" in log and "理由：链接打不开，缺少能耗数据" in log

    def test_a_rejection_without_a_reason_or_evidence_or_csrf_writes_nothing(
            self, province: httpx.Client, world: Jurisdictions, sessions: sessionmaker[Session]) -> None:
        path = f"/officer/enterprises/{world.enterprises['小店甲厂']}"
        milestone = world.milestones[("小店甲厂", "disclosure")]
        empty = post(province, path + "/reject", path, milestone=str(milestone), reason="   ")
        assert empty.status_code == 400 and empty.json()["error"]["field"] == "reason"
        nothing = post(province, path + "/reject", path, milestone=str(world.milestones[("小店甲厂", "start")]),
                       reason="x")
        assert nothing.status_code == 400 and nothing.json()["error"]["field"] == "milestone"
        other = post(province, path + "/reject", path, milestone=str(world.milestones[("平城丙厂", "disclosure")]),
                     reason="x")
        assert other.status_code == 404  # a milestone of another enterprise
        forged = province.post(path + "/reject", data={"csrf": "0" * 64, "milestone": str(milestone), "reason": "x"})
        assert forged.status_code == 403
        assert actions(sessions) == 0 and outbox(sessions) == []
        with sessions() as session:
            assert Repositories(session).milestones.get_by_id(milestone).evidence == EVIDENCE  # type: ignore[union-attr]


class TestExports:
    def test_the_xlsx_has_a_named_sheet_a_frozen_filtered_header_widths_district_and_basis(
            self, province: httpx.Client) -> None:
        response = province.get("/officer/enterprises/export.xlsx?status=overdue")
        assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["列入名单企业"]
        sheet = book["列入名单企业"]
        header = [c.value for c in sheet[1]]
        assert header[:6] == ["地市", "县（市、区）", "企业", "统一社会信用代码", "行业", "审核依据"]
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:M{sheet.max_row}"
        assert sheet.column_dimensions["C"].width >= 10
        rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
        assert {(r[0], r[1], r[2], r[5]) for r in rows} == {
            ("太原市", "小店区", "小店甲厂", "双超"), ("太原市", "迎泽区", "迎泽乙厂", "高耗能"),
            ("大同市", "平城区", "平城丙厂", "双有")}

    def test_the_csv_has_a_bom_and_the_same_rows(self, province: httpx.Client) -> None:
        body = province.get("/officer/enterprises/export.csv?city=大同").content
        assert body.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert {r[2] for r in rows[1:]} == {"平城丙厂", "平城丁厂"}

    def test_the_list_export_is_a_named_sheet_with_a_frozen_filtered_header(
            self, province: httpx.Client, sessions: sessionmaker[Session]) -> None:
        with sessions() as session:
            imp = Repositories(session).imports.list_by_province("shanxi")[0].id
        book = openpyxl.load_workbook(io.BytesIO(province.get(f"/officer/lists/{imp}/export.xlsx").content))
        sheet = book[book.sheetnames[0]]
        assert book.sheetnames == ["名单"] and sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")


def test_masking() -> None:
    assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧***" and mask_name(None) == ""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0351-1234567") == "0351-***4567"
    assert mask_phone("oAbCdEfGhIjK") == "oA********jK"

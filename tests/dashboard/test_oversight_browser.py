"""The overview and the enterprise page in Debian's Chromium (Playwright) against a real server: an officer
opens the overview (the two uPlot charts drawn), follows the overdue number to the filtered list, opens
an enterprise, records an acceptance and sees it in the action log, rejects an evidence link, and exports
the XLSX (opened with openpyxl). Screenshots at 1280x800 go to the folder the test prints."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage import Milestone, OutboxMessage, make_engine, session_factory, upgrade
from tests.dashboard.dashkit import PASSWORD, app_for, serve
from tests.dashboard.oversightkit import EVIDENCE, Jurisdictions, seed_jurisdictions
from tests.webkit import BROWSER_MARKS, DESKTOP, PHONE, announce_screenshots, chromium, screenshot_dir, watch_errors

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Jurisdictions, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('oversight') / 'qingshen.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    sessions: sessionmaker[Session] = session_factory(engine)
    world = seed_jurisdictions(sessions)
    with serve(app_for(sessions)) as base:
        yield base, world, sessions
    engine.dispose()


def test_overview_to_list_to_enterprise_record_reject_and_export(
        served: tuple[str, Jurisdictions, sessionmaker[Session]], capsys: pytest.CaptureFixture[str]) -> None:
    base, world, sessions = served
    shots = screenshot_dir()
    with chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
        page: Any = context.new_page()
        page.set_default_timeout(15_000)
        errors = watch_errors(page)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))

        page.goto(base + "/officer/login")
        page.fill("input[name=login]", "省官员")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button")
        page.wait_for_url(base + "/officer/")
        page.click("nav.main-nav a")
        page.wait_for_url(base + "/officer/overview")
        page.locator("#trend-chart canvas").wait_for()
        page.locator("#overdue-chart canvas").wait_for()
        assert page.locator("tr.district").count() == 2
        assert page.locator("tr.total a.n-overdue").inner_text() == "3"
        page.screenshot(path=str(shots / "oversight-overview-1280.png"), full_page=True)

        taiyuan = page.locator("tr.district", has_text="太原市")
        taiyuan.locator("a.n-overdue").click()
        page.wait_for_url("**/officer/enterprises?**status=overdue**")
        assert sorted(page.locator("td.name a").all_inner_texts()) == ["小店甲厂", "迎泽乙厂"]
        page.screenshot(path=str(shots / "oversight-list-1280.png"), full_page=True)

        with page.expect_download() as download:
            page.click("p.exports a:text('Excel')")
        book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
        sheet = book[book.sheetnames[0]]
        assert book.sheetnames == ["列入名单企业"] and sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:M{sheet.max_row}" and sheet["A1"].value == "地市"

        page.click("td.name a:text('小店甲厂')")
        page.wait_for_url(f"**/officer/enterprises/{world.enterprises['小店甲厂']}")
        assert page.locator("section.contacts li.contact").inner_text().startswith("张*")
        page.select_option("form.stage select[name=kind]", "acceptance_passed")
        page.fill("form.stage input[name=date]", "2026-03-31")
        page.click("form.stage button")
        page.locator("tr.action.acceptance_passed").wait_for()
        assert "2026-03-31" in page.locator("tr.action.acceptance_passed").inner_text()

        reject = page.locator("tr.ms[data-kind=disclosure] form.reject")
        reject.locator("input[name=reason]").fill("链接打不开")
        reject.locator("button").click()
        page.locator("tr.action.evidence_rejected").wait_for()
        assert "链接打不开" in page.locator("tr.action.evidence_rejected").inner_text()
        assert page.locator("tr.ms[data-kind=disclosure] form.reject").count() == 0  # reopened: nothing to reject
        page.screenshot(path=str(shots / "oversight-enterprise-1280.png"), full_page=True)

        # On a phone the header row is hidden: each number of the overview says what it counts.
        page.set_viewport_size(PHONE)
        page.goto(base + "/officer/overview")
        labels = page.locator("tr.total td").evaluate_all(
            "tds => tds.map(td => getComputedStyle(td, '::before').content)")
        assert labels[0] == '"企业数："' and labels[-2:] == ['"逾期企业："', '"尚无法联系："'], labels
        assert '"按时率：公布企业相关信息："' in labels, labels
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shots / "oversight-overview-390.png"), full_page=True)

        assert errors == []
        assert all(u.startswith(base) for u in requests), requests
        context.close()
    with sessions() as session:
        m = session.get(Milestone, world.milestones[("小店甲厂", "disclosure")])
        assert m is not None and m.evidence is None
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("oa:"))).all()
        assert len(sent) == 1 and EVIDENCE in sent[0].payload["text"]
    announce_screenshots(capsys, ["oversight-overview-1280.png", "oversight-list-1280.png",
                                  "oversight-enterprise-1280.png", "oversight-overview-390.png"])

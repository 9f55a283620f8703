"""The officer dashboard in Debian's Chromium (Playwright, sync API) against a real server: log in,
open a list, filter the overdue, see the chart, and an enterprise named <script> shown as text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.dashkit import PASSWORD, SCRIPT_NAME, Fixture, served_dashboard
from tests.webkit import BROWSER_MARKS, PHONE, chromium

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Fixture]]:
    with served_dashboard(tmp_path_factory.mktemp("dash")) as (base, fixture, _):
        yield base, fixture


def test_log_in_open_a_list_filter_the_overdue_and_see_the_chart(browser: Any, served: tuple[str, Fixture],
                                                                 tmp_path: Path) -> None:
    base, fixture = served
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(15_000)
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))

    page.goto(base + "/officer/")
    assert page.url == base + "/officer/login"  # no session: the login form
    page.fill("input[name=login]", "晋官员")
    page.fill("input[name=password]", "wrong password")
    page.click("form.login button")
    page.locator("p.error").wait_for()
    page.fill("input[name=login]", "晋官员")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(base + "/officer/")

    page.click(f'a[href="/officer/lists/{fixture.shanxi_list}"]')
    page.wait_for_url(f"{base}/officer/lists/{fixture.shanxi_list}")
    assert page.locator("tr.enterprise").count() == 3
    assert page.locator("figure.chart svg g.bar").count() == 3
    assert page.locator("figure.chart svg").bounding_box()["width"] <= PHONE["width"]

    page.select_option("select[name=status]", "overdue")
    page.click("form.filters button")
    page.wait_for_url("**status=overdue**")
    rows = page.locator("tr.enterprise")
    assert rows.count() == 1
    assert rows.first.locator("td.name").inner_text() == SCRIPT_NAME  # shown as text, not run
    assert page.locator("main script").count() == 0
    page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)

    page.click("header form.logout button")
    page.wait_for_url(base + "/officer/login")
    page.goto(f"{base}/officer/lists/{fixture.shanxi_list}")
    assert page.url == base + "/officer/login"

    assert dialogs == [] and errors == []
    assert all(u.startswith(base) for u in requests), requests
    page.close()

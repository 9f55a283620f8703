"""An expired session in Debian's Chromium: a form sent after the session ended says to log in with a link to
the login page (keeping next=), and logging in there comes back to the page, not to the index; a browser's
403 is a page of the dashboard with the way back, not raw JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from storage import Enterprise
from storage.models import OfficerSession
from tests.dashboard.dashkit import PASSWORD, SHANXI, Fixture, log_in_page, served_dashboard
from tests.webkit import BROWSER_MARKS, chromium

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Fixture, sessionmaker[Session]]]:
    with served_dashboard(tmp_path_factory.mktemp("session")) as found:
        yield found


def test_a_form_after_the_session_ended_links_to_the_login_and_comes_back(
        browser: Any, served: tuple[str, Fixture, sessionmaker[Session]]) -> None:
    base, _, sessions = served
    with sessions() as s:
        enterprise_id = s.scalar(select(Enterprise.id).where(Enterprise.credit_code == SHANXI[0][1]))
    page = browser.new_page(locale="zh-CN")
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in_page(page, base)
    path = f"/officer/enterprises/{enterprise_id}"
    page.goto(base + path)
    with sessions.begin() as s:  # the session ends (expired, or logged out at another desk)
        s.execute(delete(OfficerSession))
    page.click("form.stage button")
    out = page.locator("form.stage output.form-error")
    link = out.locator("a.login-again")
    link.wait_for()
    assert "请先以工作人员身份登录。" in out.inner_text() and link.inner_text() == "重新登录"
    assert link.get_attribute("href") == "/officer/login?next=" + quote(path, safe="")
    link.click()
    page.wait_for_url(f"{base}/officer/login?next=**")
    page.fill("input[name=login]", "晋官员")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(base + path)  # back where the officer was
    assert page.locator("form.stage").count() == 1

    page.goto(f"{base}/officer/lists/9999")
    assert page.locator("main h1").inner_text() == "未找到"
    page.click("a.back-home")
    page.wait_for_url(base + "/officer/")
    assert errors == []
    page.close()

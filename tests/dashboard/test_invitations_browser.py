"""An invitation from paper to chat in Debian's Chromium: the dashboard's printable sheet (screenshot at 1280x800,
its first QR code read back from the rendered page by zbarimg when it is installed), then the web chat opened at
the QR code's address `/?bind=<code>`: the page offers 绑定 <code>, the bot keeps it until consent is given and
then binds the contact to the listed enterprise. Real server, real dispatcher, SQLite."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.dashboard import COOKIE, dashboard_routes
from bot.server import create_app
from handlers.dispatcher import Dispatcher
from handlers.invitations import Place
from storage import Repositories
from tests.dashboard.dashkit import SECRET, TODAY, Fixture, login, seed, serve
from tests.webkit import BROWSER_MARKS, DESKTOP, announce_screenshots, chromium, screenshot_dir

pytestmark = BROWSER_MARKS
NAME = "清审服务号"


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[tuple[str, Fixture]]:
    """The web chat, its API and the dashboard in one server whose sheets point at its own page."""
    fixture = seed(sessions)
    settings = Settings.model_validate({"database_url": "sqlite://", "demo": True})
    place = Place(NAME, "http://pending/")
    routes = dashboard_routes(sessions, session_secret=SECRET, today=lambda: TODAY, place=place)
    app = create_app(settings, Dispatcher(sessions, today=lambda: TODAY), routes=routes)
    with serve(app) as url:
        object.__setattr__(place, "web_url", url + "/")  # frozen dataclass: the address, now known
        yield url, fixture


def test_from_the_printed_sheet_to_a_bound_chat(site: tuple[str, Fixture], sessions: sessionmaker[Session],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    url, fixture = site
    with httpx.Client(base_url=url, follow_redirects=False) as officer:
        assert login(officer, "晋官员").status_code == 303
        cookie = officer.cookies[COOKIE]
    with chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.add_cookies([{"name": COOKIE, "value": cookie, "url": url + "/officer/"}])
        sheet = context.new_page()
        sheet.goto(f"{url}/officer/lists/{fixture.shanxi_list}/invitations")
        first = sheet.locator("article.card").first
        first.wait_for()
        bind_url = str(first.locator("img.qr").get_attribute("data-url"))
        code = first.locator(".code strong").inner_text()
        assert bind_url == f"{url}/?bind={code}"
        assert f"向“{NAME}”发送：绑定 {code}" in first.inner_text()
        shots = screenshot_dir()
        sheet.screenshot(path=str(shots / "invitation-sheet-1280x800.png"))
        qr_shot = shots / "invitation-qr.png"
        first.locator("img.qr").screenshot(path=str(qr_shot))
        if shutil.which("zbarimg"):  # the QR code as the browser drew it
            read = subprocess.run(["zbarimg", "--raw", "-q", str(qr_shot)], capture_output=True, text=True,
                                  timeout=60)
            assert read.stdout.strip() == bind_url, read.stderr

        chat = context.new_page()
        chat.set_default_timeout(15_000)
        errors: list[str] = []
        chat.on("pageerror", lambda e: errors.append(str(e)))
        chat.goto(bind_url)
        assert chat.input_value("#text") == f"绑定 {code}"
        assert "bind=" not in chat.url                                   # the code left the address bar
        chat.locator("button.choice:not([disabled])", has_text="开始").first.click()
        chat.locator(".msg.user .bubble", has_text=f"绑定 {code}").last.wait_for()
        chat.locator("button.choice:not([disabled])").get_by_text("不同意", exact=True).last.wait_for()
        chat.locator("button.choice:not([disabled])", has_text="同意").first.click()
        chat.locator(".msg.bot .bubble", has_text="您已绑定").last.wait_for()
        assert chat.input_value("#text") == ""                           # sent by the button, not left to send again
        chat.screenshot(path=str(shots / "invitation-bound-1280x800.png"))
        assert errors == []
        context.close()
    announce_screenshots(capsys, ["invitation-sheet-1280x800.png", "invitation-qr.png",
                                  "invitation-bound-1280x800.png"])
    with sessions() as s:
        repos = Repositories(s)
        used = [i for i in repos.invitations.list_enterprise_invitations(fixture.shanxi_list) if i.code == code]
        assert used and used[0].used_at is not None
        assert used[0].used_by_contact_id is not None
        contact = repos.contacts.get_by_id(used[0].used_by_contact_id)
        assert contact is not None and contact.enterprise_id == used[0].enterprise_id
        assert re.fullmatch(r"web-[0-9a-f]{32}", contact.user_id)

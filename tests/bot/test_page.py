"""The web chat page in Debian's Chromium (Playwright, sync API) against a real server.

A whole interview with the real dispatcher (a Shandong enterprise whose energy use exceeds the limit
gets a mandatory verdict), HTML in replies shown as text, and screenshots at phone and desktop sizes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.server import create_app
from tests.bot.bot_testkit import SCRIPT, FakeConversation, real_conversation, serve, settings
from tests.webkit import BROWSER_MARKS, DESKTOP, PHONE, announce_screenshots, chromium, screenshot_dir

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def real_url(real_sessions: sessionmaker[Session]) -> Iterator[str]:
    with serve(create_app(settings(demo=True, api_keys=()), real_conversation(real_sessions))) as url:
        yield url


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with serve(create_app(settings(demo=True, api_keys=()), FakeConversation())) as url:
        yield url


def open_page(browser: Any, url: str, viewport: dict[str, int], requests: list[str] | None = None) -> Any:
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.goto(url + "/")
    page.errors = errors
    return page


def bot_says(page: Any, text: str) -> None:
    page.locator(".msg.bot .bubble", has_text=text).last.wait_for()


def offered(page: Any, label: str) -> None:
    """Wait until a usable button says exactly `label` (steadier than waiting on the question's wording)."""
    page.locator("button.choice:not([disabled])").get_by_text(label, exact=True).last.wait_for()


def click(page: Any, label: str) -> None:
    page.locator("button.choice:not([disabled])", has_text=label).first.click()


def type_and_enter(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_whole_interview_to_a_mandatory_verdict(browser: Any, real_url: str, name: str, viewport: dict[str, int],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    requests: list[str] = []
    page = open_page(browser, real_url, viewport, requests)
    click(page, "开始")
    offered(page, "不同意")  # the consent question
    click(page, "同意")
    bot_says(page, "统一社会信用代码")
    click(page, "跳过")
    bot_says(page, "哪个省")
    click(page, "山东")
    bot_says(page, "排放标准")
    assert page.locator("button.choice", has_text="山东").first.is_disabled()  # old buttons are disabled
    type_and_enter(page, "没有超标")  # typed, not clicked: one ground answered in words
    bot_says(page, "都没有")         # the grounds still open, asked together again
    click(page, "单位产品能耗超过限额标准")
    bot_says(page, "应当实施强制性清洁生产审核")
    verdict = page.locator(".msg.bot .bubble", has_text="应当实施强制性清洁生产审核").last
    assert "\n" in verdict.inner_text()  # line breaks are kept
    assert page.locator(".msg.user .bubble").count() >= 6
    # the view shows the verdict from its first line, not its end (on a phone it is taller than the screen)
    box, log_box = verdict.bounding_box(), page.locator("#log").bounding_box()
    assert box is not None and log_box is not None
    assert log_box["y"] - 1 <= box["y"] < log_box["y"] + log_box["height"] / 2, (box, log_box)
    page.screenshot(path=str(screenshot_dir() / f"verdict-{name}.png"), full_page=False)
    announce_screenshots(capsys, [f"verdict-{name}.png"])
    assert all(u.startswith(real_url) or u.startswith("data:") for u in requests), requests
    assert page.errors == []
    page.close()


def test_html_in_a_reply_or_a_message_is_shown_as_text(browser: Any, fake_url: str) -> None:
    page = open_page(browser, fake_url, PHONE)
    type_and_enter(page, "script")
    bot_says(page, "原文照登")
    type_and_enter(page, SCRIPT)
    bot_says(page, "收到：<script>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".log script, .log img").count() == 0
    reply = page.locator(".msg.bot .bubble", has_text="原文照登").last.inner_text()
    assert SCRIPT in reply and "第二行" in reply
    assert page.locator(".msg.user .bubble", has_text="<script>").count() == 1
    assert page.errors == []
    page.close()


def test_restart_sends_the_restart_text(browser: Any, fake_url: str) -> None:
    page = open_page(browser, fake_url, PHONE)
    page.click("#restart")
    bot_says(page, "收到：重新开始")
    page.close()


def test_without_a_key_the_page_asks_for_one(browser: Any) -> None:
    with serve(create_app(settings(), FakeConversation())) as url:
        page = open_page(browser, url, PHONE)
        page.locator("#key-notice").wait_for(state="visible")
        assert "API 密钥" in page.inner_text("#key-notice")
        page.fill("#key-input", settings().api_keys[0])
        page.click("#key-form button")
        page.locator("#key-notice").wait_for(state="hidden")
        type_and_enter(page, "你好")
        bot_says(page, "收到：你好")
        page.close()


@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_an_overdue_list_of_deadlines(browser: Any, real_url: str, name: str, viewport: dict[str, int],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A list published long ago: 我的期限 says what is overdue by how many days, and the penalty risk."""
    page = open_page(browser, real_url, viewport)
    click(page, "开始")
    offered(page, "不同意")
    click(page, "同意")
    bot_says(page, "统一社会信用代码")
    type_and_enter(page, "山西太原的水泥厂")
    bot_says(page, "水泥制造（3011）")
    click(page, "是")                               # its own trade: cement, which the Shanxi annex names
    bot_says(page, "名单是哪一天公布的")
    type_and_enter(page, "2025-03-31")             # every deadline of that list but none is long past
    bot_says(page, "上一轮")
    type_and_enter(page, "我的期限")
    bot_says(page, "已逾期")
    status = page.locator(".msg.bot .bubble", has_text="已逾期").last
    assert "罚款" in status.inner_text()             # the penalty the law attaches, with its article
    bot_says(page, "上一轮")                         # and the open question is asked again
    page.screenshot(path=str(screenshot_dir() / f"overdue-{name}.png"), full_page=False)
    announce_screenshots(capsys, [f"overdue-{name}.png"])

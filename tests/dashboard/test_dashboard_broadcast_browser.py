"""In Debian's Chromium: an officer uploads a list, broadcasts to its enterprises overdue on 开展审核, sees the
recipients (reachable / invitation needed) and the message, sends, and watches the delivery counts change
while the real outbox sender delivers to the fake Telegram Bot API. Screenshots at 1280x800 go to
tests/artifacts/screenshots/ (or $QINGSHEN_SCREENSHOTS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.dashboard.broadcastkit import bind_telegram, telegram_sender
from tests.dashboard.dashkit import (
    LIST_HEADER,
    Fixture,
    code,
    log_in_page,
    served_dashboard,
)
from tests.webkit import BROWSER_MARKS, DESKTOP, announce_screenshots, chromium, screenshot_dir, watch_errors

pytestmark = BROWSER_MARKS

# Listed 2025-06-30: the start of the audit was due months before 2026-04-01 (overdue). Listed 2026-03-31: not yet.
ROWS = [
    ("逾期甲有限公司", code("91140100MA0000501"), "2025-06-30", "太原市/清徐县"),
    ("逾期乙有限公司", code("91140100MA0000502"), "2025-06-30", "太原市/小店区"),
    ("逾期丙有限公司", code("91140200MA0000503"), "2025-06-30", "大同市/平城区"),
    ("新上榜丁有限公司", code("91140100MA0000504"), "2026-03-31", "太原市/清徐县"),
]


def rows_csv() -> bytes:
    lines = [",".join(LIST_HEADER)] + [f"{n},{c},超标,{day},晋环发〔2026〕9号,{place}" for n, c, day, place in ROWS]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Fixture, sessionmaker[Session]]]:
    with served_dashboard(tmp_path_factory.mktemp("broadcast")) as found:
        yield found


def test_import_then_broadcast_to_the_overdue_and_watch_delivery(
    served: tuple[str, Fixture, sessionmaker[Session]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _, sessions = served
    shots = screenshot_dir()
    with chromium() as browser:
        page: Any = browser.new_page(viewport=DESKTOP, locale="zh-CN")
        page.set_default_timeout(20_000)
        errors = watch_errors(page)
        log_in_page(page, base)

        page.click("a.upload-link")
        page.set_input_files("form.upload input[type=file]", files=[
            {"name": "逾期名单.csv", "mimeType": "text/csv", "buffer": rows_csv()}])
        page.click("form.upload button")
        page.locator("form.import button").click()
        page.locator("#preview p.done").wait_for()
        list_id = page.locator("#preview a").get_attribute("href").rsplit("/", 1)[1]

        # two of the overdue enterprises have a contact in the chat (one with two), the third has none
        bind_telegram(sessions, ROWS[0][1], [5101, 5102])
        bind_telegram(sessions, ROWS[1][1], [5201])
        bind_telegram(sessions, ROWS[3][1], [5401])

        page.goto(base + "/officer/")
        page.click("a.broadcast-link")
        page.wait_for_url(base + "/officer/broadcast")
        page.select_option("form.choose-list select[name=list]", list_id)
        page.click("form.choose-list button")
        page.wait_for_url(f"{base}/officer/broadcast?list={list_id}")
        page.select_option("form.broadcast select[name=milestone]", "start")
        page.select_option("form.broadcast select[name=status]", "overdue")
        page.click("form.broadcast button.preview-button")
        heading = page.locator(".broadcast-preview h2")
        heading.wait_for()
        assert heading.inner_text() == "3 家企业：2 家可在对话中送达（3 条消息），1 家需要邀请码。"
        assert page.locator(".need-invitation li").all_inner_texts() == [f"逾期丙有限公司 {ROWS[2][1]}"]
        assert "新上榜丁有限公司" not in page.locator(".broadcast-preview").inner_text()
        assert "开展清洁生产审核" in page.locator("pre.sample").inner_text()
        page.screenshot(path=str(shots / "dashboard-broadcast-preview-1280.png"), full_page=True)

        page.click("button.send-button")
        page.locator(".delivery [data-key=status]").filter(has_text="消息已全部排队").wait_for()
        assert page.locator(".delivery [data-key=planned]").inner_text() == "3"
        assert page.locator(".delivery [data-key=unreachable]").inner_text() == "1"
        assert page.locator(".delivery [data-key=sent]").inner_text() == "0"
        page.screenshot(path=str(shots / "dashboard-broadcast-queued-1280.png"), full_page=True)

        with telegram_sender(sessions) as (fake, sender):
            fake.block()  # the first message: that contact blocked the bot
            sender.drain()
            assert len(fake.sent) == 2 and all("开展清洁生产审核" in m["text"] for m in fake.sent)
        page.locator(".delivery [data-key=sent]").filter(has_text="2").wait_for()
        page.locator(".delivery [data-key=failed]").filter(has_text="1").wait_for()
        page.locator(".delivery.finished").wait_for()
        assert page.locator(".delivery [data-key=pending]").inner_text() == "0"
        page.screenshot(path=str(shots / "dashboard-broadcast-delivered-1280.png"), full_page=True)
        assert errors == [], errors
        page.close()
    announce_screenshots(capsys, ["dashboard-broadcast-preview-1280.png", "dashboard-broadcast-queued-1280.png",
                                  "dashboard-broadcast-delivered-1280.png"])

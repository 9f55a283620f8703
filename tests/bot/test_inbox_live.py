"""The live inbox: pushes reach the web chat page while it is open, and count as delivered only when it has them.

Over real HTTP (uvicorn, a migrated SQLite file): the SSE stream, acknowledgements by POST and by
Last-Event-ID, the generic API's fetch-and-deliver inbox beside it, and the sender leaving web rows
alone. Then in Debian's Chromium: an officer's broadcast (handlers.broadcast, the real fan-out) appears
on the open page without a reload; one sent while the page was closed appears on reopening, once; a
reminder written by the real sweep confirms its milestone with its button; links open; the chrome
follows the contact's language; on a phone the start of a long push is in view. Screenshots go to
tests/artifacts/screenshots/ (or $QINGSHEN_SCREENSHOTS), whose path the test prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import PushChannel
from bot.sender import Sender
from bot.server import create_app
from handlers import inbox
from storage import OutboxMessage, Repositories
from tests.bot.bot_testkit import API_KEY, real_conversation, serve, settings

AUTH = {"Authorization": f"Bearer {API_KEY}"}
WEB = {**AUTH, "X-Qingshen-Channel": "web"}
POLL = 0.2  # the test servers look for new pushes this often (the default is 2 s)


def queue(sessions: sessionmaker[Session], key: str, address: str, text: str, *, channel: str = "web",
          choices: tuple[tuple[str, str], ...] = (), not_before: datetime | None = None) -> int:
    with sessions.begin() as session:
        outbox = Repositories(session).outbox
        outbox.add_if_absent(key, channel=channel, address=address, not_before=not_before,
                             payload={"text": text, "choices": [{"id": i, "label": label} for i, label in choices]})
        row = outbox.get_by_key(key)
        assert row is not None
        return row.id


def row(sessions: sessionmaker[Session], row_id: int) -> OutboxMessage:
    with sessions() as session:
        found = Repositories(session).outbox.get_by_id(row_id)
        assert found is not None
        session.expunge(found)
        return found


def read_events(client: httpx.Client, user: str, *, want: int, headers: dict[str, str] | None = None,
                query: str = "") -> list[tuple[str, str | None, Any]]:
    """(event, id, data) of the first `want` events of a new connection, the locale event included."""
    events: list[tuple[str, str | None, Any]] = []
    event, event_id, data = "message", None, ""
    with client.stream("GET", f"/api/v1/users/{user}/inbox/events{query}", headers=headers or WEB) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and data:
                events.append((event, event_id, json.loads(data)))
                event, event_id, data = "message", None, ""
                if len(events) >= want:
                    break
    return events


@pytest.fixture(scope="module")
def base_url(real_sessions: sessionmaker[Session]) -> Iterator[str]:
    app = create_app(settings(), real_conversation(real_sessions), inbox_poll_seconds=POLL)
    with serve(app) as url:
        yield url


@pytest.fixture()
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(30, read=30)) as c:
        yield c


# -- over HTTP ---------------------------------------------------------------------------------------


def test_a_pushed_message_stays_pending_until_the_page_acknowledges_it(
    client: httpx.Client, real_sessions: sessionmaker[Session]
) -> None:
    first = queue(real_sessions, "live:a:1", "live-a", "通知：名单已公布", choices=(("ok", "知道了"),))
    events = read_events(client, "live-a", want=2)
    assert events[0] == ("locale", None, {"locale": None})  # nobody has chatted as live-a yet
    assert events[1] == ("push", str(first), {"id": first, "text": "通知：名单已公布",
                                              "choices": [{"id": "ok", "label": "知道了"}]})
    assert row(real_sessions, first).status == "pending"  # received by the stream, not yet by the page
    again = read_events(client, "live-a", want=2)  # a page that lost it gets it again
    assert again[1][1] == str(first)
    r = client.post("/api/v1/users/live-a/inbox/ack", headers=WEB, json={"ids": [first]})
    assert r.status_code == 200 and r.json() == {"acknowledged": [first]}
    delivered = row(real_sessions, first)
    assert delivered.status == "sent" and delivered.sent_at is not None
    assert client.post("/api/v1/users/live-a/inbox/ack", headers=WEB, json={"ids": [first]}).json() == {
        "acknowledged": []}  # repeating is harmless
    second = queue(real_sessions, "live:a:2", "live-a", "第二条")
    assert [e[1] for e in read_events(client, "live-a", want=2)] == [None, str(second)]  # not the first again


def test_a_push_queued_while_connected_arrives_on_the_open_stream(
    client: httpx.Client, real_sessions: sessionmaker[Session]
) -> None:
    seen: list[Any] = []
    with client.stream("GET", "/api/v1/users/live-b/inbox/events", headers=WEB) as r:
        lines = r.iter_lines()
        for line in lines:
            if line.startswith("event: locale"):
                break
        pushed = queue(real_sessions, "live:b:1", "live-b", "连接期间到达")
        for line in lines:
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if seen[-1].get("id") is not None:
                    break
    assert seen[-1] == {"id": pushed, "text": "连接期间到达", "choices": []}


def test_reconnecting_with_last_event_id_acknowledges_that_push(
    client: httpx.Client, real_sessions: sessionmaker[Session]
) -> None:
    a = queue(real_sessions, "live:c:1", "live-c", "一")
    b = queue(real_sessions, "live:c:2", "live-c", "二")
    assert [e[1] for e in read_events(client, "live-c", want=3)] == [None, str(a), str(b)]
    events = read_events(client, "live-c", want=2, headers={**WEB, "Last-Event-ID": str(a)})
    assert events[1][1] == str(b)  # a was acknowledged by the reconnection, b not yet
    assert (row(real_sessions, a).status, row(real_sessions, b).status) == ("sent", "pending")


def test_eventsource_clients_name_the_channel_in_the_query(
    client: httpx.Client, real_sessions: sessionmaker[Session]
) -> None:
    pushed = queue(real_sessions, "live:d:1", "live-d", "查询参数")
    events = read_events(client, "live-d", want=2, headers=AUTH, query="?channel=web")
    assert events[1][1] == str(pushed)


def test_a_reminder_waiting_for_its_send_time_is_not_streamed_before_it(
    real_sessions: sessionmaker[Session]
) -> None:
    later = queue(real_sessions, "live:e:1", "live-e", "明早 09:30", not_before=datetime.now(UTC) + timedelta(hours=3))
    now_one = queue(real_sessions, "live:e:2", "live-e", "现在")
    assert [p.id for p in inbox.pending(real_sessions, "web", "live-e")] == [now_one]
    assert [p.id for p in inbox.pending(real_sessions, "web", "live-e",
                                        now=datetime.now(UTC) + timedelta(hours=4))] == [later, now_one]
    assert [p.id for p in inbox.pending(real_sessions, "web", "live-e", after_id=later,
                                        now=datetime.now(UTC) + timedelta(hours=4))] == [now_one]
    assert inbox.acknowledge(real_sessions, "web", "live-e", [later]) == []  # it cannot have been shown yet


def test_an_acknowledgement_touches_only_the_users_own_pushes(
    client: httpx.Client, real_sessions: sessionmaker[Session]
) -> None:
    mine = queue(real_sessions, "live:f:1", "live-f", "我的")
    theirs = queue(real_sessions, "live:g:1", "live-g", "别人的")
    api_row = queue(real_sessions, "live:f:api", "live-f", "API 用户的", channel="api")
    r = client.post("/api/v1/users/live-f/inbox/ack", headers=WEB, json={"ids": [mine, theirs, api_row, 999999]})
    assert r.json() == {"acknowledged": [mine]}
    assert row(real_sessions, theirs).status == "pending" and row(real_sessions, api_row).status == "pending"


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": "1"}, {"ids": [0]}, {"ids": [True]}, {"ids": [1.5]},
                                  {"ids": list(range(1, 102))}, {"ids": [1], "more": 1}, [1]])
def test_a_malformed_acknowledgement_is_refused(client: httpx.Client, body: object) -> None:
    r = client.post("/api/v1/users/live-h/inbox/ack", headers=WEB, json=body)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "ids"
    assert "ids" in r.json()["error"]["message"]


def test_the_live_inbox_needs_the_key_and_a_valid_user(client: httpx.Client) -> None:
    assert client.get("/api/v1/users/live-i/inbox/events").status_code == 401
    assert client.post("/api/v1/users/live-i/inbox/ack", json={"ids": [1]}).status_code == 401
    assert client.get("/api/v1/users/%20/inbox/events", headers=WEB).status_code == 400
    assert client.get("/api/v1/users/live-i/inbox/events", headers={**AUTH, "X-Qingshen-Channel": "fax"}
                      ).status_code == 400


def test_the_generic_inbox_still_counts_pushes_delivered_when_fetched(
    client: httpx.Client, real_sessions: sessionmaker[Session]
) -> None:
    pushed = queue(real_sessions, "live:j:1", "live-j", "API 提醒", channel="api", choices=(("ok", "知道了"),))
    r = client.get("/api/v1/users/live-j/inbox", headers=AUTH)
    assert r.json() == {"messages": [{"text": "API 提醒", "choices": [{"id": "ok", "label": "知道了"}]}]}
    assert row(real_sessions, pushed).status == "sent"
    assert client.get("/api/v1/users/live-j/inbox", headers=AUTH).json() == {"messages": []}


def test_one_look_at_the_outbox_wakes_every_open_inbox_that_has_news(real_sessions: sessionmaker[Session]) -> None:
    import asyncio

    from bot.server import InboxHub

    async def scenario() -> None:
        hub = InboxHub(real_sessions, interval=3600)  # polled by hand below
        quiet, busy, other = (hub.subscribe("web", u) for u in ("hub-quiet", "hub-busy", "hub-other"))
        first = queue(real_sessions, "hub:busy:1", "hub-busy", "一")
        queue(real_sessions, "hub:other:1", "hub-other", "二")
        await hub.poll()
        assert (quiet.wake.is_set(), busy.wake.is_set(), other.wake.is_set()) == (False, True, True)
        busy.wake.clear()
        busy.shown.add(first)  # sent on that connection, not acknowledged yet: no news
        await hub.poll()
        assert not busy.wake.is_set() and busy.shown == {first}
        inbox.acknowledge(real_sessions, "web", "hub-busy", [first])
        await hub.poll()
        assert busy.shown == set()  # acknowledged: it need not be left out any more
        for listener in (quiet, busy, other):
            hub.unsubscribe(listener)
        assert hub.listeners == set()

    asyncio.run(scenario())


def test_the_inbox_queries_on_postgresql(pg_migrated_url: str) -> None:
    from storage import make_engine, session_factory

    engine = make_engine(pg_migrated_url)
    try:
        pg = session_factory(engine)
        a = queue(pg, "pg:1", "pg-user", "一")
        b = queue(pg, "pg:2", "pg-user", "二")
        later = queue(pg, "pg:3", "pg-user", "晚些", not_before=datetime.now(UTC) + timedelta(hours=1))
        api = queue(pg, "pg:api", "pg-user", "API", channel="api")
        assert [p.id for p in inbox.pending(pg, "web", "pg-user", exclude={a})] == [b]
        assert inbox.waiting(pg, "web", ["pg-user", "nobody"]) == {"pg-user": {a, b}}
        assert inbox.acknowledge(pg, "web", "pg-user", [a, later, api]) == [a]
        assert [m.text for m in inbox.fetch(pg, "api", "pg-user")] == ["API"]
        assert (row(pg, a).status, row(pg, b).status, row(pg, later).status, row(pg, api).status) == (
            "sent", "pending", "pending", "sent")
    finally:
        engine.dispose()


class _Recorder:
    name = "api"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, address: str, payload: Any, *, key: str) -> None:
        self.sent.append(key)


def test_the_sender_never_claims_or_dead_letters_a_web_row(real_sessions: sessionmaker[Session]) -> None:
    waiting = queue(real_sessions, "live:k:1", "live-k", "等页面来取")
    recorder = _Recorder()
    channel: PushChannel = recorder
    sender = Sender(real_sessions, {"api": channel}, rates={"api": 1000.0}, worker="test", max_attempts=1)
    for _ in range(3):
        sender.drain(datetime.now(UTC) + timedelta(days=30))
    kept = row(real_sessions, waiting)
    assert (kept.status, kept.attempts, kept.last_error) == ("pending", 0, None)
    assert "live:k:1" not in recorder.sent


def test_a_reply_says_the_contacts_language_in_content_language(client: httpx.Client) -> None:
    def say(**message: str) -> httpx.Response:
        r = client.post("/api/v1/messages", headers=WEB, json={"user_id": "live-l", **message})
        assert r.status_code == 200, r.text
        return r

    assert say(text="开始").headers["content-language"] == "zh-CN"
    say(choice="consent:yes")
    assert say(text="language").headers["content-language"] == "en"
    events = read_events(client, "live-l", want=1)
    assert events[0] == ("locale", None, {"locale": "en"})
    assert say(text="中文").headers["content-language"] == "zh-CN"


def test_a_stand_in_conversation_has_no_live_inbox() -> None:
    from tests.bot.bot_testkit import FakeConversation

    with serve(create_app(settings(demo=True, api_keys=()), FakeConversation())) as url:
        r = httpx.get(url + "/api/v1/users/x/inbox/events", headers={"X-Qingshen-Channel": "web"})
        assert r.status_code == 204  # an SSE client stops reconnecting
        assert "content-language" not in httpx.post(url + "/api/v1/messages", json={"user_id": "x", "text": "hi"}
                                                    ).headers


# -- in Chromium -------------------------------------------------------------------------------------

def browser_test(test: Any) -> Any:
    """Marked `browser`, and skipped where Debian's Chromium is missing."""
    from tests.webkit import BROWSER_MARKS

    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


WAIT = 30_000  # ms: generous, so a slow machine waits longer instead of failing; no speed is asserted
MONDAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from tests.webkit import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def page_url(real_sessions: sessionmaker[Session]) -> Iterator[str]:
    app = create_app(settings(demo=True, api_keys=()), real_conversation(real_sessions), inbox_poll_seconds=POLL)
    with serve(app) as url:
        yield url


def new_context(browser: Any, viewport: dict[str, int]) -> Any:
    """One browser profile (its localStorage keeps the user id across pages, as a returning visitor's)."""
    return browser.new_context(viewport=viewport, locale="zh-CN")


def open_page(context: Any, url: str) -> Any:
    from tests.webkit import watch_errors

    page = context.new_page()
    page.set_default_timeout(WAIT)
    watch_errors(page)
    page.goto(url + "/")
    return page


def bot_says(page: Any, text: str) -> Any:
    found = page.locator(".msg.bot .bubble", has_text=text).last
    found.wait_for(timeout=WAIT)
    return found


def button(page: Any, label: str) -> Any:
    """The last usable button saying exactly `label` (steadier than a question's wording)."""
    return page.locator("button.choice:not([disabled])").get_by_text(label, exact=True).last


def join(page: Any) -> str:
    """Start and consent on the page; the user id it chats as."""
    button(page, "开始").click()
    button(page, "同意").click()
    bot_says(page, "统一社会信用代码")
    user_id = page.evaluate("localStorage.getItem('qingshen.user_id')")
    assert isinstance(user_id, str) and user_id.startswith("web-")
    return user_id


def bind_to_new_enterprise(sessions: sessionmaker[Session], user_id: str, name: str, province: str) -> int:
    with sessions.begin() as session:
        repos = Repositories(session)
        contact = repos.contacts.get_by_address("web", user_id)
        assert contact is not None and contact.consented_at is not None
        enterprise = repos.enterprises.add(name=name, province=province)
        repos.contacts.bind_enterprise(contact, enterprise.id)
        return enterprise.id


def broadcast(sessions: sessionmaker[Session], province: str, text: str) -> int:
    """An officer's general broadcast to the province, fanned out by the real handlers.broadcast code."""
    from handlers.broadcast import Filters, fan_out, plan_general

    with sessions.begin() as session:
        repos = Repositories(session)
        officer = repos.officers.add(name=f"officer-{text[:6]}", role="ecology", province=province)
        planned = plan_general(repos, officer, text, Filters())
        session.flush()
        officer_id, broadcast_id = officer.id, planned.id
    with sessions() as session:
        sender = Repositories(session).officers.get_by_id(officer_id)
        assert sender is not None
        session.expunge(sender)
    progress = fan_out(sessions, sender, broadcast_id, today=date.today())
    assert progress.queued >= 1, progress
    return broadcast_id


def rows_of(sessions: sessionmaker[Session], user_id: str) -> list[OutboxMessage]:
    with sessions() as session:
        found = Repositories(session).outbox.list_by_address("web", user_id, statuses=("pending", "sent", "dead"))
        for r in found:
            session.expunge(r)
        return found


def wait_until_delivered(sessions: sessionmaker[Session], user_id: str, text: str) -> OutboxMessage:
    """The row of that push once the page has acknowledged it (waits as long as the page takes)."""
    import time

    deadline = time.monotonic() + WAIT / 1000
    while True:
        found = [r for r in rows_of(sessions, user_id) if text in str(r.payload.get("text"))]
        assert len(found) == 1, found
        if found[0].status == "sent" or time.monotonic() > deadline:
            return found[0]
        time.sleep(0.1)


def shots(page: Any, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Screenshots of the page now at the phone and desktop sizes, in the folder the test prints."""
    from tests.webkit import DESKTOP, PHONE, announce_screenshots, screenshot_dir

    folder = screenshot_dir()
    written = []
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(100)  # a layout pass after the resize (not an assertion)
        target = folder / f"{name}-{size}.png"
        page.screenshot(path=str(target))
        written.append(target.name)
    announce_screenshots(capsys, written)


@browser_test
def test_a_broadcast_reaches_the_open_page_and_one_sent_while_it_was_closed_appears_once(
    browser: Any, page_url: str, real_sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    context = new_context(browser, {"width": 390, "height": 844})
    page = open_page(context, page_url)
    user_id = join(page)
    bind_to_new_enterprise(real_sessions, user_id, "晋阳焦化有限公司", "shanxi")
    broadcast(real_sessions, "shanxi", "请于本月底前报送 2026 年度清洁生产审核进展。")
    live = bot_says(page, "请于本月底前报送")  # on the open page, no reload
    assert "来自" in live.inner_text()
    assert page.locator(".msg.push", has_text="请于本月底前报送").count() == 1
    assert wait_until_delivered(real_sessions, user_id, "请于本月底前报送").status == "sent"
    shots(page, "broadcast-received", capsys)
    assert page.errors == []
    page.close()

    broadcast(real_sessions, "shanxi", "名单更新：新增重点行业企业，请查看您的期限。")
    pending = [r for r in rows_of(real_sessions, user_id) if "名单更新" in str(r.payload.get("text"))]
    assert [r.status for r in pending] == ["pending"]  # nobody has it yet: not delivered
    page = open_page(context, page_url)
    bot_says(page, "名单更新")
    assert wait_until_delivered(real_sessions, user_id, "名单更新").status == "sent"
    assert page.locator(".msg.push").count() == 1  # the one from while it was closed, not the earlier one
    page.reload()
    page.locator("#welcome").wait_for()
    third = "第三条：确认页面仍在接收。"
    broadcast(real_sessions, "shanxi", third)
    bot_says(page, "第三条")  # the stream is live after the reload ...
    assert page.locator(".msg.push").count() == 1  # ... and shows nothing twice
    assert page.locator(".msg.push", has_text="名单更新").count() == 0
    assert page.errors == []
    context.close()


@browser_test
def test_the_buttons_of_a_pushed_reminder_confirm_the_milestone(
    browser: Any, page_url: str, real_sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    from zoneinfo import ZoneInfo

    from bot.sweep import sweep
    from handlers.reminders import ReminderPolicy

    context = new_context(browser, {"width": 390, "height": 844})
    page = open_page(context, page_url)
    user_id = join(page)
    enterprise_id = bind_to_new_enterprise(real_sessions, user_id, "太原铸造有限公司", "shanxi")
    with real_sessions.begin() as session:
        repos = Repositories(session)
        cycle = repos.cycles.add(enterprise_id, source="chat", list_published_on=date(2025, 12, 1))
        milestone = repos.milestones.add(cycle.id, kind="start", nominal=MONDAY, due=MONDAY,
                                         citation="第十一条", note="start")
        repos.reminders.add_for_milestone(milestone.id, [("on_day", MONDAY)])
        milestone_id = milestone.id
    ten = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    assert sweep(real_sessions, now=ten, policy=ReminderPolicy()).messages == 1  # the real reminder sweep
    reminder = bot_says(page, "太原铸造有限公司")
    assert "2026-03-02" in reminder.inner_text()
    assert wait_until_delivered(real_sessions, user_id, "太原铸造有限公司").status == "sent"
    push = page.locator(".msg.push", has_text="太原铸造有限公司")
    shots(page, "reminder-received", capsys)
    page.set_viewport_size({"width": 390, "height": 844})
    from playwright.sync_api import expect

    page.locator("#text").fill("帮助")  # a message in between leaves the reminder's buttons usable
    page.locator("#text").press("Enter")
    expect(page.locator("#send")).to_be_enabled(timeout=WAIT)  # answered
    assert page.locator(".msg.error").count() == 0
    push.locator("button.choice:not([disabled])", has_text="已开展").click()
    bot_says(page, "已记录")
    assert push.locator("button.choice.picked", has_text="已开展").is_disabled()
    with real_sessions() as session:
        done = Repositories(session).milestones.get_by_id(milestone_id)
        assert done is not None and done.done_at is not None
    assert page.errors == []
    context.close()


@browser_test
def test_links_in_a_push_are_short_clickable_and_safe(
    browser: Any, page_url: str, real_sessions: sessionmaker[Session]
) -> None:
    context = new_context(browser, {"width": 1280, "height": 800})
    page = open_page(context, page_url)
    user_id = page.evaluate("localStorage.getItem('qingshen.user_id')")
    health = f"{page_url}/healthz"
    long_link = f"{page_url}/calendar/0123456789abcdef0123456789abcdef.ics"
    text = (f"日历：{long_link}。健康检查（{health}）\n"
            '不是链接：javascript:alert(1) <img src=x onerror="window.__pwned=1"> http://x.test/"><script>x</script>')
    queue(real_sessions, "links:1", user_id, text)
    bubble = bot_says(page, "日历")
    links = bubble.locator("a")
    assert links.count() == 3
    assert links.nth(0).get_attribute("href") == long_link
    shown = links.nth(0).inner_text()
    assert len(shown) < len(long_link) and shown.endswith(".ics") and "…" in shown
    assert links.nth(1).get_attribute("href") == health  # CJK brackets and the full stop are not part of it
    assert links.nth(1).inner_text() == health.split("://")[1]
    assert links.nth(2).get_attribute("href") == "http://x.test/"
    assert all(links.nth(i).get_attribute("rel") == "noopener noreferrer" for i in range(3))
    assert page.locator(".log img, .log script").count() == 0 and page.evaluate("window.__pwned") is None
    assert "<img src=x" in bubble.inner_text() and "javascript:alert(1)" in bubble.inner_text()
    with page.expect_popup() as opened:
        links.nth(1).click()
    popup = opened.value
    popup.wait_for_load_state()
    assert popup.url == health and '"ok"' in popup.content()
    assert page.errors == []
    context.close()


@browser_test
def test_the_page_chrome_follows_the_contacts_language(browser: Any, page_url: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from playwright.sync_api import expect

    context = new_context(browser, {"width": 390, "height": 844})
    page = open_page(context, page_url)

    def chrome() -> tuple[str, str, str, str]:
        return (page.inner_text("header .title"), page.get_attribute("#text", "placeholder") or "",
                page.inner_text("#send"), page.inner_text("#restart"))

    assert chrome() == ("清审 · 清洁生产审核助手", "输入回答，按回车发送", "发送", "重新开始")
    join(page)
    page.fill("#text", "language")
    page.press("#text", "Enter")
    bot_says(page, "English")
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=WAIT)
    assert chrome() == ("Qingshen · cleaner-production audit assistant", "Type your answer",
                        "Send", "Start over")
    shots(page, "english-chrome", capsys)
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("localStorage.removeItem('qingshen.locale')")  # the server remembers it, not only the page
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=WAIT)
    assert chrome()[2:] == ("Send", "Start over")
    assert "Hello" in page.inner_text("#welcome")
    page.click("#restart")  # sends the English command word
    assert page.locator(".msg.user .bubble").last.inner_text() == "Start over"
    page.locator(".msg.bot:not(.typing) .bubble").nth(1).wait_for()
    page.fill("#text", "语言")
    page.press("#text", "Enter")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN", timeout=WAIT)
    assert chrome() == ("清审 · 清洁生产审核助手", "输入回答，按回车发送", "发送", "重新开始")
    assert page.errors == []
    context.close()


@browser_test
def test_on_a_phone_a_long_push_is_shown_from_its_first_line(
    browser: Any, page_url: str, real_sessions: sessionmaker[Session]
) -> None:
    context = new_context(browser, {"width": 390, "height": 844})
    page = open_page(context, page_url)
    user_id = page.evaluate("localStorage.getItem('qingshen.user_id')")
    lines = "\n".join(f"{n}. 第{n}项期限：2026-0{1 + n % 9}-15 前完成，逾期将按第十八条处理。" for n in range(1, 40))
    queue(real_sessions, "long:1", user_id, "判定结果：长消息的第一行\n" + lines)
    bubble = bot_says(page, "长消息的第一行")
    # the page scrolls in the same task that adds the message: nothing to wait for
    box = bubble.bounding_box()
    log_box = page.locator("#log").bounding_box()
    assert box is not None and log_box is not None
    assert box["height"] > log_box["height"]  # longer than the screen ...
    assert log_box["y"] <= box["y"] + 1 and box["y"] < log_box["y"] + log_box["height"] / 2  # ... its start in view
    assert page.errors == []
    context.close()


@browser_test
def test_when_acknowledgements_are_lost_the_reconnection_delivers_and_nothing_is_shown_twice(
    browser: Any, real_sessions: sessionmaker[Session]
) -> None:
    app = create_app(settings(demo=True, api_keys=()), real_conversation(real_sessions), inbox_poll_seconds=POLL,
                     stream_seconds=1.0)  # every stream ends after a second: the page keeps reconnecting
    with serve(app) as url:
        context = new_context(browser, {"width": 390, "height": 844})
        context.route("**/inbox/ack", lambda route: route.abort())  # every POST acknowledgement is lost
        page = open_page(context, url)
        user_id = page.evaluate("localStorage.getItem('qingshen.user_id')")
        queue(real_sessions, "reconnect:1", user_id, "第一条推送")
        bot_says(page, "第一条推送")
        # the next connection says Last-Event-ID: that is the acknowledgement
        assert wait_until_delivered(real_sessions, user_id, "第一条推送").status == "sent"
        queue(real_sessions, "reconnect:2", user_id, "第二条推送")
        bot_says(page, "第二条推送")
        assert wait_until_delivered(real_sessions, user_id, "第二条推送").status == "sent"
        assert page.locator(".msg.push").count() == 2
        context.close()


@browser_test
def test_a_push_shown_by_a_page_closed_before_it_could_acknowledge_is_not_shown_again(
    browser: Any, page_url: str, real_sessions: sessionmaker[Session]
) -> None:
    context = new_context(browser, {"width": 390, "height": 844})
    lost: list[str] = []
    context.route("**/inbox/ack", lambda route: (lost.append(route.request.url), route.abort()))
    page = open_page(context, page_url)
    user_id = page.evaluate("localStorage.getItem('qingshen.user_id')")
    pushed = queue(real_sessions, "closed-early:1", user_id, "关闭前看到的推送")
    bot_says(page, "关闭前看到的推送")
    while not lost:  # the page tried to acknowledge it
        page.wait_for_timeout(50)
    page.close()
    assert row(real_sessions, pushed).status == "pending"  # as far as the server knows, nobody has it
    context.unroute("**/inbox/ack")
    page = open_page(context, page_url)
    assert wait_until_delivered(real_sessions, user_id, "关闭前看到的推送").status == "sent"  # sent again, acknowledged
    assert page.locator(".msg.push").count() == 0  # ... and not shown a second time
    context.close()

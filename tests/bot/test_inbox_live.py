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
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bot_testkit import API_KEY, real_conversation, serve, settings
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import PushChannel
from bot.sender import Sender
from bot.server import create_app
from handlers import inbox
from storage import OutboxMessage, Repositories

AUTH = {"Authorization": f"Bearer {API_KEY}"}
WEB = {**AUTH, "X-Qingshen-Channel": "web"}
POLL = 0.2  # the test servers look for new pushes this often (the default is 2 s)
ROOT = Path(__file__).resolve().parents[2]


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("QINGSHEN_SCREENSHOTS") or ROOT / "tests" / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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
    assert say(text="language").headers["content-language"] == "en"
    events = read_events(client, "live-l", want=1)
    assert events[0] == ("locale", None, {"locale": "en"})
    assert say(text="中文").headers["content-language"] == "zh-CN"


def test_a_stand_in_conversation_has_no_live_inbox() -> None:
    from bot_testkit import FakeConversation

    with serve(create_app(settings(demo=True, api_keys=()), FakeConversation())) as url:
        r = httpx.get(url + "/api/v1/users/x/inbox/events", headers={"X-Qingshen-Channel": "web"})
        assert r.status_code == 204  # an SSE client stops reconnecting
        assert "content-language" not in httpx.post(url + "/api/v1/messages", json={"user_id": "x", "text": "hi"}
                                                    ).headers


_ = (re, date)  # used by the browser tests below

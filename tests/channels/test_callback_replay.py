"""Forged, stale and replayed callbacks (issue 11, findings 2, 3 and 7): refused before anything is read.

Every request here is what the platform (or someone who copied one of its requests from a log) would send:
signed and encrypted with the real wechatpy crypto, Telegram updates read by the real python-telegram-bot,
posted over real HTTP to our server, whose replies go to the local fake platform servers.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channel_settings import ChannelSettings
from bot.channels.callbacks import dedupe_for
from bot.channels.registry import build_channels, close_channels
from bot.channels.telegram import MAX_DEPTH, UPDATE_IDS_FOR, TelegramChannel
from bot.channels.wechat import WeChatChannel
from bot.channels.wecom import WeComChannel
from bot.config import ConfigError, Settings
from handlers.dispatcher import Dispatcher
from handlers.messages import Inbound, Outbound
from storage import Repositories, utcnow
from tests.channels.channelkit import (
    AES_KEY,
    TG_SECRET,
    Fake,
    post_raw,
    running,
    telegram_config,
    wait_for,
    wechat_config,
    wechat_raw,
    wechat_text_xml,
    wecom_raw,
    wecom_text_xml,
)
from tests.channels.fakes.telegram_api import FakeTelegram
from tests.channels.fakes.tencent_api import FakeMp, FakeQyapi

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

IN_2014 = 1_400_000_000  # 2014-05-13
OPENID = "oVictim0123456789abcdefghij"
ERASE = "删除我的数据"


class Counting:
    """The real dispatcher, counting what reaches it."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.calls: list[Inbound] = []
        self.lock = threading.Lock()

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        with self.lock:
            self.calls.append(inbound)
        return self.dispatcher.dispatch(inbound)


class Clock:
    """The adapters' clock, moved by the test (the dedupe rows expire by it too)."""

    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


def remembered(sessions: sessionmaker[Session], key: str, now: datetime) -> bool:
    with sessions() as session:
        return Repositories(session).kv.get_by_key(key, now=now) is not None


def no_contact(sessions: sessionmaker[Session], channel: str, user: str) -> bool:
    with sessions() as session:
        return Repositories(session).contacts.get_by_address(channel, user) is None


# -- WeChat official account -------------------------------------------------------------------------


@pytest.fixture
def safe_wechat(fake_mp: Fake[FakeMp], sessions: sessionmaker[Session]) -> Any:
    clock = Clock()
    channel = WeChatChannel(wechat_config(fake_mp.url, aes_key=AES_KEY), sessions, clock=clock)
    yield channel, clock
    channel.close()


@pytest.mark.parametrize("encrypt_type", [None, "raw", "RAW"])
def test_safe_mode_refuses_validly_signed_plaintext_before_reading_the_body(
    safe_wechat: Any, dispatcher: Dispatcher, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture,
    encrypt_type: str | None,
) -> None:
    channel, _ = safe_wechat
    counting = Counting(dispatcher)
    caplog.set_level(logging.INFO)
    with running(channel.routes(counting.dispatch), counting) as url:
        forged = wechat_raw(wechat_text_xml(OPENID, ERASE, 9001), encrypt_type=encrypt_type)
        assert post_raw(url, "/webhooks/wechat", forged).status_code == 403
        not_xml = wechat_raw("<xml><unclosed>", encrypt_type=encrypt_type)  # parsed, it would log "not a message"
        assert post_raw(url, "/webhooks/wechat", not_xml).status_code == 403
    assert counting.calls == [] and no_contact(sessions, "wechat", OPENID)
    assert caplog.text.count("accepts only encrypt_type=aes") == 2
    assert "not a message" not in caplog.text


@pytest.mark.parametrize("safe", [False, True])
def test_a_wechat_callback_signed_in_2014_is_refused(
    fake_mp: Fake[FakeMp], sessions: sessionmaker[Session], dispatcher: Dispatcher, safe: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = AES_KEY if safe else None
    channel = WeChatChannel(wechat_config(fake_mp.url, aes_key=key), sessions)
    counting = Counting(dispatcher)
    try:
        with running(channel.routes(counting.dispatch), counting) as url:
            old = wechat_raw(wechat_text_xml(OPENID, "你好", 9002), aes_key=key, timestamp=IN_2014)
            ahead = wechat_raw(wechat_text_xml(OPENID, "你好", 9003), aes_key=key,
                               timestamp=int(utcnow().timestamp()) + 3600)
            assert [post_raw(url, "/webhooks/wechat", raw).status_code for raw in (old, ahead)] == [403, 403]
    finally:
        channel.close()
    assert counting.calls == [] and fake_mp.api.custom() == []
    assert "s old, outside the 300 s window" in caplog.text and "s ahead" in caplog.text


def test_plaintext_mode_uses_a_signature_once(
    fake_mp: Fake[FakeMp], wechat: WeChatChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session]
) -> None:
    counting = Counting(dispatcher)
    with running(wechat.routes(counting.dispatch), counting) as url:
        logged = wechat_raw(wechat_text_xml("oAlice0123456789abcdefghijk", "你好", 9004))
        assert "是否同意" in post_raw(url, "/webhooks/wechat", logged).text
        swapped = logged.__class__(logged.method, logged.query, logged.headers,  # the signature copied from a log
                                   wechat_text_xml(OPENID, ERASE, 9005).encode())
        assert post_raw(url, "/webhooks/wechat", swapped).text == "success"
    assert [c.user_id for c in counting.calls] == ["oAlice0123456789abcdefghijk"]
    assert no_contact(sessions, "wechat", OPENID)


def test_the_captured_wechat_callback_replayed_after_its_msgid_expired_is_refused(
    safe_wechat: Any, dispatcher: Dispatcher, sessions: sessionmaker[Session]
) -> None:
    channel, clock = safe_wechat
    counting = Counting(dispatcher)
    with running(channel.routes(counting.dispatch), counting) as url:
        captured = wechat_raw(wechat_text_xml(OPENID, "你好", 9006), aes_key=AES_KEY)
        assert post_raw(url, "/webhooks/wechat", captured).status_code == 200
        assert post_raw(url, "/webhooks/wechat", captured).text == "success"  # inside the window: the MsgId
        clock.advance(dedupe_for(channel.window) + timedelta(seconds=1))
        assert not remembered(sessions, "wechat:msg:9006", clock())  # the dedupe row has expired ...
        assert post_raw(url, "/webhooks/wechat", captured).status_code == 403  # ... the timestamp is too old
    assert len(counting.calls) == 1


# -- WeCom -------------------------------------------------------------------------------------------


def test_a_wecom_callback_signed_in_2014_is_refused(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    counting = Counting(dispatcher)
    with running(wecom.routes(counting.dispatch), counting) as url:
        old = wecom_raw(wecom_text_xml("lisi", "你好", 4201), timestamp=IN_2014)
        assert post_raw(url, "/webhooks/wecom", old).status_code == 403
        unsigned_time = wecom_raw(wecom_text_xml("lisi", "你好", 4202))
        unsigned_time = unsigned_time.__class__("POST", {**unsigned_time.query, "timestamp": "１７"}, {},
                                                unsigned_time.body)  # full-width digits: not a timestamp
        assert post_raw(url, "/webhooks/wecom", unsigned_time).status_code == 403
    assert counting.calls == [] and fake_qyapi.api.messages() == []
    assert no_contact(sessions, "wecom", "lisi")
    assert "wecom: the timestamp is" in caplog.text and "outside the 300 s window" in caplog.text


def test_the_captured_wecom_callback_replayed_after_the_dedupe_row_expired_is_refused(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session]
) -> None:
    clock = Clock()
    channel = WeComChannel(wecom.config, sessions, clock=clock)
    counting = Counting(dispatcher)
    try:
        with running(channel.routes(counting.dispatch), counting) as url:
            captured = wecom_raw(wecom_text_xml("wangwu", "你好", 4203))
            assert post_raw(url, "/webhooks/wecom", captured).status_code == 200
            wait_for(lambda: len(counting.calls) == 1 and len(fake_qyapi.api.messages()) >= 1, "the reply")
            clock.advance(timedelta(hours=1, seconds=1))  # the old one-hour dedupe would have let it through
            assert not remembered(sessions, "wecom:msg:4203", clock())
            assert post_raw(url, "/webhooks/wecom", captured).status_code == 403
    finally:
        channel.close()
    assert len(counting.calls) == 1


def test_with_a_long_window_the_msgid_is_remembered_as_long_as_the_callback_is_fresh(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    channel = WeComChannel(wecom.config, sessions, clock=clock, window=3 * 3600)
    counting = Counting(dispatcher)
    caplog.set_level(logging.INFO)
    try:
        with running(channel.routes(counting.dispatch), counting) as url:
            captured = wecom_raw(wecom_text_xml("zhaoliu", "你好", 4204))
            assert post_raw(url, "/webhooks/wecom", captured).status_code == 200
            wait_for(lambda: len(counting.calls) == 1, "the first delivery")
            clock.advance(timedelta(hours=3) - timedelta(seconds=5))  # still fresh, long after an hour
            assert post_raw(url, "/webhooks/wecom", captured).status_code == 200
            wait_for(lambda: "wecom:msg:4204 was already handled" in caplog.text, "the dedupe")
            clock.advance(timedelta(seconds=10))
            assert post_raw(url, "/webhooks/wecom", captured).status_code == 403
    finally:
        channel.close()
    assert len(counting.calls) == 1


# -- Telegram ------------------------------------------------------------------------------------------


def post_update(url: str, body: bytes | dict[str, Any]) -> httpx.Response:
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    return httpx.post(f"{url}/webhooks/telegram", content=content, timeout=15,
                      headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"})


def test_the_same_update_id_is_handled_once_also_after_a_restart(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher,
    sessions: sessionmaker[Session],
) -> None:
    fake = fake_telegram.api
    counting = Counting(dispatcher)
    update = fake.text_update(4242, "你好")
    with running(telegram.routes(counting.dispatch), counting) as url:
        assert post_update(url, update).status_code == 200
        answered = fake.count("sendMessage")
        assert answered >= 1
        for _ in range(3):  # Telegram retrying, or someone replaying it
            assert post_update(url, update).status_code == 200
    restarted = TelegramChannel(telegram_config(fake_telegram.url), sessions)  # another process, same database
    try:
        with running(restarted.routes(counting.dispatch), counting) as url:
            assert post_update(url, update).status_code == 200
            assert post_update(url, fake.text_update(4242, "帮助")).status_code == 200  # a new update is handled
    finally:
        restarted.close()
    assert len(counting.calls) == 2
    assert [c.text for c in counting.calls] == ["你好", "帮助"]
    assert fake.count("sendMessage") > answered
    assert remembered(sessions, f"telegram:update:123456:{update['update_id']}", utcnow() + UPDATE_IDS_FOR
                      - timedelta(minutes=1))


def test_a_message_dated_2014_is_not_handled(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = fake_telegram.api
    counting = Counting(dispatcher)
    update = fake.text_update(4242, "你好")
    update["message"]["date"] = IN_2014
    with running(telegram.routes(counting.dispatch), counting) as url:
        assert post_update(url, update).status_code == 200  # acknowledged, so that Telegram does not retry it
    assert counting.calls == [] and fake.count("sendMessage") == 0
    assert "outside the 300 s window" in caplog.text


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def _update(**message: Any) -> dict[str, Any]:
    base = {"message_id": 5, "date": int(utcnow().timestamp()), "text": "你好",
            "chat": {"id": 4242, "type": "private"},
            "from": {"id": 4242, "is_bot": False, "first_name": "U", "language_code": "zh-hans"}}
    return {"update_id": 900, "message": {k: v for k, v in {**base, **message}.items() if v is not ...}}


MALFORMED: list[tuple[str, bytes | dict[str, Any], str | None]] = [
    ("not JSON", b"hello, bot", None),
    ("not UTF-8", b"\xff\xfe{}", None),
    ("a JSON array", b"[1, 2, 3]", None),
    ("a JSON string", b'"update"', None),
    ("empty", b"", None),
    ("a number too long for int()", b'{"update_id": ' + b"9" * 5000 + b"}", None),
    ("no update_id", {"message": _update()["message"]}, "update_id"),
    ("update_id as text", {**_update(), "update_id": "900"}, "update_id"),
    ("update_id as true", {**_update(), "update_id": True}, "update_id"),
    ("no date", _update(date=...), "message.date"),
    ("date as text", _update(date="2026-04-01"), "message.date"),
    ("date as a float", _update(date=1.5), "message.date"),
    ("chat id as text", _update(chat={"id": "4242", "type": "private"}), "message.chat.id"),
    ("no chat", _update(chat=...), "message.chat"),
    ("text as a number", _update(text=42), "message.text"),
    ("from as a list", _update(**{"from": [4242]}), "message.from"),
    ("message as a list", {"update_id": 900, "message": [1]}, "message"),
    ("a button press without its user", {"update_id": 901, "callback_query": {"id": "q", "chat_instance": "c",
                                                                              "data": "consent:yes"}},
     "callback_query.from"),
    ("nested 40 deep", {**_update(), "extra": json.loads(_nested(40))}, None),
    ("nested beyond the parser", b'{"update_id": 1, "x": ' + _nested(100_000).encode() + b"}", None),
]


@pytest.mark.parametrize(("body", "field"), [(b, f) for _, b, f in MALFORMED], ids=[n for n, _, _ in MALFORMED])
def test_a_malformed_update_is_answered_400_naming_the_field(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher,
    body: bytes | dict[str, Any], field: str | None,
) -> None:
    counting = Counting(dispatcher)
    with running(telegram.routes(counting.dispatch), counting) as url:
        response = post_update(url, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["error"] == "invalid_update" and error["field"] == field and error["message"]
    assert counting.calls == [] and fake_telegram.api.count("sendMessage") == 0


def test_a_well_formed_update_just_inside_the_depth_limit_is_answered(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher
) -> None:
    counting = Counting(dispatcher)
    update = {**_update(), "extra": json.loads(_nested(MAX_DEPTH - 1))}
    with running(telegram.routes(counting.dispatch), counting) as url:
        assert post_update(url, update).status_code == 200
    assert [c.text for c in counting.calls] == ["你好"]


# -- the setting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["five minutes", "29", "86401", "-300", "3.5"])
def test_a_bad_callback_window_is_refused_naming_the_variable(value: str) -> None:
    env = {"QINGSHEN_CALLBACK_WINDOW_SECONDS": value}
    with pytest.raises(ConfigError, match="QINGSHEN_CALLBACK_WINDOW_SECONDS"):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match="QINGSHEN_CALLBACK_WINDOW_SECONDS"):
        ChannelSettings.from_env(env)


def test_the_callback_window_reaches_every_adapter(sessions: sessionmaker[Session]) -> None:
    env = {"QINGSHEN_CALLBACK_WINDOW_SECONDS": "600", "QINGSHEN_TELEGRAM_TOKEN": "123:abc",
           "QINGSHEN_TELEGRAM_SECRET": "s3cret_token", "QINGSHEN_WECHAT_APP_ID": "wx1",
           "QINGSHEN_WECHAT_APP_SECRET": "sec", "QINGSHEN_WECHAT_TOKEN": "tok"}
    assert Settings.from_env(env).callback_window_seconds == 600
    assert ChannelSettings.from_env({}).callback_window == 300
    channels = build_channels(ChannelSettings.from_env(env), sessions)
    try:
        assert [getattr(c, "window", None) for c in channels] == [600, 600]
    finally:
        close_channels(channels)
    assert dedupe_for(600) == timedelta(hours=1) and dedupe_for(3600) == timedelta(hours=2, minutes=1)

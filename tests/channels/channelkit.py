"""Helpers for the channel tests: what Telegram's and Tencent's servers send us, and users who chat.

A `*User` talks to our running server the way the platform would deliver their messages (a webhook
POST with the secret token, an encrypted WeCom callback, a signed WeChat callback) and reads the answers
from the fake platform API, where our adapter sent them:

    user = TelegramUser(fake, post_to_webhook, 4242)
    user.say("你好", expect="是否同意")
    user.choose("同意", expect="统一社会信用代码")
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import httpx
import xmltodict
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from bot.channel_settings import TelegramConfig, WeChatConfig
from bot.channels.base import PushChannel
from bot.channels.registry import RawRequest
from bot.sender import Sender
from bot.server import Conversation, create_app
from bot.sweep import sweep
from handlers.reminders import ReminderPolicy
from tests.bot.bot_testkit import serve, settings
from tests.channels.fakes.telegram_api import FakeTelegram
from tests.channels.fakes.tencent_api import FakeMp, FakeQyapi

F = TypeVar("F")

TG_TOKEN = "123456:TEST-telegram-token"
TG_SECRET = "webhook-secret_0123456789"
CORP_ID = "ww0123456789abcdef"
WECOM_AGENT = 1000002
WECOM_SECRET = "wecom-app-secret-0123456789"
WECOM_TOKEN = "wecomtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_SECRET = "wechat-app-secret-0123456789"
WECHAT_TOKEN = "wechattoken"
WECHAT_TEMPLATE = "tmpl-reminder-1"
CREDIT_CODE = "91650100MA0K1234X" + uscc.calc_check_digit("91650100MA0K1234X")  # a Urumqi enterprise
WAIT = 15.0


@dataclass
class Fake(Generic[F]):
    api: F
    url: str


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def telegram_config(url: str, mode: str = "webhook") -> TelegramConfig:
    return TelegramConfig(token=TG_TOKEN, secret=TG_SECRET, mode=mode, base_url=f"{url}/bot")


def wechat_config(url: str, *, aes_key: str | None = None, template_id: str | None = WECHAT_TEMPLATE) -> WeChatConfig:
    return WeChatConfig(app_id=WECHAT_APP_ID, app_secret=WECHAT_SECRET, token=WECHAT_TOKEN, aes_key=aes_key,
                        template_id=template_id, api_base=f"{url}/cgi-bin/")


@contextmanager
def running(routes: list[Any], dispatcher: Conversation) -> Iterator[str]:
    """Our real server (create_app) with the channel's webhook routes and the real dispatcher."""
    with serve(create_app(settings(), dispatcher, routes=routes)) as url:
        yield url


# -- what the platforms send ------------------------------------------------------------------------


def telegram_raw(body: bytes, secret: str | None = TG_SECRET) -> RawRequest:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return RawRequest("POST", {}, headers, body)


def wecom_text_xml(user: str, text: str, msg_id: int) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{WECOM_AGENT}</AgentID></xml>")


def wecom_button_xml(user: str, key: str, task_id: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
            f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[rc-{uuid.uuid4().hex}]]></ResponseCode><AgentID>{WECOM_AGENT}</AgentID></xml>")


def wecom_raw(xml: str, *, token: str = WECOM_TOKEN, nonce: str = "nonce123",
              timestamp: int | None = None) -> RawRequest:
    """A WeCom callback as WeCom sends it: the message encrypted with the real crypto, signed (at `timestamp`,
    by default now)."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    envelope = WeComCrypto(token, AES_KEY, CORP_ID).encrypt_message(xml, nonce, timestamp)
    fields = xmltodict.parse(envelope)["xml"]
    body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID><![CDATA[{WECOM_AGENT}]]></AgentID>"
            f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>")
    query = {"msg_signature": fields["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
    return RawRequest("POST", query, {"content-type": "text/xml"}, body.encode())


def wecom_echo(echo: str, *, token: str = WECOM_TOKEN) -> dict[str, str]:
    """The query of WeCom's URL verification: an encrypted echostr, signed."""
    envelope = WeComCrypto(token, AES_KEY, CORP_ID).encrypt_message(echo, "n1", "1700000000")
    fields = xmltodict.parse(envelope)["xml"]
    return {"msg_signature": fields["MsgSignature"], "timestamp": "1700000000", "nonce": "n1",
            "echostr": fields["Encrypt"]}


def wechat_text_xml(openid: str, text: str, msg_id: int) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def wechat_raw(xml: str, *, token: str = WECHAT_TOKEN, aes_key: str | None = None, timestamp: int | None = None,
               encrypt_type: str | None = None) -> RawRequest:
    """A WeChat callback: signed with the token (at `timestamp`, by default now); in safe mode also encrypted
    and signed with msg_signature. `encrypt_type` adds that parameter to a plaintext callback."""
    timestamp_text, nonce = str(int(time.time()) if timestamp is None else timestamp), uuid.uuid4().hex[:10]
    query = {"signature": wechat_signature(token, timestamp_text, nonce), "timestamp": timestamp_text,
             "nonce": nonce, "openid": "o"}
    if encrypt_type is not None:
        query["encrypt_type"] = encrypt_type
    body = xml
    if aes_key is not None:
        envelope = WeChatCrypto(token, aes_key, WECHAT_APP_ID).encrypt_message(xml, nonce, timestamp_text)
        fields = xmltodict.parse(envelope)["xml"]
        query.update(encrypt_type="aes", msg_signature=fields["MsgSignature"])
        body = (f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
                f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>")
    return RawRequest("POST", query, {"content-type": "text/xml"}, body.encode())


def post_raw(base_url: str, path: str, raw: RawRequest) -> httpx.Response:
    url = f"{base_url}{path}?{urlencode(dict(raw.query))}"
    return httpx.post(url, content=raw.body, headers=dict(raw.headers), timeout=WAIT)


# -- users who chat -----------------------------------------------------------------------------------


class ChatUser:
    """say/choose, then wait until a reply containing `expect` arrived; returns every reply since, joined."""

    def received(self) -> list[str]:
        raise NotImplementedError

    def _deliver_text(self, text: str) -> None:
        raise NotImplementedError

    def _deliver_choice(self, label: str, *, by_id: bool = False) -> None:
        raise NotImplementedError

    def _after(self, act: Callable[[], None], expect: str) -> str:
        before = len(self.received())
        act()
        wait_for(lambda: any(expect in text for text in self.received()[before:]), f"a reply with {expect!r}")
        return "\n".join(self.received()[before:])

    def say(self, text: str, expect: str) -> str:
        return self._after(lambda: self._deliver_text(text), expect)

    def choose(self, label: str, expect: str) -> str:
        return self._after(lambda: self._deliver_choice(label), expect)

    def press(self, choice_id: str, expect: str) -> str:
        """Press the offered button whose choice id starts with `choice_id` (labels may still be untranslated)."""
        return self._after(lambda: self._deliver_choice(choice_id, by_id=True), expect)

    def number_of(self, label: str) -> str:
        for text in reversed(self.received()):
            found = re.search(rf"^(\d+)\. {re.escape(label)}$", text, re.M)
            if found:
                return found.group(1)
        raise AssertionError(f"no numbered choice {label!r} was offered")


class TelegramUser(ChatUser):
    def __init__(self, fake: FakeTelegram, deliver: Callable[[dict[str, Any]], None], user_id: int) -> None:
        self.fake, self.deliver, self.user_id = fake, deliver, user_id

    def received(self) -> list[str]:
        return [m["text"] for m in self.fake.messages_to(self.user_id)]

    def _deliver_text(self, text: str) -> None:
        self.deliver(self.fake.text_update(self.user_id, text))

    def _deliver_choice(self, label: str, *, by_id: bool = False) -> None:
        for message in reversed(self.fake.messages_to(self.user_id)):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["callback_data"].startswith(label) if by_id else button["text"] == label:
                        self.deliver(self.fake.press_update(self.user_id, message, button["callback_data"]))
                        return
        raise AssertionError(f"no button {label!r} is on offer")


def webhook_poster(base_url: str, secret: str = TG_SECRET) -> Callable[[dict[str, Any]], None]:
    def post(update: dict[str, Any]) -> None:
        response = httpx.post(f"{base_url}/webhooks/telegram", json=update,
                              headers={"X-Telegram-Bot-Api-Secret-Token": secret}, timeout=WAIT)
        assert response.status_code == 200, response.text

    return post


def wecom_text(msg: dict[str, Any]) -> str:
    kind = msg.get("msgtype")
    if kind == "text":
        return str(msg["text"]["content"])
    if kind == "markdown":
        return str(msg["markdown"]["content"])
    card = msg["template_card"]
    parts = [card["main_title"].get("title", ""), card.get("sub_title_text", "")]
    return "\n".join([p for p in parts if p] + [f"[{b['text']}]" for b in card["button_list"]])


class WeComUser(ChatUser):
    _ids = iter(range(7_000_000_000_000_000, 8_000_000_000_000_000))
    _lock = threading.Lock()

    def __init__(self, fake: FakeQyapi, base_url: str, user: str) -> None:
        self.fake, self.base_url, self.user = fake, base_url, user

    def mine(self) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages() if m["touser"] == self.user]

    def received(self) -> list[str]:
        return [wecom_text(m) for m in self.mine()]

    def post(self, xml: str) -> httpx.Response:
        response = post_raw(self.base_url, "/webhooks/wecom", wecom_raw(xml))
        assert response.status_code == 200 and response.text == "", response.text
        return response

    def _deliver_text(self, text: str) -> None:
        with self._lock:
            msg_id = next(self._ids)
        self.post(wecom_text_xml(self.user, text, msg_id))

    def _button(self, label: str, by_id: bool) -> tuple[str, str] | None:
        for msg in reversed(self.mine()):
            card = msg.get("template_card")
            for button in card["button_list"] if card else ():
                if button["key"].startswith(label) if by_id else button["text"] == label:
                    return button["key"], card["task_id"]
        return None

    def _offered(self, label: str, by_id: bool) -> bool:
        if self._button(label, by_id) is not None:
            return True
        try:
            self.number_of(label)
        except AssertionError:
            return False
        return True

    def _deliver_choice(self, label: str, *, by_id: bool = False) -> None:
        wait_for(lambda: self._offered(label, by_id), f"{label!r} on offer")  # the replies arrive one by one
        button = self._button(label, by_id)
        if button is not None:
            self.post(wecom_button_xml(self.user, *button))
        else:
            self._deliver_text(self.number_of(label))


class WeChatUser(ChatUser):
    _ids = iter(range(6_000_000_000_000_000, 7_000_000_000_000_000))
    _lock = threading.Lock()

    def __init__(self, fake: FakeMp, base_url: str, openid: str, aes_key: str | None = None) -> None:
        self.fake, self.base_url, self.openid, self.aes_key = fake, base_url, openid, aes_key
        self.passive: list[tuple[float, str]] = []

    def received(self) -> list[str]:
        custom = [(at, m["text"]["content"]) for at, m in self.fake.timed("/cgi-bin/message/custom/send")
                  if m["touser"] == self.openid]
        return [text for _, text in sorted(self.passive + custom)]

    def _deliver_text(self, text: str) -> None:
        with self._lock:
            msg_id = next(self._ids)
        sent_at = time.monotonic()  # the passive reply comes before any follow-up of this message
        response = post_raw(self.base_url, "/webhooks/wechat",
                            wechat_raw(wechat_text_xml(self.openid, text, msg_id), aes_key=self.aes_key))
        assert response.status_code == 200, response.text
        if response.text != "success":
            self.passive.append((sent_at, self.reply_text(response.text)))

    def reply_text(self, body: str) -> str:
        fields = xmltodict.parse(body)["xml"]
        if "Encrypt" in fields:
            assert self.aes_key is not None
            crypto = WeChatCrypto(WECHAT_TOKEN, self.aes_key, WECHAT_APP_ID)
            plain = crypto.decrypt_message(body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
            fields = xmltodict.parse(plain)["xml"]
        assert fields["ToUserName"] == self.openid and fields["MsgType"] == "text"
        return str(fields["Content"])

    def _deliver_choice(self, label: str, *, by_id: bool = False) -> None:
        assert not by_id, "WeChat shows numbered text: choose by label"
        self._deliver_text(self.number_of(label))


# -- the conversation every channel has --------------------------------------------------------------

REMINDER_DAY = date(2026, 4, 23)  # a Thursday: the "7 days before" reminder of the 2026-04-30 disclosure


def interview_to_verdict(user: ChatUser) -> str:
    """Greeting, consent, credit code, then a Xinjiang heavy-metal user: mandatory. Returns the verdict."""
    user.say("你好", expect="是否同意")
    user.choose("同意", expect="统一社会信用代码")
    user.say(CREDIT_CODE, expect="排放标准")            # 6501…: registered in Xinjiang, the province is not asked
    user.say("不超标", expect="总量")                   # the other grounds, asked together
    verdict = user.say("有，含铅和镉的物质", expect="中央")  # central enterprises also report nationally (第十六条)
    assert "强制性清洁生产审核" in verdict and "新疆维吾尔自治区清洁生产审核暂行办法" in verdict
    user.say("不是", expect="名单是哪一天公布的")           # the verdict's follow-up question
    return verdict


def give_deadlines(user: ChatUser) -> str:
    user.say("2026年3月31日", expect="上一轮")
    return user.choose("从未开展过", expect="2026-04-30")


def push_reminders(sessions: sessionmaker[Session], channels: Mapping[str, PushChannel]) -> int:
    """The reminder sweep on REMINDER_DAY at 10:00 in Shanghai, then the outbox sender: how many were sent."""
    now = datetime(2026, 4, 23, 2, 0, tzinfo=UTC)
    result = sweep(sessions, now=now, policy=ReminderPolicy())
    assert result.messages >= 1, result
    return Sender(sessions, channels, rates={name: 50.0 for name in channels}, worker="test").drain(now=now)

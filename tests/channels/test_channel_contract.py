"""One contract, every platform adapter: each runs the real SDK against a fake of its platform's servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import DeliveryError, PushChannel
from bot.channels.registry import RawRequest, SignatureError
from bot.channels.telegram import TelegramChannel
from bot.channels.wechat import WeChatChannel
from bot.channels.wecom import WeComChannel
from handlers.messages import Inbound
from tests.channels.channelkit import (
    Fake,
    telegram_raw,
    wechat_raw,
    wechat_text_xml,
    wecom_raw,
    wecom_text_xml,
)
from tests.channels.fakes.telegram_api import FakeTelegram
from tests.channels.fakes.tencent_api import FakeMp, FakeQyapi

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")  # PTB 22, in RetryAfter()
IN_2014 = 1_400_000_000  # a signed callback from 2014: refused as stale
CHOICES = [{"id": "consent:yes", "label": "同意"}, {"id": "consent:no", "label": "不同意"}]


@dataclass
class TelegramHarness:
    adapter: TelegramChannel
    fake: FakeTelegram
    address = "4242"

    def good(self, text: str) -> RawRequest:
        return telegram_raw(json.dumps(self.fake.text_update(4242, text)).encode())

    def forged(self, text: str) -> list[RawRequest]:
        body = json.dumps(self.fake.text_update(4242, text)).encode()
        old = self.fake.text_update(4242, text)
        old["message"]["date"] = IN_2014
        return [telegram_raw(body, secret=None), telegram_raw(body, secret="not-the-secret"),
                telegram_raw(json.dumps(old).encode())]

    def last_text(self) -> str:
        return str(self.fake.messages_to(4242)[-1]["text"])

    def native_choices(self) -> list[tuple[str, str]]:
        rows = self.fake.messages_to(4242)[-1]["reply_markup"]["inline_keyboard"]
        return [(b["text"], b["callback_data"]) for row in rows for b in row]

    def expected_choices(self) -> list[tuple[str, str]]:
        return [(c["label"], c["id"]) for c in CHOICES]

    def rate_limit(self) -> None:
        self.fake.too_many(retry_after=1)

    def prepare_push(self) -> None:
        return None


@dataclass
class WeComHarness:
    adapter: WeComChannel
    fake: FakeQyapi
    address = "zhangsan"

    def good(self, text: str) -> RawRequest:
        return wecom_raw(wecom_text_xml("zhangsan", text, 123456789))

    def forged(self, text: str) -> list[RawRequest]:
        xml = wecom_text_xml("zhangsan", text, 123456789)
        good = wecom_raw(xml)
        wrong_token = wecom_raw(xml, token="not-our-token")
        unsigned = RawRequest("POST", {k: v for k, v in good.query.items() if k != "msg_signature"}, {}, good.body)
        tampered = RawRequest("POST", good.query, {}, good.body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[A"))
        return [wrong_token, unsigned, tampered, wecom_raw(xml, timestamp=IN_2014)]

    def last(self) -> dict[str, Any]:
        return self.fake.messages()[-1]

    def last_text(self) -> str:
        msg = self.last()
        return str(msg["text"]["content"] if msg["msgtype"] == "text" else msg["template_card"]["main_title"]["title"])

    def native_choices(self) -> list[tuple[str, str]]:
        card = self.last()["template_card"]
        assert card["card_type"] == "button_interaction" and card["task_id"]
        return [(b["text"], b["key"]) for b in card["button_list"]]

    def expected_choices(self) -> list[tuple[str, str]]:
        return [(c["label"], c["id"]) for c in CHOICES]

    def rate_limit(self) -> None:
        self.fake.fail(45009)

    def prepare_push(self) -> None:
        return None


@dataclass
class WeChatHarness:
    adapter: WeChatChannel
    fake: FakeMp
    address = "oUser0123456789abcdefghijklm"

    def good(self, text: str) -> RawRequest:
        return wechat_raw(wechat_text_xml(self.address, text, 987654321))

    def forged(self, text: str) -> list[RawRequest]:
        good = self.good(text)
        wrong_token = wechat_raw(wechat_text_xml(self.address, text, 987654321), token="not-our-token")
        unsigned = RawRequest("POST", {k: v for k, v in good.query.items() if k != "signature"}, {}, good.body)
        replayed = RawRequest("POST", {**good.query, "nonce": "other"}, {}, good.body)
        old = wechat_raw(wechat_text_xml(self.address, text, 987654321), timestamp=IN_2014)
        return [wrong_token, unsigned, replayed, old]

    def last_text(self) -> str:
        return str(self.fake.custom()[-1]["text"]["content"])

    def native_choices(self) -> list[tuple[str, str]]:
        numbered = [line.split(". ", 1) for line in self.last_text().splitlines() if line[:1].isdigit()]
        return [(label, number) for number, label in numbered]

    def expected_choices(self) -> list[tuple[str, str]]:
        return [(c["label"], str(i)) for i, c in enumerate(CHOICES, start=1)]

    def rate_limit(self) -> None:
        self.fake.fail(45009)

    def prepare_push(self) -> None:
        self.adapter.mark_seen(self.address)  # inside the 48-hour window: a customer-service message


Harness = TelegramHarness | WeComHarness | WeChatHarness


@pytest.fixture(params=["telegram", "wecom", "wechat"])
def harness(request: pytest.FixtureRequest, sessions: sessionmaker[Session]) -> Iterator[Harness]:
    name = request.param  # `sessions` (SQLite, PostgreSQL) is asked for here: a parametrized fixture cannot be
    # fetched by name later
    if name == "telegram":
        fake: Fake[Any] = request.getfixturevalue("fake_telegram")
        yield TelegramHarness(request.getfixturevalue("telegram"), fake.api)
    elif name == "wecom":
        fake = request.getfixturevalue("fake_qyapi")
        yield WeComHarness(request.getfixturevalue("wecom"), fake.api)
    else:
        fake = request.getfixturevalue("fake_mp")
        yield WeChatHarness(request.getfixturevalue("wechat"), fake.api)


class TestChannelContract:
    def test_it_is_a_push_channel_named_after_its_platform(self, harness: Harness) -> None:
        assert isinstance(harness.adapter, PushChannel)
        assert harness.adapter.name in ("telegram", "wecom", "wechat")

    def test_parse_rejects_a_request_that_fails_verification(self, harness: Harness) -> None:
        for raw in harness.forged("你好"):
            with pytest.raises(SignatureError):
                harness.adapter.parse(raw)

    def test_parse_accepts_a_good_text_message_with_the_user_id_as_a_string(self, harness: Harness) -> None:
        inbound = harness.adapter.parse(harness.good("你好"))
        assert isinstance(inbound, Inbound)
        assert (inbound.channel, inbound.user_id, inbound.text, inbound.choice) == (
            harness.adapter.name, harness.address, "你好", None)

    def test_send_delivers_plain_text(self, harness: Harness) -> None:
        harness.prepare_push()
        harness.adapter.send(harness.address, {"text": "提醒：信息公开期限将至。", "choices": []}, key="k-text")
        assert harness.last_text().startswith("提醒：信息公开期限将至。")

    def test_send_delivers_choices_in_the_platforms_native_form(self, harness: Harness) -> None:
        harness.prepare_push()
        harness.adapter.send(harness.address, {"text": "是否同意？", "choices": CHOICES}, key="k-choices")
        assert harness.native_choices() == harness.expected_choices()

    def test_send_maps_a_rate_limit_to_a_retryable_delivery_error(self, harness: Harness) -> None:
        harness.prepare_push()
        harness.rate_limit()
        with pytest.raises(DeliveryError) as caught:
            harness.adapter.send(harness.address, {"text": "稍后再试", "choices": []}, key="k-limited")
        assert caught.value.retry is True
        assert caught.value.retry_after is not None and caught.value.retry_after > 0
        harness.adapter.send(harness.address, {"text": "这次可以", "choices": []}, key="k-limited")
        assert harness.last_text() == "这次可以"


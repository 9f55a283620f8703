"""WeChat official account: wechatpy against a fake API; signed (and in safe mode encrypted) callbacks."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import DeliveryError
from bot.channels.registry import SORRY
from bot.channels.wechat import WeChatChannel, seen_key
from handlers.dispatcher import Dispatcher
from handlers.messages import Inbound, Outbound
from rules.i18n import DEFAULT_LOCALE, gettext_for
from storage import Repositories
from tests.channels.channelkit import (
    AES_KEY,
    WECHAT_TEMPLATE,
    WECHAT_TOKEN,
    Fake,
    WeChatUser,
    give_deadlines,
    interview_to_verdict,
    post_raw,
    push_reminders,
    running,
    wait_for,
    wechat_config,
    wechat_raw,
    wechat_signature,
    wechat_text_xml,
)
from tests.channels.fakes.tencent_api import FakeMp

OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"


class Counting:
    def __init__(self, dispatcher: Dispatcher, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self.dispatcher, self.delay, self.gate = dispatcher, delay, gate
        self.calls: list[Inbound] = []
        self.lock = threading.Lock()

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        with self.lock:
            self.calls.append(inbound)
        if self.gate is not None:
            self.gate.wait(timeout=60)
        time.sleep(self.delay)
        return self.dispatcher.dispatch(inbound)


def forget_last_seen(sessions: sessionmaker[Session], openid: str) -> None:
    """As if the person's last message were more than 48 hours old."""
    with sessions.begin() as session:
        Repositories(session).kv.delete(seen_key(openid))


def test_a_full_interview_in_passive_replies_then_reminders_inside_and_outside_the_window(
    fake_mp: Fake[FakeMp], wechat: WeChatChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session]
) -> None:
    fake = fake_mp.api
    with running(wechat.routes(dispatcher.dispatch), dispatcher) as url:
        user = WeChatUser(fake, url, OPENID)
        interview_to_verdict(user)
        give_deadlines(user)
        assert len(user.passive) == 8  # every one of the 8 messages got its passive reply in time
        assert fake.custom(), "the verdict is longer than one reply: the rest followed as customer-service messages"

        assert push_reminders(sessions, {"wechat": wechat}) == 1  # inside 48 hours: a customer-service message
        reminder = fake.custom()[-1]["text"]["content"]
        assert "2026-04-30" in reminder and "\n3. " in reminder and fake.templates() == []
        user.say("2", expect="2026-04-08")  # the pushed choice number 2: remind me in a week
        assert fake.token_fetches == 1

    forget_last_seen(sessions, OPENID)
    wechat.send(OPENID, {"text": "提醒：信息公开\n截止 2026-04-30", "choices": []}, key="late")
    [template] = fake.templates()
    assert template["template_id"] == WECHAT_TEMPLATE and template["touser"] == OPENID
    assert template["data"]["first"]["value"] == "提醒：信息公开"
    assert template["data"]["content"]["value"] == "截止 2026-04-30"


def test_outside_the_window_without_a_template_the_push_fails_for_good_saying_why(
    fake_mp: Fake[FakeMp], sessions: sessionmaker[Session]
) -> None:
    channel = WeChatChannel(wechat_config(fake_mp.url, template_id=None), sessions)
    try:
        with pytest.raises(DeliveryError) as caught:
            channel.send(OPENID, {"text": "提醒"}, key="k")
    finally:
        channel.close()
    assert caught.value.retry is False and "QINGSHEN_WECHAT_TEMPLATE_ID" in str(caught.value)
    assert fake_mp.api.custom() == [] and fake_mp.api.templates() == []


def test_when_wechat_says_the_window_closed_the_template_is_used(
    fake_mp: Fake[FakeMp], wechat: WeChatChannel
) -> None:
    wechat.mark_seen(OPENID)
    fake_mp.api.fail(45015)
    wechat.send(OPENID, {"text": "提醒", "template_data": {"thing1": {"value": "信息公开"}}}, key="k")
    assert fake_mp.api.templates()[0]["data"] == {"thing1": {"value": "信息公开"}}


def test_safe_mode_decrypts_the_callback_and_encrypts_the_passive_reply(
    fake_mp: Fake[FakeMp], sessions: sessionmaker[Session], dispatcher: Dispatcher
) -> None:
    channel = WeChatChannel(wechat_config(fake_mp.url, aes_key=AES_KEY), sessions)
    try:
        with running(channel.routes(dispatcher.dispatch), dispatcher) as url:
            user = WeChatUser(fake_mp.api, url, OPENID, aes_key=AES_KEY)
            reply = user.say("你好", expect="是否同意")
            assert "1. 同意" in reply
            user.choose("同意", expect="统一社会信用代码")
            sealed = post_raw(url, "/webhooks/wechat",
                              wechat_raw(wechat_text_xml(OPENID, "帮助", 31336), aes_key=AES_KEY))
            assert "<Encrypt>" in sealed.text and "<Content>" not in sealed.text
    finally:
        channel.close()


def test_a_slow_answer_says_success_in_time_and_follows_as_customer_service_messages(
    fake_mp: Fake[FakeMp], sessions: sessionmaker[Session], dispatcher: Dispatcher
) -> None:
    slow = Counting(dispatcher, gate=threading.Event())  # the answer is held until the test lets it go
    channel = WeChatChannel(wechat_config(fake_mp.url), sessions, reply_within=0.3)
    try:
        with running(channel.routes(slow.dispatch), slow) as url:
            response = post_raw(url, "/webhooks/wechat", wechat_raw(wechat_text_xml(OPENID, "你好", 1)))
            assert response.text == "success"      # WeChat got its answer while ours was still being made
            assert slow.gate is not None and not slow.gate.is_set()
            slow.gate.set()
            wait_for(lambda: any("是否同意" in m["text"]["content"] for m in fake_mp.api.custom()), "the follow-up")
    finally:
        channel.close()


def test_a_bad_signature_is_refused_with_403_and_nothing_is_processed(
    fake_mp: Fake[FakeMp], wechat: WeChatChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session]
) -> None:
    counting = Counting(dispatcher)
    with running(wechat.routes(counting.dispatch), counting) as url:
        forged = wechat_raw(wechat_text_xml(OPENID, "你好", 2), token="forged")
        assert post_raw(url, "/webhooks/wechat", forged).status_code == 403
        assert httpx.post(f"{url}/webhooks/wechat", content=forged.body).status_code == 403
        encrypted_without_key = wechat_raw(wechat_text_xml(OPENID, "你好", 3), aes_key=AES_KEY)
        assert post_raw(url, "/webhooks/wechat", encrypted_without_key).status_code == 403
    assert counting.calls == []
    with sessions() as session:
        assert Repositories(session).contacts.get_by_address("wechat", OPENID) is None


def test_a_repeated_msgid_is_handled_once(
    fake_mp: Fake[FakeMp], wechat: WeChatChannel, dispatcher: Dispatcher
) -> None:
    counting = Counting(dispatcher)
    with running(wechat.routes(counting.dispatch), counting) as url:
        xml = wechat_text_xml(OPENID, "你好", 4242424242)
        answers = [post_raw(url, "/webhooks/wechat", wechat_raw(xml)).text for _ in range(3)]
    assert len(counting.calls) == 1
    assert "是否同意" in answers[0] and answers[1:] == ["success", "success"]


def test_the_server_check_answers_echostr_only_when_signed(wechat: WeChatChannel, dispatcher: Dispatcher) -> None:
    with running(wechat.routes(dispatcher.dispatch), dispatcher) as url:
        query = {"signature": wechat_signature(WECHAT_TOKEN, "1700000000", "n"), "timestamp": "1700000000",
                 "nonce": "n", "echostr": "5837397520112817"}
        ok = httpx.get(f"{url}/webhooks/wechat", params=query)
        bad = httpx.get(f"{url}/webhooks/wechat", params={**query, "signature": "0" * 40})
    assert (ok.status_code, ok.text) == (200, "5837397520112817")
    assert bad.status_code == 403


def test_an_expired_token_is_refreshed_once(fake_mp: Fake[FakeMp], wechat: WeChatChannel) -> None:
    wechat.mark_seen(OPENID)
    wechat.send(OPENID, {"text": "一"}, key="k1")
    fake_mp.api.expire_token()
    wechat.send(OPENID, {"text": "二"}, key="k2")
    assert fake_mp.api.token_fetches == 2
    assert [m["text"]["content"] for m in fake_mp.api.custom()] == ["一", "二"]


def test_a_failing_conversation_still_gets_a_sentence_back(
    fake_mp: Fake[FakeMp], wechat: WeChatChannel, dispatcher: Dispatcher
) -> None:
    def broken(inbound: Inbound) -> list[Outbound]:
        raise RuntimeError("the dispatcher blew up on purpose")

    with running(wechat.routes(broken), dispatcher) as url:
        reply = WeChatUser(fake_mp.api, url, OPENID).say("你好", expect="")
    assert reply == gettext_for(DEFAULT_LOCALE)(SORRY)


def test_following_the_account_opens_the_window_for_customer_service_messages(
    fake_mp: Fake[FakeMp], wechat: WeChatChannel, dispatcher: Dispatcher
) -> None:
    subscribe = (f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[{OPENID}]]>"
                 f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                 f"<Event><![CDATA[subscribe]]></Event></xml>")
    with running(wechat.routes(dispatcher.dispatch), dispatcher) as url:
        assert post_raw(url, "/webhooks/wechat", wechat_raw(subscribe)).text == "success"
    wechat.send(OPENID, {"text": "欢迎"}, key="k")
    assert fake_mp.api.custom()[0]["text"]["content"] == "欢迎" and fake_mp.api.templates() == []

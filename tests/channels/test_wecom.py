"""WeCom: wechatpy against a fake qyapi; encrypted callbacks built with the real crypto into our server."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channel_settings import WeComConfig
from bot.channels.base import DeliveryError
from bot.channels.wecom import MAX_TEXT_BYTES, WeComChannel, split_bytes
from handlers.dispatcher import Dispatcher
from handlers.messages import Inbound, Outbound
from storage import Repositories
from tests.channels.channelkit import (
    AES_KEY,
    CORP_ID,
    WECOM_AGENT,
    WECOM_SECRET,
    WECOM_TOKEN,
    Fake,
    WeComUser,
    give_deadlines,
    interview_to_verdict,
    post_raw,
    push_reminders,
    running,
    wait_for,
    wecom_echo,
    wecom_raw,
    wecom_text_xml,
)
from tests.channels.fakes.tencent_api import FakeQyapi


class Counting:
    """The real dispatcher, counting calls; `delay` makes it slow."""

    def __init__(self, dispatcher: Dispatcher, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self.dispatcher, self.delay, self.gate = dispatcher, delay, gate
        self.calls: list[Inbound] = []
        self.lock = threading.Lock()

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        with self.lock:
            self.calls.append(inbound)
        if self.gate is not None:  # held until the test lets it go (longer than any request's timeout)
            self.gate.wait(timeout=60)
        time.sleep(self.delay)
        return self.dispatcher.dispatch(inbound)


def test_a_full_interview_then_a_reminder_with_one_access_token(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session]
) -> None:
    fake = fake_qyapi.api
    with running(wecom.routes(dispatcher.dispatch), dispatcher) as url:
        user = WeComUser(fake, url, "zhangsan")
        verdict = interview_to_verdict(user)
        give_deadlines(user)
    assert "强制性清洁生产审核" in verdict
    kinds = [m["msgtype"] for m in fake.messages()]
    assert "template_card" in kinds and "text" in kinds
    assert all(len(m["text"]["content"].encode()) <= MAX_TEXT_BYTES for m in fake.messages() if "text" in m)
    assert {m["agentid"] for m in fake.messages()} == {WECOM_AGENT}

    assert push_reminders(sessions, {"wecom": wecom}) == 1
    card = fake.messages()[-1]
    assert card["msgtype"] == "template_card" and card["enable_duplicate_check"] == 1
    assert [b["key"].split(":")[0] for b in card["template_card"]["button_list"]] == ["done", "snooze", "unsubscribe"]
    assert fake.token_fetches == 1  # one token for the whole conversation and the push


def test_url_verification_answers_the_decrypted_echostr(
    wecom: WeComChannel, dispatcher: Dispatcher, fake_qyapi: Fake[FakeQyapi]
) -> None:
    with running(wecom.routes(dispatcher.dispatch), dispatcher) as url:
        ok = httpx.get(f"{url}/webhooks/wecom", params=wecom_echo("echo-1234567890"))
        bad = httpx.get(f"{url}/webhooks/wecom", params=wecom_echo("echo-1234567890", token="forged"))
    assert (ok.status_code, ok.text) == (200, "echo-1234567890")
    assert bad.status_code == 403


def test_a_bad_signature_is_refused_with_403_and_nothing_is_processed(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher, sessions: sessionmaker[Session]
) -> None:
    counting = Counting(dispatcher)
    with running(wecom.routes(counting.dispatch), counting) as url:
        raw = wecom_raw(wecom_text_xml("lisi", "你好", 42), token="forged")
        assert post_raw(url, "/webhooks/wecom", raw).status_code == 403
        unsigned = httpx.post(f"{url}/webhooks/wecom", content=raw.body)
        assert unsigned.status_code == 403
    time.sleep(0.2)
    assert counting.calls == [] and fake_qyapi.api.messages() == []
    with sessions() as session:
        assert Repositories(session).contacts.get_by_address("wecom", "lisi") is None


def test_a_repeated_msgid_is_handled_once(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher
) -> None:
    counting = Counting(dispatcher)
    fake = fake_qyapi.api
    with running(wecom.routes(counting.dispatch), counting) as url:
        xml = wecom_text_xml("wangwu", "你好", 5550001)
        for _ in range(3):  # WeCom retries a callback it thinks was slow, with the same MsgId
            assert post_raw(url, "/webhooks/wecom", wecom_raw(xml)).status_code == 200
        wait_for(lambda: len(fake.messages()) >= 1, "the reply")
        time.sleep(0.3)
    assert len(counting.calls) == 1
    assert [m["msgtype"] for m in fake.messages()] == ["text", "template_card"]  # the consent question, once


def test_the_callback_answers_at_once_and_the_work_follows(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher
) -> None:
    held = Counting(dispatcher, gate=threading.Event())  # the work is held until the test lets it go
    with running(wecom.routes(held.dispatch), held) as url:
        response = post_raw(url, "/webhooks/wecom", wecom_raw(wecom_text_xml("zhaoliu", "你好", 777)))
        assert response.status_code == 200 and response.text == ""  # answered while the work was still held
        assert held.gate is not None and not held.gate.is_set()
        assert fake_qyapi.api.messages() == []
        held.gate.set()
        wait_for(lambda: len(fake_qyapi.api.messages()) >= 1, "the reply after the work")


def test_an_expired_token_is_refreshed_once_and_the_message_still_goes(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel
) -> None:
    fake = fake_qyapi.api
    wecom.send("zhangsan", {"text": "第一条"}, key="k1")
    assert fake.token_fetches == 1
    fake.expire_token()
    wecom.send("zhangsan", {"text": "第二条"}, key="k2")
    assert fake.token_fetches == 2
    assert fake.rejected == [("/cgi-bin/message/send", 42001)]
    assert [m["text"]["content"] for m in fake.messages()] == ["第一条", "第二条"]
    wecom.send("zhangsan", {"text": "第三条"}, key="k3")
    assert fake.token_fetches == 2  # the new token is used from then on


@pytest.mark.parametrize("code", [40014, 42001])
def test_a_token_refused_again_after_the_refresh_is_a_retryable_failure_not_a_loop(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, code: int
) -> None:
    fake = fake_qyapi.api
    wecom.send("zhangsan", {"text": "ok"}, key="k0")
    fake.fail(code, code)
    with pytest.raises(DeliveryError) as caught:
        wecom.send("zhangsan", {"text": "refused"}, key="k1")
    assert caught.value.retry is True and str(code) in str(caught.value)
    assert fake.token_fetches == 2  # refreshed exactly once


def test_the_token_is_shared_by_every_process_on_the_database(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, sessions: sessionmaker[Session]
) -> None:
    other = WeComChannel(wecom.config, sessions)  # another process: its own client, the same database
    try:
        wecom.send("a", {"text": "1"}, key="k1")
        other.send("b", {"text": "2"}, key="k2")
        fake_qyapi.api.expire_token()
        other.send("b", {"text": "3"}, key="k3")  # other refreshes ...
        wecom.send("a", {"text": "4"}, key="k4")  # ... and wecom simply reads the new token
    finally:
        other.close()
    assert fake_qyapi.api.token_fetches == 2
    assert len(fake_qyapi.api.messages()) == 4


def test_pushes_render_markdown_cards_and_numbered_text(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel
) -> None:
    fake = fake_qyapi.api
    wecom.send("u", {"text": "名单公告", "markdown": "**名单公告**\n> 请查看"}, key="md")
    assert fake.messages()[-1]["markdown"]["content"].startswith("**名单公告**")
    many = [{"id": f"p{i}", "label": f"选项{i}"} for i in range(1, 8)]
    wecom.send("u", {"text": "请选择行业", "choices": many}, key="many")  # more than a card's 6 buttons
    text = fake.messages()[-1]["text"]["content"]
    assert "1. 选项1" in text and "7. 选项7" in text
    long_question = "很长的说明。" * 40 + "\n是否同意？"
    wecom.send("u", {"text": long_question, "choices": [{"id": "y", "label": "同意"}]}, key="long")
    *texts, card = fake.messages()[-2:]
    assert texts[0]["msgtype"] == "text" and card["template_card"]["main_title"]["title"] == "是否同意？"


def test_a_rate_limit_pauses_for_a_minute(fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel) -> None:
    fake_qyapi.api.fail(45009)
    with pytest.raises(DeliveryError) as caught:
        wecom.send("u", {"text": "x"}, key="k")
    assert (caught.value.retry, caught.value.retry_after) == (True, 60.0)


def test_split_bytes_cuts_between_characters_and_prefers_line_ends() -> None:
    text = ("第一行" * 200) + "\n" + ("第二行" * 300)
    pieces = split_bytes(text)
    assert "".join(pieces) == text
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in pieces)
    assert pieces[0].endswith("\n")


def test_another_agents_message_is_ignored(fake_qyapi: Fake[FakeQyapi], sessions: sessionmaker[Session]) -> None:
    config = WeComConfig(corp_id=CORP_ID, agent_id=WECOM_AGENT + 1, secret=WECOM_SECRET, token=WECOM_TOKEN,
                         aes_key=AES_KEY, api_base=f"{fake_qyapi.url}/cgi-bin/")
    channel = WeComChannel(config, sessions)
    try:
        assert channel.parse(wecom_raw(wecom_text_xml("u", "你好", 1))) is None
    finally:
        channel.close()


def test_a_number_answers_a_push_shown_as_numbered_text(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher
) -> None:
    many = [{"id": f"p{i}", "label": f"选项{i}"} for i in range(1, 8)]
    wecom.send("zhangsan", {"text": "请选择", "choices": many}, key="many")
    assert wecom.parse(wecom_raw(wecom_text_xml("zhangsan", "9", 1))) == Inbound("wecom", "zhangsan", text="9")
    picked = wecom.parse(wecom_raw(wecom_text_xml("zhangsan", "3", 2)))
    assert picked == Inbound("wecom", "zhangsan", choice="p3")
    again = wecom.parse(wecom_raw(wecom_text_xml("zhangsan", "3", 3)))
    assert again == Inbound("wecom", "zhangsan", text="3")  # answered once; later numbers are the conversation's


def test_replies_that_cannot_be_sent_are_logged_not_retried(
    fake_qyapi: Fake[FakeQyapi], wecom: WeComChannel, dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    fake_qyapi.api.fail(60020)
    with running(wecom.routes(dispatcher.dispatch), dispatcher) as url:
        post_raw(url, "/webhooks/wecom", wecom_raw(wecom_text_xml("qianqi", "你好", 88)))
        wait_for(lambda: "were not sent" in caplog.text, "the warning")

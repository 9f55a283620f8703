"""Telegram: python-telegram-bot against a fake Bot API, through our webhook and through long polling."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import DeliveryError
from bot.channels.registry import close_channels, start_channels
from bot.channels.telegram import PacedLimiter, TelegramChannel, render
from bot.sender import Sender
from handlers.dispatcher import Dispatcher
from handlers.messages import Choice, Outbound
from storage import Repositories, utcnow
from tests.channels.channelkit import (
    TG_SECRET,
    Fake,
    TelegramUser,
    give_deadlines,
    interview_to_verdict,
    push_reminders,
    running,
    telegram_config,
    telegram_raw,
    wait_for,
    webhook_poster,
)
from tests.channels.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


def test_a_full_interview_through_the_webhook_then_a_reminder_with_buttons(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher,
    sessions: sessionmaker[Session],
) -> None:
    fake = fake_telegram.api
    with running(telegram.routes(dispatcher.dispatch), dispatcher) as url:
        user = TelegramUser(fake, webhook_poster(url), 4242)
        interview_to_verdict(user)
        give_deadlines(user)
        pressed = fake.count("answerCallbackQuery")
        assert pressed == 2  # 同意, 从未开展过 (the credit code gives the province): each answered, keyboard removed
        assert fake.count("editMessageReplyMarkup") == pressed
        consent = next(m for m in fake.messages_to(4242) if "是否同意" in m["text"])
        assert "reply_markup" not in consent

        assert push_reminders(sessions, {"telegram": telegram}) == 1
        reminder = fake.messages_to(4242)[-1]
        assert "2026-04-30" in reminder["text"]
        buttons = [b["callback_data"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
        assert [b.split(":")[0] for b in buttons] == ["done", "snooze", "unsubscribe"]
        user.press("snooze:", expect="2026-04-08")  # a week after the dispatcher's today, 2026-04-01


def test_a_full_interview_through_polling(
    fake_telegram: Fake[FakeTelegram], sessions: sessionmaker[Session], dispatcher: Dispatcher
) -> None:
    fake = fake_telegram.api
    fake.webhook = {"url": "https://example.invalid/old"}
    channel = TelegramChannel(telegram_config(fake_telegram.url, mode="polling"), sessions, poll_timeout=1)
    assert channel.routes(dispatcher.dispatch) == []  # no webhook in polling mode
    start_channels([channel], dispatcher.dispatch, public_url=None)
    try:
        user = TelegramUser(fake, fake.queue, 4343)
        interview_to_verdict(user)
        assert fake.webhook is None  # deleteWebhook came first: getUpdates is refused while one is set
    finally:
        close_channels([channel])
    assert not any(t.name == "telegram-polling" for t in threading.enumerate())
    assert not fake.updates  # every update was confirmed, the last ones on the way out


def test_a_webhook_request_without_the_secret_token_is_refused_and_nothing_is_processed(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher,
    sessions: sessionmaker[Session],
) -> None:
    fake = fake_telegram.api
    with running(telegram.routes(dispatcher.dispatch), dispatcher) as url:
        update = fake.text_update(4242, "你好")
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                        {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET + "x"}):
            response = httpx.post(f"{url}/webhooks/telegram", json=update, headers=headers)
            assert response.status_code == 403
    with sessions() as session:
        assert Repositories(session).contacts.get_by_address("telegram", "4242") is None
    assert fake.sent == []


def test_a_reply_that_meets_flood_control_waits_it_out_and_is_sent(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher
) -> None:
    fake = fake_telegram.api
    with running(telegram.routes(dispatcher.dispatch), dispatcher) as url:
        fake.too_many(retry_after=1)
        started = time.monotonic()
        TelegramUser(fake, webhook_poster(url), 4242).say("你好", expect="是否同意")
        assert time.monotonic() - started >= 1.0
    assert fake.count("sendMessage") == 2  # the 429, then the message


def test_a_push_meeting_flood_control_is_retried_by_the_sender_after_retry_after(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, sessions: sessionmaker[Session]
) -> None:
    fake = fake_telegram.api
    with sessions.begin() as session:
        Repositories(session).outbox.add_if_absent("notice:1:4242", channel="telegram", address="4242",
                                                   payload={"text": "名单公告", "choices": []})
    sender = Sender(sessions, {"telegram": telegram}, rates={"telegram": 50.0}, worker="t")
    fake.too_many(retry_after=1)
    now = utcnow()
    assert sender.drain(now=now) == 0
    with sessions() as session:
        row = Repositories(session).outbox.get_by_key("notice:1:4242")
        assert row is not None and row.status == "failed" and "flood" in (row.last_error or "")
        assert (row.next_attempt_at - now).total_seconds() >= 1
    assert sender.drain(now=row.next_attempt_at) == 1
    assert [m["text"] for m in fake.messages_to(4242)] == ["名单公告"]


def test_a_user_who_blocked_the_bot_is_a_permanent_failure(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel
) -> None:
    fake_telegram.api.block()
    with pytest.raises(DeliveryError) as caught:
        telegram.send("4242", {"text": "hi"}, key="k")
    assert caught.value.retry is False and "blocked" in str(caught.value)


def test_start_registers_the_webhook_url_and_the_secret_token(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel, dispatcher: Dispatcher
) -> None:
    start_channels([telegram], dispatcher.dispatch, public_url="https://bot.example.cn/")
    assert fake_telegram.api.webhook is not None
    assert fake_telegram.api.webhook["url"] == "https://bot.example.cn/webhooks/telegram"
    assert fake_telegram.api.webhook["secret_token"] == TG_SECRET


def test_the_limiter_keeps_under_the_overall_rate(
    fake_telegram: Fake[FakeTelegram], sessions: sessionmaker[Session]
) -> None:
    channel = TelegramChannel(telegram_config(fake_telegram.url), sessions, limiter=PacedLimiter(per_second=4))
    try:
        channel.send("1", {"text": "warm-up"}, key="w")  # getMe and the connection, outside the window
        wait_for(lambda: fake_telegram.api.count("sendMessage") == 1, "the warm-up")
        time.sleep(1.0)
        started = time.monotonic()
        for n in range(6):
            channel.send("1", {"text": f"m{n}"}, key=f"k{n}")
        assert time.monotonic() - started >= 0.9  # 4 at once, the 5th and 6th a second after the first
    finally:
        channel.close()


def test_render_puts_long_callback_ids_as_numbered_text_and_splits_long_text() -> None:
    long_id = Choice("x" * 65, "太长")
    [(text, keyboard)] = render(Outbound("选一个", (Choice("a", "甲"), long_id)))
    assert keyboard is None and text.splitlines()[1:3] == ["1. 甲", "2. 太长"]
    pieces = render(Outbound("字" * 5000, (Choice("a", "甲"),)))
    assert [len(t) for t, _ in pieces] == [4096, 904]
    assert pieces[0][1] is None and pieces[1][1] is not None


def test_parse_reads_a_button_press_as_the_choice(
    fake_telegram: Fake[FakeTelegram], telegram: TelegramChannel
) -> None:
    import json

    fake = fake_telegram.api
    message = {"message_id": 5, "date": 0, "chat": {"id": 4242, "type": "private"}, "text": "是否同意？"}
    inbound = telegram.parse(telegram_raw(json.dumps(fake.press_update(4242, message, "consent:yes")).encode()))
    assert inbound is not None and (inbound.user_id, inbound.choice, inbound.text) == ("4242", "consent:yes", None)
    assert inbound.locale == "zh_CN"

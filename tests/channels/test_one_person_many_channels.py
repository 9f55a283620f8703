"""One person, many channels: pushes go once, to the preferred contact, and fall back to the other one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.registry import fallback_contact, one_per_person, requeue_fallback
from bot.channels.telegram import TelegramChannel
from bot.channels.wecom import WeComChannel
from bot.sender import Sender
from storage import Contact, Repositories
from tests.channels.channelkit import CREDIT_CODE, Fake
from tests.channels.fakes.telegram_api import FakeTelegram
from tests.channels.fakes.tencent_api import FakeQyapi

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
NOW = datetime(2026, 4, 23, 2, 0, tzinfo=UTC)


def person(repos: Repositories, enterprise_id: int, channel: str, user_id: str, name: str | None,
           *, preferred: bool = False) -> Contact:
    contact = repos.contacts.add(channel, user_id)
    repos.contacts.record_consent(contact, NOW)
    repos.contacts.bind_enterprise(contact, enterprise_id)
    repos.contacts.update_display_name(contact, name)
    repos.contacts.update_settings(contact, preferred=preferred)
    return contact


@pytest.fixture
def enterprise(sessions: sessionmaker[Session]) -> int:
    """张三 on Telegram (preferred) and on WeCom; 李四 on WeCom; a nameless contact on Telegram."""
    with sessions.begin() as session:
        repos = Repositories(session)
        enterprise_id = repos.enterprises.add(credit_code=CREDIT_CODE).id
        person(repos, enterprise_id, "wecom", "zhangsan", "张三")
        person(repos, enterprise_id, "telegram", "4242", "张三", preferred=True)
        person(repos, enterprise_id, "wecom", "lisi", "李四")
        person(repos, enterprise_id, "telegram", "999", None)
        return enterprise_id


def test_a_push_goes_once_per_person_to_the_preferred_contact(
    sessions: sessionmaker[Session], enterprise: int
) -> None:
    with sessions() as session:
        contacts = Repositories(session).contacts.list_by_enterprise(enterprise)
        chosen = [(c.channel, c.user_id) for c in one_per_person(contacts)]
    assert chosen == [("telegram", "4242"), ("wecom", "lisi"), ("telegram", "999")]


def test_the_fallback_is_the_same_persons_contact_on_another_channel(
    sessions: sessionmaker[Session], enterprise: int
) -> None:
    with sessions() as session:
        repos = Repositories(session)
        tg = repos.contacts.get_by_address("telegram", "4242")
        lisi = repos.contacts.get_by_address("wecom", "lisi")
        nameless = repos.contacts.get_by_address("telegram", "999")
        assert tg is not None and lisi is not None and nameless is not None
        other = fallback_contact(repos, tg)
        assert other is not None and (other.channel, other.user_id) == ("wecom", "zhangsan")
        assert fallback_contact(repos, lisi) is None and fallback_contact(repos, nameless) is None


def test_a_channel_that_fails_for_good_falls_back_to_the_other_channel(
    sessions: sessionmaker[Session], enterprise: int, fake_telegram: Fake[FakeTelegram],
    fake_qyapi: Fake[FakeQyapi], telegram: TelegramChannel, wecom: WeComChannel,
) -> None:
    with sessions.begin() as session:
        Repositories(session).outbox.add_if_absent("rem:7:2", channel="telegram", address="4242",
                                                   payload={"text": "提醒：信息公开 2026-04-30", "choices": []})
    sender = Sender(sessions, {"telegram": telegram, "wecom": wecom}, rates={"telegram": 50, "wecom": 50},
                    worker="t")
    fake_telegram.api.block()  # 张三 blocked the bot on Telegram
    assert drain_with_fallback(sender, sessions) == 1
    assert fake_telegram.api.sent == []
    [pushed] = fake_qyapi.api.messages()
    assert (pushed["touser"], pushed["text"]["content"]) == ("zhangsan", "提醒：信息公开 2026-04-30")
    with sessions() as session:
        outbox = Repositories(session).outbox
        first, fallback = outbox.get_by_key("rem:7:2"), outbox.get_by_key("rem:7:2:fallback")
        assert first is not None and first.status == "dead"
        assert fallback is not None and fallback.status == "sent" and fallback.channel == "wecom"


def test_a_fallback_that_fails_too_is_not_sent_back(
    sessions: sessionmaker[Session], enterprise: int, fake_telegram: Fake[FakeTelegram],
    fake_qyapi: Fake[FakeQyapi], telegram: TelegramChannel, wecom: WeComChannel,
) -> None:
    with sessions.begin() as session:
        Repositories(session).outbox.add_if_absent("rem:8:2", channel="telegram", address="4242",
                                                   payload={"text": "提醒", "choices": []})
    sender = Sender(sessions, {"telegram": telegram, "wecom": wecom}, rates={"telegram": 50, "wecom": 50},
                    worker="t")
    fake_telegram.api.block()
    fake_qyapi.api.fail(60020)  # not allowed from this IP: final
    assert drain_with_fallback(sender, sessions) == 0
    with sessions() as session:
        counts = Repositories(session).outbox.count_by_status()
    assert counts == {"dead": 2}


def drain_with_fallback(sender: Sender, sessions: sessionmaker[Session]) -> int:
    """The sender's loop as it will be wired: a row that went dead is offered to the person's other contact."""
    delivered = 0
    for _ in range(3):
        delivered += sender.drain()
        requeued = False
        with sessions.begin() as session:
            repos = Repositories(session)
            for channel, address in (("telegram", "4242"), ("wecom", "zhangsan")):
                for row in repos.outbox.list_by_address(channel, address, statuses=("dead",)):
                    requeued |= requeue_fallback(repos, row)
        if not requeued:
            break
    return delivered

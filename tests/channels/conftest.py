"""Fixtures for the channel tests: fake platform servers, the adapters pointed at them, and our server.

Every server here is real HTTP on 127.0.0.1 (uvicorn in a thread, tests/bot/bot_testkit.serve); the
adapters run the real python-telegram-bot and wechatpy against the fakes in tests/channels/fakes. The
database is the root conftest's `sessions` (a migrated SQLite, and PostgreSQL under scripts/with-postgres).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channel_settings import WeComConfig
from bot.channels.telegram import TelegramChannel
from bot.channels.wechat import WeChatChannel
from bot.channels.wecom import WeComChannel
from handlers.dispatcher import Dispatcher
from tests.bot.bot_testkit import serve
from tests.channels.channelkit import (
    AES_KEY,
    CORP_ID,
    TG_TOKEN,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    WECOM_AGENT,
    WECOM_SECRET,
    WECOM_TOKEN,
    Fake,
    telegram_config,
    wechat_config,
)
from tests.channels.fakes.telegram_api import FakeTelegram
from tests.channels.fakes.tencent_api import FakeMp, FakeQyapi

TODAY = date(2026, 4, 1)


@pytest.fixture
def fake_telegram() -> Iterator[Fake[FakeTelegram]]:
    fake = FakeTelegram(TG_TOKEN)
    with serve(fake.app()) as url:
        yield Fake(fake, url)


@pytest.fixture
def fake_qyapi() -> Iterator[Fake[FakeQyapi]]:
    fake = FakeQyapi(CORP_ID, WECOM_SECRET)
    with serve(fake.app()) as url:
        yield Fake(fake, url)


@pytest.fixture
def fake_mp() -> Iterator[Fake[FakeMp]]:
    fake = FakeMp(WECHAT_APP_ID, WECHAT_SECRET)
    with serve(fake.app()) as url:
        yield Fake(fake, url)


@pytest.fixture
def telegram(fake_telegram: Fake[FakeTelegram], sessions: sessionmaker[Session]) -> Iterator[TelegramChannel]:
    channel = TelegramChannel(telegram_config(fake_telegram.url), sessions, poll_timeout=1)
    yield channel
    channel.close()


@pytest.fixture
def wecom(fake_qyapi: Fake[FakeQyapi], sessions: sessionmaker[Session]) -> Iterator[WeComChannel]:
    config = WeComConfig(corp_id=CORP_ID, agent_id=WECOM_AGENT, secret=WECOM_SECRET, token=WECOM_TOKEN,
                         aes_key=AES_KEY, api_base=f"{fake_qyapi.url}/cgi-bin/")
    channel = WeComChannel(config, sessions)
    yield channel
    channel.close()


@pytest.fixture
def wechat(fake_mp: Fake[FakeMp], sessions: sessionmaker[Session]) -> Iterator[WeChatChannel]:
    channel = WeChatChannel(wechat_config(fake_mp.url), sessions)
    yield channel
    channel.close()


@pytest.fixture
def dispatcher(sessions: sessionmaker[Session]) -> Dispatcher:
    return Dispatcher(sessions, today=lambda: TODAY)

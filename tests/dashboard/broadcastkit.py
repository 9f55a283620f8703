"""Helpers for the broadcast tests: city lists (太原, 大同) and a 太原 city officer beside dashkit's fixture,
Telegram contacts bound to enterprises, and the real outbox sender with python-telegram-bot talking to
the fake Bot API server (tests/channels/fakes/telegram_api.py, real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.telegram import TelegramChannel
from bot.sender import Sender
from handlers.officers import hash_password
from storage import Repositories
from tests.channels.channelkit import TG_TOKEN, telegram_config
from tests.channels.fakes.telegram_api import FakeTelegram
from tests.dashboard.dashkit import PASSWORD, SHANXI, _add_list, code, csrf_of, login, serve
from tests.officers.officerkit import NOW

TAIYUAN = [
    ("太原甲化工有限公司", code("91140100MA0000201"), "2614", [("start", date(2026, 3, 20), None, None)]),
    ("太原乙焦化有限公司", code("91140100MA0000202"), "2521", [("start", date(2026, 5, 20), None, None)]),
]
DATONG = [("大同丙电力有限公司", code("91140200MA0000301"), "4411", [("start", date(2026, 3, 20), None, None)])]


@dataclass(frozen=True)
class Cities:
    taiyuan_officer: int
    taiyuan_list: int
    datong_list: int


def add_cities(sessions: sessionmaker[Session], province_officer: int) -> Cities:
    with sessions.begin() as session:
        repos = Repositories(session)
        officer = repos.officers.add(name="并州官员", role="ecology", province="shanxi", city="太原市",
                                     password_hash=hash_password(PASSWORD))
        ty = _add_list(session, officer.id, "shanxi", "太原市", TAIYUAN, "c" * 64)
        dt = _add_list(session, province_officer, "shanxi", "大同市", DATONG, "d" * 64)
        return Cities(officer.id, ty, dt)


def bind_telegram(sessions: sessionmaker[Session], credit_code: str, chat_ids: list[int]) -> None:
    """Consented Telegram contacts (chat ids) of the enterprise with this credit code."""
    with sessions.begin() as session:
        repos = Repositories(session)
        enterprise = repos.enterprises.get_by_credit_code(credit_code)
        assert enterprise is not None
        for chat_id in chat_ids:
            contact = repos.contacts.add("telegram", str(chat_id), locale="zh_CN")
            repos.contacts.record_consent(contact, NOW)
            repos.contacts.bind_enterprise(contact, enterprise.id)


@contextmanager
def telegram_sender(sessions: sessionmaker[Session]) -> Iterator[tuple[FakeTelegram, Sender]]:
    """The fake Bot API on a local port and a real Sender for the "telegram" channel pointed at it."""
    fake = FakeTelegram(TG_TOKEN)
    with serve(fake.app()) as url:
        channel = TelegramChannel(telegram_config(url), sessions, poll_timeout=1)
        try:
            yield fake, Sender(sessions, {"telegram": channel}, rates={"telegram": 50.0}, worker="dash-test")
        finally:
            channel.close()


@contextmanager
def officer_client(base_url: str, who: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        assert login(client, who).headers["location"] == "/officer/"
        yield client


def form_csrf(client: httpx.Client) -> str:
    return csrf_of(client.get("/officer/broadcast").text)


SCRIPT_CODE = SHANXI[1][1]  # the fixture's enterprise named <script>…: its start was due 2026-03-25
ON_TIME_CODE = SHANXI[0][1]  # start due 2026-04-20

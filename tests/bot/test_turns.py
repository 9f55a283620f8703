"""Chat turns run on bot.turns' own threads: one for SQLite (its one writer), a few for PostgreSQL, and as
many as configured (QINGSHEN_TURN_THREADS), through the real HTTP API and the channels' common `answer`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from bot import turns
from bot.channels.registry import answer
from bot.config import ConfigError, Settings
from bot.server import create_app
from handlers.messages import Inbound, Outbound
from tests.bot.bot_testkit import API_KEY, serve, settings

AUTH = {"Authorization": f"Bearer {API_KEY}"}


class Watched:
    """A stand-in conversation that records on which thread each turn ran and how many ran at once."""

    def __init__(self, hold: float = 0.0) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.threads: list[str] = []
        self.on_turn_thread: list[bool] = []

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.append(threading.current_thread().name)
            self.on_turn_thread.append(turns.on_turn_thread())
        time.sleep(self.hold)  # a turn's transaction, long enough for the others to arrive meanwhile
        with self.lock:
            self.running -= 1
        return [Outbound(f"收到：{inbound.text}")]


@pytest.fixture
def pool_of() -> Iterator[object]:
    before = turns.size()
    yield turns.configure
    turns.configure(before)


def _send_at_once(base: str, count: int) -> list[int]:
    statuses: list[int] = []

    def one(n: int) -> None:
        response = httpx.post(f"{base}/api/v1/messages", headers=AUTH, timeout=60,
                              json={"user_id": f"u{n}", "text": f"消息{n}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return statuses


def test_api_turns_run_one_at_a_time_on_the_turn_thread_with_one_thread(pool_of: object) -> None:
    turns.configure(1)
    conversation = Watched(hold=0.05)
    with serve(create_app(settings(), conversation)) as base:
        statuses = _send_at_once(base, 6)
    assert statuses == [200] * 6
    assert conversation.most == 1                        # anyio's pool would have run them side by side
    assert all(conversation.on_turn_thread) and len(set(conversation.threads)) == 1
    assert conversation.threads[0].startswith(turns.THREAD_NAME)


def test_api_turns_use_the_configured_number_of_threads(pool_of: object) -> None:
    turns.configure(3)
    conversation = Watched(hold=0.05)
    with serve(create_app(settings(), conversation)) as base:
        statuses = _send_at_once(base, 9)
    assert statuses == [200] * 9
    assert 1 <= conversation.most <= 3 and len(set(conversation.threads)) <= 3
    assert all(conversation.on_turn_thread)


def test_a_channel_turn_runs_on_the_turn_threads_and_a_nested_one_does_not_wait_for_itself(
    pool_of: object
) -> None:
    turns.configure(1)
    conversation = Watched()
    inbound = Inbound("telegram", "42", text="你好")
    assert answer(conversation.dispatch, inbound)[0].text == "收到：你好"   # from a channel's worker thread
    assert conversation.on_turn_thread == [True]
    # on the one turn thread already, `call` runs the function there (a pool of one waiting for itself hangs)
    replies = turns.call(lambda: answer(conversation.dispatch, inbound))
    assert replies[0].text == "收到：你好" and conversation.on_turn_thread == [True, True]


def test_the_number_of_threads_follows_the_database_unless_configured() -> None:
    assert turns.threads_for("sqlite:///var/qingshen.sqlite3") == 1
    assert turns.threads_for("postgresql+psycopg://bot@db/qingshen") == turns.POSTGRES_THREADS > 1
    assert turns.threads_for("sqlite:///x.sqlite3", 3) == 3
    with pytest.raises(ValueError, match="threads"):
        turns.configure(0)


def test_qingshen_turn_threads_is_read_and_checked() -> None:
    base = {"QINGSHEN_DATABASE_URL": "sqlite:///x.sqlite3"}
    assert Settings.from_env(base).turn_threads is None
    assert Settings.from_env({**base, "QINGSHEN_TURN_THREADS": "6"}).turn_threads == 6
    for wrong in ("0", "65", "four"):
        with pytest.raises(ConfigError, match="QINGSHEN_TURN_THREADS"):
            Settings.from_env({**base, "QINGSHEN_TURN_THREADS": wrong})

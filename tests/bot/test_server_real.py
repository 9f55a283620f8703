"""End to end: the server on the real dispatcher and a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.server import create_app
from storage import Repositories
from tests.bot.bot_testkit import API_KEY, real_conversation, serve, settings

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def client(real_sessions: sessionmaker[Session]) -> Iterator[httpx.Client]:
    def db_check() -> object:
        with real_sessions() as session:
            return session.execute(text("SELECT 1")).scalar_one()

    app = create_app(settings(), real_conversation(real_sessions), db_check=db_check)
    with serve(app) as url, httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
        yield c


def say(client: httpx.Client, user: str, **message: str) -> list[dict[str, object]]:
    r = client.post("/api/v1/messages", json={"user_id": user, **message})
    assert r.status_code == 200, r.text
    replies: list[dict[str, object]] = r.json()["replies"]
    return replies


def test_an_api_user_reaches_a_mandatory_verdict(client: httpx.Client) -> None:
    first = say(client, "api-e2e", text="开始")
    assert {"id": "consent:yes", "label": "同意"} in first[-1]["choices"]  # type: ignore[operator]
    say(client, "api-e2e", choice="consent:yes")
    say(client, "api-e2e", choice="skip")
    assert "排放标准" in str(say(client, "api-e2e", text="山东"))
    verdict = say(client, "api-e2e", choice="ck:exceeds_energy_limit")  # the grounds are asked together
    assert "应当实施强制性清洁生产审核" in str(verdict[0]["text"])


def test_the_inbox_gives_outbox_rows_once(client: httpx.Client, real_sessions: sessionmaker[Session]) -> None:
    assert client.get("/api/v1/users/inbox-e2e/inbox").json() == {"messages": []}
    with real_sessions.begin() as session:
        Repositories(session).outbox.add_if_absent(
            "test:inbox-e2e:1", channel="api", address="inbox-e2e",
            payload={"text": "提醒：请于 2026-06-30 前完成审核", "choices": [{"id": "ok", "label": "知道了"}]})
    r = client.get("/api/v1/users/inbox-e2e/inbox")
    assert r.json() == {"messages": [{"text": "提醒：请于 2026-06-30 前完成审核",
                                      "choices": [{"id": "ok", "label": "知道了"}]}]}
    assert client.get("/api/v1/users/inbox-e2e/inbox").json() == {"messages": []}


def test_healthz_asks_the_database(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}

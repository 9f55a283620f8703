"""Sixteen chat users at once through the real HTTP API: no 500, nothing lost (issue 11, finding 6).

The server (real uvicorn, real dispatcher) runs on a migrated database file (SQLite; PostgreSQL too
under scripts/with-postgres). Sixteen threads each walk whole interviews on the heavy path: consent,
a new enterprise's credit code (binding), a list date (an audit cycle with its milestones and
reminders), the grounds, the verdict and 我的期限. Then sixteen new contacts give the same new credit
code at the same moment, as colleagues do after a list notice: one of them adds the enterprise, the
others are told to join it with an invitation code, and nobody gets an error.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from bot.server import create_app
from storage import Contact, Enterprise
from tests.bot.bot_testkit import API_KEY, real_conversation, serve, settings

AUTH = {"Authorization": f"Bearer {API_KEY}"}
THREADS = 16
INTERVIEWS = 3  # per thread


def credit_code(n: int) -> str:
    body = f"91370100MA{n:07d}"  # Jinan, Shandong
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def url(sessions: sessionmaker[Session]) -> Iterator[str]:
    app = create_app(settings(), real_conversation(sessions))
    with serve(app) as base:
        yield base


def run_threads(target: object, count: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            target(n)  # type: ignore[operator]
        except BaseException as e:  # reported by the test
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a chat thread hung"
    return errors


def test_sixteen_users_walk_whole_interviews_at_once_without_an_error(
    url: str, sessions: sessionmaker[Session]
) -> None:
    statuses: Counter[int] = Counter()
    verdicts: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def user(n: int) -> None:
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
            start.wait()
            for i in range(INTERVIEWS):
                user_id = f"load-{n}-{i}"
                script = [{"text": "开始"}, {"choice": "consent:yes"}, {"text": credit_code(n * INTERVIEWS + i)},
                          {"text": "化工厂，2025年3月31日上了名单"}, {"text": "超过能耗限额"}, {"text": "我的期限"}]
                texts = []
                for message in script:
                    r = client.post("/api/v1/messages", json={"user_id": user_id, **message})
                    with lock:
                        statuses[r.status_code] += 1
                    assert r.status_code == 200, r.text
                    texts.append(" ".join(str(reply["text"]) for reply in r.json()["replies"]))
                with lock:
                    verdicts.append(texts[4])

    errors = run_threads(user, THREADS)
    requests = THREADS * INTERVIEWS * 6
    print(f"\n{requests} requests from {THREADS} threads: {dict(statuses)}")
    assert not errors, errors[:3]
    assert statuses == {200: requests}
    assert len(verdicts) == THREADS * INTERVIEWS
    assert all("应当实施强制性清洁生产审核" in verdict for verdict in verdicts)
    with sessions() as session:  # every user bound to its own new enterprise
        bound = session.scalar(select(func.count()).select_from(Contact).where(Contact.enterprise_id.is_not(None)))
        assert bound == THREADS * INTERVIEWS
        assert session.scalar(select(func.count()).select_from(Enterprise)) == THREADS * INTERVIEWS


def test_sixteen_colleagues_give_the_same_new_credit_code_at_once(
    url: str, sessions: sessionmaker[Session]
) -> None:
    code = credit_code(9999999)
    statuses: Counter[int] = Counter()
    answers: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def colleague(n: int) -> None:
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
            user_id = f"colleague-{n}"
            for message in ({"text": "开始"}, {"choice": "consent:yes"}):
                assert client.post("/api/v1/messages", json={"user_id": user_id, **message}).status_code == 200
            start.wait()  # all at the same moment
            r = client.post("/api/v1/messages", json={"user_id": user_id, "text": code})
            with lock:
                statuses[r.status_code] += 1
            assert r.status_code == 200, r.text
            with lock:
                answers.append(" ".join(str(reply["text"]) for reply in r.json()["replies"]))

    errors = run_threads(colleague, THREADS)
    assert not errors, errors[:3]
    assert statuses == {200: THREADS}
    told_to_join = [a for a in answers if "该企业已在使用清审" in a]
    assert len(told_to_join) == THREADS - 1  # the first one added it; the others need an invitation code
    with sessions() as session:
        enterprise = session.scalars(select(Enterprise).where(Enterprise.credit_code == code)).one()
        members = session.scalars(select(Contact.user_id).where(Contact.enterprise_id == enterprise.id)).all()
        assert len(members) == 1

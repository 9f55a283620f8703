"""Several senders draining one outbox never claim the same row."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage import OutboxRepository, make_engine, session_factory

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def queue(sessions: sessionmaker[Session], count: int) -> None:
    with sessions.begin() as session:
        outbox = OutboxRepository(session)
        for n in range(count):
            outbox.add_if_absent(f"k{n}", channel="web", address=f"u{n}", payload={"n": n}, not_before=NOW)


class TestConcurrentClaims:
    def test_many_threads_claim_every_row_exactly_once(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, 120)
        claims: dict[str, list[int]] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def sender(worker: str) -> None:
            mine: list[int] = []
            try:
                start.wait()
                while True:
                    with sessions.begin() as session:
                        batch = OutboxRepository(session).claim_batch("web", 7, worker, NOW)
                        mine.extend(m.id for m in batch)
                    if not batch:
                        break
            except BaseException as e:  # reported below
                errors.append(e)
            claims[worker] = mine

        threads = [threading.Thread(target=sender, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        claimed = [message_id for ids in claims.values() for message_id in ids]
        assert len(claimed) == 120
        assert len(set(claimed)) == 120


@pytest.fixture
def pg_sessions(pg_migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(pg_migrated_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.mark.postgres
class TestSkipLocked:
    """Row locks and SKIP LOCKED are PostgreSQL's."""

    def test_a_second_sender_skips_rows_the_first_holds(self, pg_sessions: sessionmaker[Session]) -> None:
        queue(pg_sessions, 10)
        with pg_sessions() as first, pg_sessions() as second:
            # Without SKIP LOCKED the second claim would wait for the first transaction: fail fast instead.
            second.execute(text("SET lock_timeout = '2s'"))
            mine = OutboxRepository(first).claim_batch("web", 4, "first", NOW)
            theirs = OutboxRepository(second).claim_batch("web", 4, "second", NOW)
            first.commit()
            second.commit()
        assert len(mine) == 4 and len(theirs) == 4
        assert not {m.id for m in mine} & {m.id for m in theirs}

    def test_two_connections_drain_without_overlap(self, pg_sessions: sessionmaker[Session]) -> None:
        queue(pg_sessions, 30)
        seen: list[int] = []
        with pg_sessions() as first, pg_sessions() as second:
            second.execute(text("SET lock_timeout = '2s'"))
            while True:
                a = OutboxRepository(first).claim_batch("web", 3, "first", NOW)
                b = OutboxRepository(second).claim_batch("web", 3, "second", NOW)
                seen.extend(m.id for m in a + b)
                first.commit()
                second.commit()
                if not a and not b:
                    break
        assert len(seen) == 30 == len(set(seen))

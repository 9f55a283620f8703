"""Every change after a claim is guarded by the claim: a sender that ran past its lease changes nothing.

The race of issue 11 (finding 4), step by step on explicit clocks: worker A claims a row, its lease
runs out, worker B claims it, sends it and marks it sent; then A, running late, releases (or marks) it.
The row must stay sent, and no sender may claim it again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage import OutboxMessage, OutboxRepository

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LEASE = timedelta(seconds=3)


def queue(sessions: sessionmaker[Session], *keys: str) -> None:
    with sessions.begin() as session:
        for key in keys:
            OutboxRepository(session).add_if_absent(key, channel="telegram", address="7", payload={"text": key},
                                                    not_before=NOW)


def claim(sessions: sessionmaker[Session], worker: str, at: datetime, limit: int = 10) -> list[OutboxMessage]:
    with sessions.begin() as session:
        return OutboxRepository(session).claim_batch("telegram", limit, worker, at, lease=LEASE)


def row(sessions: sessionmaker[Session], key: str) -> OutboxMessage:
    with sessions() as session:
        message = OutboxRepository(session).get_by_key(key)
        assert message is not None
        return message


@pytest.fixture
def raced(sessions: sessionmaker[Session]) -> tuple[OutboxMessage, OutboxMessage]:
    """A's claim (lease run out) and B's claim of the same row, which B then sent and marked sent."""
    queue(sessions, "k1")
    [a] = claim(sessions, "A", NOW)
    later = NOW + LEASE + timedelta(seconds=1)
    assert claim(sessions, "B", NOW + LEASE - timedelta(seconds=1)) == []  # still A's
    [b] = claim(sessions, "B", later)
    assert (a.id, a.claimed_by, b.claimed_by) == (b.id, "A", "B")
    assert a.claim_token and b.claim_token and a.claim_token != b.claim_token
    with sessions.begin() as session:
        assert OutboxRepository(session).mark_sent(b, now=later)
    return a, b


class TestLateWorker:
    def test_a_late_release_leaves_the_row_sent_and_unclaimable(
        self, sessions: sessionmaker[Session], raced: tuple[OutboxMessage, OutboxMessage]
    ) -> None:
        a, _ = raced
        late = NOW + timedelta(seconds=10)
        with sessions.begin() as session:
            assert OutboxRepository(session).release([a], now=late) == []
        message = row(sessions, "k1")
        assert (message.status, message.claimed_by, message.attempts) == ("sent", "B", 2)
        for worker in ("A", "B", "C"):  # never offered again, however late
            assert claim(sessions, worker, late + timedelta(days=1)) == []

    @pytest.mark.parametrize("retry", [True, False])
    def test_a_late_failure_or_death_changes_nothing(
        self, sessions: sessionmaker[Session], raced: tuple[OutboxMessage, OutboxMessage], retry: bool
    ) -> None:
        a, _ = raced
        late = NOW + timedelta(seconds=10)
        with sessions.begin() as session:
            retry_at = late if retry else None
            assert not OutboxRepository(session).mark_failed(a, error="timeout", retry_at=retry_at)
        message = row(sessions, "k1")
        assert (message.status, message.last_error) == ("sent", None)
        assert claim(sessions, "C", late + timedelta(days=1)) == []

    def test_a_late_mark_sent_and_renewal_change_nothing(
        self, sessions: sessionmaker[Session], raced: tuple[OutboxMessage, OutboxMessage]
    ) -> None:
        a, b = raced
        late = NOW + timedelta(seconds=10)
        with sessions.begin() as session:
            outbox = OutboxRepository(session)
            assert not outbox.mark_sent(a, now=late)
            assert outbox.renew([a], now=late, lease=LEASE) == set()
        assert row(sessions, "k1").sent_at == b.next_attempt_at - LEASE  # B's time of sending, not A's

    def test_while_b_is_still_sending_a_cannot_take_the_row_back(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, "k1")
        [a] = claim(sessions, "A", NOW)
        [b] = claim(sessions, "B", NOW + LEASE)
        with sessions.begin() as session:
            outbox = OutboxRepository(session)
            assert outbox.release([a], now=NOW + LEASE) == []
            assert not outbox.mark_failed(a, error="late", retry_at=NOW + LEASE)
            assert outbox.renew([b], now=NOW + LEASE, lease=LEASE) == {b.id}
        message = row(sessions, "k1")
        assert (message.status, message.claimed_by, message.claim_token) == ("sending", "B", b.claim_token)

    def test_the_same_worker_name_after_a_restart_does_not_hold_the_old_claim(
        self, sessions: sessionmaker[Session]
    ) -> None:
        queue(sessions, "k1")
        [old] = claim(sessions, "host:1", NOW)
        [new] = claim(sessions, "host:1", NOW + LEASE)  # a process restarted with the same id
        with sessions.begin() as session:
            assert OutboxRepository(session).release([old], now=NOW + LEASE) == []
        assert row(sessions, "k1").claim_token == new.claim_token


class TestLeases:
    def test_a_renewed_lease_is_not_claimed_by_another_sender(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, "k1", "k2")
        mine = claim(sessions, "A", NOW)
        with sessions.begin() as session:
            kept = OutboxRepository(session).renew(mine, now=NOW + timedelta(seconds=2), lease=LEASE)
        assert kept == {m.id for m in mine}
        assert claim(sessions, "B", NOW + LEASE + timedelta(seconds=1)) == []  # would have expired unrenewed
        assert len(claim(sessions, "B", NOW + timedelta(seconds=2) + LEASE)) == 2

    def test_a_renewal_keeps_only_what_is_still_held(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, "k1", "k2")
        first, second = claim(sessions, "A", NOW)
        with sessions.begin() as session:
            outbox = OutboxRepository(session)
            assert outbox.mark_sent(first, now=NOW)
            assert outbox.renew([first, second], now=NOW, lease=LEASE) == {second.id}

    def test_a_lease_must_be_positive(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, "k1")
        mine = claim(sessions, "A", NOW)
        with sessions.begin() as session, pytest.raises(Exception, match="lease"):
            OutboxRepository(session).renew(mine, now=NOW, lease=timedelta(0))


class TestRelease:
    def test_a_release_does_not_spend_an_attempt(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, "k1")
        for _ in range(12):  # more than any max_attempts: releasing alone never uses them up
            [mine] = claim(sessions, "A", NOW)
            assert mine.attempts == 1
            with sessions.begin() as session:
                assert OutboxRepository(session).release([mine], now=NOW) == [mine.id]
            message = row(sessions, "k1")
            assert (message.status, message.attempts, message.claim_token) == ("pending", 0, None)

    def test_a_released_retry_keeps_its_failed_attempts(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, "k1")
        [first] = claim(sessions, "A", NOW)
        with sessions.begin() as session:
            assert OutboxRepository(session).mark_failed(first, error="HTTP 502", retry_at=NOW)
        [second] = claim(sessions, "A", NOW)
        assert second.attempts == 2
        with sessions.begin() as session:
            OutboxRepository(session).release([second], now=NOW)
        message = row(sessions, "k1")
        assert (message.status, message.attempts, message.last_error) == ("failed", 1, "HTTP 502")
        [third] = claim(sessions, "B", NOW)
        assert third.attempts == 2

    def test_an_unclaimed_message_changes_nothing(self, sessions: sessionmaker[Session]) -> None:
        queue(sessions, "k1")
        pending = row(sessions, "k1")
        with sessions.begin() as session:
            outbox = OutboxRepository(session)
            assert not outbox.mark_sent(pending, now=NOW)
            assert outbox.release([pending], now=NOW) == []
        assert row(sessions, "k1").status == "pending"

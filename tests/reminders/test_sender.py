"""The outbox sender against a real local HTTP receiver (bot.channels.testsink), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import DeliveryError, PushChannel
from bot.channels.testsink import WebhookSink
from bot.channels.webhook import WebhookChannel, retry_after
from bot.sender import Sender, TokenBucket
from storage import OutboxMessage, OutboxRepository, Repositories

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def queue(sessions: sessionmaker[Session], count: int, *, channel: str = "api", prefix: str = "k") -> list[str]:
    keys = [f"{prefix}{n}" for n in range(count)]
    with sessions.begin() as session:
        outbox = OutboxRepository(session)
        for n, key in enumerate(keys):
            outbox.add_if_absent(key, channel=channel, address=f"user{n}", payload={"text": f"m{n}", "choices": []},
                                 not_before=NOW)
    return keys


def row(sessions: sessionmaker[Session], key: str) -> OutboxMessage:
    with sessions() as session:
        message = OutboxRepository(session).get_by_key(key)
        assert message is not None
        return message


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as s:
        yield s


def sender_for(
    sessions: sessionmaker[Session], sink: WebhookSink, *, rate: float = 1000, **kwargs: object
) -> Sender:
    channel = WebhookChannel(sink.url, timeout=2)
    return Sender(sessions, {"api": channel}, rates={"api": rate}, worker="test", backoff_base=0.01,
                  **kwargs)  # type: ignore[arg-type]


class TestDelivery:
    def test_every_message_is_posted_with_its_key_and_marked_sent(
        self, sessions: sessionmaker[Session], sink: WebhookSink
    ) -> None:
        keys = queue(sessions, 5)
        assert sender_for(sessions, sink).drain(NOW) == 5
        assert [a.key for a in sink.accepted()] == keys
        assert sink.accepted()[2].address == "user2" and sink.accepted()[2].message["text"] == "m2"
        for key in keys:
            message = row(sessions, key)
            assert (message.status, message.attempts) == ("sent", 1)
            assert message.sent_at is not None and message.sent_at >= NOW

    def test_channels_without_a_sender_are_never_claimed(
        self, sessions: sessionmaker[Session], sink: WebhookSink
    ) -> None:
        queue(sessions, 3, channel="web", prefix="inbox")
        queue(sessions, 1)
        assert sender_for(sessions, sink).drain(NOW) == 1
        assert {row(sessions, f"inbox{n}").status for n in range(3)} == {"pending"}


class TestFailures:
    def test_429_waits_for_retry_after_then_delivers(self, sessions: sessionmaker[Session], sink: WebhookSink) -> None:
        sink.set_responder(lambda key, n: (429, {"Retry-After": "1"}) if (key, n) == ("k0", 1) else (200, {}))
        keys = queue(sessions, 2)
        started = time.monotonic()
        assert sender_for(sessions, sink).drain(NOW) == 2
        # The row waited for its retry time and the whole channel paused: both went out after 1 s.
        assert time.monotonic() - started >= 1.0
        assert sink.accepted()[0].at - sink.attempts()[0].at >= 0.95
        assert (row(sessions, "k0").status, row(sessions, "k0").attempts) == ("sent", 2)
        assert sink.attempts_by_key() == {keys[0]: 2, keys[1]: 1}

    def test_500_is_retried_with_back_off(self, sessions: sessionmaker[Session], sink: WebhookSink) -> None:
        sink.set_responder(lambda key, n: (500, {}) if n == 1 else (200, {}))
        [key] = queue(sessions, 1)
        sender = Sender(sessions, {"api": WebhookChannel(sink.url, timeout=2)}, rates={"api": 100}, worker="t",
                        backoff_base=60, jitter=lambda: 1.0)
        assert sender.drain(NOW) == 0
        failed = row(sessions, key)
        assert failed.status == "failed" and failed.attempts == 1
        assert NOW + timedelta(seconds=59) < failed.next_attempt_at < NOW + timedelta(seconds=62)
        assert sender.drain(NOW + timedelta(seconds=61)) == 1
        assert (row(sessions, key).status, row(sessions, key).attempts) == ("sent", 2)

    def test_400_is_final(self, sessions: sessionmaker[Session], sink: WebhookSink) -> None:
        sink.set_responder(lambda key, n: (400, {}))
        [key] = queue(sessions, 1)
        assert sender_for(sessions, sink).drain(NOW) == 0
        dead = row(sessions, key)
        assert (dead.status, dead.attempts) == ("dead", 1) and "400" in (dead.last_error or "")
        assert sink.accepted_keys() == set()

    def test_a_dead_message_is_handed_to_the_dead_hook_in_the_same_transaction(
        self, sessions: sessionmaker[Session], sink: WebhookSink
    ) -> None:
        sink.set_responder(lambda key, n: (403, {}))
        [key] = queue(sessions, 1)
        seen: list[tuple[str, str]] = []

        def on_dead(repos: Repositories, message: OutboxMessage) -> None:
            seen.append((message.idempotency_key, message.address))
            repos.outbox.add_if_absent(message.idempotency_key + ":fallback", channel="web", address="other",
                                       payload=message.payload)

        sender = Sender(sessions, {"api": WebhookChannel(sink.url, timeout=2)}, rates={}, worker="t",
                        on_dead=on_dead)
        assert sender.drain(NOW) == 0
        assert seen == [(key, "user0")]
        assert row(sessions, key).status == "dead"
        assert row(sessions, key + ":fallback").status == "pending"

    def test_dead_after_max_attempts(self, sessions: sessionmaker[Session], sink: WebhookSink) -> None:
        sink.set_responder(lambda key, n: (503, {}))
        [key] = queue(sessions, 1)
        sender = sender_for(sessions, sink, max_attempts=3)
        for minute in range(5):
            sender.drain(NOW + timedelta(minutes=minute))
        assert (row(sessions, key).status, row(sessions, key).attempts) == ("dead", 3)
        assert sink.attempts_by_key()[key] == 3

    def test_an_unreachable_receiver_is_retried(self, sessions: sessionmaker[Session]) -> None:
        with WebhookSink() as gone:
            url = gone.url
        [key] = queue(sessions, 1)
        sender = Sender(sessions, {"api": WebhookChannel(url, timeout=1)}, rates={}, worker="t", backoff_base=0.01)
        assert sender.drain(NOW) == 0
        assert row(sessions, key).status == "failed"

    def test_a_channel_that_raises_a_bug_is_recorded_and_retried(self, sessions: sessionmaker[Session]) -> None:
        class Broken:
            name = "api"

            def send(self, address: str, payload: Mapping[str, object], *, key: str) -> None:
                raise KeyError("oops")

        [key] = queue(sessions, 1)
        channel: PushChannel = Broken()
        assert Sender(sessions, {"api": channel}, rates={}, worker="t").drain(NOW) == 0
        assert row(sessions, key).status == "failed" and "KeyError" in (row(sessions, key).last_error or "")


class TestRate:
    def test_the_rate_limit_is_respected(self, sessions: sessionmaker[Session], sink: WebhookSink) -> None:
        queue(sessions, 60)
        started = time.monotonic()
        assert sender_for(sessions, sink, rate=40).drain(NOW) == 60
        elapsed = time.monotonic() - started
        assert elapsed >= (60 - 2) / 40
        times = sorted(a.at for a in sink.attempts())
        for i, t in enumerate(times):  # never more than rate x window + the bucket's capacity (4 at 40/s)
            assert sum(1 for u in times[i:] if u < t + 0.5) <= 40 * 0.5 + 4
        # how close the sender comes to the limit is a speed figure: `make bench` measures it (section reminders)

    def test_a_short_lease_is_renewed_while_the_batch_is_sent(
        self, sessions: sessionmaker[Session], sink: WebhookSink
    ) -> None:
        keys = queue(sessions, 4)
        # 8 a second: the batch takes 0.4 s, four times the lease; renewed, it is sent in one go, once each
        sender = sender_for(sessions, sink, rate=8, lease=timedelta(seconds=0.1))
        assert sender.drain(NOW) == 4
        assert sink.attempts_by_key() == {key: 1 for key in keys}
        assert {row(sessions, key).attempts for key in keys} == {1}

    def test_token_bucket_pause_and_stop(self) -> None:
        bucket = TokenBucket(1000)
        stop = threading.Event()
        assert bucket.acquire(stop)
        bucket.pause(0.2)
        started = time.monotonic()
        assert bucket.acquire(stop)
        assert time.monotonic() - started >= 0.19
        bucket.pause(10)
        stop.set()
        assert not bucket.acquire(stop)


class TestRetryAfter:
    def test_seconds_dates_and_garbage(self) -> None:
        now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        assert retry_after("3") == 3.0
        assert retry_after(" 1.5 ") == 1.5
        assert retry_after("-4") == 0.0
        assert retry_after("Mon, 02 Mar 2026 02:00:30 GMT", now=now) == 30.0
        assert retry_after("Mon, 02 Mar 2026 01:00:00 GMT", now=now) == 0.0
        assert retry_after("soon") is None
        assert retry_after("inf") is None
        assert retry_after("1e12") == 24 * 3600.0
        assert retry_after(None) is None

    def test_delivery_errors_say_whether_to_retry(self) -> None:
        error = DeliveryError("x", retry=True, retry_after=2.0)
        assert (error.retry, error.retry_after, str(error)) == (True, 2.0, "x")


class Stalling:
    """A session factory that can be frozen: every new unit of work waits until it is thawed (a process
    stalled by the machine: swapped out, stopped, starved of CPU)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.thawed = threading.Event()
        self.thawed.set()

    def begin(self) -> object:
        assert self.thawed.wait(30)
        return self.sessions.begin()

    def __call__(self) -> Session:
        assert self.thawed.wait(30)
        return self.sessions()


class Holding:
    """A channel whose first send of one key hangs until released (a send in flight), then posts it."""

    name = "api"

    def __init__(self, key: str, url: str) -> None:
        self.key = key
        self.channel = WebhookChannel(url, timeout=20)
        self.in_flight = threading.Event()
        self.go = threading.Event()
        self._held = False

    def send(self, address: str, payload: Mapping[str, object], *, key: str) -> None:
        if key == self.key and not self._held:
            self._held = True
            self.in_flight.set()
            assert self.go.wait(30)
        self.channel.send(address, payload, key=key)


def in_thread(target: object, *args: object) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(target(*args)))  # type: ignore[operator]
    thread.start()
    return thread, out


class TestClaims:
    """Issue 11, finding 4: a sender that lost its claim changes nothing, and a send in flight keeps it."""

    def test_the_lease_is_renewed_while_a_send_is_in_flight(self, sessions: sessionmaker[Session]) -> None:
        [key] = queue(sessions, 1)
        with WebhookSink() as sink:
            holding = Holding(key, sink.url)
            a = Sender(sessions, {"api": holding}, rates={"api": 1000}, worker="A", lease=timedelta(seconds=0.3))
            thread, delivered = in_thread(a.drain, NOW)
            assert holding.in_flight.wait(30)
            time.sleep(1.0)  # three leases pass while A's send hangs
            b = sender_for(sessions, sink)
            b.worker = "B"
            assert b.drain(NOW + timedelta(seconds=1)) == 0  # A's lease was renewed: nothing to claim
            holding.go.set()
            thread.join(30)
            assert delivered == [1]
            assert sink.attempts_by_key() == {key: 1}
        message = row(sessions, key)
        assert (message.status, message.claimed_by, message.attempts) == ("sent", "A", 1)

    def test_a_stalled_sender_whose_claim_was_taken_sends_nothing_more_and_marks_nothing(
        self, sessions: sessionmaker[Session]
    ) -> None:
        first, second = queue(sessions, 2)
        stalling = Stalling(sessions)
        lease = timedelta(seconds=0.5)
        with WebhookSink() as sink:
            holding = Holding(first, sink.url)
            a = Sender(stalling, {"api": holding}, rates={"api": 1000}, worker="A", lease=lease)  # type: ignore[arg-type]
            thread, delivered = in_thread(a.drain, NOW)
            assert holding.in_flight.wait(30)  # A claimed both and is sending the first
            stalling.thawed.clear()  # A stalls: its lease keeper cannot renew any more
            time.sleep(lease.total_seconds() + 0.2)  # and its lease runs out
            b = sender_for(sessions, sink)
            b.worker = "B"
            assert b.drain(NOW + timedelta(minutes=1)) == 2  # B claims both, sends them, marks them sent
            stalling.thawed.set()
            holding.go.set()  # A comes back: its send returns, then it goes on with the batch
            thread.join(30)
            assert not thread.is_alive()
            assert delivered == [1]  # the send that was in flight; the second row was not sent again
            # the first was in flight when the lease ran out: the one duplicate a stall can cause
            assert sink.attempts_by_key() == {first: 2, second: 1}
        for key in (first, second):
            message = row(sessions, key)
            assert (message.status, message.claimed_by) == ("sent", "B")
        with sessions.begin() as session:  # nothing was made claimable again
            assert OutboxRepository(session).claim_batch("api", 10, "C", NOW + timedelta(days=1)) == []

    def test_stopping_releases_the_rest_of_the_batch_without_spending_attempts(
        self, sessions: sessionmaker[Session]
    ) -> None:
        keys = queue(sessions, 3)
        with WebhookSink() as sink:
            holding = Holding(keys[0], sink.url)
            a = Sender(sessions, {"api": holding}, rates={"api": 1000}, worker="A")
            thread, delivered = in_thread(a.drain, NOW)
            assert holding.in_flight.wait(30)
            a._stop.set()  # stop() while the first send is in flight
            holding.go.set()
            thread.join(30)
            assert delivered == [1]
        assert row(sessions, keys[0]).status == "sent"
        for key in keys[1:]:
            message = row(sessions, key)
            assert (message.status, message.attempts, message.claimed_by) == ("pending", 0, None)

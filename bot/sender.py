"""The outbox sender: drains each push channel under its rate limit, with retries and back-off.

Per channel, in its own thread: claim a few due rows (storage.OutboxRepository.claim_batch: a lease,
FOR UPDATE SKIP LOCKED on PostgreSQL), commit, then for each row wait for the channel's token bucket,
send, and record the outcome in its own transaction (`sent`; `failed` with a retry time; `dead`).

Exactly once, and its limits. A row is sent by one sender at a time: the claim is a lease under a
random claim token, renewed every third of the lease while the batch is held (by a keeper thread, so
also while a send is in flight, and before each send when the keeper is late), and every change after
the claim is guarded by the token (storage.OutboxRepository.mark_sent / mark_failed / release / renew).
A sender that stalled past its lease finds, before its next send, that the row is no longer its own and
leaves it alone: its late mark or release changes nothing, so a row another sender sent stays sent.
Releasing a row unsent (on stop) does not spend one of its attempts. A kill -9 loses at most the row
being sent: if the platform got it but we did not record it, the row is offered again when its lease
ends and sent a second time with the same idempotency key, which an idempotent receiver (our webhook's
`Idempotency-Key`) drops. Platforms without such a key may show that one message twice.

Channels not given (e.g. "api"/"web" users without a webhook, who fetch an inbox) are never claimed.
The rate is per process: with N processes on one database, give each 1/N of the platform's limit.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import DeliveryError, PushChannel
from storage import DEFAULT_LEASE, OutboxMessage, OutboxRepository, Repositories, utcnow

log = logging.getLogger(__name__)

DEFAULT_RATE = 20.0  # messages per second per channel
DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE = 5.0  # seconds before the first retry; doubles with each attempt
BACKOFF_CAP = 3600.0
CLAIM_SECONDS = 0.5  # claim about this long's worth of messages at a time
BURST_SECONDS = 0.1  # after a stall, catch up with at most this long's worth of messages at once
MAX_CLAIM = 100

Clock = Callable[[], datetime]
# Called in the transaction that marks a message dead, e.g. bot.channels.registry.requeue_fallback
# (offer it to the same person's contact on another channel).
DeadHook = Callable[[Repositories, OutboxMessage], object]


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up (default: BURST_SECONDS' worth, at least 2);
    starts with one, so no burst at start. Over any window of t seconds at most rate * t + capacity
    are handed out. Thread-safe."""

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = rate
        self.capacity = max(1.0, capacity) if capacity is not None else max(2.0, rate * BURST_SECONDS)
        self._tokens = 1.0
        self._at = time.monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event) -> bool:
        """Take one token, waiting as long as needed; False if `stop` was set while waiting."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if now >= self._paused_until and self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return True
                wait = max(self._paused_until - now, (1.0 - self._tokens) / self.rate)
            if stop.wait(wait):
                return False

    def refund(self) -> None:
        """Give back a token taken but not used."""
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + 1.0)

    def pause(self, seconds: float) -> None:
        """Hand out nothing for `seconds` (the platform said: slow down)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._tokens = 0.0


class Sender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, PushChannel],
        *,
        rates: Mapping[str, float],
        worker: str,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        lease: timedelta = DEFAULT_LEASE,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        default_rate: float = DEFAULT_RATE,
        jitter: Callable[[], float] = random.random,
        on_dead: DeadHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = dict(channels)
        self.rates = {name: float(rates.get(name, default_rate)) for name in self.channels}
        self.worker = worker
        self.max_attempts = max_attempts
        self.lease = lease
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.jitter = jitter
        self.on_dead = on_dead
        self.buckets = {name: TokenBucket(rate) for name, rate in self.rates.items()}
        self._locks = {name: threading.Lock() for name in self.channels}
        self._threads: dict[str, threading.Thread] = {}
        self._stop = threading.Event()

    # -- running -----------------------------------------------------------------------------------

    def drain(self, now: datetime | None = None) -> int:
        """Send everything due on every channel (one thread per channel); returns how many were delivered.

        `now` is the time of the first claim (later ones add the time elapsed); default: the clock.
        """
        clock = _clock_from(now)
        results: dict[str, int] = {}

        def run(name: str) -> None:
            with self._locks[name]:
                results[name] = self._drain_channel(name, clock)

        threads = [threading.Thread(target=run, args=(name,), name=f"drain-{name}") for name in self.channels]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(results.values())

    def pump(self) -> None:
        """Start draining every channel not being drained already, without waiting (the scheduler's job)."""
        if self._stop.is_set():
            return
        for name in self.channels:
            thread = self._threads.get(name)
            if thread is not None and thread.is_alive():
                continue
            thread = threading.Thread(target=self._pump_channel, args=(name,), name=f"send-{name}", daemon=True)
            self._threads[name] = thread
            thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop sending: claimed rows not yet sent are released; waits for sends in flight."""
        self._stop.set()
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def _pump_channel(self, name: str) -> None:
        if not self._locks[name].acquire(blocking=False):
            return
        try:
            self._drain_channel(name, utcnow)
        finally:
            self._locks[name].release()

    # -- one channel -------------------------------------------------------------------------------

    def _claim_size(self, name: str) -> int:
        return max(1, min(MAX_CLAIM, int(self.rates[name] * CLAIM_SECONDS)))

    def _drain_channel(self, name: str, clock: Clock) -> int:
        channel, bucket = self.channels[name], self.buckets[name]
        delivered = 0
        # A token is in hand before each claim, so the first row of a batch is sent right after it.
        while bucket.acquire(self._stop):
            with self.sessions.begin() as session:
                batch = OutboxRepository(session).claim_batch(
                    name, self._claim_size(name), self.worker, clock(), lease=self.lease
                )
            if not batch:
                bucket.refund()
                break
            with Lease(self, batch, clock) as lease:
                for i, message in enumerate(batch):
                    if self._stop.is_set() or (i > 0 and not bucket.acquire(self._stop)):
                        self._release(lease.unsent(), clock())
                        return delivered
                    if not lease.holds(message):  # claimed by another sender after our lease ran out
                        log.warning("push %s: claim lost before sending; left to its new holder",
                                    message.idempotency_key)
                        bucket.refund()
                        continue
                    delivered += self._deliver(channel, bucket, message, clock)
                    lease.done(message)
        return delivered

    def _deliver(self, channel: PushChannel, bucket: TokenBucket, message: OutboxMessage, clock: Clock) -> int:
        try:
            channel.send(message.address, message.payload, key=message.idempotency_key)
        except DeliveryError as e:
            if e.retry_after:
                bucket.pause(e.retry_after)
            self._failed(message, str(e), retry=e.retry, retry_after=e.retry_after, now=clock())
            return 0
        except Exception as e:  # a bug in a channel must not stop the others; recorded, retried, then dead
            log.exception("channel %s raised while sending %s", channel.name, message.idempotency_key)
            self._failed(message, f"{type(e).__name__}: {e}", retry=True, retry_after=None, now=clock())
            return 0
        with self.sessions.begin() as session:
            if not OutboxRepository(session).mark_sent(message, now=clock()):
                log.warning("push %s sent, but its claim was lost meanwhile (another sender holds it)",
                            message.idempotency_key)
        return 1

    def _failed(
        self, message: OutboxMessage, error: str, *, retry: bool, retry_after: float | None, now: datetime
    ) -> None:
        retry_at = None
        if retry and message.attempts < self.max_attempts:
            retry_at = now + timedelta(seconds=self.backoff(message.attempts, retry_after))
        log.warning(
            "push %s (attempt %d) failed: %s; %s",
            message.idempotency_key,
            message.attempts,
            error,
            f"retry at {retry_at.isoformat()}" if retry_at else "giving up",
        )
        with self.sessions.begin() as session:
            marked = OutboxRepository(session).mark_failed(message, error=error, retry_at=retry_at)
            if marked and retry_at is None and self.on_dead is not None:
                self.on_dead(Repositories(session), message)

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next attempt: exponential with jitter (50-100 %), never before Retry-After."""
        exponential = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        return max(retry_after or 0.0, exponential * (0.5 + self.jitter() / 2))

    def _release(self, messages: list[OutboxMessage], now: datetime) -> None:
        """Give claimed rows back unsent (stopping), due now, their attempt not spent; rows whose claim was
        lost are left to their new holder."""
        if not messages:
            return
        with self.sessions.begin() as session:
            OutboxRepository(session).release(messages, now=now)


class Lease:
    """The rows of one claimed batch while a sender works through it: renewed every third of the lease by
    a keeper thread (also while a send is in flight), and checked before each send. A row that a renewal
    no longer finds under our claim is lost: it is not sent, marked or released by us."""

    def __init__(self, sender: Sender, batch: list[OutboxMessage], clock: Clock) -> None:
        self.sender = sender
        self.clock = clock
        self.every = sender.lease.total_seconds() / 3
        self._held = {message.id: message for message in batch}
        self._lost: set[int] = set()
        self._renewed = time.monotonic()
        self._lock = threading.Lock()
        self._renewing = threading.Lock()
        self._closed = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name=f"lease-{sender.worker}", daemon=True)

    def __enter__(self) -> Lease:
        self._keeper.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self._keeper.join()

    def _keep(self) -> None:
        while not self._closed.wait(self.every):
            try:
                self.renew()
            except Exception:  # the database may be away for a moment; the next round tries again
                log.exception("renewing the lease of %d pushes failed", len(self._held))

    def renew(self) -> None:
        """Extend the lease of every row still held; those no longer under our claim become lost."""
        with self._renewing:
            started = time.monotonic()
            with self._lock:
                messages = list(self._held.values())
            if not messages:
                return
            with self.sender.sessions.begin() as session:
                kept = OutboxRepository(session).renew(messages, now=self.clock(), lease=self.sender.lease)
            with self._lock:
                for message in messages:
                    if message.id not in kept and self._held.pop(message.id, None) is not None:
                        self._lost.add(message.id)
                self._renewed = started

    def holds(self, message: OutboxMessage) -> bool:
        """Whether the row is still ours to send, renewing first if the last renewal is a third of the lease
        old (the keeper is late: a loaded machine, a long pause)."""
        if time.monotonic() - self._renewed >= self.every:
            self.renew()
        with self._lock:
            return message.id in self._held

    def done(self, message: OutboxMessage) -> None:
        """The row is finished (sent, failed or dead): no longer renewed."""
        with self._lock:
            self._held.pop(message.id, None)

    def unsent(self) -> list[OutboxMessage]:
        """The rows still held, in id order (what to release when stopping)."""
        with self._lock:
            return sorted(self._held.values(), key=lambda message: message.id)


def _clock_from(now: datetime | None) -> Clock:
    if now is None:
        return utcnow
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)

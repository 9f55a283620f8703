"""Crash tests with real processes on a real PostgreSQL: `kill -9` the worker while it sends.

2,000 due reminders are created through the repositories; `qingshen run` (on a clock moved to a
working morning, serving on a free loopback port) pushes them through the webhook channel to a local
receiver that, like a real idempotent receiver, accepts each Idempotency-Key once. A process is
killed with SIGKILL five times at random moments and restarted; alone, then with two at once.
Then, once the outbox is drained: every key was accepted, none is missing, and re-sends (attempts
beyond one per key) number at most one per kill, the message in flight when it died.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.testsink import WebhookSink
from storage import Repositories, make_engine, reminder_key, session_factory
from tests.reminders.reminder_kit import KINDS, add_milestone, add_site, at

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("worker_at.py")
REMINDERS = 2000
KILLS = 5
DAY = date(2026, 3, 2)  # a Monday
FAKE_NOW = at(DAY, 10)
DRAIN_TIMEOUT = 120.0
COMMAND = ("run", "--host", "127.0.0.1", "--port", "0")  # `qingshen run`; ("worker",) for bot.worker


@dataclass
class Run:
    sessions: sessionmaker[Session]
    url: str
    keys: set[str]
    sink: WebhookSink
    logs: Path


@pytest.fixture
def run(pg_migrated_url: str, tmp_path: Path) -> Iterator[Run]:
    engine = make_engine(pg_migrated_url)
    sessions = session_factory(engine)
    keys: set[str] = set()
    with sessions.begin() as session:
        repos = Repositories(session)
        made = 0
        n = 0
        while made < REMINDERS:
            site = add_site(repos, f"企业{n}")
            n += 1
            for kind in KINDS[: min(len(KINDS), REMINDERS - made)]:
                m = add_milestone(repos, site, DAY, kind=kind, reminders=[("on_day", DAY)])
                [reminder] = repos.reminders.list_by_milestone(m.id)
                keys.add(reminder_key(reminder.id, site.contacts[0].id))
                made += 1
    with WebhookSink() as sink:
        yield Run(sessions, pg_migrated_url, keys, sink, tmp_path)
    engine.dispose()


class Workers:
    """Worker processes on one shared, moved clock, their output in files."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.epoch = time.time()
        self.started = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QINGSHEN_")}
        self.env.update(
            PYTHONPATH=str(ROOT),
            QINGSHEN_DATABASE_URL=run.url,
            QINGSHEN_WEBHOOK_URL=run.sink.url,
            QINGSHEN_SEND_RATE="400",
            QINGSHEN_SWEEP_SECONDS="1",
            QINGSHEN_SEND_SECONDS="0.2",
            # Generous enough for a loaded machine: a webhook call that times out is retried (a re-send
            # the kills did not cause), and a lease that lapses while its batch is held is another.
            QINGSHEN_SEND_LEASE_SECONDS="8",
            QINGSHEN_WEBHOOK_TIMEOUT="3",
        )

    def start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.run.logs / f"worker{self.started}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, str(LAUNCHER), FAKE_NOW.isoformat(), repr(self.epoch), *COMMAND],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )

    def logs(self) -> str:
        tails = []
        for path in sorted(self.run.logs.glob("worker*.log")):
            tails.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(tails)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{workers.logs()}")
        time.sleep(0.02)


def outbox_counts(run: Run) -> dict[str, int]:
    with run.sessions() as session:
        return Repositories(session).outbox.count_by_status()


def crash_and_recover(run: Run, processes: int, rng: random.Random) -> tuple[int, int]:
    workers = Workers(run)
    alive = [workers.start() for _ in range(processes)]
    try:
        # First kill: as soon as the sweep has committed a batch (it may be in its next one, or sending).
        wait_for(lambda: sum(outbox_counts(run).values()) > 0, 30, "the first sweep batch", workers)
        for kill in range(KILLS):
            if kill:
                target = run.sink.count_accepted() + rng.randint(1, 120)
                wait_for(lambda t=target: run.sink.count_accepted() >= min(t, REMINDERS), 30,  # type: ignore[misc]
                         "deliveries before a kill", workers)
            time.sleep(rng.uniform(0, 0.3))
            victim = rng.randrange(len(alive))
            alive[victim].send_signal(signal.SIGKILL)
            alive[victim].wait(10)
            alive[victim] = workers.start()
        wait_for(lambda: outbox_counts(run) == {"sent": len(run.keys)}, DRAIN_TIMEOUT, "the outbox to drain",
                 workers)
    finally:
        for process in alive:
            process.send_signal(signal.SIGTERM)
        for process in alive:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    attempts = sum(run.sink.attempts_by_key().values())
    return attempts, run.sink.count_accepted()


def check(run: Run, attempts: int, unique: int, label: str) -> None:
    by_key = run.sink.attempts_by_key()
    print(f"\n{label}: {len(run.keys)} reminders, {attempts} deliveries attempted, {unique} unique keys accepted, "
          f"{attempts - unique} re-sent after {KILLS} kills")
    assert run.sink.accepted_keys() == run.keys  # none missing, none foreign
    assert set(by_key) == run.keys
    assert attempts - unique <= KILLS  # at most the one message in flight per kill
    with run.sessions() as session:
        repos = Repositories(session)
        assert repos.reminders.count_by_status() == {"queued": len(run.keys)}
        assert repos.outbox.count_by_status() == {"sent": len(run.keys)}


def test_one_worker_killed_five_times_delivers_every_reminder_once(run: Run) -> None:
    rng = random.Random(int(os.environ.get("QINGSHEN_CRASH_SEED", "20260302")))
    attempts, unique = crash_and_recover(run, 1, rng)
    check(run, attempts, unique, "one worker")


def test_two_workers_at_once_killed_five_times_deliver_every_reminder_once(run: Run) -> None:
    rng = random.Random(int(os.environ.get("QINGSHEN_CRASH_SEED", "20260302")) + 1)
    attempts, unique = crash_and_recover(run, 2, rng)
    check(run, attempts, unique, "two workers")

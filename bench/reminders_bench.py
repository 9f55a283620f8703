"""Reminders on PostgreSQL: does a sweep cost what is due, not what is stored? And the sender's rate.

1. Sweep: 1,000,000 pending reminders of which 10,000 are due, then 10,000 pending all due; the time
   of a full sweep (claim, load, word, queue 10,000 outbox rows, mark; batches of 1,000) and of the
   claim query alone (`claim_due` of 10,000, rolled back). The ratio large/small should be <= 1.5, and
   10,000 due reminders should take <= 0.5 s (issue 14, item 4).
2. Sender: 2,000 messages through the webhook channel to a local receiver under a 200/s limit; the
   achieved rate as a fraction of the limit should be >= 0.95, and no second may see more than the
   limit plus the token bucket's burst (10 %).

Needs $QINGSHEN_TEST_PG_URL (`make bench` runs under scripts/with-postgres); skipped without it.
Each part runs in its own throwaway database.
"""

from __future__ import annotations

import bisect
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.testsink import WebhookSink
from bot.channels.webhook import WebhookChannel
from bot.sender import Sender
from bot.sweep import sweep
from handlers.reminders import ReminderPolicy
from storage import OutboxRepository, Repositories, make_engine, session_factory, upgrade

PG_URL_ENV = "QINGSHEN_TEST_PG_URL"
DAY = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
KINDS = ("before_30", "before_7", "before_1", "on_day", "overdue_1", *(f"overdue_w{n}" for n in range(1, 9)))
MILESTONES_PER_CYCLE = 7
DUE = 10_000
LARGE = 1_000_000
REPEATS = 3
SEND_LIMIT = 200.0
SEND_MESSAGES = 2_000


@contextmanager
def scratch_database(admin: Engine) -> Iterator[str]:
    name = f"qs_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin.url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def populate(engine: Engine, total: int, due: int, per_milestone: int) -> None:
    """`total` pending reminders, `per_milestone` to a milestone, of which the first reminder of the
    `due` first milestones is due on DAY and every other one later.

    Every cycle is its own enterprise with one reachable contact, so each due reminder is one message.
    """
    milestones = -(-total // per_milestone)
    cycles = -(-milestones // MILESTONES_PER_CYCLE)
    params = {"cycles": cycles, "milestones": milestones, "total": total, "due": due, "day": DAY,
              "kinds": list(KINDS), "per": MILESTONES_PER_CYCLE, "k": per_milestone}
    statements = [
        "INSERT INTO enterprises (id, name, created_at, updated_at)"
        " SELECT g, '企业' || g, now(), now() FROM generate_series(1, :cycles) g",
        "INSERT INTO contacts (id, channel, user_id, enterprise_id, locale, timezone, consented_at, preferred,"
        " created_at) SELECT g, 'api', 'u' || g, g, 'zh_CN', 'Asia/Shanghai', now(), false, now()"
        " FROM generate_series(1, :cycles) g",
        "INSERT INTO audit_cycles (id, enterprise_id, list_published_on, source, grounds, created_at)"
        " SELECT g, g, date '2025-06-30', 'chat', '[]', now() FROM generate_series(1, :cycles) g",
        "INSERT INTO milestones (id, cycle_id, kind, nominal, due, citation, note)"
        " SELECT g, (g - 1) / :per + 1,"
        " (ARRAY['disclosure','start','report','evaluation','acceptance','reaudit','review'])[(g - 1) % :per + 1],"
        " :day + 30, :day + 30, '第十一条', '' FROM generate_series(1, :milestones) g",
        "INSERT INTO reminders (milestone_id, kind, send_on, status, created_at)"
        " SELECT m, (CAST(:kinds AS text[]))[k],"
        " CASE WHEN k = 1 AND m <= :due THEN :day ELSE :day + 1 + ((m * 13 + k * 7) % 400) END,"
        " 'pending', now()"
        " FROM generate_series(1, :milestones) m CROSS JOIN generate_series(1, :k) k"
        " WHERE (m - 1) * :k + k <= :total",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)
        for table in ("enterprises", "contacts", "audit_cycles", "milestones"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            connection.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    vacuum(engine)


def vacuum(engine: Engine) -> None:
    """VACUUM ANALYZE (what autovacuum would have done by then), and a CHECKPOINT so that the bulk
    load's writes do not land inside a timing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        connection.execute(text("CHECKPOINT"))


def reset(engine: Engine) -> None:
    """Back to the state before the sweep: the due reminders pending again, the outbox empty."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE reminders SET status = 'pending', queued_at = NULL WHERE status <> 'pending'"))
        connection.execute(text("DELETE FROM outbox"))
    vacuum(engine)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(admin: Engine, total: int, per_milestone: int) -> dict[str, Any]:
    with scratch_database(admin) as url:
        engine = make_engine(url)
        sessions = session_factory(engine)
        try:
            started = time.perf_counter()
            populate(engine, total, DUE, per_milestone)
            populate_s = time.perf_counter() - started
            claims, sweeps = [], []
            for _ in range(REPEATS):
                claims.append(timed(lambda: claim_only(sessions)))
                result: dict[str, Any] = {}

                def run_sweep(out: dict[str, Any] = result) -> None:
                    out["result"] = sweep(sessions, now=NOW, policy=ReminderPolicy())

                sweeps.append(timed(run_sweep))
                assert result["result"].messages == DUE, result
                reset(engine)
        finally:
            engine.dispose()
    return {
        "pending": total,
        "due": DUE,
        "populate_s": round(populate_s, 1),
        "claim_s": round(statistics.median(claims), 4),
        "sweep_s": round(statistics.median(sweeps), 3),
    }


def claim_only(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        claimed = Repositories(session).reminders.claim_due(DAY, DUE)
        assert len(claimed) == DUE, len(claimed)
        session.rollback()


def sender_rate(admin: Engine) -> dict[str, Any]:
    with scratch_database(admin) as url, WebhookSink() as sink:
        engine = make_engine(url)
        sessions = session_factory(engine)
        try:
            with sessions.begin() as session:
                outbox = OutboxRepository(session)
                for n in range(SEND_MESSAGES):
                    outbox.add_if_absent(f"bench:{n}", channel="api", address=f"u{n}", payload={"text": "提醒"},
                                         not_before=NOW - timedelta(seconds=1))
            channel = WebhookChannel(sink.url, timeout=5)
            sender = Sender(sessions, {"api": channel}, rates={"api": SEND_LIMIT}, worker="bench")
            started = time.perf_counter()
            sent = sender.drain(NOW)
            elapsed = time.perf_counter() - started
            channel.close()
        finally:
            engine.dispose()
    times = sorted(a.at for a in sink.accepted())
    steady = (len(times) - 1) / (times[-1] - times[0])
    busiest = max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
    return {
        "messages": sent,
        "limit_per_s": SEND_LIMIT,
        "achieved_per_s": round(sent / elapsed, 1),
        "fraction_of_limit": round(sent / elapsed / SEND_LIMIT, 3),
        "receiver_steady_per_s": round(steady, 1),
        "most_in_any_second": busiest,
        "unique_accepted": sink.count_accepted(),
    }


def run() -> dict[str, Any]:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        return {"skipped": f"{PG_URL_ENV} is not set: run under scripts/with-postgres (make bench)"}
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        send = sender_rate(admin)
        large = measure(admin, LARGE, len(KINDS))
        small = measure(admin, DUE, 1)
    finally:
        admin.dispose()
    return {
        "sweep_large": large,
        "sweep_small": small,
        "sweep_ratio": round(large["sweep_s"] / small["sweep_s"], 3),
        "claim_ratio": round(large["claim_s"] / small["claim_s"], 3),
        "sender": send,
        "target": {"sweep_ratio_max": 1.5, "sender_fraction_min": 0.95, "sweep_small_s_max": 0.5},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), ensure_ascii=False, indent=2))

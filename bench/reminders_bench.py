"""Reminders: does a sweep cost what is due, not what is stored? And the sender's rate.

1. Sweep, on SQLite and on PostgreSQL: 1,000,000 pending reminders of which 10,000 are due, then 10,000
   pending all due; the time of a full sweep (claim, load, word, queue 10,000 outbox rows, mark; batches
   of 1,000) and of the claim statement alone (`claim_due_as_queued` of 10,000, rolled back), each the median of
   3 runs with their min and max, and the machine's load average while it ran. The ratio large/small
   should be <= 1.5, and 10,000 due reminders should take <= 0.5 s (issue 14, item 4).
2. Sender (PostgreSQL): 2,000 messages through the webhook channel to a local receiver under a 200/s
   limit; the achieved rate as a fraction of the limit should be >= 0.95, and no second may see more than
   the limit plus the token bucket's burst (10 %).

The PostgreSQL parts need $QINGSHEN_TEST_PG_URL (`make bench` runs under scripts/with-postgres) and are
skipped without it. Each part runs in its own throwaway database.
"""

from __future__ import annotations

import bisect
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
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
MILESTONE_KINDS = ("disclosure", "start", "report", "evaluation", "acceptance", "reaudit", "review")
MILESTONES_PER_CYCLE = len(MILESTONE_KINDS)
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


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="qs_bench_") as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        upgrade(url)
        yield url


def _case(expression: str, values: tuple[str, ...]) -> str:
    """`CASE expression WHEN 1 THEN 'values[0]' ...`: the n-th of constant names, in either dialect."""
    whens = " ".join(f"WHEN {n} THEN '{value}'" for n, value in enumerate(values, 1))
    return f"CASE {expression} {whens} END"


def populate(engine: Engine, total: int, due: int, per_milestone: int) -> None:
    """`total` pending reminders, `per_milestone` to a milestone, of which the first reminder of the
    `due` first milestones is due on DAY and every other one later.

    Every cycle is its own enterprise with one reachable contact, so each due reminder is one message.
    """
    milestones = -(-total // per_milestone)
    cycles = -(-milestones // MILESTONES_PER_CYCLE)
    sqlite = engine.dialect.name == "sqlite"  # dates and instants as SQLite's storage keeps them: ISO text
    params: dict[str, Any] = {
        "cycles": cycles, "milestones": milestones, "total": total, "due": due, "per": MILESTONES_PER_CYCLE,
        "k": per_milestone, "day": DAY.isoformat() if sqlite else DAY,
        "nominal": (DAY + timedelta(days=30)).isoformat() if sqlite else DAY + timedelta(days=30),
        "now": NOW.replace(tzinfo=None).isoformat(sep=" "),
    }
    if engine.dialect.name == "postgresql":
        def series(n: str, name: str) -> str:
            return f"(SELECT v AS {name} FROM generate_series(1, {n}) AS v) AS {name}_t"

        later = ":day + 1 + ((m * 13 + k * 7) % 400)"
        now = "now()"
    else:  # SQLite: a recursive CTE for the series, date() for the arithmetic, UTC text for instants
        def series(n: str, name: str) -> str:
            return (f"(WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < {n})"
                    f" SELECT v AS {name} FROM s) AS {name}_t")

        later = "date(:day, '+' || (1 + ((m * 13 + k * 7) % 400)) || ' days')"
        now = ":now"
    statements = [
        f"INSERT INTO enterprises (id, name, created_at, updated_at)"
        f" SELECT g, '企业' || g, {now}, {now} FROM {series(':cycles', 'g')}",
        f"INSERT INTO contacts (id, channel, user_id, enterprise_id, locale, timezone, consented_at, preferred,"
        f" created_at) SELECT g, 'api', 'u' || g, g, 'zh_CN', 'Asia/Shanghai', {now}, false, {now}"
        f" FROM {series(':cycles', 'g')}",
        f"INSERT INTO audit_cycles (id, enterprise_id, list_published_on, source, grounds, created_at)"
        f" SELECT g, g, '2025-06-30', 'chat', '[]', {now} FROM {series(':cycles', 'g')}",
        f"INSERT INTO milestones (id, cycle_id, kind, nominal, due, citation, note)"
        f" SELECT g, (g - 1) / :per + 1, {_case('(g - 1) % :per + 1', MILESTONE_KINDS)},"
        f" :nominal, :nominal, '第十一条', '' FROM {series(':milestones', 'g')}",
        f"INSERT INTO reminders (milestone_id, kind, send_on, status, created_at)"
        f" SELECT m, {_case('k', KINDS)}, CASE WHEN k = 1 AND m <= :due THEN :day ELSE {later} END,"
        f" 'pending', {now} FROM {series(':milestones', 'm')} CROSS JOIN {series(':k', 'k')}"
        f" WHERE (m - 1) * :k + k <= :total",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)
        if engine.dialect.name == "postgresql":
            for table in ("enterprises", "contacts", "audit_cycles", "milestones"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    vacuum(engine)


def vacuum(engine: Engine) -> None:
    """VACUUM ANALYZE (what autovacuum would have done by then), and a CHECKPOINT so that the bulk
    load's writes do not land inside a timing; on SQLite ANALYZE and a WAL checkpoint."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # the driver's connection is in autocommit mode (storage.db)
        try:
            raw.driver_connection.execute("ANALYZE")
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return
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


def spread(values: list[float], digits: int) -> dict[str, float]:
    """The median of the runs with their min and max."""
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def server_cpu(engine: Engine) -> Callable[[], float | None]:
    """The CPU seconds (user + system, from /proc) so far of the PostgreSQL backends serving the pool's
    connections (the sweep's transactions run on up to bot.sweep.DEFAULT_WORKERS of them at once), or
    None (SQLite runs in this process, or /proc is not readable). Each reading returns the sum over the
    backends connected to the database at that moment; the sweep's pool keeps its connections, so the
    difference of two readings is their work in between (a backend started in between counts from zero,
    since the readings are summed per backend: see `measure`)."""
    if engine.dialect.name != "postgresql":
        return lambda: None
    ticks = os.sysconf("SC_CLK_TCK")
    seen: dict[int, float] = {}

    def read() -> float | None:
        with engine.connect() as connection:
            pids = connection.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend'").scalars().all()
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            seen[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime; a gone backend keeps its last
        return sum(seen.values())

    return read


def measure(database: Callable[[], Any], total: int, per_milestone: int) -> dict[str, Any]:
    """Populate a fresh database, then REPEATS times: the claim alone, a full sweep (its wall time, this
    process's CPU time and, on PostgreSQL, the database backend's), a reset."""
    with database() as url:
        engine = make_engine(url)
        sessions = session_factory(engine)
        try:
            started = time.perf_counter()
            populate(engine, total, DUE, per_milestone)
            populate_s = time.perf_counter() - started
            claims, sweeps, cpus, servers = [], [], [], []
            backend = server_cpu(engine)
            load_before = os.getloadavg()[0]
            for _ in range(REPEATS):
                claims.append(timed(lambda: claim_only(sessions)))
                server_before, cpu_before = backend(), time.process_time()
                started = time.perf_counter()
                result = sweep(sessions, now=NOW, policy=ReminderPolicy())
                sweeps.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu_before)
                server_after = backend()
                if server_before is not None and server_after is not None:
                    servers.append(server_after - server_before)
                assert result.messages == DUE, result
                reset(engine)
            load_after = os.getloadavg()[0]
        finally:
            engine.dispose()
    figures = {
        "pending": total,
        "due": DUE,
        "runs": REPEATS,
        "populate_s": round(populate_s, 1),
        "claim_s": spread(claims, 4),
        "sweep_s": spread(sweeps, 3),
        "sweep_cpu_s": spread(cpus, 3),  # this process (on SQLite the database's work too)
        "load_1min": [round(load_before, 2), round(load_after, 2)],  # before and after the runs
    }
    if servers:
        figures["sweep_server_cpu_s"] = spread(servers, 3)
    return figures


def claim_only(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        claimed = Repositories(session).reminders.claim_due_as_queued(DAY, DUE, at=NOW)  # the sweep's claim
        assert len(claimed) == DUE, len(claimed)
        session.rollback()


def sweeps(database: Callable[[], Any]) -> dict[str, Any]:
    """The sweep of DUE reminders among LARGE pending and among DUE pending, on one backend."""
    large = measure(database, LARGE, len(KINDS))
    small = measure(database, DUE, 1)
    return {
        "sweep_large": large,
        "sweep_small": small,
        "sweep_ratio": round(large["sweep_s"]["median"] / small["sweep_s"]["median"], 3),
        "claim_ratio": round(large["claim_s"]["median"] / small["claim_s"]["median"], 3),
    }


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
    report: dict[str, Any] = {"sqlite": sweeps(scratch_sqlite)}
    url = os.environ.get(PG_URL_ENV)
    if not url:
        report["postgresql"] = {"skipped": f"{PG_URL_ENV} is not set: run under scripts/with-postgres (make bench)"}
    else:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            report["sender"] = sender_rate(admin)
            report["postgresql"] = sweeps(lambda: scratch_database(admin))
        finally:
            admin.dispose()
    report["target"] = {"sweep_ratio_max": 1.5, "sender_fraction_min": 0.95, "sweep_small_s_max": 0.5}
    return report


if __name__ == "__main__":
    import json

    print(json.dumps(run(), ensure_ascii=False, indent=2))

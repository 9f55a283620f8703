"""The sweep's SQL statements do not grow with the number of due reminders (issue 14, item 4).

An SQLAlchemy event counter on the engine counts every statement the driver runs during a sweep of N
due reminders, for N = 10 and N = 200, on SQLite and PostgreSQL. Every branch of the sweep is in the
mix (queued to one or to two contacts, one person on two channels, superseded, cancelled as done,
overdue with its next weekly reminder planned), so a per-reminder query hiding in any of them shows as
a count that grows. A count, not a timing: speed is measured by `make bench` (bench/reminders_bench.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.sweep import SweepResult, sweep
from handlers.reminders import ReminderPolicy
from storage import Repositories
from tests.reminders.reminder_kit import add_contact, add_milestone, add_site, at

POLICY = ReminderPolicy()
MONDAY = date(2026, 3, 2)
TEN = at(MONDAY, 10)
PATTERNS = 5


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL of every statement sent to the driver while the block runs (an executemany is one)."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def plan(sessions: sessionmaker[Session], n: int, tag: str) -> SweepResult:
    """N due reminders (reminder i follows pattern i % PATTERNS) and the sweep's result they should give."""
    expected = SweepResult()
    with sessions.begin() as session:
        repos = Repositories(session)
        for i in range(n):
            pattern = i % PATTERNS
            site = add_site(repos, f"{tag}{i}", users=("a", "b") if pattern == 1 else ("a",))
            if pattern == 0:  # one contact, one message
                add_milestone(repos, site, MONDAY, reminders=[("on_day", MONDAY)])
                expected += SweepResult(claimed=1, queued=1, messages=1)
            elif pattern == 1:  # two contacts, and an older due reminder superseded by the latest
                add_milestone(repos, site, MONDAY, reminders=[("before_1", MONDAY - timedelta(days=3)),
                                                              ("on_day", MONDAY)])
                expected += SweepResult(claimed=2, queued=1, messages=2, superseded=1)
            elif pattern == 2:  # done: cancelled, no message
                done = add_milestone(repos, site, MONDAY, reminders=[("on_day", MONDAY)])
                repos.milestones.mark_done(done, at=TEN - timedelta(days=1))
                expected += SweepResult(claimed=1, cancelled=1)
            elif pattern == 3:  # overdue: sent, and the next weekly reminder planned
                add_milestone(repos, site, MONDAY - timedelta(days=9), reminders=[("overdue_w1", MONDAY)])
                expected += SweepResult(claimed=1, queued=1, messages=1)
            else:  # one person on two channels: once, on the preferred one
                telegram = add_contact(repos, site.enterprise_id, f"{tag}{i}-tg", channel="telegram")
                for contact in (site.contacts[0], telegram):
                    repos.contacts.update_display_name(contact, "张三")
                repos.contacts.update_settings(telegram, preferred=True)
                add_milestone(repos, site, MONDAY, reminders=[("on_day", MONDAY)])
                expected += SweepResult(claimed=1, queued=1, messages=1)
    return expected


def test_statements_per_sweep_do_not_grow_with_due_reminders(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    counts = {}
    for n, tag in ((10, "小"), (200, "大")):
        expected = plan(sessions, n, tag)
        with counted(engine) as statements:
            result = sweep(sessions, now=TEN, policy=POLICY)
        assert result == expected  # the sweep did all of it, so the count covers all of it
        counts[n] = statements
    assert len(counts[10]) == len(counts[200]), (counts[10], counts[200])
    # The zones, then one batch: claim (which marks the claimed reminders queued), load, plan the weekly
    # reminders, write the outbox, set the statuses of the ones not sent (superseded, cancelled), and
    # the claim that finds nothing (BEGINs on SQLite). On PostgreSQL transactions at once (bot.sweep's
    # _overlapped): the second claims after the first's last key and finds nothing, then the pass from the
    # first due key finds nothing either.
    postgresql = engine.dialect.name == "postgresql"
    writes = [s for s in counts[200] if not s.startswith("BEGIN")]
    assert len(writes) == (9 if postgresql else 8), writes
    claims = [s for s in writes if s.startswith("WITH candidates")]
    assert len(claims) == (3 if postgresql else 2), claims
    assert all(") UPDATE reminders SET status=" in s for s in claims), claims
    keyset = [s for s in claims if "(reminders.send_on, reminders.id) >" in s]
    assert len(keyset) == (1 if postgresql else 0), claims
    with sessions() as session:  # the next weekly reminders were written, one per overdue milestone
        assert Repositories(session).reminders.count_by_status()["pending"] == (10 + 200) // PATTERNS


def test_the_sweeps_plain_rows_say_what_the_orm_objects_say(sessions: sessionmaker[Session]) -> None:
    """load_due (Core rows, the sweep's) and list_due_milestones (ORM objects) agree, field by field."""
    with sessions.begin() as session:
        repos = Repositories(session)
        site = add_site(repos, "甲", users=("a", "b"))
        add_contact(repos, site.enterprise_id, "no-consent", consented=False)
        add_contact(repos, site.enterprise_id, "left", unsubscribed=True)
        repos.contacts.update_settings(site.contacts[1], preferred=True)
        nobody = add_site(repos, "乙", users=())
        ids = [add_milestone(repos, site, MONDAY, kind=kind).id for kind in ("disclosure", "start")]
        done = add_milestone(repos, nobody, MONDAY)
        repos.milestones.mark_done(done, at=TEN)
        repos.milestones.snooze(done, MONDAY)
        ids.append(done.id)
    with sessions() as session:
        reminders = Repositories(session).reminders
        rows, objects = reminders.load_due(ids), reminders.list_due_milestones(ids)
        assert sorted(rows) == sorted(objects) == sorted(ids)
        for milestone_id, row in rows.items():
            orm = objects[milestone_id]
            m = orm.milestone
            assert (row.id, row.cycle_id, row.kind, row.nominal, row.due, row.note, row.citation, row.done_at,
                    row.snoozed_until) == (m.id, m.cycle_id, m.kind, m.nominal, m.due, m.note, m.citation,
                                           m.done_at, m.snoozed_until)
            assert (row.cycle_superseded_at, row.enterprise_id, row.enterprise_name) == (
                orm.cycle.superseded_at, orm.enterprise.id, orm.enterprise.name)
            assert [tuple(c) for c in row.contacts] == [
                (c.id, c.channel, c.user_id, c.locale, c.timezone, c.preferred, c.enterprise_id, c.display_name)
                for c in orm.contacts]
        assert [c.user_id for c in rows[ids[0]].contacts] == ["甲-b", "甲-a"]  # preferred first, reachable only
        assert rows[done.id].contacts == () and rows[done.id].done_at == TEN
        assert reminders.load_due([]) == {}


def test_the_claim_reads_a_milestones_pending_reminders_by_index(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """The claim's UPDATE finds a locked milestone's due reminders in ix_reminders_pending_milestone (its pending
    ones), not through uq_reminders_milestone_id_kind (every reminder it ever had); on PostgreSQL the table keeps
    half of each page free for the claimed reminders' new versions (migration 0010)."""
    with sessions.begin() as session:
        repos = Repositories(session)
        for n in range(150):  # 150 due, a batch of 5: looking up 5 milestones' reminders beats hashing 150
            site = add_site(repos, f"企业{n}")
            add_milestone(repos, site, MONDAY, reminders=[(f"k{k}", MONDAY + timedelta(days=k)) for k in range(12)])
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE reminders")
            options = connection.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'reminders'").scalar()
            assert options == ["fillfactor=50"]
        else:
            connection.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("WITH candidates"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with sessions() as session:
            assert len(Repositories(session).reminders.claim_due_as_queued(MONDAY, 5, at=TEN)) == 5
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    [(statement, parameters)] = statements
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # At this size PostgreSQL's planner hashes the 150 due reminders (at the bench's 1,000,000 pending it
            # looks up each locked milestone's, as SQLite does here): the lookup it makes there, by index.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            lookup = ("EXPLAIN UPDATE reminders SET status = 'queued' WHERE milestone_id = 1"
                      " AND status = 'pending' AND send_on <= %(day)s")
            plan = "\n".join(connection.exec_driver_sql(lookup, {"day": MONDAY}).scalars())
        else:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = "\n".join(row[3] for row in rows)
        connection.rollback()
    assert "ix_reminders_pending_milestone" in plan, plan
    assert "uq_reminders_milestone_id_kind" not in plan and "sqlite_autoindex_reminders" not in plan, plan

"""Weekly overdue reminders are planned one at a time: each one the sweep sends plans the next, until
the milestone is confirmed or the policy's weeks are used up. The days are those of `schedule`."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.sweep import sweep
from handlers.reminders import ReminderPolicy, initial_reminders, schedule
from storage import Repositories, utcnow
from tests.reminders.reminder_kit import add_milestone, add_site, at

POLICY = ReminderPolicy()
NOMINAL = date(2026, 3, 31)  # a Tuesday


def _kinds(sessions: sessionmaker[Session], milestone_id: int, status: str) -> list[str]:
    with sessions() as s:
        return sorted(r.kind for r in Repositories(s).reminders.list_by_milestone(milestone_id) if r.status == status)


def test_initial_plan_keeps_one_weekly_reminder_and_the_same_days() -> None:
    full = schedule(NOMINAL, POLICY)
    first = initial_reminders(NOMINAL, POLICY, date(2026, 1, 1))
    assert [k for k, _ in first] == ["before_30", "before_7", "before_1", "on_day", "overdue_1", "overdue_w1"]
    assert set(first) <= set(full)
    late = initial_reminders(NOMINAL, POLICY, date(2026, 4, 20))      # stored already three weeks late
    assert [k for k, _ in late] == ["overdue_w3"]


def test_each_weekly_reminder_sent_plans_the_next_until_the_weeks_run_out(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        repos = Repositories(s)
        site = add_site(repos, "水泥厂")
        milestone = add_milestone(repos, site, NOMINAL, reminders=initial_reminders(NOMINAL, POLICY, date(2026, 1, 1)))
    weekly = [(k, d) for k, d in schedule(NOMINAL, POLICY) if k.startswith("overdue_w")]
    assert len(weekly) == 8
    for n, (kind, day) in enumerate(weekly, start=1):
        sweep(sessions, now=at(day, 10), policy=POLICY)
        assert kind in _kinds(sessions, milestone.id, "queued")
        pending = _kinds(sessions, milestone.id, "pending")
        assert pending == ([f"overdue_w{n + 1}"] if n < 8 else []), (kind, pending)


def test_confirming_the_milestone_ends_the_chain(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        repos = Repositories(s)
        site = add_site(repos, "焦化厂")
        milestone = add_milestone(repos, site, NOMINAL, reminders=initial_reminders(NOMINAL, POLICY, date(2026, 1, 1)))
    w1 = dict(schedule(NOMINAL, POLICY))["overdue_w1"]
    sweep(sessions, now=at(w1, 10), policy=POLICY)
    with sessions.begin() as s:
        repos = Repositories(s)
        m = repos.milestones.get_by_id(milestone.id)
        assert m is not None
        repos.milestones.mark_done(m, at=utcnow())
        repos.reminders.cancel_for_milestone(m.id)
    sweep(sessions, now=at(w1 + timedelta(days=7), 10), policy=POLICY)
    assert _kinds(sessions, milestone.id, "pending") == []

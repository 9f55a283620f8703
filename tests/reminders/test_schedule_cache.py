"""`schedule` keeps its answer per (day, policy): it is the computation's answer for every day and policy
(the same day under another policy is another key), and a caller changing the list it got changes nothing."""

from __future__ import annotations

from datetime import date, time, timedelta

from handlers.reminders import ReminderPolicy, _schedule, schedule

POLICIES = (ReminderPolicy(), ReminderPolicy(days_before=(14, 3), weekly_overdue=2),
            ReminderPolicy(on_day=False, overdue_days=0, weekly_overdue=0, send_time=time(8, 0)))


def test_the_kept_schedule_is_the_computed_one_for_every_day_and_policy() -> None:
    start = date(2025, 12, 1)  # the 2026 holidays and make-up days, and the turn of the year
    for n in range(0, 500, 3):
        nominal = start + timedelta(days=n)
        for policy in POLICIES:
            computed = list(_schedule.__wrapped__(nominal, policy))
            assert schedule(nominal, policy) == computed, (nominal, policy)
            assert schedule(nominal, policy) == computed  # and again, from the cache


def test_another_policy_is_another_answer() -> None:
    nominal = date(2026, 3, 31)
    answers = {tuple(schedule(nominal, p)) for p in POLICIES}
    assert len(answers) == len(POLICIES)
    assert [k for k, _ in schedule(nominal, POLICIES[1])] == ["before_14", "before_3", "on_day", "overdue_1",
                                                              "overdue_w1", "overdue_w2"]


def test_a_caller_cannot_change_the_kept_answer() -> None:
    nominal = date(2026, 10, 8)
    first = schedule(nominal, POLICIES[0])
    first.clear()
    assert schedule(nominal, POLICIES[0]) == list(_schedule.__wrapped__(nominal, POLICIES[0])) != []

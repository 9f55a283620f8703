"""Reminders over real calendars, with the clock moved by time-machine: holidays, make-up working days
(调休), month and year ends, downtime, and contacts in Beijing and Ürümqi time (neither has DST).

Each simulated tick moves the clock, runs the sweep as the scheduler would (`now=utcnow()`), then
"sends" every outbox row that is due, recording when it was meant to go out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.sweep import sweep
from handlers.reminders import ReminderPolicy, schedule
from rules.periods import is_working_day
from storage import OutboxMessage, Repositories, utcnow
from tests.reminders.reminder_kit import SHANGHAI, URUMQI, add_contact, add_milestone, add_site, at

POLICY = ReminderPolicy()
TICKS = (time(0, 10), time(9, 30), time(12, 0), time(20, 30))  # Beijing time


@dataclass(frozen=True)
class Sent:
    address: str
    kind: str
    slot: datetime  # when the row became due (UTC)

    def local(self, tz: ZoneInfo) -> datetime:
        return self.slot.astimezone(tz)


def days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def deliver(sessions: sessionmaker[Session], now: datetime) -> list[Sent]:
    with sessions.begin() as session:
        due = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        ).all()
        sent = [Sent(m.address, m.payload["reminder_kind"], m.next_attempt_at) for m in due]
        for m in due:
            m.status, m.sent_at = "sent", now
        return sent


def simulate(
    sessions: sessionmaker[Session], first: date, last: date, *, down: Callable[[date], bool] = lambda d: False
) -> list[Sent]:
    sent: list[Sent] = []
    for day in days(first, last):
        if down(day):
            continue
        for tick in TICKS:
            with time_machine.travel(at(day, tick.hour, tick.minute), tick=False):
                now = utcnow()
                sweep(sessions, now=now, policy=POLICY)
                sent.extend(deliver(sessions, now))
    return sent


def enterprise(sessions: sessionmaker[Session], nominal: date, *, urumqi: bool = False) -> None:
    with sessions.begin() as session:
        repos = Repositories(session)
        site = add_site(repos, "甲", users=("bj",))
        if urumqi:
            add_contact(repos, site.enterprise_id, "甲-xj", timezone="Asia/Urumqi")
        add_milestone(repos, site, nominal, reminders=schedule(nominal, POLICY))


def beijing(sent: list[Sent], address: str = "甲-bj") -> list[tuple[str, str]]:
    return [(s.kind, s.local(SHANGHAI).strftime("%Y-%m-%d %a %H:%M")) for s in sent if s.address == address]


class TestNationalDay:
    def test_2025_reminders_skip_the_holiday_and_use_the_make_up_sunday(
        self, sessions: sessionmaker[Session]
    ) -> None:
        enterprise(sessions, date(2025, 10, 5), urumqi=True)
        sent = simulate(sessions, date(2025, 9, 1), date(2025, 10, 21))
        assert beijing(sent) == [
            ("before_30", "2025-09-05 Fri 09:30"),
            ("before_7", "2025-09-28 Sun 09:30"),  # 调休: a working Sunday
            ("before_1", "2025-09-30 Tue 09:30"),  # the day before falls in the holiday: moved back
            ("on_day", "2025-10-09 Thu 09:30"),  # 1-8 October off: moved forward
            ("overdue_w1", "2025-10-13 Mon 09:30"),
            ("overdue_w2", "2025-10-20 Mon 09:30"),
        ]
        urumqi = [(s.kind, s.local(URUMQI).strftime("%m-%d %H:%M")) for s in sent if s.address == "甲-xj"]
        assert urumqi == [(k, f"{when[5:10]} 09:30") for k, when in beijing(sent)]
        assert all(not date(2025, 10, 1) <= s.local(SHANGHAI).date() <= date(2025, 10, 8) for s in sent)

    def test_2026_the_deadline_before_the_holiday_is_chased_after_it(self, sessions: sessionmaker[Session]) -> None:
        enterprise(sessions, date(2026, 9, 30))
        sent = simulate(sessions, date(2026, 8, 28), date(2026, 10, 16))
        assert beijing(sent) == [
            ("before_30", "2026-08-31 Mon 09:30"),
            ("before_7", "2026-09-23 Wed 09:30"),
            ("before_1", "2026-09-29 Tue 09:30"),
            ("on_day", "2026-09-30 Wed 09:30"),
            ("overdue_1", "2026-10-08 Thu 09:30"),  # 1-7 October off (and the 25th, 中秋)
            ("overdue_w2", "2026-10-15 Thu 09:30"),
        ]


class TestSpringFestival:
    def test_2026_make_up_saturdays_carry_reminders(self, sessions: sessionmaker[Session]) -> None:
        enterprise(sessions, date(2026, 3, 1))
        sent = simulate(sessions, date(2026, 1, 26), date(2026, 3, 3))
        assert beijing(sent) == [
            ("before_30", "2026-01-30 Fri 09:30"),
            ("before_7", "2026-02-14 Sat 09:30"),  # make-up working day before the festival
            ("before_1", "2026-02-28 Sat 09:30"),  # make-up working day after it
            ("on_day", "2026-03-02 Mon 09:30"),
        ]

    def test_reminders_missed_while_down_over_the_festival_are_sent_once(
        self, sessions: sessionmaker[Session]
    ) -> None:
        enterprise(sessions, date(2026, 3, 1))
        down = (date(2026, 2, 10), date(2026, 2, 28))
        sent = simulate(sessions, date(2026, 1, 26), date(2026, 3, 3), down=lambda d: down[0] <= d <= down[1])
        assert beijing(sent) == [
            ("before_30", "2026-01-30 Fri 09:30"),
            ("on_day", "2026-03-02 Mon 09:30"),  # before_7 and before_1 were missed: superseded
        ]

    def test_back_on_a_holiday_the_missed_reminder_waits_for_the_first_working_day(
        self, sessions: sessionmaker[Session]
    ) -> None:
        enterprise(sessions, date(2026, 3, 1))
        sent = simulate(sessions, date(2026, 1, 26), date(2026, 3, 3),
                        down=lambda d: date(2026, 2, 13) <= d <= date(2026, 2, 16))
        assert beijing(sent)[1:3] == [
            ("before_7", "2026-02-24 Tue 09:30"),  # due on Saturday the 14th while down; holiday until the 23rd
            ("before_1", "2026-02-28 Sat 09:30"),
        ]


class TestMonthAndYearEnds:
    @pytest.mark.parametrize(
        ("nominal", "first", "last", "expected"),
        [
            (date(2026, 4, 30), date(2026, 3, 30), date(2026, 5, 8), [
                ("before_30", "2026-03-31 Tue 09:30"),
                ("before_7", "2026-04-23 Thu 09:30"),
                ("before_1", "2026-04-29 Wed 09:30"),
                ("on_day", "2026-04-30 Thu 09:30"),
                ("overdue_1", "2026-05-06 Wed 09:30"),  # 1-5 May off
                ("overdue_w1", "2026-05-08 Fri 09:30"),
            ]),
            (date(2025, 12, 31), date(2025, 11, 30), date(2026, 1, 9), [
                ("before_30", "2025-12-01 Mon 09:30"),
                ("before_7", "2025-12-24 Wed 09:30"),
                ("before_1", "2025-12-30 Tue 09:30"),
                ("on_day", "2025-12-31 Wed 09:30"),
                ("overdue_1", "2026-01-04 Sun 09:30"),  # New Year off; the 4th is a working Sunday
                ("overdue_w1", "2026-01-08 Thu 09:30"),
            ]),
            (date(2026, 1, 31), date(2025, 12, 29), date(2026, 2, 3), [
                ("before_30", "2025-12-31 Wed 09:30"),
                ("before_7", "2026-01-23 Fri 09:30"),
                ("before_1", "2026-01-30 Fri 09:30"),
                ("on_day", "2026-02-02 Mon 09:30"),  # the 31st is a Saturday
            ]),
        ],
    )
    def test_month_ends(
        self, sessions: sessionmaker[Session], nominal: date, first: date, last: date, expected: list[tuple[str, str]]
    ) -> None:
        enterprise(sessions, nominal)
        assert beijing(simulate(sessions, first, last)) == expected


class TestZones:
    def test_neither_zone_has_daylight_saving(self) -> None:
        for day in days(date(2025, 1, 1), date(2026, 12, 31)):
            noon = datetime.combine(day, time(12))
            assert noon.replace(tzinfo=SHANGHAI).utcoffset() == timedelta(hours=8)
            assert noon.replace(tzinfo=URUMQI).utcoffset() == timedelta(hours=6)

    def test_every_slot_is_in_working_hours_on_a_working_day(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            site = add_site(repos, "甲", users=("bj",))
            add_contact(repos, site.enterprise_id, "甲-xj", timezone="Asia/Urumqi")
            for kind, nominal in zip(("disclosure", "start", "report"), (date(2025, 10, 3), date(2026, 2, 18),
                                                                         date(2026, 5, 1)), strict=True):
                add_milestone(repos, site, nominal, kind=kind, reminders=schedule(nominal, POLICY))
        # Sweeps at odd hours only; the sender still never goes out at night or on a day off.
        sent: list[Sent] = []
        for day in days(date(2025, 9, 1), date(2026, 5, 20)):
            for hour in (3, 13, 19, 22):
                with time_machine.travel(at(day, hour, 47), tick=False):
                    sweep(sessions, now=utcnow(), policy=POLICY)
                    sent.extend(deliver(sessions, utcnow()))
        assert len(sent) > 30
        for s in sent:
            local = s.local(URUMQI if s.address.endswith("xj") else SHANGHAI)
            assert is_working_day(local.date()), s
            assert POLICY.send_time <= local.time() < POLICY.quiet_after, s

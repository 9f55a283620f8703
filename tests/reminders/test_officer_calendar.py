"""Officers' yearly dates reach the officers of that province, once, on working days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.officer_calendar import due_reminder, officer_sweep, yearly_day
from handlers.reminders import ReminderPolicy
from storage import Repositories

CST = ZoneInfo("Asia/Shanghai")
POLICY = ReminderPolicy()


def _officer(sessions: sessionmaker[Session], province: str, user: str) -> None:
    with sessions.begin() as s:
        repos = Repositories(s)
        contact = repos.contacts.add("test", user)
        officer = repos.officers.add(name=f"{province} officer", role="ecology", province=province)
        repos.officers.link_contact(officer, contact.id)


def _keys(sessions: sessionmaker[Session], user: str) -> list[str]:
    with sessions() as s:
        return [m.idempotency_key for m in Repositories(s).outbox.list_by_address("test", user)]


def test_yearly_days_and_the_latest_due_reminder() -> None:
    assert yearly_day(2026, 2, "end") == date(2026, 2, 28)
    assert yearly_day(2028, 2, "end") == date(2028, 2, 29)
    # Shanxi's end-of-August evaluations (Monday 2026-08-31): 7 days before is Monday 08-24
    assert due_reminder(date(2026, 8, 31), date(2026, 8, 24), POLICY) == "before_7"
    assert due_reminder(date(2026, 8, 31), date(2026, 8, 30), POLICY) == "before_1"   # Sunday's moved to Friday
    assert due_reminder(date(2026, 8, 31), date(2026, 9, 1), POLICY) is None          # passed


def test_officers_of_the_province_get_their_dates_once(sessions: sessionmaker[Session]) -> None:
    _officer(sessions, "shanxi", "sx")
    _officer(sessions, "shandong", "sd")      # the Shandong rules (and their December date) expired in 2022
    _officer(sessions, "henan", "hn")
    now = datetime(2026, 8, 24, 10, 0, tzinfo=CST)
    assert officer_sweep(sessions, now=now, policy=POLICY) == 1
    keys = _keys(sessions, "sx")
    assert len(keys) == 1
    assert keys[0].startswith("odate:shanxi_key_industries_2022:evaluations:2026:") and keys[0].endswith(":before_7")
    assert _keys(sessions, "sd") == [] and _keys(sessions, "hn") == []
    assert officer_sweep(sessions, now=now, policy=POLICY) == 0       # a second sweep adds nothing
    december = datetime(2026, 12, 8, 10, 0, tzinfo=CST)               # Henan: report accepted enterprises by 15 Dec
    officer_sweep(sessions, now=december, policy=POLICY)
    assert any(":2026:" in k and k.endswith(":before_7") for k in _keys(sessions, "hn"))
    assert _keys(sessions, "sd") == []

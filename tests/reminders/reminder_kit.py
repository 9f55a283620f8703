"""Helpers for the reminder tests: enterprises with contacts and milestones, built through the repositories."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from storage import Contact, Milestone, Repositories

SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")
CONSENTED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
KINDS = ("disclosure", "start", "report", "evaluation", "acceptance", "reaudit", "review")


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = SHANGHAI) -> datetime:
    """An aware UTC datetime: `day` at hour:minute local time in `tz`."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


@dataclass
class Site:
    enterprise_id: int
    cycle_id: int
    contacts: list[Contact] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)


def add_contact(
    repos: Repositories,
    enterprise_id: int,
    user_id: str,
    *,
    channel: str = "api",
    timezone: str = "Asia/Shanghai",
    locale: str = "zh_CN",
    consented: bool = True,
    unsubscribed: bool = False,
) -> Contact:
    contact = repos.contacts.add(channel, user_id, locale=locale, timezone=timezone)
    if consented:
        repos.contacts.record_consent(contact, CONSENTED)
        repos.contacts.bind_enterprise(contact, enterprise_id)
    if unsubscribed:
        repos.contacts.unsubscribe(contact, CONSENTED)
    return contact


def add_site(
    repos: Repositories,
    name: str,
    *,
    users: Iterable[str] = ("u",),
    channel: str = "api",
    timezone: str = "Asia/Shanghai",
    list_published_on: date = date(2025, 6, 30),
) -> Site:
    """An enterprise with one cycle and reachable contacts `{name}-{user}` on `channel`."""
    enterprise = repos.enterprises.add(name=name)
    cycle = repos.cycles.add(enterprise.id, source="chat", list_published_on=list_published_on)
    site = Site(enterprise.id, cycle.id)
    for user in users:
        site.contacts.append(add_contact(repos, enterprise.id, f"{name}-{user}", channel=channel, timezone=timezone))
    return site


def add_milestone(
    repos: Repositories,
    site: Site,
    nominal: date,
    *,
    kind: str = "disclosure",
    reminders: Iterable[tuple[str, date]] = (),
) -> Milestone:
    milestone = repos.milestones.add(
        site.cycle_id, kind=kind, nominal=nominal, due=nominal, citation="第十一条", note="note"
    )
    site.milestones.append(milestone)
    repos.reminders.add_for_milestone(milestone.id, list(reminders))
    return milestone

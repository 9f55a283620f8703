"""Officers' own yearly dates (the packs' `officer_dates`: Shanxi end of Feb/Mar/Aug, Shandong end of
Dec, Henan 15 Mar/15 Dec) pushed to the officers of that province, as part of the reminder sweep.

Each date is reminded like an enterprise deadline (the policy's days before, and on the day); a
push is an outbox row keyed by pack, date, year, officer and reminder, so running the sweep again
(or in two processes) never sends one twice, and after downtime only the latest due reminder of
each date goes out.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from handlers.messages import Outbound
from handlers.reminders import ReminderPolicy, next_send_slot, outbound_payload
from rules import Pack, default_packs
from rules.i18n import N_, gettext_for
from rules.periods import is_working_day
from rules.provinces import get_province
from storage import Repositories


def yearly_day(year: int, month: int, day: int | str) -> date:
    return date(year, month, calendar.monthrange(year, month)[1] if day == "end" else int(day))


def _before(d: date) -> date:
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d


def due_reminder(nominal: date, today: date, policy: ReminderPolicy) -> str | None:
    """The latest reminder of this date whose day has come (None if none, or the date has passed)."""
    if nominal < today:
        return None
    plan = [(f"before_{n}", _before(nominal - timedelta(days=n))) for n in policy.days_before]
    if policy.on_day:
        plan.append(("on_day", _before(nominal)))
    due = [(day, kind) for kind, day in plan if day <= today]
    return max(due)[1] if due else None


def officer_sweep(
    sessions: sessionmaker[Session], *, now: datetime, policy: ReminderPolicy, packs: Sequence[Pack] | None = None
) -> int:
    """Queue the officers' reminders due today; returns how many outbox rows were written."""
    tz = ZoneInfo(policy.timezone)
    today = now.astimezone(tz).date()
    written = 0
    with sessions.begin() as session:
        repos = Repositories(session)
        for pack in packs if packs is not None else default_packs():
            if pack.national or not pack.officer_dates or not pack.in_force(today):
                continue
            officers = [o for o in repos.officers.list_all(province=pack.jurisdiction) if o.contact_id is not None]
            for entry in pack.officer_dates:
                for year in (today.year, today.year + 1):
                    nominal = yearly_day(year, entry.month, entry.day)
                    kind = due_reminder(nominal, today, policy)
                    if kind is None:
                        continue
                    for officer in officers:
                        contact = repos.contacts.get_by_id(officer.contact_id or 0)
                        if contact is None or contact.unsubscribed_at is not None:
                            continue
                        message = _message(pack, entry.note, entry.citation, nominal, contact.locale)
                        written += repos.outbox.add_if_absent(
                            f"odate:{pack.id}:{entry.id}:{year}:{officer.id}:{kind}",
                            channel=contact.channel, address=contact.user_id,
                            payload=outbound_payload(message, officer_date=entry.id, reminder_kind=kind),
                            not_before=next_send_slot(today, now, ZoneInfo(contact.timezone), policy),
                        )
    return written


def _message(pack: Pack, note: str, citation: str, nominal: date, locale: str) -> Outbound:
    tr = gettext_for(locale)
    text = tr(N_("Officers' calendar ({province}): by {day}, {what}. Basis: {document}{citation}")).format(
        province=get_province(pack.jurisdiction).short, day=nominal.isoformat(), what=note,
        document=pack.title, citation=citation)
    return Outbound(text)

"""Reminder policy, when each reminder goes out, and what it says.

Default policy (issue 4): 30, 7 and 1 days before the nominal day, on the day, the day after
(overdue), then weekly while overdue, at most 8 times; only on working days, at 09:30 local time,
never at night. Reminders aim at the nominal day (DOMAIN.md, "Readings we chose").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.messages import Choice, Outbound
from handlers.render import KIND_LABELS
from handlers.status import StatusItem, action_lines, in_documents_language, original, penalty_lines, state_of
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, gettext_for
from rules.periods import is_working_day

if TYPE_CHECKING:
    from storage import Milestone

# What the button that confirms each kind of milestone says.
DONE_LABELS = {
    "disclosure": N_("Published (已公布)"),
    "start": N_("Audit started (已开展)"),
    "report": N_("Report submitted (已报送)"),
    "evaluation": N_("Evaluation passed (已评估)"),
    "acceptance": N_("Acceptance passed (已验收)"),
    "reaudit": N_("Next round completed (已完成)"),
    "review": N_("Re-review passed (已复审)"),
    "env_disclosure": N_("Disclosed (已披露)"),
}


@dataclass(frozen=True, slots=True)
class ReplyWords:
    """What a contact may type in reply to a reminder, in Chinese and in English (handlers.confirm reads
    them); a reminder names the first word of the contact's language. A Chinese word that confirms one kind
    of milestone is read as the start of the message ("已公布 <link>"); every other word as the whole message,
    give or take a link, a gloss in parentheses and punctuation ("Published: https://…", "Done!")."""

    zh: tuple[str, ...]
    en: tuple[str, ...]

    def first(self, locale: str) -> str:
        return (self.en if locale.startswith("en") else self.zh)[0]


# Confirming one kind of milestone.
DONE_WORDS: dict[str, ReplyWords] = {
    "disclosure": ReplyWords(("已公布", "已公开", "公布了"),
                             ("published", "disclosed", "information published", "info published")),
    "start": ReplyWords(("已开展", "已启动", "已开始"), ("started", "audit started")),
    "report": ReplyWords(("已报送", "已提交", "报送了"), ("submitted", "report submitted", "reported")),
    "evaluation": ReplyWords(("已评估",), ("evaluated", "evaluation passed")),
    "acceptance": ReplyWords(("已验收",), ("accepted", "acceptance passed")),
    "reaudit": ReplyWords(("已完成审核",), ("audit completed", "next round completed")),
    "review": ReplyWords(("已复审",), ("re-reviewed", "re-review passed")),
    "env_disclosure": ReplyWords(("已披露",), ("environmental information disclosed", "yearly disclosure done")),
}
# The other replies; "done" confirms the milestone the contact was last reminded of (handlers.confirm).
ACTION_WORDS: dict[str, ReplyWords] = {
    "done": ReplyWords(("已完成", "已办理", "已办好"), ("done", "completed", "finished")),
    "snooze": ReplyWords(("稍后提醒", "一周后再提醒", "下周提醒", "晚点提醒"),
                         ("remind me later", "snooze", "remind me in a week")),
    "unsubscribe": ReplyWords(("退订", "取消提醒", "停止提醒"),
                              ("unsubscribe", "stop", "stop reminders", "no more reminders")),
    "resubscribe": ReplyWords(("恢复提醒", "订阅提醒", "重新订阅"),
                              ("resubscribe", "resume reminders", "subscribe", "start reminders")),
}


def reply_word(action: str, tr: Gettext) -> str:
    """The word a text translated by `tr` names for `action` (an ACTION_WORDS key): "退订" or "unsubscribe"."""
    return ACTION_WORDS[action].first(DEFAULT_LOCALE if in_documents_language(tr) else "en")


TODO = {
    "disclosure": N_("Publish the enterprise's information in local media, on the enterprise's website or in "
                     "another way the public can see."),
    "start": N_("Start the cleaner-production audit (entrust an audit body if you need one)."),
    "report": N_("Complete this audit round and submit the audit report to the offices named in your verdict."),
    "evaluation": N_("Have the audit report evaluated."),
    "acceptance": N_("Pass the acceptance (验收) of the audit's results."),
    "reaudit": N_("Complete the next audit round: two audits may be at most five years apart."),
    "review": N_("Apply for the re-review (复审) of the voluntary audit."),
    "env_disclosure": N_("Disclose last year's environmental information, including why the enterprise is "
                         "under mandatory audit and how the audit, its evaluation and acceptance went, in the "
                         "environmental-information disclosure system (企业环境信息依法披露系统)."),
}
SNOOZE_DAYS = 7


class PolicyError(QingshenError):
    """A reminder setting from the environment is malformed; the message names the variable."""


@dataclass(frozen=True)
class ReminderPolicy:
    days_before: tuple[int, ...] = (30, 7, 1)
    on_day: bool = True
    overdue_days: int = 1
    weekly_overdue: int = 8
    send_time: time = time(9, 30)
    quiet_after: time = time(20, 0)
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReminderPolicy:
        """QINGSHEN_REMINDER_DAYS ("30,7,1"), QINGSHEN_REMINDER_WEEKLY (8), QINGSHEN_REMINDER_TIME ("09:30"),
        QINGSHEN_QUIET_AFTER ("20:00"), QINGSHEN_TIMEZONE ("Asia/Shanghai")."""
        e = os.environ if env is None else env
        policy = cls()
        days = e.get("QINGSHEN_REMINDER_DAYS")
        weekly = e.get("QINGSHEN_REMINDER_WEEKLY")
        return cls(
            days_before=_days(days) if days else policy.days_before,
            weekly_overdue=_int("QINGSHEN_REMINDER_WEEKLY", weekly, 0, 52) if weekly else policy.weekly_overdue,
            send_time=_clock("QINGSHEN_REMINDER_TIME", e.get("QINGSHEN_REMINDER_TIME")) or policy.send_time,
            quiet_after=_clock("QINGSHEN_QUIET_AFTER", e.get("QINGSHEN_QUIET_AFTER")) or policy.quiet_after,
            timezone=_zone("QINGSHEN_TIMEZONE", e.get("QINGSHEN_TIMEZONE")) or policy.timezone,
        )


def _days(raw: str) -> tuple[int, ...]:
    try:
        days = tuple(sorted({int(x) for x in raw.split(",") if x.strip()}, reverse=True))
    except ValueError:
        raise PolicyError(f"QINGSHEN_REMINDER_DAYS: expected whole numbers like 30,7,1, got {raw!r}") from None
    if not days or any(d < 1 or d > 366 for d in days):
        raise PolicyError(f"QINGSHEN_REMINDER_DAYS: each day must be from 1 to 366, got {raw!r}")
    return days


def _int(name: str, raw: str, low: int, high: int) -> int:
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise PolicyError(f"{name}: expected a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def _clock(name: str, raw: str | None) -> time | None:
    if not raw:
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise PolicyError(f"{name}: expected a time like 09:30, got {raw!r}") from None


def _zone(name: str, raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"{name}: unknown time zone {raw!r}") from None
    return raw


def _working_day_before(d: date) -> date:
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d


def _working_day_after(d: date) -> date:
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def schedule(nominal: date, policy: ReminderPolicy) -> list[tuple[str, date]]:
    """[(kind, send_on)]: reminders before the day move back to a working day, the rest forward."""
    return list(_schedule(nominal, policy))


@lru_cache(maxsize=4096)
def _schedule(nominal: date, policy: ReminderPolicy) -> tuple[tuple[str, date], ...]:
    """`schedule`, kept per (day, policy): the working days are fixed data (rules.periods), and every
    contact of one list counts from the same day."""
    out: list[tuple[str, date]] = []
    for days in policy.days_before:
        out.append((f"before_{days}", _working_day_before(nominal - timedelta(days=days))))
    if policy.on_day:
        out.append(("on_day", _working_day_after(nominal)))
    if policy.overdue_days:
        late = nominal + timedelta(days=policy.overdue_days)
        out.append((f"overdue_{policy.overdue_days}", _working_day_after(late)))
    first_weekly = nominal + timedelta(days=policy.overdue_days + 7 if policy.overdue_days else 7)
    for n in range(policy.weekly_overdue):
        out.append((f"overdue_w{n + 1}", _working_day_after(first_weekly + timedelta(weeks=n))))
    seen: set[date] = set()
    unique: list[tuple[str, date]] = []
    for kind, day in sorted(out, key=lambda kd: kd[1]):
        if day not in seen:  # two reminders moved onto one working day: keep the first
            seen.add(day)
            unique.append((kind, day))
    return tuple(unique)


def initial_reminders(nominal: date, policy: ReminderPolicy, today: date) -> list[tuple[str, date]]:
    """What is planned when a milestone is stored: every reminder still ahead, but of the weekly overdue
    ones only the first; the sweep plans each next weekly one as it sends one (`next_weekly`). The
    days are the same as `schedule`'s; fewer rows wait (about 6 a milestone instead of 13)."""
    ahead = [(kind, day) for kind, day in schedule(nominal, policy) if day >= today]
    weekly = [kd for kd in ahead if kd[0].startswith("overdue_w")]
    return [kd for kd in ahead if not kd[0].startswith("overdue_w")] + weekly[:1]


def next_weekly(nominal: date, policy: ReminderPolicy, after: date) -> tuple[str, date] | None:
    """The first weekly overdue reminder after `after` (None once the policy's weeks are used up)."""
    return next(((k, d) for k, d in schedule(nominal, policy) if k.startswith("overdue_w") and d > after), None)


def next_send_slot(send_on: date, now: datetime, tz: ZoneInfo, policy: ReminderPolicy) -> datetime:
    """The UTC moment to send: send_on at the send time local, or the next working-hours moment."""
    local_now = now.astimezone(tz)
    slot = datetime.combine(send_on, policy.send_time, tzinfo=tz)
    if slot >= local_now:
        return slot.astimezone(ZoneInfo("UTC"))
    day = local_now.date()
    if is_working_day(day) and policy.send_time <= local_now.time() < policy.quiet_after:
        return now.astimezone(ZoneInfo("UTC"))
    if local_now.time() >= policy.send_time:
        day += timedelta(days=1)
    day = _working_day_after(day)
    return datetime.combine(day, policy.send_time, tzinfo=tz).astimezone(ZoneInfo("UTC"))


def reminder_message(
    milestone: Milestone, reminder_kind: str, *, enterprise_name: str | None, locale: str, today: date
) -> Outbound:
    """What is due, by when (nominal and legal last day), what to do, the article, how to confirm. Once the
    nominal day has passed: by when it is still lawful, or, past the legal last day, the penalty the law
    attaches (with its article) and what to do now (handlers.status)."""
    tr = gettext_for(locale)
    what = tr(KIND_LABELS.get(milestone.kind, milestone.kind))
    days_left = (milestone.nominal - today).days
    if days_left > 0:
        head = tr(N_("Reminder: {what} is due in {days} days, by {nominal} (legal last day {due})."))
    elif days_left == 0:
        head = tr(N_("Reminder: {what} is due today, {nominal} (legal last day {due})."))
    elif today <= milestone.due:  # the target day fell on a holiday: still lawful until the legal last day
        head = tr(N_("Reminder: the target day of {what}, {nominal}, has passed; the legal last day is {due}."))
    else:
        head = tr(N_("Overdue: {what} was due on {nominal} (legal last day {due}); it is {late} days late."))
    parts = [head.format(what=what, days=days_left, late=-days_left, nominal=milestone.nominal.isoformat(),
                         due=milestone.due.isoformat())]
    if enterprise_name:
        parts.append(tr(N_("Enterprise: {name}")).format(name=enterprise_name))
    parts.append(tr(TODO.get(milestone.kind, N_("Complete this step."))))
    if milestone.note and milestone.note != milestone.kind:
        parts.append(milestone.note)
    if milestone.citation:
        parts.append(tr(N_("Basis: {citation}")).format(citation=original(milestone.citation, tr)))
    item = StatusItem.from_milestone(milestone)
    if state_of(item, today)[0] == "overdue":
        parts.extend(penalty_lines(item, tr))
    parts.extend(action_lines(item, today, tr))
    done = DONE_WORDS.get(milestone.kind, ACTION_WORDS["done"])
    parts.append(tr(N_("When it is done, press the button below or reply {done}; reply {later} to be reminded in "
                       "a week, or {stop} to stop the reminders.")).format(
        done=done.first(locale), later=ACTION_WORDS["snooze"].first(locale),
        stop=ACTION_WORDS["unsubscribe"].first(locale)))
    choices = (
        Choice(f"done:{milestone.id}", tr(DONE_LABELS.get(milestone.kind, N_("Done")))),
        Choice(f"snooze:{milestone.id}", tr(N_("Remind me in a week"))),
        Choice("unsubscribe", tr(N_("Stop reminders"))),
    )
    return Outbound("\n".join(parts), choices)


def outbound_payload(message: Outbound, **extra: object) -> dict[str, Any]:
    return {"text": message.text, "choices": [{"id": c.id, "label": c.label} for c in message.choices], **extra}

"""Confirming a milestone from a reminder (button or reply such as 已公布 <link>), snoozing, unsubscribing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from handlers.messages import Choice, Inbound, Outbound
from handlers.parse import ACKNOWLEDGEMENTS, chinese_to_number, normalize
from handlers.reminders import ACTION_WORDS, DONE_WORDS, SNOOZE_DAYS, ReplyWords
from handlers.render import KIND_LABELS
from handlers.status import CHINA, in_documents_language
from handlers.steps import NO_TIME, When, read_step, read_when
from rules.i18n import DEFAULT_LOCALE, N_, Gettext
from rules.periods import is_working_day
from storage import Contact, Milestone, Repositories, utcnow

URL = re.compile(r"https?://[^\s<>\"']{1,500}", re.IGNORECASE)
_GLOSS = re.compile(r"[(（][^()（）]*[)）]")
_PUNCT = re.compile(r"[^\w\s-]+|(?<!\w)-|-(?!\w)")
# "There is no link" when asked for the disclosure's link.
NO_LINK = ReplyWords(("无", "没有", "无链接", "没有链接", "跳过"), ("none", "no", "no link", "skip", "there is none"))


@dataclass(frozen=True)
class Request:
    action: str  # done | snooze | unsubscribe | resubscribe
    milestone_id: int | None = None
    kind: str | None = None
    evidence: str | None = None
    done: bool = True  # False: a step said not done yet (还没开始)
    when: When = NO_TIME  # the time the message names (昨天, 11月20日, 上周)


def read_request(inbound: Inbound, today: date | None = None, *, said: bool = False) -> Request | None:
    """A confirmation, snooze or unsubscribe in a choice id or in typed text (Chinese or English, the words of
    `handlers.reminders.DONE_WORDS` and `ACTION_WORDS`), with the time it names when `today` is given; with `said`,
    also a step said done or not yet in the contact's own words (`handlers.steps`: 我们已经公示了, 还没开始); None
    if it is none of these."""
    req = _read_request(inbound)
    if req is not None:
        if today is not None and req.action == "done" and inbound.text:
            req = Request(req.action, req.milestone_id, req.kind, req.evidence, when=read_when(inbound.text, today))
        return req
    if said and today is not None and inbound.text:
        step = read_step(inbound.text, today)
        if step is not None:
            return Request("done", kind=step.kind, evidence=step.evidence, done=step.done,
                           when=When(step.day, step.guess, step.month, step.vague))
    return None


def _read_request(inbound: Inbound) -> Request | None:
    choice = inbound.choice or ""
    for action in ("done", "snooze"):
        if choice.startswith(f"{action}:") and choice[len(action) + 1:].isdigit():
            return Request(action, milestone_id=int(choice[len(action) + 1:]))
    if choice in ("unsubscribe", "resubscribe"):
        return Request(choice)
    raw = inbound.text or ""
    text = normalize(raw)
    link = URL.search(raw)
    evidence = link.group(0) if link else None
    for kind, words in DONE_WORDS.items():
        if text.startswith(words.zh):  # a tuple: any of its words
            return Request("done", kind=kind, evidence=evidence)
    bare = bare_words(raw)
    for kind, words in DONE_WORDS.items():
        if bare in words.en:
            return Request("done", kind=kind, evidence=evidence)
    for action, words in ACTION_WORDS.items():
        if bare in words.zh or bare in words.en:
            return Request(action, evidence=evidence if action == "done" else None)
    return None


def is_acknowledgement(text: str) -> bool:
    """好的 / 收到 / ok alone: the message takes note of what was said, answers nothing and asks nothing."""
    t = re.sub(r"[\s,，。.!！~～、]+", " ", normalize(text)).strip()
    return t in ACKNOWLEDGEMENTS or (bool(t) and all(w in ACKNOWLEDGEMENTS for w in t.split()))  # 收到，谢谢


def bare_words(text: str) -> str:
    """The message without its links, parenthesized glosses and punctuation, lower case: "Done!" -> "done",
    "Published: https://x.cn/1" -> "published", "Published (已公布)" -> "published"."""
    t = _GLOSS.sub(" ", URL.sub(" ", normalize(text)))
    return " ".join(_PUNCT.sub(" ", t).split())


def find_milestone(repos: Repositories, contact: Contact, req: Request) -> Milestone | None:
    """The milestone meant: by id (only within the contact's enterprise), the open one of that kind, or for a
    reply that names no kind ("done", "稍后提醒") the open one the contact was reminded of last (or the only
    open one)."""
    if contact.enterprise_id is None:
        return None
    cycle = repos.cycles.get_by_enterprise(contact.enterprise_id)
    if cycle is None:
        return None
    milestones = repos.milestones.list_by_cycle(cycle.id)
    if req.milestone_id is not None:
        return next((m for m in milestones if m.id == req.milestone_id), None)
    if req.kind is None:
        return _last_reminded(repos, [m for m in milestones if m.done_at is None])
    open_ones = [m for m in milestones if m.kind == req.kind and m.done_at is None]
    if not open_ones:  # 还没… / a day for a step recorded done / said done again: that one, as recorded
        return next((m for m in milestones if m.kind == req.kind), None)
    return open_ones[0] if open_ones else None


def _last_reminded(repos: Repositories, open_ones: list[Milestone]) -> Milestone | None:
    latest: tuple[datetime, Milestone] | None = None
    for m in open_ones:
        for r in repos.reminders.list_by_milestone(m.id):
            if r.queued_at is not None and (latest is None or r.queued_at > latest[0]):
                latest = (r.queued_at, m)
    if latest is not None:
        return latest[1]
    return open_ones[0] if len(open_ones) == 1 else None  # never reminded: only when there is no doubt


def confirm(repos: Repositories, contact: Contact, milestone: Milestone, evidence: str | None, tr: Gettext,
            *, today: date, day: date | None = None, day_unknown: bool = False) -> str:
    """Record the milestone done on `day` (the day the contact said), or today when no day was said; the reply
    names the day recorded, how late it was, and (for today) how to give the real day."""
    now = utcnow()
    if day is not None:
        at = datetime.combine(day, time(12), tzinfo=CHINA)
    elif now.astimezone(CHINA).date() == today:
        at = now
    else:  # the bot's day is not the clock's (tests, a replay): the day is the bot's
        at = datetime.combine(today, time(12), tzinfo=CHINA)
    repos.milestones.mark_done(milestone, at=at, by_contact_id=contact.id, evidence=evidence or milestone.evidence)
    repos.reminders.cancel_for_milestone(milestone.id)
    what = tr(KIND_LABELS.get(milestone.kind, milestone.kind))
    on = (day or today).isoformat()
    link = evidence or milestone.evidence
    if link:
        text = tr(N_("Recorded: {what} was done on {day} ({link}). Its reminders have stopped.")).format(
            what=what, day=on, link=link)
    else:
        text = tr(N_("Recorded: {what} was done on {day}. Its reminders have stopped.")).format(what=what, day=on)
    late = (day - milestone.due).days if day is not None else 0
    if late > 0:
        text += "\n" + tr(N_("That is {n} days after the legal last day {due}: if the authority has not been told "
                             "yet, tell it in writing when it was done.")).format(n=late, due=milestone.due.isoformat())
    if day_unknown:
        text += "\n" + tr(N_("The day it was done is not known: today is recorded. Tell the authority when it was "
                             "done if it asks."))
    elif day is None:
        text += "\n" + tr(N_("If it was not done today, reply with the day it was done (for example {example}).")
                           ).format(example=(today - timedelta(days=10)).isoformat())
    return text


def ask_day(milestone: Milestone, tr: Gettext, *, month: str | None = None, guess: date | None = None,
            today: date | None = None) -> Outbound:
    """Which day a step said done was done: a day to confirm, the day of a month said, or the whole day."""
    what = tr(KIND_LABELS.get(milestone.kind, milestone.kind))
    start = milestone.kind == "start"  # a start is begun, not done: 开展清洁生产审核是哪一天开始的
    if guess is not None:
        question = N_("Did {what} begin on {day}?") if start else N_("Was {what} done on {day}?")
        return Outbound(tr(question).format(what=what, day=guess.isoformat()), (
            Choice("stepday:yes", tr(N_("Yes"))), Choice("stepday:no", tr(N_("No")))))
    dont_know: tuple[Choice, ...] = (Choice("stepday:unknown", tr(N_("I don't remember"))),)
    if today is not None and month is None:
        dont_know = (Choice("stepday:today", tr(N_("Today"))), *dont_know)
    if month is not None and len(month) == 7:
        return Outbound(tr(N_("On which day of {month} was {what} done? Type the day, for example 20.")).format(
            month=month, what=what), dont_know)
    if start:
        return Outbound(tr(N_("On which day did {what} begin (for example 2026-11-20)? Whether it was in time counts "
                              "from that day.")).format(what=what), dont_know)
    return Outbound(tr(N_("On which day was {what} done (for example 2026-11-20)? Deadlines and the authority's "
                          "records count from that day.")).format(what=what), dont_know)


_DAY_ONLY = re.compile(r"^(\d{1,2}|[一二三四五六七八九十两]{1,3})\s*(号|日)?$")


def day_in_month(text: str, month: str) -> date | None:
    """A bare day ("20", "20号", "二十号") in the month "YYYY-MM" asked about."""
    m = _DAY_ONLY.match(normalize(text).strip(" 。.!！"))
    if m is None or len(month) != 7:
        return None
    raw = m.group(1)
    n = int(raw) if raw.isdigit() else chinese_to_number(raw)
    try:
        return date(int(month[:4]), int(month[5:]), int(n)) if n else None
    except ValueError:
        return None


def snooze(repos: Repositories, milestone: Milestone, today: date, tr: Gettext) -> str:
    """Hold back the reminders due until a week from today, and plan one for the first working day after."""
    until = today + timedelta(days=SNOOZE_DAYS)
    repos.milestones.snooze(milestone, until)
    after = until + timedelta(days=1)
    while not is_working_day(after):
        after += timedelta(days=1)
    repos.reminders.add_for_milestone(milestone.id, [(f"snooze_{until.isoformat()}", after)])
    return tr(N_("I will remind you again after {until}.")).format(until=until.isoformat())


def read_evidence(text: str) -> tuple[bool, str | None]:
    """(understood, link): a URL, or an explicit "no link"."""
    link = URL.search(text)
    if link:
        return True, link.group(0)
    bare = bare_words(text)
    return bare in NO_LINK.zh or bare in NO_LINK.en, None


def ask_evidence(milestone: Milestone, tr: Gettext) -> Outbound:
    none = NO_LINK.first(DEFAULT_LOCALE if in_documents_language(tr) else "en")
    return Outbound(tr(N_("Where was the information published? Send the link (网址), or reply {none} if there is "
                          "none.")).format(none=none))

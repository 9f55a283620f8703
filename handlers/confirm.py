"""Confirming a milestone from a reminder (button or reply such as 已公布 <link>), snoozing, unsubscribing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handlers.messages import Inbound, Outbound
from handlers.parse import normalize
from handlers.reminders import ACTION_WORDS, DONE_WORDS, SNOOZE_DAYS, ReplyWords
from handlers.render import KIND_LABELS
from handlers.status import in_documents_language
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


def read_request(inbound: Inbound) -> Request | None:
    """A confirmation, snooze or unsubscribe in a choice id or in typed text (Chinese or English, the words of
    `handlers.reminders.DONE_WORDS` and `ACTION_WORDS`); None if it is none of these."""
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


def confirm(repos: Repositories, contact: Contact, milestone: Milestone, evidence: str | None, tr: Gettext) -> str:
    repos.milestones.mark_done(milestone, at=utcnow(), by_contact_id=contact.id, evidence=evidence)
    repos.reminders.cancel_for_milestone(milestone.id)
    what = tr(KIND_LABELS.get(milestone.kind, milestone.kind))
    if evidence:
        return tr(N_("Recorded: {what} is done ({link}). Its reminders have stopped.")).format(what=what, link=evidence)
    return tr(N_("Recorded: {what} is done. Its reminders have stopped.")).format(what=what)


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

"""Where each deadline stands on a given day: done, due in N days, due today, or overdue by N days,
with the penalty the law attaches and what to do now. Pure functions: no database, no clock.

The legal data (penalty articles, the provincial articles that refer to them with the numbering they
cite, extension procedures) is in rules/data/penalties.yaml; only the sentences around it are here,
as gettext messages. Which provincial article applies is read from the deadline's own citation: a
provincial document is cited for a penalty or a remedy only if it governs that deadline (the Shandong
细则 governs a deadline whose clock started while it was in force, not a later one).

Days: "due in N days" counts to the nominal day (the day reminders aim at); "overdue by N days"
counts from the legal last day (`due`, after 民法典 第二百零三条). Between the two the target day has
passed but the legal last day has not.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from rules import default_engine
from rules.engine import DeadlineHit
from rules.i18n import N_, Gettext
from rules.penalties import penalty_table

if TYPE_CHECKING:
    from handlers.reminders import ReminderPolicy

CHINA = ZoneInfo("Asia/Shanghai")

State = Literal["done", "ahead", "today", "grace", "overdue"]

# What each kind of milestone is (handlers.render re-exports it as before).
KIND_LABELS = {
    "disclosure": N_("Publish the enterprise's information"),
    "start": N_("Start the audit"),
    "report": N_("Complete the audit and submit the report"),
    "evaluation": N_("Audit evaluation"),
    "acceptance": N_("Pass acceptance (验收)"),
    "reaudit": N_("Complete the next audit round"),
    "review": N_("Voluntary audit re-review (复审)"),
    "env_disclosure": N_("Disclose last year's environmental information (yearly)"),
}


def original(text: str, tr: Gettext) -> str:
    """Text taken verbatim from a Chinese document (a citation, a quote, an office as the law names it):
    as is in Chinese, between 「」 in English, so that an English reader sees it is the original wording
    (and tests/handlers/english.py lets it through)."""
    return tr(N_("「{text}」")).format(text=text) if text else ""


def in_documents_language(tr: Gettext) -> bool:
    """The reply is in the documents' own language (Chinese): `original` leaves text as it is."""
    return tr(N_("「{text}」")) == "{text}"


# -- the items --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusItem:
    """One milestone as this module sees it (from an assessment's deadline, its JSON, or a stored milestone)."""

    kind: str
    nominal: date
    due: date
    citation: str = ""
    note: str = ""
    done_on: date | None = None

    @classmethod
    def from_hit(cls, hit: DeadlineHit, tr: Gettext | None = None) -> StatusItem:
        # a done step drops its period notes (holiday shift, unpublished schedule), as in the verdict
        pieces = hit.note if hit.met_on is None else tuple(p for p in hit.note if isinstance(p, str))
        note = "" if tr is None else "; ".join(p if isinstance(p, str) else p.render(tr) for p in pieces)
        return cls(hit.kind, hit.nominal, hit.due, hit.citation, note, hit.met_on)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StatusItem:
        """A deadline of `Assessment.to_dict()` (as stored in assessments.result)."""
        met = d.get("met_on")
        return cls(str(d["kind"]), date.fromisoformat(str(d["nominal"])), date.fromisoformat(str(d["due"])),
                   str(d.get("citation") or ""), str(d.get("note") or ""),
                   date.fromisoformat(str(met)) if met else None)

    @classmethod
    def from_milestone(cls, m: Any) -> StatusItem:
        """A storage Milestone (anything with kind, nominal, due, citation, note, done_at)."""
        return cls(m.kind, m.nominal, m.due, m.citation or "", m.note or "", _done_day(m.done_at))


def _done_day(done_at: datetime | date | None) -> date | None:
    if done_at is None:
        return None
    if isinstance(done_at, datetime):
        if done_at.tzinfo is None:  # stored as naive UTC
            done_at = done_at.replace(tzinfo=ZoneInfo("UTC"))
        return done_at.astimezone(CHINA).date()
    return done_at


def state_of(item: StatusItem, today: date) -> tuple[State, int]:
    """(state, days): days to the nominal day (ahead), or to the legal last day (grace), or past the
    legal last day (overdue); 0 for done and today."""
    if item.done_on is not None:
        return "done", 0
    if today < item.nominal:
        return "ahead", (item.nominal - today).days
    if today == item.nominal:
        return "today", 0
    if today <= item.due:
        return "grace", (item.due - today).days
    return "overdue", (today - item.due).days


# -- the data: rules/penalties.py ------------------------------------------------------------------

def _miss_day(item: StatusItem) -> date:
    """The day a missed milestone is missed: the day after its legal last day."""
    return item.due + timedelta(days=1)


# -- the sentences ------------------------------------------------------------------------------


def _what(kind: str, tr: Gettext) -> str:
    return tr(KIND_LABELS.get(kind, kind))


def _wan(n: int, tr: Gettext) -> str:
    # n is in 万元 (10,000 yuan): "10万元" in Chinese, "100,000 yuan" in English (n followed by 0,000).
    return tr(N_("{wan}0,000 yuan")).format(wan=n)


def status_text(item: StatusItem, today: date, tr: Gettext) -> str:
    """The status alone, e.g. "overdue by 216 days: the legal last day was 2026-04-30"."""
    state, days = state_of(item, today)
    args = {"days": days, "nominal": item.nominal.isoformat(), "due": item.due.isoformat(),
            "done": item.done_on.isoformat() if item.done_on else ""}
    if state == "done":
        msg = N_("done on {done}")
    elif state == "ahead":
        msg = N_("due tomorrow, {nominal} (legal last day {due})") if days == 1 else \
            N_("due in {days} days, by {nominal} (legal last day {due})")
    elif state == "today":
        msg = N_("due today, {nominal} (legal last day {due})")
    elif state == "grace":
        msg = N_("the target day {nominal} has passed; the legal last day is today, {due}") if days == 0 else \
            N_("the target day {nominal} has passed; the legal last day is {due}, in {days} days")
    else:
        msg = N_("OVERDUE by 1 day: the legal last day was {due} (target day {nominal})") if days == 1 else \
            N_("OVERDUE by {days} days: the legal last day was {due} (target day {nominal})")
    return tr(msg).format(**args)


def status_line(item: StatusItem, today: date, tr: Gettext) -> str:
    """One milestone on one line: "• Publish the enterprise's information: OVERDUE by 216 days: …"."""
    return tr(N_("• {what}: {status}")).format(what=_what(item.kind, tr), status=status_text(item, today, tr))


def penalty_lines(item: StatusItem, tr: Gettext, *, province: str | None = None) -> list[str]:
    """The penalty risk of missing this milestone, citing the article of the document in force on the day it
    was missed (and the 2002 number where the provincial document that governs the deadline cites it), then
    what else a penalty brings there (a credit record); [] for a kind no document attaches a penalty to."""
    table = penalty_table()
    miss = _miss_day(item)
    out: list[str] = []
    for p in table.penalties_for(item.kind, miss):
        law = original(f"{table.title(p.pack)}{p.article}", tr)
        out.append(_sanction_text(p.sanction, law, p.fine_min, p.fine_max, tr))
        for r in table.provincial:
            if item.kind in r.kinds and table.governs(r.pack, item.citation, province):
                ref = original(f"{table.title(r.pack)}{r.article}", tr)
                if r.cites == p.old_article and r.cites != p.article:
                    out.append(tr(N_("{provincial} refers to it by its 2002 number, {old}; the article is now "
                                     "{new}.")).format(provincial=ref, old=original(r.cites, tr),
                                                       new=original(p.article, tr)))
                elif r.cites == p.article:
                    out.append(tr(N_("{provincial} refers such a case to it.")).format(provincial=ref))
    for e in table.effects:
        if item.kind in e.kinds and table.governs(e.pack, item.citation, province, e.scope) \
                and table.packs[e.pack].in_force(miss):
            ref = original(f"{table.title(e.pack)}{e.article}", tr)
            if e.effect == "credit_record":
                out.append(tr(N_("A penalty is also entered in the enterprise's credit record, shared on the "
                                 "national credit information platform, with joint punishment by other "
                                 "authorities ({ref}).")).format(ref=ref))
            else:
                out.append(tr(N_("A penalty is also published on the province's credit website ({ref}).")).format(
                    ref=ref))
    return out


def _sanction_text(sanction: str, law: str, fine_min: int | None, fine_max: int, tr: Gettext) -> str:
    if sanction == "publish_fine":
        return tr(N_("Risk: under {law} the authority orders the enterprise to publish the information and "
                     "may fine it up to {max}.")).format(law=law, max=_wan(fine_max, tr))
    if sanction == "correct_criticise_fine":
        if fine_min:
            return tr(N_("Risk: under {law} the authority orders the enterprise to correct it, criticises it "
                         "publicly and may fine it {min} to {max}.")).format(
                law=law, min=_wan(fine_min, tr), max=_wan(fine_max, tr))
        return tr(N_("Risk: under {law} the authority orders the enterprise to correct it, criticises it "
                     "publicly and may fine it up to {max}.")).format(law=law, max=_wan(fine_max, tr))
    if fine_min:
        return tr(N_("Risk: under {law} the authority orders the enterprise to correct within a time limit; "
                     "if it refuses, a fine of {min} to {max}.")).format(
            law=law, min=_wan(fine_min, tr), max=_wan(fine_max, tr))
    return tr(N_("Risk: under {law} the authority orders the enterprise to correct within a time limit; if it "
                 "refuses, a fine of up to {max}.")).format(law=law, max=_wan(fine_max, tr))


# The milestones a list notice starts (the ones counted from the list's publication).
_FROM_LIST = frozenset({"disclosure", "start", "report"})


def action_lines(item: StatusItem, today: date, tr: Gettext, *, province: str | None = None) -> list[str]:
    """What to do now for a milestone whose target day has passed (empty for one still ahead or done)."""
    state, _ = state_of(item, today)
    if state in ("done", "ahead"):
        return []
    if state == "overdue" and item.kind in _FROM_LIST:
        out = [tr(N_("What to do now: do it now, and tell the authority that sent you the list notice, in "
                     "writing, that it is late and by when it will be done."))]
    elif state == "overdue":
        # not counted from a list (the next round, acceptance, re-review): there may be no list notice
        out = [tr(N_("What to do now: do it now, and tell the competent authority where the enterprise is "
                     "(the county or city ecology and environment bureau), in writing, that it is late and by "
                     "when it will be done."))]
    else:
        out = [tr(N_("What to do now: do it by {due}, the legal last day.")).format(due=item.due.isoformat())]
    table = penalty_table()
    for r in table.remedies:
        if item.kind in r.kinds and table.governs(r.pack, item.citation, province):
            ref = original(f"{table.title(r.pack)}{r.article}", tr)
            if r.action == "extension_request":
                out.append(tr(N_("If the enterprise really cannot finish in time, it submits a written explanation "
                                 "and an extension request (延期申请) to {office} ({ref}); if granted, it rolls into "
                                 "the next round's list. I only explain this; the authority decides.")).format(
                    office=original(r.office, tr), ref=ref))
            elif r.action == "acceptance_extension":
                out.append(tr(N_("With special circumstances the enterprise may apply to {office} for a later "
                                 "acceptance, at most within one audit cycle ({ref}).")).format(
                    office=original(r.office, tr), ref=ref))
    return out


def item_lines(item: StatusItem, today: date, tr: Gettext, *, province: str | None = None,
               indent: str = "  ") -> list[str]:
    """The status line, then, for a passed target day, the penalty risk and what to do (indented)."""
    lines = [status_line(item, today, tr)]
    state, _ = state_of(item, today)
    if state == "overdue":
        lines += [indent + x for x in penalty_lines(item, tr, province=province)]
    lines += [indent + x for x in action_lines(item, today, tr, province=province)]
    return lines


def reminder_promise(items: Sequence[StatusItem], today: date, tr: Gettext, *, policy: ReminderPolicy) -> str:
    """What reminders the contact still gets, true to `policy`: before each milestone still ahead; weekly
    for a passed one while the policy's weekly overdue reminders last; nothing for the rest."""
    from handlers.reminders import schedule  # here: handlers.reminders imports this module

    ahead, weekly, none = [], [], []
    for item in items:
        if item.done_on is not None:
            continue
        sends = [(k, d) for k, d in schedule(item.nominal, policy) if d >= today]
        if item.nominal >= today:
            ahead.append(item)
        elif any(k.startswith("overdue") for k, _ in sends):
            weekly.append((item, sum(1 for k, _ in sends if k.startswith("overdue"))))
        else:
            none.append(item)
    sep = tr(N_(", "))
    out = []
    if ahead:
        out.append(tr(N_("I will remind you before each deadline that is still ahead ({whats}).")).format(
            whats=sep.join(_what(i.kind, tr) for i in ahead)))
    for item, left in weekly:
        out.append(tr(N_("{what} is past its day: I will send an overdue reminder every week until you confirm "
                         "it is done (at most {left} more).")).format(what=_what(item.kind, tr), left=left))
    if none:
        out.append(tr(N_("No more reminders are planned for what is long overdue ({whats}): do it now and tell "
                         "the authority.")).format(whats=sep.join(_what(i.kind, tr) for i in none)))
    return "\n".join(out)


def render_status(
    items: Iterable[StatusItem],
    today: date,
    tr: Gettext,
    *,
    province: str | None = None,
    policy: ReminderPolicy | None = None,
    header: bool = True,
) -> str:
    """Every milestone as of `today` (for 我的期限 and the verdict's deadline block); with `policy`, the
    reminders still planned at the end."""
    items = list(items)
    if not items:
        return ""
    lines = [tr(N_("Your deadlines as of {today}:")).format(today=today.isoformat())] if header else []
    for item in items:
        lines += item_lines(item, today, tr, province=province)
    if policy is not None:
        promise = reminder_promise(items, today, tr, policy=policy)
        if promise:
            lines += ["", promise]
    return "\n".join(lines)


_LIST_STEPS = {
    "disclosure": N_("disclose the required information by {nominal} (legal last day {due}), when it was listed for "
                     "its emissions or toxic substances"),
    "start": N_("start the audit by {nominal} (legal last day {due})"),
    "report": N_("complete the audit and send the report by {nominal} (legal last day {due})"),
}


def _list_deadlines(listed: date) -> list[tuple[str, Any, str]]:
    """The list's steps as the national documents in force on its day set them (every province's rules count
    the same periods): (kind, period counted from the day, citation), from the packs' own deadline rules."""
    from rules.periods import count_period

    found: dict[str, tuple[str, Any, str]] = {}
    for pack in default_engine().packs:
        if not pack.national or not pack.in_force(listed):
            continue
        for rule in pack.deadlines:
            if rule.kind in _LIST_STEPS and rule.from_ == "list_published_on" and rule.obligation == "mandatory" \
                    and rule.kind not in found:
                p = rule.period
                found[rule.kind] = (rule.kind, count_period(listed, years=p.years, months=p.months, days=p.days),
                                    f"{pack.title}{rule.citation}")
    return [found[k] for k in _LIST_STEPS if k in found]


def _listed_without_ground(listed: str, today: date, tr: Gettext) -> str:
    """The list's deadlines counted from its publication, not kept as the enterprise's until its answers agree
    with the list; those past their legal last day said so."""
    lines = [tr(N_(
        "No deadlines kept yet: you said the enterprise is on the mandatory-audit list published on {day}, but by "
        "your answers none of the mandatory grounds applies (see the verdict). While the list names the "
        "enterprise, its deadlines apply; counted from {day} they are (the list notice decides):")).format(day=listed)]
    for kind, period, citation in _list_deadlines(date.fromisoformat(listed)):
        line = "• " + tr(_LIST_STEPS[kind]).format(nominal=period.nominal.isoformat(), due=period.due.isoformat())
        if period.due < today:
            line += tr(N_(": overdue by {days} days")).format(days=(today - period.due).days)
        lines += [line, "  " + tr(N_("Basis: {citation}")).format(citation=original(citation, tr))]
    lines.append(tr(N_("Check your answers against the list notice (type back to change one): once they agree with "
                       "it, I keep these deadlines and remind you of them.")))
    return "\n".join(lines)


def _yearly_day(year: int, month: int, day: int | str) -> date:
    return date(year, month, day if isinstance(day, int) else monthrange(year, month)[1])


def no_deadlines_text(obligation: str | None, province: str | None, today: date, tr: Gettext,
                      listed_on: str | None = None) -> str:
    """我的期限 with no milestone: for a voluntary verdict, that no list deadline applies, the voluntary
    programme's own yearly dates in the province (its documents' officer dates) and that the re-review
    counts from acceptance; before any verdict with the list's day given, that they count from it once the
    answers decide; otherwise that deadlines start from the mandatory list. A contact who said the enterprise
    is on a published list whose answers give no mandatory ground (the verdict says the two disagree) is not
    told that no deadline applies: the list's deadlines are, while it names the enterprise."""
    if obligation == "voluntary" and listed_on:
        return _listed_without_ground(listed_on, today, tr)  # the verdict says the list and the answers disagree
    if obligation in (None, "undetermined") and listed_on:  # the day given: "tell me its date" would ask it again
        return tr(N_("No deadlines yet: they count from the list published on {day} once your answers show "
                     "whether the audit is mandatory for your enterprise. Please answer the question below "
                     "first.")).format(day=listed_on)
    if obligation != "voluntary":
        return tr(N_("No deadlines yet: they start when your enterprise's mandatory-audit list is "
                     "published. Tell me its date when I ask, or type 重新开始."))
    lines = [tr(N_("No deadlines: a voluntary audit has no legal deadline, and the deadlines counted from a "
                   "mandatory-audit list do not apply to your enterprise."))]
    for pack in default_engine().packs:
        if pack.jurisdiction != province or not pack.in_force(today):
            continue
        for od in pack.officer_dates:
            nxt = _yearly_day(today.year, od.month, od.day)
            if nxt < today:
                nxt = _yearly_day(today.year + 1, od.month, od.day)
            lines.append(tr(N_("• Each year in the voluntary programme: {what}; next by {day} ({citation})")).format(
                what=original(od.note, tr), day=nxt.isoformat(), citation=original(f"{pack.title}{od.citation}", tr)))
    lines.append(tr(N_("When your voluntary audit passes acceptance (验收), tell me the day: where the province "
                       "requires a re-review (复审), I will keep that date.")))
    return "\n".join(lines)

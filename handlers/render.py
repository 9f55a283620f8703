"""Turning an assessment into the verdict message a person reads (whole sentences for translators).

Text the documents themselves supply (ground summaries, deadline notes, fields to publish, office
wording) is Chinese: in Chinese replies it is shown as it is; in English replies a ground is described
by its kind and any remaining original wording is marked as such between 「」 (`handlers.status.original`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from handlers.offices import render_offices
from handlers.status import KIND_LABELS, StatusItem, item_lines, original, reminder_promise
from rules.engine import Assessment, DeadlineHit, DocumentStatus, Text
from rules.i18n import N_, Gettext, Msg
from rules.provinces import all_provinces, get_province

if TYPE_CHECKING:
    from handlers.reminders import ReminderPolicy

__all__ = ["FACT_LABELS", "KIND_LABELS", "fact_label", "render_deadlines", "render_verdict"]

FACT_LABELS = {
    "province": N_("province"),
    "industry_code": N_("industry"),
    "scale": N_("enterprise size"),
    "employees": N_("number of employees"),
    "grounds": N_("the grounds (emissions, energy, toxic substances)"),
    "revenue_10k_yuan": N_("annual revenue"),
    "exceeds_emission_standard": N_("whether emissions exceed a standard"),
    "exceeds_total_quota": N_("whether emissions exceed the total quota"),
    "exceeds_energy_limit": N_("whether energy use exceeds the limit standard"),
    "missed_energy_target": N_("whether the energy-saving target was missed"),
    "toxic_classes": N_("toxic or hazardous substances"),
    "on_master_list": N_("whether it is in the master list"),
    "has_extraction": N_("whether it has an extraction process"),
    "has_industrial_coating": N_("whether it has an industrial coating process"),
    "above_designated_size": N_("whether it is above designated size"),
    "central_enterprise": N_("whether it is a central enterprise"),
    "list_published_on": N_("the day the list was published"),
    "last_audit_completed_on": N_("the day the last audit was completed"),
    "evaluated_on": N_("the day the audit report passed evaluation"),
    "accepted_on": N_("the day the audit passed acceptance"),  # Henan voluntary, and Shanxi mandatory (验收)
}
# A ground described by its kind, for readers of a language other than the documents' own.
GROUND_KINDS = {
    "pollution": N_("emissions exceed a national or local standard, or the total-quantity quota"),
    "energy": N_("energy use per unit of product exceeds the limit standard (high energy use), or, where the "
                 "document says so, the energy-saving target was missed"),
    "toxic": N_("toxic or hazardous raw materials are used, or toxic or hazardous substances discharged"),
    "key_industry": N_("the industry and size are in the list of key industries"),
    "master_list": N_("the enterprise is in the master list (名录总库)"),
}


def fact_label(fact: str, tr: Gettext) -> str:
    return tr(FACT_LABELS.get(fact, fact))


def _chinese(locale: str) -> bool:
    return locale.lower().startswith("zh")


def _province_name(pid: str, locale: str) -> str:
    p = get_province(pid)
    return p.name if _chinese(locale) or not p.aliases else p.aliases[0]


_NAME_TO_ID = {p.name: p.id for p in all_provinces()}


def _text(t: Text, tr: Gettext, locale: str) -> str:
    """A note or reason: a translated Msg (its Chinese arguments marked as original wording in English,
    a province by its English name), or a document's own text."""
    if isinstance(t, str):
        return t if _chinese(locale) else original(t, tr)
    if _chinese(locale) or not t.args:
        return t.render(tr)
    args: dict[str, object] = {}
    for k, v in t.args.items():
        if isinstance(v, str) and v in _NAME_TO_ID:
            args[k] = _province_name(_NAME_TO_ID[v], locale)
        elif isinstance(v, str) and any("\u4e00" <= ch <= "\u9fff" for ch in v):
            args[k] = original(v, tr)
        else:
            args[k] = v
    return Msg(t.msgid, args).render(tr)


def render_verdict(
    a: Assessment, tr: Gettext, locale: str, *, today: date | None = None, policy: ReminderPolicy | None = None
) -> str:
    """The verdict. With `today`, each deadline says where it stands (done / due in N days / overdue by N
    days with the penalty and what to do now); with `policy` too, which reminders are still planned."""
    parts = [_headline(a, tr)]
    if a.grounds:
        lines = [tr(N_("Grounds:"))]
        for g in a.grounds:
            if _chinese(locale):
                lines.append(tr(N_("• {document}{citation}: {summary}")).format(
                    document=g.pack.title, citation=g.citation, summary=g.summary))
            else:
                lines.append(tr(N_("• {source}: {summary}")).format(
                    source=original(f"{g.pack.title}{g.citation}", tr),
                    summary=tr(GROUND_KINDS.get(g.kind, g.kind))))
        parts.append("\n".join(lines))
    province = _province_of(a)
    if a.deadlines:
        parts.append(_deadlines(a.deadlines, tr, locale, today=today, province=province, policy=policy))
    if a.disclosure_fields:
        fields = tr(N_(", ")).join(a.disclosure_fields)
        parts.append(tr(N_("What to publish: {fields}")).format(
            fields=fields if _chinese(locale) else original(fields, tr)))
    if a.report_to:
        parts.append(render_offices(list(a.report_to), tr, province=province))
    if a.duties:
        parts.append(render_duties(a, tr, locale))
    vol = a.voluntary
    if a.obligation == "voluntary" and vol.eligible is not None:
        args = {"why": _text(vol.why, tr, locale),
                "citation": vol.citation if _chinese(locale) else original(vol.citation, tr)}
        if vol.eligible:
            parts.append(tr(N_("Voluntary audit: eligible. {why} ({citation})")).format(**args))
        else:
            parts.append(tr(N_("Voluntary audit programme: not eligible. {why} ({citation})")).format(**args))
    if a.missing:
        names = tr(N_(", ")).join(fact_label(m, tr) for m in a.missing)
        parts.append(tr(N_("Still unknown: {facts}. Type back to answer a skipped question.")).format(facts=names))
    parts.append(render_documents(a, tr, locale))
    parts.extend(_text(n, tr, locale) for n in a.notes)
    return "\n\n".join(p for p in parts if p)


def render_duties(a: Assessment, tr: Gettext, locale: str) -> str:
    """The verdict's duties without a counted period (packs' `duties`): the yearly environmental-information
    disclosure with its next date, publishing the audit result, a filed audit body, what counts as an audit."""
    lines = [tr(N_("Also required:"))]
    for d in a.duties:
        source = f"{d.pack.title}{d.citation}"
        source = source if _chinese(locale) else original(source, tr)
        if d.due is not None:
            lines.append(tr(N_("• Every year by {month}/{day}, disclose the previous year's environmental information, "
                               "including why the enterprise is under mandatory audit and how the audit, its "
                               "evaluation and acceptance went; next by {due}, for {year} ({source}).")).format(
                month=d.due.month, day=d.due.day, due=d.due.isoformat(), year=d.covers_year, source=source))
        else:
            summary = d.summary if _chinese(locale) else original(d.summary, tr)
            lines.append(tr(N_("• {source}: {summary}")).format(source=source, summary=summary))
    return "\n".join(lines)


def render_documents(a: Assessment, tr: Gettext, locale: str) -> str:
    """Which documents were applied, and why a document of the enterprise's province (or one used for a
    deadline) is expired, not yet in force, or past its planning period; a province whose documents are
    all out of force on the day is said to be judged under the national layer alone."""
    applied = [x.pack.title for x in a.documents if x.applied]
    lines = [tr(N_("Documents applied: {titles}")).format(titles=tr(N_(", ")).join(applied))]
    province = _province_of(a)
    for x in a.documents:
        if _worth_explaining(x, a.as_of, province):
            lines.append(tr(N_("• {title}: {why}")).format(title=x.pack.title, why=_text(x.why, tr, locale)))
    own = [x for x in a.documents if not x.pack.national and x.pack.jurisdiction == province]
    if own and not any(x.pack.in_force(a.as_of) for x in own):
        lines.append(tr(N_("No document of {province} is in force on {as_of}: the verdict follows the national "
                           "documents alone.")).format(province=_province_name(own[0].pack.jurisdiction, locale),
                                                       as_of=a.as_of.isoformat()))
    return "\n".join(lines)


def _worth_explaining(x: DocumentStatus, as_of: date, province: str | None) -> bool:
    p = x.pack
    mine = (not p.national and p.jurisdiction == province) or (p.national and x.applied)
    if not mine:
        return False
    expired = p.effective_until is not None and as_of > p.effective_until
    early = p.effective_from is not None and as_of < p.effective_from
    ended = p.period_end is not None and as_of > p.period_end
    return expired or early or ended


def _province_of(a: Assessment) -> str | None:
    """The enterprise's province, as the documents' statuses tell it: a provincial document that binds it
    (in force or not), or the province named in "Applies in X only; the enterprise is in Y"."""
    for x in a.documents:
        if not x.pack.national and not x.why.msgid.startswith("Applies in "):
            return x.pack.jurisdiction
    for x in a.documents:
        other = x.why.args.get("other")
        if isinstance(other, str) and other in _NAME_TO_ID:
            return _NAME_TO_ID[other]
    return None


def render_deadlines(
    a: Assessment, tr: Gettext, locale: str, *, today: date | None = None, policy: ReminderPolicy | None = None
) -> str:
    if not a.deadlines:
        if a.obligation == "voluntary":
            return tr(N_("A voluntary audit has no legal deadline to count. If it passes acceptance (验收), tell "
                         "me the day: where the province requires a re-review (复审), as Henan does every four "
                         "years, I will keep that date."))
        return tr(N_("No deadlines can be counted yet: they start from the day the list is published."))
    return _deadlines(a.deadlines, tr, locale, today=today, province=_province_of(a), policy=policy)


_MET_WORDS = {
    "last_audit_completed_on": N_("Done with the round: you said this round of audit was completed on {day}."),
    "evaluated_on": N_("Done with the round: you said the audit report passed evaluation on {day}."),
    "accepted_on": N_("Done with the round: you said the audit passed acceptance on {day}."),
}


def _deadlines(
    hits: tuple[DeadlineHit, ...],
    tr: Gettext,
    locale: str,
    *,
    today: date | None,
    province: str | None,
    policy: ReminderPolicy | None,
) -> str:
    if today is None:
        lines = [tr(N_("Deadlines:"))]
    else:
        lines = [tr(N_("Deadlines as of {today}:")).format(today=today.isoformat())]
    items = []
    for h in hits:
        item = StatusItem.from_hit(h)
        items.append(item)
        citation = h.citation if _chinese(locale) else original(h.citation, tr)
        if today is None:
            lines.append(tr(N_("• {what}: by {nominal} (legal last day {due}); {citation}")).format(
                what=tr(KIND_LABELS[h.kind]), nominal=h.nominal.isoformat(), due=h.due.isoformat(),
                citation=citation))
        else:
            body = item_lines(item, today, tr, province=province)
            lines.append(body[0])
            lines.append("  " + tr(N_("Basis: {citation}")).format(citation=citation))
        if h.met_on is not None and h.met_by in _MET_WORDS:
            lines.append("  " + tr(_MET_WORDS[h.met_by]).format(day=h.met_on.isoformat()))
        # A done step keeps what it was (the document's own note) but not how its period was counted
        # (holiday shift, unpublished schedule): those are Msg pieces and no longer matter.
        shown = h.note if h.met_on is None else tuple(p for p in h.note if not isinstance(p, Msg))
        pieces = [s for s in (_text(p, tr, locale) for p in shown) if s]
        # joined with "; ": a piece's own full stop goes, except the last one's
        note = tr(N_("; ")).join([x.rstrip("。.") for x in pieces[:-1]] + pieces[-1:])
        if note:
            lines.append(f"  {note}")
        if today is not None:
            lines.extend(body[1:])
    if today is not None and policy is not None:
        promise = reminder_promise(items, today, tr, policy=policy)
        if promise:
            lines += ["", promise]
    return "\n".join(lines)


def _headline(a: Assessment, tr: Gettext) -> str:
    if a.obligation == "mandatory":
        return tr(N_("Verdict: your enterprise must carry out a MANDATORY cleaner-production audit "
                     "(强制性清洁生产审核)."))
    if a.obligation == "voluntary":
        return tr(N_("Verdict: a cleaner-production audit is VOLUNTARY for your enterprise (not mandatory)."))
    return tr(N_("Verdict: not determined yet; more answers are needed."))


_INDUSTRIAL_SECTIONS = {"B", "C", "D"}  # 采矿业, 制造业, 电力、热力、燃气及水生产和供应业 (GB/T 4754-2017)


def ineligible_reasons(a: Assessment, facts: dict[str, Any], tr: Gettext, locale: str) -> str | None:
    """Why the facts fail the voluntary programme's conditions (Henan: an industrial enterprise above
    designated size), from the facts themselves; None when it is eligible or no condition is known to fail."""
    if a.obligation != "voluntary" or a.voluntary.eligible is not False:
        return None
    from rules.industries import get_class
    from rules.sizes import DESIGNATED_SIZE_REVENUE

    reasons: list[str] = []
    code = facts.get("industry_code")
    industry = get_class(str(code)) if code else None
    if industry is not None and industry.section not in _INDUSTRIAL_SECTIONS:
        reasons.append(tr(N_("{code} {name} is not an industrial enterprise (mining, manufacturing, or power, heat, "
                             "gas and water supply)")).format(code=industry.code, name=original(industry.name, tr)))
    revenue = facts.get("revenue_10k_yuan")
    if isinstance(revenue, int | float) and revenue < DESIGNATED_SIZE_REVENUE:
        reasons.append(tr(N_("its annual revenue, {revenue}, is below the 20 million yuan of an enterprise above "
                             "designated size")).format(revenue=_yuan(revenue, tr, locale)))
    elif facts.get("above_designated_size") is False or facts.get("scale") in ("small", "micro"):
        reasons.append(tr(N_("it is below designated size (annual revenue under 20 million yuan)")))
    if not reasons:
        return None
    return tr(N_("Why not: {reasons}.")).format(reasons=tr(N_("; ")).join(reasons))


def _yuan(revenue_10k_yuan: float, tr: Gettext, locale: str) -> str:
    """1500 (万元) -> "1500万元" in Chinese, "15 million yuan" in English."""
    if _chinese(locale):
        wan = int(revenue_10k_yuan) if revenue_10k_yuan == int(revenue_10k_yuan) else revenue_10k_yuan
        return tr(N_("{wan}0,000 yuan")).format(wan=wan)
    million = revenue_10k_yuan / 100
    shown = int(million) if million == int(million) else round(million, 2)
    return tr(N_("{million} million yuan")).format(million=shown)

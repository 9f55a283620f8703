"""Turning an assessment into the verdict message a person reads (whole sentences for translators)."""

from __future__ import annotations

from typing import Any

from rules.engine import Assessment
from rules.i18n import N_, Gettext

KIND_LABELS = {
    "disclosure": N_("Publish the enterprise's information"),
    "start": N_("Start the audit"),
    "report": N_("Complete the audit and submit the report"),
    "evaluation": N_("Audit evaluation"),
    "acceptance": N_("Pass acceptance (验收)"),
    "reaudit": N_("Complete the next audit round"),
    "review": N_("Voluntary audit re-review (复审)"),
}
FACT_LABELS = {
    "province": N_("province"),
    "industry_code": N_("industry"),
    "scale": N_("enterprise size"),
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
    "accepted_on": N_("the day the voluntary audit passed acceptance"),
}


def fact_label(fact: str, tr: Gettext) -> str:
    return tr(FACT_LABELS.get(fact, fact))


def render_verdict(a: Assessment, tr: Gettext, locale: str) -> str:
    d = a.to_dict(locale)
    parts = [_headline(a, tr)]
    if d["grounds"]:
        lines = [tr(N_("Grounds:"))]
        lines += [
            tr(N_("• {document}{citation}: {summary}")).format(
                document=g["document"], citation=g["citation"], summary=g["summary"])
            for g in d["grounds"]
        ]
        parts.append("\n".join(lines))
    if d["deadlines"]:
        parts.append(_deadlines(d["deadlines"], tr))
    if d["disclosure_fields"]:
        parts.append(tr(N_("What to publish: {fields}")).format(fields=tr(N_(", ")).join(d["disclosure_fields"])))
    if d["report_to"]:
        parts.append(tr(N_("Report the audit to: {offices}")).format(offices=tr(N_(", ")).join(d["report_to"])))
    vol = d["voluntary"]
    if a.obligation == "voluntary":
        if vol["eligible"] is True:
            parts.append(tr(N_("Voluntary audit: eligible. {why} ({citation})")).format(**vol))
        elif vol["eligible"] is False:
            parts.append(tr(N_("Voluntary audit programme: not eligible. {why} ({citation})")).format(**vol))
    if a.missing:
        names = tr(N_(", ")).join(fact_label(m, tr) for m in a.missing)
        parts.append(tr(N_("Still unknown: {facts}. Type 返回 to answer a skipped question.")).format(facts=names))
    applied = [x["title"] for x in d["documents"] if x["applied"]]
    parts.append(tr(N_("Documents applied: {titles}")).format(titles=tr(N_(", ")).join(applied)))
    parts.extend(d["notes"])
    return "\n\n".join(parts)


def render_deadlines(a: Assessment, tr: Gettext, locale: str) -> str:
    deadlines = a.to_dict(locale)["deadlines"]
    if not deadlines:
        return tr(N_("No deadlines can be counted yet: they start from the day the list is published."))
    return _deadlines(deadlines, tr)


def _deadlines(deadlines: list[dict[str, Any]], tr: Gettext) -> str:
    lines = [tr(N_("Deadlines:"))]
    for x in deadlines:
        lines.append(tr(N_("• {what}: by {nominal} (legal last day {due}); {citation}")).format(
            what=tr(KIND_LABELS[x["kind"]]), nominal=x["nominal"], due=x["due"], citation=x["citation"]))
        if x["note"]:
            lines.append(f"  {x['note']}")
    return "\n".join(lines)


def _headline(a: Assessment, tr: Gettext) -> str:
    if a.obligation == "mandatory":
        return tr(N_("Verdict: your enterprise must carry out a MANDATORY cleaner-production audit "
                     "(强制性清洁生产审核)."))
    if a.obligation == "voluntary":
        return tr(N_("Verdict: a cleaner-production audit is VOLUNTARY for your enterprise (not mandatory)."))
    return tr(N_("Verdict: not determined yet; more answers are needed."))

"""Saying back what was understood: "我理解的是：山东省 · 无机盐制造（2613）· 排放总量超过指标。"

One whole sentence per fact and value (translators see each one), joined with " · ".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from handlers.questions import province_label
from rules.i18n import N_, Gettext
from rules.industries import get_class
from rules.provinces import get_province

TOXIC_WORDS = {
    "hazardous_waste": N_("hazardous waste"),
    "highly_toxic_chemical": N_("highly toxic or key-managed hazardous chemicals"),
    "heavy_metal": N_("lead, mercury, cadmium, chromium or arsenic"),
    "pop": N_("persistent organic pollutants"),
    "other_toxic": N_("other toxic substances"),
}
# fact -> (sentence when true, sentence when false)
BOOL_SENTENCES: dict[str, tuple[str, str]] = {
    "exceeds_emission_standard": (N_("emissions exceed a standard"), N_("emissions within the standards")),
    "exceeds_total_quota": (N_("emissions exceed the total quota"), N_("emissions within the total quota")),
    "exceeds_energy_limit": (N_("energy use over the limit standard (high energy use)"),
                             N_("energy use within the limit standard")),
    "missed_energy_target": (N_("energy-saving target missed"), N_("energy-saving target met")),
    "has_extraction": (N_("has an extraction process"), N_("no extraction process")),
    "has_industrial_coating": (N_("has an industrial coating process"), N_("no industrial coating process")),
    "above_designated_size": (N_("above designated size (规上)"), N_("below designated size")),
    "on_master_list": (N_("in the master list"), N_("not in the master list")),
    "central_enterprise": (N_("a central enterprise (央企)"), N_("not a central enterprise")),
}
DATE_SENTENCES = {
    "list_published_on": N_("list published on {date}"),
    "last_audit_completed_on": N_("last audit completed on {date}"),
    "evaluated_on": N_("evaluation passed on {date}"),
    "accepted_on": N_("acceptance passed on {date}"),
}
SCALE_WORDS = {"large": N_("large enterprise"), "medium": N_("medium-sized enterprise"),
               "small": N_("small enterprise"), "micro": N_("micro enterprise")}
ORDER = ("province", "industry_code", "scale", "employees", "revenue_10k_yuan", "exceeds_emission_standard",
         "exceeds_total_quota", "exceeds_energy_limit", "missed_energy_target", "toxic_classes",
         "has_extraction", "has_industrial_coating", "above_designated_size", "on_master_list",
         "central_enterprise", "list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on")


def describe(fact: str, value: Any, tr: Gettext, locale: str) -> str:
    """One fact and its value as a short phrase."""
    if fact == "province":
        p = get_province(value)
        return p.name if locale == "zh_CN" else province_label(value, locale)
    if fact == "industry_code":
        industry = get_class(value)
        name = industry.name if industry is not None else ""
        return tr(N_("{name} ({code})")).format(name=name, code=value)
    if fact == "scale":
        return tr(SCALE_WORDS[value])
    if fact == "employees":
        return tr(N_("{count} employees")).format(count=_num(value))
    if fact == "revenue_10k_yuan":
        return tr(N_("annual revenue {amount}万元")).format(amount=_num(value))
    if fact == "toxic_classes":
        if not value:
            return tr(N_("no toxic or hazardous substances"))
        return tr(N_("toxic or hazardous substances: {classes}")).format(
            classes=tr(N_(", ")).join(tr(TOXIC_WORDS[c]) for c in value))
    if fact in BOOL_SENTENCES:
        return tr(BOOL_SENTENCES[fact][0 if value else 1])
    if fact in DATE_SENTENCES:
        return tr(DATE_SENTENCES[fact]).format(date=value)
    return f"{fact}={value}"


def _num(value: Any) -> str:
    return f"{float(value):g}"


def summary(facts: Mapping[str, Any], tr: Gettext, locale: str, only: Iterable[str] | None = None) -> str:
    """The facts (all, or `only` these) in a fixed order, joined: "山东省 · 水泥制造（3011） · 排放超标"."""
    wanted = set(only) if only is not None else set(facts)
    keys = [k for k in ORDER if k in wanted and k in facts]
    if "scale" in keys and ("employees" in keys or "revenue_10k_yuan" in keys):
        keys.remove("scale")  # the numbers say it
    return " · ".join(describe(k, facts[k], tr, locale) for k in keys)


def understood(facts: Mapping[str, Any], keys: Iterable[str], tr: Gettext, locale: str) -> str:
    return tr(N_("What I understood: {facts}. (Type 返回 to undo it.)")).format(
        facts=summary(facts, tr, locale, keys))

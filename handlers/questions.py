"""One question per fact the engine may report `missing`: its wording, its choices, its reader."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handlers import parse
from handlers.messages import Choice
from rules.i18n import N_, Gettext
from rules.industries import WEAK_TIER, Industry, get_class, search_tiers
from rules.provinces import find_province, get_province
from rules.sizes import above_designated_size, derive_scale

TOXIC_ORDER = ("hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic")
TOXIC_LABELS = {
    "hazardous_waste": N_("Hazardous waste"),
    "highly_toxic_chemical": N_("Highly toxic or key-managed hazardous chemicals"),
    "heavy_metal": N_("Substances with lead, mercury, cadmium, chromium or arsenic"),
    "pop": N_("Persistent organic pollutants (Stockholm Convention)"),
    "other_toxic": N_("Other toxic substances that may pollute the environment"),
}
SCALE_LABELS = {"large": N_("Large"), "medium": N_("Medium"), "small": N_("Small"), "micro": N_("Micro")}
FEATURED_PROVINCES = ("shanxi", "shandong", "xinjiang", "henan")


@dataclass(frozen=True, slots=True)
class Answer:
    """What an answer set: facts (JSON values), or a follow-up such as an industry pick list."""

    facts: dict[str, Any]
    candidates: tuple[str, ...] = ()
    note: str = ""


Reader = Callable[[str, dict[str, Any]], Answer | None]


@dataclass(frozen=True, slots=True)
class Question:
    fact: str
    prompt: str  # msgid
    choices: Callable[[Gettext, dict[str, Any]], tuple[Choice, ...]]
    read: Reader
    yes_no: bool = False  # answered by 是/否 (the extraction step's polarity)


def _yes_no_choices(tr: Gettext, state: dict[str, Any]) -> tuple[Choice, ...]:
    return (Choice("yes", tr(N_("Yes"))), Choice("no", tr(N_("No"))), Choice("unknown", tr(N_("Not sure"))))


def _bool_reader(fact: str) -> Reader:
    def read(text: str, state: dict[str, Any]) -> Answer | None:
        v = {"yes": True, "no": False}.get(text)
        if v is None:
            v = parse.parse_yes_no(text)
        return None if v is None else Answer({fact: v})

    return read


def province_label(pid: str, locale: str | None) -> str:
    """山西 in Chinese, Shanxi in English."""
    p = get_province(pid)
    return p.short if locale in (None, "zh_CN") else (p.aliases[0] if p.aliases else p.id.title())


def _province_choices(tr: Gettext, state: dict[str, Any]) -> tuple[Choice, ...]:
    return tuple(Choice(pid, province_label(pid, state.get("locale"))) for pid in FEATURED_PROVINCES)


def _read_province(text: str, state: dict[str, Any]) -> Answer | None:
    p = find_province(text)
    return None if p is None else Answer({"province": p.id})


def _industry_choices(tr: Gettext, state: dict[str, Any]) -> tuple[Choice, ...]:
    codes = state.get("candidates") or ()
    found = [get_class(c) for c in codes]
    picks = tuple(Choice(f"ind:{i.code}", f"{i.code} {i.name}") for i in found if i is not None)
    return (*picks, Choice("ind:none", tr(N_("None of these")))) if picks else ()


_NONE_OF_THESE = frozenset({"都没有", "都不是", "以上都不是", "以上都没有", "都不对", "没有", "不是", "都不像", "none",
                            "none of these", "none of them"})


# What is left of a message without these says no trade (digits, date words, punctuation, yes/no fillers).
_ACKS = parse.ACKNOWLEDGEMENTS | {"可以", "噢", "en", "hao"}
_NOT_TRADE = re.compile(r"[\d\s年月日号/.\-:：,，。!！?？、~～吧啊呀嗯哦的了]+")


def _read_industry(text: str, state: dict[str, Any]) -> Answer | None:
    if text.startswith("ind:"):
        code = text[4:]
        return Answer({}, note="none") if code == "none" else _industry_answer(get_class(code))
    t = parse.normalize(text)
    if len(t) == 4 and t.isdigit():
        return _industry_answer(get_class(t))
    if t.strip("。.!！ ") in _NONE_OF_THESE:  # 都没有 at the pick list is "none of these", not a trade to look up
        return Answer({}, note="none")
    words = _NOT_TRADE.sub("", t)
    if not words or words in _ACKS or parse.parse_yes_no(t) is not None:
        return None  # a date (2026年1月30日), a number or a bare 是 / 好的 names no trade: nothing to look up
    found = search_tiers(t, limit=6)
    strong = [(i, tier) for i, tier in found if tier < WEAK_TIER]
    if len(strong) == 1 and (len(found) == 1 or strong[0][1] <= 1):
        return _industry_answer(strong[0][0])  # the one class named, not a guess among others
    tiers = strong or found  # guesses (shared characters only) are offered only when nothing better is found
    if not tiers:
        return None
    return Answer({}, candidates=tuple(i.code for i, _ in tiers))


def _industry_answer(industry: Industry | None) -> Answer | None:
    return None if industry is None else Answer({"industry_code": industry.code})


def _scale_choices(tr: Gettext, state: dict[str, Any]) -> tuple[Choice, ...]:
    return tuple(Choice(s, tr(label)) for s, label in SCALE_LABELS.items())


def _read_scale(text: str, state: dict[str, Any]) -> Answer | None:
    if text in SCALE_LABELS:
        return Answer({"scale": text})
    scale = parse.parse_scale(text)
    if scale is not None:
        return Answer({"scale": scale})
    people, money = parse.parse_headcount_and_revenue(text)
    people = people if people is not None else state.get("facts", {}).get("employees")
    money = money if money is not None else state.get("facts", {}).get("revenue_10k_yuan")
    if people is None and money is None:
        return None
    facts: dict[str, Any] = {}
    if people is not None:
        facts["employees"] = people
    if money is not None:
        facts["revenue_10k_yuan"] = money
    derived = derive_scale(people, money)
    if derived is not None:
        facts["scale"] = derived
    return Answer(facts)


def _read_above_size(text: str, state: dict[str, Any]) -> Answer | None:
    answer = _bool_reader("above_designated_size")(text, state)
    if answer is not None:
        return answer
    money = parse.parse_money_10k(text)
    above = above_designated_size(money)
    return None if above is None else Answer({"above_designated_size": above, "revenue_10k_yuan": money})


def _toxic_choices(tr: Gettext, state: dict[str, Any]) -> tuple[Choice, ...]:
    return (
        *(Choice(f"tox:{c}", tr(TOXIC_LABELS[c])) for c in TOXIC_ORDER),
        Choice("tox:none", tr(N_("None of these"))),
    )


def _read_toxic(text: str, state: dict[str, Any]) -> Answer | None:
    if text.startswith("tox:"):
        cls = text[4:]
        return Answer({"toxic_classes": [] if cls == "none" else [cls]})
    picked = parse.parse_toxic_classes(text, TOXIC_ORDER)
    if picked is None and parse.parse_yes_no(text) is True:
        return Answer({}, candidates=TOXIC_ORDER)  # "yes": ask which class
    return None if picked is None else Answer({"toxic_classes": picked})


def _date_reader(fact: str, none_word: str) -> Reader:
    def read(text: str, state: dict[str, Any]) -> Answer | None:
        if text == "none" or parse.parse_yes_no(text) is False or none_word in text:
            return Answer({}, note="none")
        d = parse.parse_date(text)
        return None if d is None else Answer({fact: d.isoformat()})

    return read


def _date_choices(label: str) -> Callable[[Gettext, dict[str, Any]], tuple[Choice, ...]]:
    return lambda tr, state: (Choice("none", tr(label)),)


def _bool_q(fact: str, prompt: str) -> Question:
    return Question(fact, prompt, _yes_no_choices, _bool_reader(fact), yes_no=True)


QUESTIONS: dict[str, Question] = {
    "province": Question(
        "province",
        N_("In which province (autonomous region, municipality) is your enterprise registered? "
           "Pick one or type its name."),
        _province_choices, _read_province,
    ),
    "industry_code": Question(
        "industry_code",
        N_("What is your enterprise's industry? Type the trade in a few words (for example 水泥 or 电镀) "
           "or its four-digit GB/T 4754-2017 class code."),
        _industry_choices, _read_industry,
    ),
    "scale": Question(
        "scale",
        N_("How large is the enterprise (统计上大中小微型企业划分办法)? Pick one, or tell me its number of "
           "employees and annual revenue, for example: 350人，营收8000万."),
        _scale_choices, _read_scale,
    ),
    "exceeds_emission_standard": _bool_q(
        "exceeds_emission_standard",
        N_("Do the enterprise's pollutant emissions exceed a national or local emission standard?"),
    ),
    "exceeds_total_quota": _bool_q(
        "exceeds_total_quota",
        N_("Do its emissions of key pollutants exceed the total-quantity control quota set for it?"),
    ),
    "exceeds_energy_limit": _bool_q(
        "exceeds_energy_limit",
        N_("Does its energy use per unit of product exceed the energy consumption limit standard "
           "(high energy use)?"),
    ),
    "missed_energy_target": _bool_q(
        "missed_energy_target", N_("Did the enterprise fail to meet its energy-saving target?"),
    ),
    "toxic_classes": Question(
        "toxic_classes",
        N_("Does it use toxic or hazardous raw materials, or discharge toxic or hazardous substances? "
           "Pick the class that applies (type several numbers, e.g. 1,3, if more than one does)."),
        _toxic_choices, _read_toxic,
    ),
    "on_master_list": _bool_q(
        "on_master_list",
        N_("Is the enterprise in the province's master list (名录总库) of mandatory-audit enterprises?"),
    ),
    "has_extraction": _bool_q("has_extraction", N_("Does the enterprise have an extraction (mining) process?")),
    "has_industrial_coating": _bool_q(
        "has_industrial_coating", N_("Does the enterprise have an industrial coating process?"),
    ),
    "above_designated_size": Question(
        "above_designated_size",
        N_("Is its annual main-business revenue 20 million yuan (2000万元) or more? "
           "Answer yes or no, or type the amount."),
        _yes_no_choices, _read_above_size,
    ),
    "central_enterprise": _bool_q(
        "central_enterprise", N_("Is it an enterprise directly under the central government (中央直属企业)?"),
    ),
    "list_published_on": Question(
        "list_published_on",
        N_("If the enterprise has been named on a published list of mandatory-audit enterprises, on what "
           "day was the list published (for example 2026-03-31)? I will count its deadlines from that day."),
        _date_choices(N_("Not on a list yet")), _date_reader("list_published_on", "没有"),
    ),
    "last_audit_completed_on": Question(
        "last_audit_completed_on",
        N_("When did the enterprise complete its last cleaner-production audit (for example 2022-06-30)? "
           "The next round is due within five years of it."),
        _date_choices(N_("Never audited")), _date_reader("last_audit_completed_on", "从未"),
    ),
    "evaluated_on": Question(
        "evaluated_on",
        N_("If the audit report has passed evaluation (评估), on what day (for example 2026-08-20)? Acceptance "
           "(验收) is due within a year of it."),
        _date_choices(N_("Not evaluated yet")), _date_reader("evaluated_on", "没有"),
    ),
    "accepted_on": Question(
        "accepted_on",
        N_("If a voluntary audit of the enterprise has passed acceptance (验收), on what day (for example "
           "2025-12-01)? A re-review (复审) is due every four years."),
        _date_choices(N_("No voluntary audit yet")), _date_reader("accepted_on", "没有"),
    ),
}

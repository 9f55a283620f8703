"""Properties of `rules.assess` over random valid facts (hypothesis).

Facts are drawn from DESIGN.md's fact table: provinces with and without a pack, given as pinyin ids or
GB/T 2260 codes; real GB/T 4754-2017 class codes (the Shanxi annex's codes and the 工业涂装 divisions
drawn more often); sizes given or derived from employees and revenue; date facts 2005-2032; as-of dates
2004-2030. Each property holds for every assessment, whatever the packs say:

- every deadline's legal last day (`due`) is on or after its `nominal` day, and is a working day when
  the year's holiday schedule is known;
- a fact that triggers a ground (an exceeded standard, a toxic class, the master list ...) never turns a
  mandatory verdict into another one, never removes a ground, and never makes an undetermined verdict
  voluntary;
- `missing` is empty exactly when the verdict is decided;
- every ground carries a citation and a quote; every document appears once;
- a province given by its GB/T 2260 code is assessed exactly as the same province given by its id.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import assess, default_packs
from rules.industries import all_classes
from rules.periods import is_working_day

WITH_PACK = ["shanxi", "shandong", "xinjiang", "henan"]
WITH_PACK_BY_CODE = ["14", "37", "65", "41"]
WITHOUT_PACK = ["hebei", "guangdong", "shaanxi", "beijing", "13", "44"]
BY_CHINESE_NAME = ["山西", "新疆维吾尔自治区"]
PROVINCES = [*WITH_PACK, *WITH_PACK_BY_CODE, *WITHOUT_PACK, *BY_CHINESE_NAME]
CODE_OF = {"shanxi": "14", "shandong": "37", "xinjiang": "65", "henan": "41", "hebei": "13", "guangdong": "44"}
TOXIC = ["hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic"]
ALL_CODES = [c.code for c in all_classes()]
ANNEX_CODES = sorted(
    {row.code for p in default_packs() for t in p.tables.values() for row in t.rows if row.code is not None}
)
COATING_CODES = [c for c in ALL_CODES if 33 <= int(c[:2]) <= 43]
PACK_IDS = {p.id for p in default_packs()}
DATE_FACTS = ("list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on")

# A fact set to this value can only make a ground true (never false): the grounds' triggers.
TRIGGERS: dict[str, Any] = {
    "exceeds_emission_standard": True,
    "exceeds_total_quota": True,
    "exceeds_energy_limit": True,
    "missed_energy_target": True,
    "toxic_classes": ["heavy_metal"],
    "on_master_list": True,
    "has_extraction": True,
    "has_industrial_coating": True,
}

dates = st.dates(min_value=date(2005, 1, 1), max_value=date(2032, 12, 31))
as_of_dates = st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31))
numbers = st.one_of(
    st.integers(min_value=0, max_value=60_000),
    st.floats(min_value=0, max_value=60_000, allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 19, 20, 299, 300, 999, 1000, 1999, 2000, 39_999, 40_000]),  # the size bounds
)
industry_codes = st.one_of(st.sampled_from(ANNEX_CODES), st.sampled_from(COATING_CODES), st.sampled_from(ALL_CODES))

facts_strategy = st.fixed_dictionaries(
    {},
    optional={
        "province": st.sampled_from(PROVINCES),
        "industry_code": industry_codes,
        "scale": st.sampled_from(["large", "medium", "small", "micro"]),
        "employees": numbers,
        "revenue_10k_yuan": numbers,
        "exceeds_emission_standard": st.booleans(),
        "exceeds_total_quota": st.booleans(),
        "exceeds_energy_limit": st.booleans(),
        "missed_energy_target": st.booleans(),
        "toxic_classes": st.lists(st.sampled_from(TOXIC), max_size=3, unique=True),
        "has_extraction": st.booleans(),
        "has_industrial_coating": st.booleans(),
        "above_designated_size": st.booleans(),
        "on_master_list": st.booleans(),
        "central_enterprise": st.booleans(),
        **{name: dates.map(date.isoformat) for name in DATE_FACTS},
    },
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assess(facts: dict[str, Any], as_of: date) -> dict[str, Any]:
    return assess(facts, as_of).to_dict()


@SETTINGS
@given(facts=facts_strategy, as_of=as_of_dates)
def test_due_is_a_working_day_on_or_after_nominal(facts: dict[str, Any], as_of: date) -> None:
    result = _assess(facts, as_of)
    kinds = [d["kind"] for d in result["deadlines"]]
    assert len(kinds) == len(set(kinds)), f"a deadline kind appears twice: {kinds}"
    for d in result["deadlines"]:
        nominal, due = date.fromisoformat(d["nominal"]), date.fromisoformat(d["due"])
        assert due >= nominal, d
        assert nominal > date.fromisoformat(d["from"]), d  # the start day is not counted (第二百零一条)
        if d["schedule_known"]:
            assert is_working_day(due), d
        assert d["citation"], d
        assert d["from"] in {facts.get(name) for name in DATE_FACTS}, d  # counted from a date fact given


@SETTINGS
@given(facts=facts_strategy, as_of=as_of_dates, trigger=st.sampled_from(sorted(TRIGGERS)))
def test_a_triggering_fact_never_weakens_the_verdict(facts: dict[str, Any], as_of: date, trigger: str) -> None:
    before = _assess(facts, as_of)
    after = _assess({**facts, trigger: TRIGGERS[trigger]}, as_of)
    if before["obligation"] == "mandatory":
        assert after["obligation"] == "mandatory", (trigger, before["grounds"], after["obligation"])
        lost = {g["id"] for g in before["grounds"]} - {g["id"] for g in after["grounds"]}
        assert not lost, f"setting {trigger} removed the grounds {sorted(lost)}"
    elif before["obligation"] == "undetermined":
        assert after["obligation"] != "voluntary", (trigger, before["missing"])


@SETTINGS
@given(facts=facts_strategy, as_of=as_of_dates)
def test_missing_is_empty_exactly_when_decided(facts: dict[str, Any], as_of: date) -> None:
    result = _assess(facts, as_of)
    if result["obligation"] == "undetermined":
        assert result["missing"], result
        assert result["deadlines"] == [], "an undetermined verdict has no deadlines"
        assert result["voluntary"]["eligible"] is None
    else:
        assert result["missing"] == [], result
    assert len(result["missing"]) == len(set(result["missing"]))
    for name in result["missing"]:
        assert name not in facts, f"{name} is known but reported missing"
    if result["obligation"] == "mandatory":
        assert result["grounds"]
        assert result["voluntary"]["eligible"] is False
    else:
        assert result["grounds"] == []


@SETTINGS
@given(facts=facts_strategy, as_of=as_of_dates)
def test_grounds_are_cited_and_documents_listed_once(facts: dict[str, Any], as_of: date) -> None:
    result = _assess(facts, as_of)
    for g in result["grounds"]:
        assert g["citation"].strip() and g["quote"].strip(), g
        assert g["document_id"] in PACK_IDS, g
    ids = [d["id"] for d in result["documents"]]
    assert len(ids) == len(set(ids)), f"a document appears more than once: {ids}"
    assert set(ids) == PACK_IDS
    applied = {d["id"] for d in result["documents"] if d["applied"]}
    assert {g["document_id"] for g in result["grounds"]} <= applied, "a ground comes from a document not applied"
    assert len(result["disclosure_fields"]) == len(set(result["disclosure_fields"]))
    assert len(result["report_to"]) == len(set(result["report_to"]))
    json.dumps(result, ensure_ascii=False)  # the assess JSON contract: serialisable as is


@SETTINGS
@given(facts=facts_strategy, as_of=as_of_dates, province=st.sampled_from(sorted(CODE_OF)))
def test_a_province_code_means_the_same_province(facts: dict[str, Any], as_of: date, province: str) -> None:
    by_id = _assess({**facts, "province": province}, as_of)
    by_code = _assess({**facts, "province": CODE_OF[province]}, as_of)
    assert by_id == by_code

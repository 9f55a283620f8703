"""The engine's caches change no answer (issue 14 item 3).

A long-lived engine keeps per-(province, day) plans, counted deadlines, rendered document statuses and
penalties in LRU caches; `Engine(cache_size=0)` keeps nothing and works every assessment out afresh. Over
random facts and as-of days (a few days drawn again and again so that the caches are hit, others spread
over 2000-2035 so that they are missed and evicted), both give the same Assessment and the same JSON in
both locales, with the shipped packs and with the supersession fixtures. The JSON a caller gets is its own:
changing it changes nothing the engine returns later.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import encode_json
from rules import default_packs, derive, parse_facts
from rules.engine import Engine
from rules.industries import all_classes
from rules.packs import load_pack

FIXTURES = Path(__file__).parent / "fixtures"
PROVINCES = ["shanxi", "shandong", "xinjiang", "henan", "hebei", "guangdong", "65", "37"]
TOXIC = ["hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic"]
ANNEX_CODES = sorted({row.code for p in default_packs() for t in p.tables.values() for row in t.rows if row.code})
CODES = st.one_of(st.sampled_from(ANNEX_CODES), st.sampled_from([c.code for c in all_classes()]))
FACT_DATES = st.dates(min_value=date(2001, 1, 1), max_value=date(2034, 12, 31)).map(date.isoformat)
# Days around the documents' own dates (in force, expired, superseded) and the bench's day, drawn often.
HOT_DAYS = [date(2012, 7, 1), date(2016, 6, 30), date(2016, 7, 1), date(2021, 6, 1), date(2022, 5, 19),
            date(2022, 5, 20), date(2026, 11, 22), date(2031, 1, 1)]
AS_OF = st.one_of(st.sampled_from(HOT_DAYS), st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)))

FACTS = st.fixed_dictionaries(
    {},
    optional={
        "province": st.sampled_from(PROVINCES),
        "industry_code": CODES,
        "scale": st.sampled_from(["large", "medium", "small", "micro"]),
        "employees": st.integers(min_value=0, max_value=5000),
        "revenue_10k_yuan": st.integers(min_value=0, max_value=90_000),
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
        "list_published_on": FACT_DATES,
        "last_audit_completed_on": FACT_DATES,
        "evaluated_on": FACT_DATES,
        "accepted_on": FACT_DATES,
    },
)

SHIPPED = default_packs()
WITH_FIXTURES = (*SHIPPED, load_pack(FIXTURES / "ecology_code_fixture.yaml"),
                 load_pack(FIXTURES / "xinjiang_measures_fixture.yaml"))
# Long-lived engines (their caches fill over the whole run; small ones, so that eviction happens too) and
# engines that keep nothing.
WARM = {"shipped": Engine(SHIPPED), "fixtures": Engine(WITH_FIXTURES, cache_size=64)}
FRESH = {"shipped": Engine(SHIPPED, cache_size=0), "fixtures": Engine(WITH_FIXTURES, cache_size=0)}

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(facts=FACTS, as_of=AS_OF, packs=st.sampled_from(sorted(WARM)))
def test_cached_engine_answers_as_a_fresh_uncached_one(facts: dict[str, Any], as_of: date, packs: str) -> None:
    derived = derive(parse_facts(facts))
    warm = WARM[packs].assess(derived, as_of)
    fresh = FRESH[packs].assess(derived, as_of)
    assert warm == fresh
    assert repr(warm) == repr(fresh)
    for locale in ("zh_CN", "en"):
        expected = fresh.to_dict(locale)
        assert warm.to_dict(locale) == expected
        assert warm.to_dict(locale, shared=True) == expected
        # Same bytes, key order included.
        assert json.dumps(warm.to_dict(locale), ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


@settings(max_examples=60, deadline=None)
@given(facts=FACTS, as_of=AS_OF)
def test_the_json_a_caller_gets_is_its_own(facts: dict[str, Any], as_of: date) -> None:
    engine = WARM["shipped"]
    derived = derive(parse_facts(facts))
    first = engine.assess(derived, as_of).to_dict("en")
    kept = copy.deepcopy(first)
    _scribble(first)
    assert engine.assess(derived, as_of).to_dict("en") == kept
    assert engine.assess(derived, as_of).to_dict("en", shared=True) == kept


def _scribble(value: Any) -> None:
    """Change every dict and list inside `value` in place."""
    if isinstance(value, dict):
        for v in value.values():
            _scribble(v)
        value["scribbled"] = True
    elif isinstance(value, list):
        for v in value:
            _scribble(v)
        value.append("scribbled")


def test_a_day_plan_is_reused_and_the_caches_are_bounded() -> None:
    engine = Engine(SHIPPED, cache_size=8)
    facts = derive(parse_facts({"province": "shandong", "industry_code": "3011", "exceeds_energy_limit": True,
                                "list_published_on": "2021-03-31"}))
    first = engine.assess(facts, date(2021, 6, 1))
    again = engine.assess(facts, date(2021, 6, 1))
    assert again.documents is first.documents and again.deadlines[0] is first.deadlines[0]
    for day in range(40):  # forty days on which no document changes status: one plan, forty frames
        engine.assess(facts, date(2021, 2, 1) + timedelta(days=day))
    assert engine._day.cache_info().currsize == 1
    assert engine._day.cache_info().misses == 1
    assert engine._frame.cache_info().currsize == 16  # bounded: 2 x cache_size
    assert engine.assess(facts, date(2021, 6, 1)) == first  # worked out again after eviction
    assert Engine(SHIPPED, cache_size=0)._day.cache_info().maxsize == 0


@settings(max_examples=150, deadline=None)
@given(facts=FACTS, as_of=AS_OF, locale=st.sampled_from(["zh_CN", "en"]))
def test_orjson_writes_the_bytes_json_wrote(facts: dict[str, Any], as_of: date, locale: str) -> None:
    """`qingshen assess` (indented) and the API (compact) write what the standard library wrote before."""
    result = WARM["shipped"].assess(derive(parse_facts(facts)), as_of).to_dict(locale, shared=True)
    indented = json.dumps(result, ensure_ascii=False, indent=2).encode()
    compact = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
    assert encode_json(result, indent=True) == indented
    assert encode_json(result) == compact
    assert encode_json([result, result], indent=True) == json.dumps([result, result], ensure_ascii=False,
                                                                    indent=2).encode()


def test_orjson_escapes_as_json_did() -> None:
    tricky = {"s": "引号\"\\\n\t\x00\x1f\x7f\u2028 《》", "empty": [], "none": {}, "n": [0, -1, 2**62, None, True]}
    assert encode_json(tricky, indent=True) == json.dumps(tricky, ensure_ascii=False, indent=2).encode()
    assert encode_json(tricky) == json.dumps(tricky, ensure_ascii=False, separators=(",", ":")).encode()
    assert orjson.loads(encode_json(tricky)) == tricky

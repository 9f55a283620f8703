"""The fast path answers byte for byte as a fresh, cache-free evaluation (issue 14 item 3).

A deterministic sample of the rules bench's profiles (bench/profiles.py), on the bench's day and on
varying days, and the facts of every rule case in tests/rules/cases: the long-lived engine (LRU caches
warmed by the whole sample, grounds evaluated by generated code) and `Engine(cache_size=0)` (nothing
kept, the reference loop over closures) give the same `to_dict()` bytes in both locales. A cache keyed
too coarsely, a plan shared where it should not be, or generated code that disagrees fails here.
(`python -m bench.rules_equivalence` checks all 10,000 profiles against a recording made before a change.)
"""

from __future__ import annotations

import contextlib
from dataclasses import fields
from datetime import date, timedelta
from typing import Any

import orjson
import pytest

from bench.profiles import profiles
from bench.rules_bench import AS_OF
from bench.rules_equivalence import _cases
from rules import FactError, default_packs, derive, parse_facts
from rules.engine import Assessment, Engine
from rules.i18n import LOCALES

SAMPLE = profiles(10_000)[::9]
INPUTS: list[tuple[dict[str, Any], date]] = [
    *((p, AS_OF) for p in SAMPLE),
    *((p, date(2012, 1, 1) + timedelta(days=(i * 211) % 5400)) for i, p in enumerate(SAMPLE)),
    *_cases(),
]


@pytest.fixture(scope="module")
def warm() -> Engine:
    engine = Engine(default_packs())
    for facts, day in INPUTS:  # fill the caches with every input first
        with contextlib.suppress(FactError):
            engine.assess(derive(parse_facts(facts)), day).to_dict()
    return engine


def test_sample_of_bench_profiles_and_cases_answer_as_a_fresh_engine(warm: Engine) -> None:
    fresh = Engine(default_packs(), cache_size=0)
    assert len(INPUTS) > 2000
    compared = 0
    for facts, day in INPUTS:
        try:
            derived = derive(parse_facts(facts))
        except FactError:
            continue
        fast, slow = warm.assess(derived, day), fresh.assess(derived, day)
        assert fast == slow, (facts, day)
        for locale in LOCALES:
            assert orjson.dumps(fast.to_dict(locale)) == orjson.dumps(slow.to_dict(locale)), (facts, day, locale)
            assert orjson.dumps(fast.to_dict(locale, shared=True)) == orjson.dumps(slow.to_dict(locale))
        compared += 1
    assert compared > 2000


def test_generated_plans_are_used_by_a_caching_engine_only(warm: Engine) -> None:
    fresh = Engine(default_packs(), cache_size=0)
    facts = derive(parse_facts({"province": "shanxi", "industry_code": "3011"}))
    plan, reference = warm._day("shanxi", 5).grounds, fresh._day("shanxi", 5).grounds
    assert plan.grounds == reference.grounds
    assert plan.evaluate.__code__.co_filename == "<rules.conditions>"
    assert reference.evaluate(facts) == plan.evaluate(facts)


def test_an_assessment_built_by_slots_is_the_dataclass_built_one(warm: Engine) -> None:
    for facts, day in INPUTS[:300]:
        fast = warm.assess(derive(parse_facts(facts)), day)
        built = Assessment(**{f.name: getattr(fast, f.name) for f in fields(Assessment)})
        assert built == fast and repr(built) == repr(fast)
        names = [f.name for f in fields(Assessment)]
        assert [getattr(built, n) for n in names] == [getattr(fast, n) for n in names]

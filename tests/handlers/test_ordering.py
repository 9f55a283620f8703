"""The decisive-question order with its score cache (`handlers.ordering.Scores`) is exactly the order of
the implementation that assessed every probe on every call (kept below as the reference), over many fact
sets and days; and a cached score is never served for other facts, another day or another engine."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.ordering import BOOL_PROBES, PROBES, Scores, order_missing
from rules import Engine, FactError, default_engine, derive, parse_facts
from tests.handlers.chatkit import sqlite_bot

DAYS = (date(2016, 9, 1), date(2021, 6, 1), date(2026, 12, 1))
PROVINCES = ("shanxi", "shandong", "xinjiang", "henan", "hebei", "14", "37", "65", "41", "guangdong", None)
CODES = ("3011", "3360", "2521", "4411", "0610", "1713", "2710", "3311", "3411", "5211", "1331", "2614", "3012",
         "2211", "4419", "2631")
BOOLS = ("exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit", "missed_energy_target",
         "has_extraction", "has_industrial_coating", "on_master_list", "above_designated_size", "central_enterprise")
TOXIC = ("hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic")


# -- the implementation before the cache, verbatim: every call assesses every probe ----------------

def reference_order(engine: Engine, facts: Mapping[str, Any], missing: Sequence[str], as_of: date,
                    askable: set[str]) -> list[str]:
    candidates = [f for f in missing if f in askable]
    if len(candidates) < 2:
        return candidates
    scored = [(-_reference_score(engine, facts, f, as_of), i, f) for i, f in enumerate(candidates)]
    return [f for _, _, f in sorted(scored)]


def _reference_score(engine: Engine, facts: Mapping[str, Any], fact: str, as_of: date) -> float:
    decided = eligible = tried = 0.0
    for value, weight in PROBES.get(fact, BOOL_PROBES):
        try:
            a = engine.assess(derive(parse_facts({**facts, fact: value})), as_of)
        except FactError:
            continue
        tried += weight
        decided += weight * (a.obligation != "undetermined")
        eligible += weight * (a.voluntary.eligible is not None)
    return 0.0 if not tried else (decided + 0.5 * eligible) / tried


def _facts(rng: random.Random) -> dict[str, Any]:
    """Facts as the interview holds them part-way: a province, maybe a trade and a size, some grounds."""
    facts: dict[str, Any] = {}
    province = rng.choice(PROVINCES)
    if province is not None:
        facts["province"] = province
    if rng.random() < 0.4:  # early in the interview: the same few facts with different values
        if rng.random() < 0.5:
            facts["industry_code"] = rng.choice(CODES)
        return facts
    if rng.random() < 0.5:
        facts["industry_code"] = rng.choice(CODES)
    r = rng.random()
    if r < 0.3:
        facts["scale"] = rng.choice(("large", "medium", "small", "micro"))
    elif r < 0.5:
        facts["employees"] = rng.randint(1, 3000)
        facts["revenue_10k_yuan"] = rng.randint(10, 90000)
    for name in BOOLS:
        if rng.random() < 0.25:
            facts[name] = rng.random() < 0.3
    if rng.random() < 0.25:
        facts["toxic_classes"] = rng.sample(TOXIC, rng.randint(0, 2))
    if rng.random() < 0.15:
        facts["list_published_on"] = (date(2015, 1, 1) + timedelta(days=rng.randint(0, 4300))).isoformat()
    return facts


def _open(engine: Engine, facts: Mapping[str, Any], as_of: date) -> list[str]:
    """What the interview would order: the engine's missing facts, then voluntary eligibility's."""
    a = engine.assess(derive(parse_facts(dict(facts))), as_of)
    return [*a.missing, *(f for f in a.voluntary.missing if f not in a.missing)]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return default_engine()


def test_the_cached_order_is_the_reference_order_over_many_fact_sets(engine: Engine) -> None:
    rng = random.Random(20261202)
    cases = []
    for _ in range(400):
        facts, as_of = _facts(rng), rng.choice(DAYS)
        pending = _open(engine, facts, as_of)
        askable = {f for f in pending if rng.random() < 0.9}  # a skipped fact is not askable
        cases.append((facts, as_of, pending, askable))
    ordered = [c for c in cases if len([f for f in c[2] if f in c[3]]) >= 2]
    assert len(ordered) > 150  # most cases do have an order to decide
    scores = Scores()
    for facts, as_of, pending, askable in cases + cases[::-1]:  # the second pass is served from the cache
        assert order_missing(engine, facts, pending, as_of, askable, scores) == \
            reference_order(engine, facts, pending, as_of, askable), (facts, as_of)
    assert len(scores) > 0
    firsts = {tuple(reference_order(engine, f, p, d, a)[:1]) for f, d, p, a in ordered}
    assert len(firsts) >= 3  # the cases ask different questions first: the comparison can tell orders apart


CANDIDATES = ["exceeds_emission_standard", "industry_code", "scale"]


def test_a_score_cached_for_one_province_is_not_served_for_another(engine: Engine) -> None:
    scores = Scores()
    today = date(2026, 12, 1)
    # in Shanxi the 十四五 annex makes the trade decisive; in Hebei it decides nothing
    assert order_missing(engine, {"province": "shanxi"}, CANDIDATES, today, set(CANDIDATES), scores)[0] == \
        "industry_code"
    assert order_missing(engine, {"province": "hebei"}, CANDIDATES, today, set(CANDIDATES), scores)[0] == \
        "exceeds_emission_standard"
    assert order_missing(engine, {"province": "shanxi"}, CANDIDATES, today, set(CANDIDATES), scores)[0] == \
        "industry_code"


def test_a_score_cached_for_one_day_is_not_served_for_another(engine: Engine) -> None:
    scores = Scores()
    facts = {"province": "shanxi"}
    assert order_missing(engine, facts, CANDIDATES, date(2026, 12, 1), set(CANDIDATES), scores)[0] == "industry_code"
    # before the 十四五 plan the trade decided nothing in Shanxi
    assert order_missing(engine, facts, CANDIDATES, date(2020, 6, 1), set(CANDIDATES), scores)[0] == \
        "exceeds_emission_standard"


def test_facts_changed_in_place_are_a_new_key(engine: Engine) -> None:
    scores = Scores()
    today = date(2026, 12, 1)
    facts: dict[str, Any] = {"province": "shanxi"}
    assert order_missing(engine, facts, CANDIDATES, today, set(CANDIDATES), scores)[0] == "industry_code"
    facts["province"] = "hebei"  # a correction of the same dict
    assert order_missing(engine, facts, CANDIDATES, today, set(CANDIDATES), scores) == \
        reference_order(engine, facts, CANDIDATES, today, set(CANDIDATES))
    assert order_missing(engine, facts, CANDIDATES, today, set(CANDIDATES), scores)[0] == "exceeds_emission_standard"


def test_true_and_one_are_different_answers(engine: Engine) -> None:
    """Keys keep the type of each value: {x: True} and {x: 1} compare and hash equal in Python."""
    from handlers.ordering import facts_key

    assert facts_key({"central_enterprise": True}) != facts_key({"central_enterprise": 1})
    assert facts_key({"toxic_classes": ["pop", "heavy_metal"]}) != facts_key({"toxic_classes": ["heavy_metal", "pop"]})
    assert facts_key({"a": 1, "b": 2}) == facts_key({"b": 2, "a": 1})


def test_another_engine_starts_afresh_and_a_bounded_cache_stays_bounded() -> None:
    first, second = Engine(cache_size=0), default_engine()
    scores = Scores(size=3)
    today = date(2026, 12, 1)
    for province in ("shanxi", "hebei", "henan", "shandong"):
        order_missing(first, {"province": province}, CANDIDATES, today, set(CANDIDATES), scores)
        assert len(scores) <= 3
    order_missing(second, {"province": "shanxi"}, CANDIDATES, today, set(CANDIDATES), scores)
    assert scores.engine is second and len(scores) == 3  # the first engine's scores were dropped
    nothing = Scores(size=0)
    assert order_missing(second, {"province": "shanxi"}, CANDIDATES, today, set(CANDIDATES), nothing)[0] == \
        "industry_code"
    assert len(nothing) == 0


SCRIPTS = (
    ("山西", "3011"),
    ("山西", "返回", "河北"),
    ("山西", "返回", "山东", "都没有"),
    ("河北", "1,2"),
    ("我们是山西的焦化厂",),
    ("山西", "有机化学原料制造"),
)


def test_a_warm_cache_asks_what_a_bot_without_one_asks(tmp_path: Path) -> None:
    """Many contacts through one dispatcher (its cache warmed by the others, corrections included) get the
    questions a dispatcher that keeps no scores asks."""
    warm = sqlite_bot(tmp_path / "warm", start=False)
    cold = sqlite_bot(tmp_path / "cold", start=False)
    cold.dispatcher.interview.scores = Scores(size=0)
    for round_ in range(2):
        for n, script in enumerate(SCRIPTS):
            user = f"u{round_}-{n}"
            warm.start(user)
            cold.start(user)
            for text in script:
                assert warm.push(text, user) == cold.push(text, user), (script, text)
    assert len(warm.dispatcher.interview.scores) > 0 and len(cold.dispatcher.interview.scores) == 0

"""Which open question to ask first: the one whose answer decides the most of what is still open.

For each fact the engine reports `missing`, every probe answer (`PROBES`, each with how likely it is)
is tried and the outcome re-assessed; a fact scores the likelihood that its answer decides the verdict,
plus half the likelihood that it decides voluntary eligibility (what Henan's applicants need). A
ground holds for few enterprises (a yes is taken as 1 in 5, as in bench/profiles.py), so a yes/no
ground decides little on its own. The highest score is asked first; ties
keep the engine's own order. In Shanxi the industry alone decides most cases (the 十四五 annex), so it
comes before the four yes/no grounds; `bench/conversation_bench.py` measures the answers it saves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from rules import Engine, FactError, derive, parse_facts

# A fixed, representative set of answers per fact: the trades of bench/profiles.py (heavy industry,
# annex and non-annex, industrial and not), every size, both booleans, toxic or none.
INDUSTRY_PROBES = ("3011", "3360", "2521", "4411", "0610", "1713", "2710", "3311", "3411", "5211", "1331",
                   "2614", "3012")
GROUND_HOLDS = 0.2
PROBES: Mapping[str, Sequence[tuple[Any, float]]] = {
    "industry_code": tuple((code, 1 / len(INDUSTRY_PROBES)) for code in INDUSTRY_PROBES),
    "scale": (("large", 0.25), ("medium", 0.25), ("small", 0.25), ("micro", 0.25)),
    "toxic_classes": (([], 1 - GROUND_HOLDS), (["other_toxic"], GROUND_HOLDS)),
}
BOOL_PROBES = ((True, GROUND_HOLDS), (False, 1 - GROUND_HOLDS))


def order_missing(engine: Engine, facts: Mapping[str, Any], missing: Sequence[str], as_of: date,
                  askable: set[str]) -> list[str]:
    """`missing` (already filtered to what can be asked) reordered by decisiveness, best first."""
    candidates = [f for f in missing if f in askable]
    if len(candidates) < 2:
        return candidates
    scored = [(-_score(engine, facts, f, as_of), i, f) for i, f in enumerate(candidates)]
    return [f for _, _, f in sorted(scored)]


def _score(engine: Engine, facts: Mapping[str, Any], fact: str, as_of: date) -> float:
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

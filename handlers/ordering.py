"""Which open question to ask first: the one whose answer decides the most of what is still open.

For each fact the engine reports `missing`, every probe answer (`PROBES`, each with how likely it is)
is tried and the outcome re-assessed; a fact scores the likelihood that its answer decides the verdict,
plus half the likelihood that it decides voluntary eligibility (what Henan's applicants need). A
ground holds for few enterprises (a yes is taken as 1 in 5, as in bench/profiles.py), so a yes/no
ground decides little on its own. The highest score is asked first; ties
keep the engine's own order. In Shanxi the industry alone decides most cases (the 十四五 annex), so it
comes before the four yes/no grounds; `bench/conversation_bench.py` measures the answers it saves.

A fact's score depends only on the engine, the facts known, the day and the fact, so `Scores` keeps the
scores of the last few thousand (facts, day, fact) in a bounded LRU: contacts at the same point of the
interview (the province given, nothing else) cost one dictionary look-up instead of some 20 assessments.
Any change to the facts (an answer, a correction, 返回) is a new key; a different engine empties it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from datetime import date
from typing import Any

from handlers.kept import Kept
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


SCORES_KEPT = 4096


class Scores:
    """A bounded LRU of decisiveness scores by (facts, day, fact) for one engine; `size=0` keeps nothing."""

    def __init__(self, size: int = SCORES_KEPT) -> None:
        self.engine: Engine | None = None
        self._items: Kept[float] = Kept(size)  # the server runs turns on a thread pool

    def __len__(self) -> int:
        return len(self._items)

    def score(self, engine: Engine, facts: Mapping[str, Any], facts_key: Hashable, fact: str, as_of: date) -> float:
        if engine is not self.engine:  # scores are the engine's: another one starts afresh
            self._items.clear()
            self.engine = engine
        key = (facts_key, as_of, fact)
        found = self._items.get(key)
        if found is not None:
            return found
        value = _score(engine, facts, fact, as_of)
        self._items.put(key, value)
        return value


def order_missing(engine: Engine, facts: Mapping[str, Any], missing: Sequence[str], as_of: date,
                  askable: set[str], scores: Scores | None = None) -> list[str]:
    """`missing` (already filtered to what can be asked) reordered by decisiveness, best first; with
    `scores`, the scores already computed for these facts on this day are reused."""
    candidates = [f for f in missing if f in askable]
    if len(candidates) < 2:
        return candidates
    if scores is None:
        scored = [(-_score(engine, facts, f, as_of), i, f) for i, f in enumerate(candidates)]
    else:
        key = facts_key(facts)
        scored = [(-scores.score(engine, facts, key, f, as_of), i, f) for i, f in enumerate(candidates)]
    return [f for _, _, f in sorted(scored)]


def facts_key(facts: Mapping[str, Any]) -> Hashable:
    """The facts as a hashable key; values keep their type (True and 1 are different answers)."""
    return frozenset((name, _frozen(value)) for name, value in facts.items())


def _frozen(value: Any) -> Hashable:
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(_frozen(v) for v in value))
    return (type(value).__name__, value)


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

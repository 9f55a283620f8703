"""Rules as code: facts + as-of date -> Assessment. No database, no channel, no network."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from rules.engine import Assessment, DeadlineHit, DocumentStatus, DutyHit, Engine, GroundHit, VoluntaryStatus
from rules.errors import FactError, QingshenError, RulePackError
from rules.facts import derive, derive_into, parse_facts
from rules.packs import Pack, default_packs, load_packs

__all__ = [
    "Assessment",
    "DeadlineHit",
    "DocumentStatus",
    "DutyHit",
    "Engine",
    "FactError",
    "GroundHit",
    "Pack",
    "QingshenError",
    "RulePackError",
    "VoluntaryStatus",
    "assess",
    "default_engine",
    "default_packs",
    "derive",
    "load_packs",
    "parse_facts",
]


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    return Engine(default_packs())


def assess(raw_facts: object, as_of: date) -> Assessment:
    """Validate raw JSON facts (FactError names the bad field) and assess them on `as_of`."""
    return default_engine().assess(derive_into(parse_facts(raw_facts)), as_of)

"""Assessments per second on one core over 10,000 varied profiles, and latency percentiles."""

from __future__ import annotations

import statistics
import time
from datetime import date
from typing import Any

from bench.profiles import profiles
from rules import default_engine, derive, parse_facts

AS_OF = date(2026, 11, 22)


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run(n: int = 10_000) -> dict[str, Any]:
    engine = default_engine()
    raw = profiles(n)
    validated = [derive(parse_facts(p)) for p in raw]
    for facts in validated[:500]:  # warm caches (holiday lookups, compiled packs)
        engine.assess(facts, AS_OF)

    lat: list[float] = []
    start = time.perf_counter()
    for facts in validated:
        t0 = time.perf_counter()
        engine.assess(facts, AS_OF)
        lat.append(time.perf_counter() - t0)
    engine_s = time.perf_counter() - start

    full: list[float] = []
    start = time.perf_counter()
    for p in raw:
        t0 = time.perf_counter()
        engine.assess(derive(parse_facts(p)), AS_OF).to_dict()
        full.append(time.perf_counter() - t0)
    full_s = time.perf_counter() - start

    lat.sort()
    full.sort()
    return {
        "profiles": n,
        "engine_assessments_per_s": round(n / engine_s),
        "engine_p50_ms": round(statistics.median(lat) * 1000, 4),
        "engine_p99_ms": round(_percentile(lat, 0.99) * 1000, 4),
        "end_to_end_assessments_per_s": round(n / full_s),
        "end_to_end_p99_ms": round(_percentile(full, 0.99) * 1000, 4),
        "end_to_end_includes": "JSON facts validation + derivation + assessment + rendering to the contract dict",
        "target": {"assessments_per_s": 20_000, "p99_ms": 1.0},
    }

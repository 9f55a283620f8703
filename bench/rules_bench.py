"""The rules engine on one core (issue 14 item 3): assessments/s, and JSON in -> JSON out per second.

Each figure is the median of RUNS runs over 10,000 varied profiles, with min and max, by this process's own
CPU time (`time.process_time`, so that other work on the machine does not count; wall time is recorded
too). `engine`: validated facts -> `Engine.assess` on one as-of day (the bench's day, as a chat or a list
import on one day); `engine_varying_as_of`: the same with each profile on another day of 2024-2026;
`json_to_json`: the bytes of one fact object -> the indented JSON `qingshen assess` prints
(`bot.cli.assess_json`: UTF-8 check, json.loads, validation, derivation, assessment, rendering, orjson).
`to_dict` is the copied dict the chat stores. The engine is the process's long-lived one, its caches
warmed by one pass first (they are bounded: 10,000 profiles' deadlines do not all fit).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from bench.profiles import profiles
from bot.cli import assess_json
from rules import default_engine, derive, parse_facts

AS_OF = date(2026, 11, 22)
RUNS = 5
TARGET = {"engine_assessments_per_s": 60_000, "json_to_json_per_s": 25_000}


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _calibration() -> float:
    """Microseconds of CPU for a fixed pure-Python loop: compares machines and days."""
    start = time.process_time()
    total = 0
    for i in range(200_000):
        total += i % 7
    return round((time.process_time() - start) * 1e6 / 200, 3)  # per 1,000 iterations


def _runs(items: Sequence[Any], call: Callable[[Any], object], runs: int) -> dict[str, Any]:
    """Rate per second of CPU over `runs` passes (median, min, max), wall rate, and per-call latencies."""
    rates, walls, lat = [], [], []
    for i in range(runs):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if i == 0:  # latencies from the first pass only (timing each call costs)
            for x in items:
                t0 = time.perf_counter()
                call(x)
                lat.append(time.perf_counter() - t0)
        else:
            for x in items:
                call(x)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        rates.append(len(items) / cpu)
        walls.append(len(items) / wall)
    lat.sort()
    return {
        "per_s_median": round(statistics.median(rates[1:] or rates)),  # pass 0 also times each call
        "per_s_min": round(min(rates[1:] or rates)),
        "per_s_max": round(max(rates[1:] or rates)),
        "wall_per_s_median": round(statistics.median(walls[1:] or walls)),
        "p50_us": round(statistics.median(lat) * 1e6, 2),
        "p99_us": round(_percentile(lat, 0.99) * 1e6, 2),
        "runs": max(1, runs - 1),
    }


def run(n: int = 10_000, runs: int = RUNS + 1) -> dict[str, Any]:
    engine = default_engine()
    raw = profiles(n)
    validated = [derive(parse_facts(p)) for p in raw]
    texts = [json.dumps(p, ensure_ascii=False).encode("utf-8") for p in raw]
    days = [date(2024, 1, 1) + timedelta(days=(i * 37) % 1096) for i in range(n)]
    dated = list(zip(validated, days, strict=True))
    load_before = os.getloadavg()
    for facts in validated:  # warm the caches (plans, counted deadlines, rendered statuses)
        engine.assess(facts, AS_OF).to_dict()

    engine_fig = _runs(validated, lambda f: engine.assess(f, AS_OF), runs)
    varying = _runs(dated, lambda fd: engine.assess(fd[0], fd[1]), runs)
    results = [engine.assess(f, AS_OF) for f in validated]
    to_dict = _runs(results, lambda a: a.to_dict(), runs)
    json_fig = _runs(texts, lambda t: assess_json(t, AS_OF), runs)
    return {
        "profiles": n,
        "engine": engine_fig,
        "engine_varying_as_of": varying,
        "to_dict": to_dict,
        "json_to_json": json_fig,
        "engine_assessments_per_s": engine_fig["per_s_median"],
        "json_to_json_per_s": json_fig["per_s_median"],
        "target": TARGET,
        "met": {key: (engine_fig if key.startswith("engine") else json_fig)["per_s_median"] >= value
                for key, value in TARGET.items()},
        "clock": "process CPU time (time.process_time); wall_per_s_median is wall time",
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "calibration_us_per_1000_loop_iterations": _calibration(),
    }


if __name__ == "__main__":
    import sys

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000), indent=2))

"""`qingshen assess` from a cold start: a fresh process assessing one object, 5 runs (median, min, max) of
its CPU time (user + system, from the kernel's accounting of the child) and of its wall time, beside
`python -c pass` on the same interpreter. Target: 300 ms.

`assess` runs with the packs' cache file (rules.pack_cache) written by one run before the measured ones, as
every start after the first finds it; `assess_no_cache` with an empty cache directory each time (the first
start after a pack or the loader changed: YAML read and validated by pydantic, then the cache written). The
cache directories are temporary, not the user's ~/.cache."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUNS = 5
ROOT = Path(__file__).resolve().parents[1]
FACTS = ('{"province": "shandong", "industry_code": "3011", "scale": "medium", "exceeds_energy_limit": true, '
         '"list_published_on": "2021-03-31"}')


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
            "max": round(max(values), 1)}


def _measure(cmd: list[str], stdin: str, cache: str | None = None) -> dict[str, Any]:
    cpu, wall = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="qingshen-bench-cache-") as fresh:
            env = {**os.environ, "PYTHONPATH": str(ROOT), "QINGSHEN_CACHE_DIR": cache or fresh}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False, env=env)
            wall.append(1000 * (time.perf_counter() - t0))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
        if done.returncode != 0:
            return {"error": f"exit status {done.returncode}: {done.stderr[-300:]}"}
    return {"cpu_ms": _spread(cpu), "wall_ms": _spread(wall)}


def run() -> dict[str, Any]:
    assess = [sys.executable, "-m", "bot.cli", "assess", "-", "--as-of", "2021-06-01"]
    with tempfile.TemporaryDirectory(prefix="qingshen-bench-cache-") as cache:
        subprocess.run(assess, input=FACTS, capture_output=True, text=True, cwd=ROOT, check=False,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "QINGSHEN_CACHE_DIR": cache})  # writes it
        warm = _measure(assess, FACTS, cache)
    return {
        "runs": RUNS,
        "assess": warm,
        "assess_no_cache": _measure(assess, FACTS),
        "python_pass": _measure([sys.executable, "-c", "pass"], ""),
        "target_ms": 300,
    }

"""`qingshen assess` from a cold start: a fresh process assessing one object, 5 runs (median, min, max) of
its CPU time (user + system, from the kernel's accounting of the child) and of its wall time, beside
`python -c pass` on the same interpreter. Target: 300 ms."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
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


def _measure(cmd: list[str], stdin: str) -> dict[str, Any]:
    cpu, wall = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall.append(1000 * (time.perf_counter() - t0))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
        if done.returncode != 0:
            return {"error": f"exit status {done.returncode}: {done.stderr[-300:]}"}
    return {"cpu_ms": _spread(cpu), "wall_ms": _spread(wall)}


def run() -> dict[str, Any]:
    return {
        "runs": RUNS,
        "assess": _measure([sys.executable, "-m", "bot.cli", "assess", "-", "--as-of", "2021-06-01"], FACTS),
        "python_pass": _measure([sys.executable, "-c", "pass"], ""),
        "target_ms": 300,
    }

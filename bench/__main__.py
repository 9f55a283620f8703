"""python -m bench [section ...]: run the benchmarks and write bench/results.json."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results.json"


def main(argv: list[str]) -> int:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the targets say
    from bench import (
        conversation_bench,
        extract_bench,
        http_bench,
        officers_bench,
        reminders_bench,
        rules_bench,
        startup_bench,
    )

    sections: dict[str, Any] = {
        "rules": rules_bench.run,
        "conversation": conversation_bench.run,
        "extract": extract_bench.run,
        "http": http_bench.run,
        "startup": startup_bench.run,
        "reminders": reminders_bench.run,
        "officers": officers_bench.run,
        "dashboard": officers_bench.dashboard_run,
    }
    wanted = argv or list(sections)
    unknown = [name for name in wanted if name not in sections]
    if unknown:
        print(f"bench: unknown section(s) {unknown}; choose from {list(sections)}", file=sys.stderr)
        return 2
    report: dict[str, Any] = {}
    if argv and RESULTS.exists():  # a partial run updates its sections and keeps the others
        report = json.loads(RESULTS.read_text(encoding="utf-8"))
    machine: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                               "load_average_before": _load(), "calibration": calibration()}
    failed = []
    for name in wanted:
        print(f"bench: {name} ...", flush=True)
        try:
            report[name] = sections[name]()
        except Exception as e:  # a section that fails is reported; the others still run and are written
            failed.append(name)
            report[name] = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(report[name], ensure_ascii=False, indent=2), flush=True)
    machine["load_average_after"] = _load()
    report["machine"] = machine
    for name in wanted:  # a partial run replaces "machine": each section keeps the one it was measured on
        if isinstance(report[name], dict):
            report[name]["machine"] = machine
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"bench: wrote {RESULTS}" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


def _load() -> list[float] | None:
    """The 1, 5 and 15-minute load averages: other work on the machine makes every figure slower."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def calibration(runs: int = 5) -> dict[str, Any]:
    """CPU time of a fixed pure-Python loop (median of `runs`): figures from different days or machines
    compare once divided by it."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        times.append(time.process_time() - t0)
        assert total == 1_999_998
    return {"loop": "for i in range(1_000_000): total += i * i % 7", "cpu_ms_median": round(
        1000 * statistics.median(times), 1), "cpu_ms_min": round(1000 * min(times), 1)}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

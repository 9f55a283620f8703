"""python -m bench [section ...]: run the benchmarks and write bench/results.json."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results.json"


def main(argv: list[str]) -> int:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the targets say
    from bench import conversation_bench, extract_bench, http_bench, officers_bench, reminders_bench, rules_bench

    sections: dict[str, Any] = {
        "rules": rules_bench.run,
        "conversation": conversation_bench.run,
        "extract": extract_bench.run,
        "http": http_bench.run,
        "reminders": reminders_bench.run,
        "officers": officers_bench.run,
    }
    wanted = argv or list(sections)
    unknown = [name for name in wanted if name not in sections]
    if unknown:
        print(f"bench: unknown section(s) {unknown}; choose from {list(sections)}", file=sys.stderr)
        return 2
    report: dict[str, Any] = {}
    if argv and RESULTS.exists():  # a partial run updates its sections and keeps the others
        report = json.loads(RESULTS.read_text(encoding="utf-8"))
    report["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    for name in wanted:
        print(f"bench: {name} ...", flush=True)
        report[name] = sections[name]()
        print(json.dumps(report[name], ensure_ascii=False, indent=2), flush=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"bench: wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

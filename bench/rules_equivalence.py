"""Byte-for-byte equivalence of the engine's output across a change (issue 14 item 3).

`python -m bench.rules_equivalence write DIR` records, before a change, the full `to_dict()` of every
assessment of the rules bench (its 10,000 profiles on its day and on varying days, both locales), of the
rule cases in tests/rules/cases, and the `assess` JSON (`bot.cli.assess_json`) of the raw profiles, one
line each; `check DIR` after the change recomputes them and names the first lines that differ. A lasting
guard is tests/rules/test_engine_equivalence.py (fast path against a fresh, cache-free evaluation).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import orjson

from bench.profiles import profiles
from bench.rules_bench import AS_OF
from rules import FactError, default_engine, derive, parse_facts
from rules.i18n import LOCALES
from rules.pytest_cases import load_cases

CASES = Path(__file__).resolve().parent.parent / "tests" / "rules" / "cases"


def _cases() -> Iterator[tuple[dict[str, object], date]]:
    for path in sorted(CASES.glob("*.yaml")):
        for _, case in load_cases(path):
            facts = case.get("facts") or {}
            assert isinstance(facts, dict)
            day = case.get("as_of")
            day = day if isinstance(day, date) else date.fromisoformat(str(day)) if day else AS_OF
            yield {k: (v.isoformat() if isinstance(v, date) else v) for k, v in facts.items()}, day


def lines(n: int = 10_000) -> Iterator[tuple[str, bytes]]:
    from bot.cli import InputError, assess_json

    engine = default_engine()
    raw = profiles(n)
    inputs = [(p, AS_OF) for p in raw]
    inputs += [(p, date(2024, 1, 1) + timedelta(days=(i * 37) % 1096)) for i, p in enumerate(raw)]
    inputs += [(p, date(2012, 1, 1) + timedelta(days=(i * 53) % 5000)) for i, p in enumerate(raw[:3000])]
    inputs += list(_cases())
    for i, (facts, day) in enumerate(inputs):
        try:
            result = engine.assess(derive(parse_facts(facts)), day)
        except FactError as e:
            yield f"{i} error", orjson.dumps([e.field, e.message])
            continue
        for locale in LOCALES:
            yield f"{i} {locale}", orjson.dumps(result.to_dict(locale))
    for i, facts in enumerate(raw):
        text = json.dumps(facts, ensure_ascii=False).encode("utf-8")
        try:
            yield f"json {i}", assess_json(text, AS_OF).replace(b"\n", b"\\n")  # one line
        except InputError as e:
            yield f"json {i} error", orjson.dumps(e.to_dict())


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("write", "check"):
        print("usage: python -m bench.rules_equivalence write|check DIR", file=sys.stderr)
        return 2
    path = Path(argv[1]) / "rules_outputs.jsonl"
    if argv[0] == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            for key, out in lines():
                f.write(key.encode() + b"\t" + out + b"\n")
        print(f"wrote {path}: sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")
        return 0
    expected = path.read_bytes().splitlines()
    got = [key.encode() + b"\t" + out for key, out in lines()]
    bad = [i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b]
    if len(expected) != len(got):
        print(f"{len(got)} lines, {len(expected)} expected")
    for i in bad[:5]:
        print(f"line {i} differs:\n  expected {expected[i][:400]!r}\n  got      {got[i][:400]!r}")
    print(f"{len(bad)} of {len(expected)} lines differ")
    return 1 if bad or len(expected) != len(got) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

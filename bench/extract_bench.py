"""Extraction (handlers/extract.py): CPU per message over the corpus, import and first-read time, and
the libraries considered for it (jionlp, cn2an, rapidfuzz) by install size, import time and accuracy
on the same corpus. Targets: <= 500 us CPU per message, import adds <= 300 ms to start-up.

The library figures are measured only for the libraries installed (`pip install jionlp cn2an`);
neither is a dependency of the project.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "handlers" / "extraction_corpus.yaml"
DATE_FACTS = ("list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on")
# Chinese numerals as contacts type them (from the corpus), with their values.
NUMERALS = {
    "三百": 300, "一千二百": 1200, "八千万": 80_000_000, "两千五百万": 25_000_000, "一千五百": 1500, "五十": 50,
    "十五亿": 1_500_000_000, "四百": 400, "六百": 600, "两百": 200, "一百": 100, "三千": 3000, "十二亿": 1_200_000_000,
    "三十一": 31, "十": 10, "两千三百万": 23_000_000, "一亿二千万": 120_000_000, "三百五十": 350, "九十九": 99,
    "两个亿": 200_000_000, "五个亿": 500_000_000, "三百来": 300, "两千多万": 20_000_000,
}


def _cases() -> tuple[list[dict[str, Any]], date]:
    raw = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return raw["cases"], raw["today"]


def _median_subprocess(code: str, runs: int = 5) -> float:
    """Median wall time in ms that `code` reports (it prints seconds), in a fresh interpreter."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return round(statistics.median(times), 1)


def _import_ms(module: str) -> float:
    return _median_subprocess(f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)")


def _cpu_per_message(cases: list[dict[str, Any]], default_today: date, runs: int = 7) -> dict[str, Any]:
    from handlers.extract import read

    msgs = [(str(c["text"]), c.get("asking"), c.get("today", default_today)) for c in cases]
    for text, asking, today in msgs:
        read(text, today=today, asking=asking)
    means = []
    for _ in range(runs):
        t = time.process_time()
        for text, asking, today in msgs:
            read(text, today=today, asking=asking)
        means.append((time.process_time() - t) / len(msgs) * 1e6)
    single = []
    for text, asking, today in msgs:
        t = time.process_time()
        for _ in range(20):
            read(text, today=today, asking=asking)
        single.append((time.process_time() - t) / 20 * 1e6)
    single.sort()
    return {
        "messages": len(msgs),
        "cpu_us_per_message_median_of_runs": round(statistics.median(means), 1),
        "cpu_us_p50": round(single[len(single) // 2], 1),
        "cpu_us_p95": round(single[int(0.95 * len(single))], 1),
        "cpu_us_max": round(single[-1], 1),
    }


def _install_mb(dist: str, seen: set[str] | None = None) -> float:
    """Installed size of a distribution and its (installed) requirements, in MB."""
    seen = set() if seen is None else seen
    key = dist.lower().replace("_", "-")
    if key in seen:
        return 0.0
    seen.add(key)
    try:
        d = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return 0.0
    size = sum((f.size or 0) for f in d.files or ())
    for req in d.requires or ():
        if "extra ==" in req:
            continue
        name = req.split(";")[0].split("[")[0]
        for sep in "<>=!~ (":
            name = name.split(sep)[0]
        if name.strip():
            size += _install_mb(name.strip(), seen) * 1e6
    return round(size / 1e6, 1)


def _expected_dates(cases: list[dict[str, Any]], default_today: date) -> list[tuple[str, date, str | None, str | None]]:
    """(text, today, expected ISO day or None, expected partial or None) for every dated expectation."""
    out = []
    for c in cases:
        for fact in DATE_FACTS:
            want = (c.get("expect") or {}).get(fact)
            if want is None:
                continue
            value = want.get("value") if isinstance(want, dict) else want
            partial = want.get("partial") if isinstance(want, dict) else None
            out.append((str(c["text"]), c.get("today", default_today), value and str(value), partial))
    return out


def _expected_money(cases: list[dict[str, Any]]) -> list[tuple[str, str | None, float]]:
    out = []
    for c in cases:
        want = (c.get("expect") or {}).get("revenue_10k_yuan")
        if want is not None:
            value = want.get("value") if isinstance(want, dict) else want
            if value is not None:
                out.append((str(c["text"]), c.get("asking"), float(value)))
    return out


def _ours_dates(dates: list[tuple[str, date, str | None, str | None]]) -> float:
    from handlers.extract import read

    right = 0
    for text, today, value, partial in dates:
        r = read(text, today=today, asking=None)
        found = [c for c in r.candidates if c.fact in DATE_FACTS]
        if not found:  # a bare date: read as the question asks
            r = read(text, today=today, asking="list_published_on")
            found = [c for c in r.candidates if c.fact in DATE_FACTS]
        right += any((value is None or c.value == value) and (partial is None or c.partial == partial) for c in found)
    return round(right / len(dates), 3)


def _jionlp_dates(jio: Any, dates: list[tuple[str, date, str | None, str | None]]) -> float:
    right = 0
    for text, today, value, partial in dates:
        base = time.mktime(datetime(today.year, today.month, today.day).timetuple())
        try:
            found = jio.ner.extract_time(text, time_base=base)
        except Exception:  # jionlp raises on some inputs
            found = []
        ok = False
        for f in found:
            start, end = (s[:10] for s in f["detail"]["time"][:2]) if len(f["detail"]["time"]) >= 2 else ("", "")
            if value is not None and (start == value or (f["detail"].get("definition") == "blur" and end == value)):
                ok = True
            if value is None and partial is not None and start == f"{partial}-01" and end[:7] == partial:
                ok = True  # a whole month: what the partial means
        right += ok
    return round(right / len(dates), 3)


def _ours_money(money: list[tuple[str, str | None, float]]) -> float:
    from handlers.extract import read

    right = 0
    for text, asking, value in money:
        c = read(text, today=date(2026, 12, 1), asking=asking).get("revenue_10k_yuan")
        right += c is not None and abs(float(c.value) - value) < 1e-6
    return round(right / len(money), 3)


def _jionlp_money(jio: Any, money: list[tuple[str, str | None, float]]) -> float:
    right = 0
    for text, _, value in money:
        try:
            found = jio.ner.extract_money(text)
            if not found and len(text) <= 12:
                found = [{"detail": jio.parse_money(text)}]
        except Exception:
            found = []
        nums = [f["detail"]["num"] for f in found if f.get("detail")]
        nums = [n[0] if isinstance(n, list) else n for n in nums]  # a range: its low end
        right += any(abs(float(n) / 10_000 - value) < 1e-6 for n in nums)
    return round(right / len(money), 3)


def _numerals(convert: Any) -> float:
    right = 0
    for text, value in NUMERALS.items():
        try:
            got = convert(text)
        except Exception:  # cn2an raises on 两个亿, 三百来
            got = None
        right += got is not None and abs(float(got) - value) < 1e-6
    return round(right / len(NUMERALS), 3)


def _libraries(cases: list[dict[str, Any]], default_today: date) -> dict[str, Any]:
    from handlers.extract_numbers import find_amounts
    from handlers.parse import chinese_to_number

    dates = _expected_dates(cases, default_today)
    money = _expected_money(cases)

    def ours_numeral(text: str) -> float | None:
        found = find_amounts(text, [])
        return found[0].value if found else chinese_to_number(text)

    out: dict[str, Any] = {
        "ours": {
            "dates_accuracy": _ours_dates(dates),
            "dates_n": len(dates),
            "money_accuracy": _ours_money(money),
            "money_n": len(money),
            "numerals_accuracy_parse_chinese_to_number": _numerals(chinese_to_number),
            "numerals_accuracy_extract_numbers": _numerals(ours_numeral),
            "numerals_n": len(NUMERALS),
        }
    }
    if importlib.util.find_spec("rapidfuzz"):
        out["rapidfuzz"] = {"install_mb": _install_mb("rapidfuzz"), "import_ms": _import_ms("rapidfuzz.process")}
    if importlib.util.find_spec("cn2an"):
        import cn2an

        out["cn2an"] = {
            "install_mb": _install_mb("cn2an"),
            "import_ms": _import_ms("cn2an"),
            "numerals_accuracy": _numerals(lambda s: cn2an.cn2an(s, "smart")),
        }
    if importlib.util.find_spec("jionlp"):
        code = (
            "import time, warnings; warnings.simplefilter('ignore'); t = time.perf_counter(); import jionlp as jio; "
            "jio.ner.extract_time('去年3月底上了名单', time_base=time.time()); jio.parse_location('山西太原'); "
            "print(time.perf_counter() - t)"
        )
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            import jionlp as jio
        out["jionlp"] = {
            "install_mb": _install_mb("jionlp"),
            "import_ms": _import_ms("jionlp"),
            "import_and_first_time_and_place_ms": _median_subprocess(code, runs=3),
            "dates_accuracy": _jionlp_dates(jio, dates),
            "money_accuracy": _jionlp_money(jio, money),
        }
    return out


def run() -> dict[str, Any]:
    cases, today = _cases()
    first_read = (
        "import time; from datetime import date; t = time.perf_counter(); from handlers.extract import read; "
        "read('我们是山西的水泥厂', today=date(2026, 12, 1)); print(time.perf_counter() - t)"
    )
    rules_only = (
        "import time; t = time.perf_counter(); from rules.industries import all_classes; "
        "from rules.provinces import all_provinces; all_classes(); all_provinces(); print(time.perf_counter() - t)"
    )
    return {
        **_cpu_per_message(cases, today),
        "import_ms_handlers_extract": _import_ms("handlers.extract"),
        "first_read_ms_incl_import_and_tables": _median_subprocess(first_read),
        "of_which_rules_indexes_ms": _median_subprocess(rules_only),
        "libraries": _libraries(cases, today),
        "targets": {"cpu_us_per_message": 500, "import_ms": 300},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), ensure_ascii=False, indent=2))

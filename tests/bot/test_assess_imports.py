"""`qingshen assess` loads only what an assessment needs: not storage, SQLAlchemy, Alembic or the officer CLI
(they cost more than a second of start-up), nor the settings (bot.config) or the `holidays` package (only a
year no holiday schedule knows needs its lunar tables). Counted in `sys.modules` after a real run in a fresh
process.
Nor, for good input and with the packs' cache written, pydantic: the facts pass the hand-written check and
the packs come from the cache file (rules.pack_cache), not from the YAML through rules.pack_schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "storage", "alembic", "psycopg", "bot.officer_cli", "handlers", "starlette", "uvicorn",
         "bot.config", "holidays")
# What only bad input or a pack read from YAML needs; Babel only to read catalogs not compiled yet.
VALIDATION = ("pydantic", "pydantic_core", "rules.pack_schema", "rules.facts_model")


def _catalogs_compiled() -> bool:
    from rules.i18n import DEFAULT_LOCALE, DOMAIN, LOCALES_DIR

    base = LOCALES_DIR / DEFAULT_LOCALE / "LC_MESSAGES"
    mo, po = base / f"{DOMAIN}.mo", base / f"{DOMAIN}.po"
    return mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime)

PROBE = """
import contextlib, io, json, sys
from bot import cli
out = io.StringIO()
sys.stdin = io.StringIO(sys.argv[1])
with contextlib.redirect_stdout(out):
    code = cli.main(["assess", "-", "--as-of", "2021-06-01"])
heavy = sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[2].split(","))))
print(json.dumps({"code": code, "result": json.loads(out.getvalue()), "heavy": heavy}))
"""


def _assess(facts: str, heavy: tuple[str, ...] = HEAVY) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, facts, ",".join(heavy)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_assess_imports_no_storage_and_no_sqlalchemy() -> None:
    run = _assess('{"province": "shandong", "industry_code": "3011", "scale": "medium", '
                  '"exceeds_energy_limit": true, "list_published_on": "2021-03-31"}')
    assert run["code"] == 0
    result = run["result"]
    assert isinstance(result, dict) and result["obligation"] == "mandatory"   # it did the whole job
    assert run["heavy"] == []


def test_good_input_imports_no_pydantic_once_the_packs_are_cached() -> None:
    facts = '{"province": "shanxi", "industry_code": "2614", "employees": 300, "list_published_on": "2025-03-31"}'
    unwanted = HEAVY + VALIDATION + (("babel",) if _catalogs_compiled() else ())
    first = _assess(facts, unwanted)   # the session's cache directory may be empty: this fills it
    assert first["code"] == 0
    run = _assess(facts, unwanted)
    assert run["code"] == 0 and run["result"] == first["result"]
    assert run["heavy"] == []


def test_a_refused_fact_imports_no_storage_either() -> None:
    run = _assess('{"province": "shanxi", "industry_code": "30A1"}')
    assert run["code"] == 2
    result = run["result"]
    assert isinstance(result, dict) and result["error"]["field"] == "industry_code"
    assert run["heavy"] == []


def test_the_full_command_line_still_has_the_officer_commands() -> None:
    args = build_parser().parse_args(["officer", "list"])
    assert args.command == "officer" and args.officer_command == "list"
    assert build_parser(full=False).parse_args(["assess", "-"]).command == "assess"

"""`qingshen assess` loads only what an assessment needs: not storage, SQLAlchemy, Alembic or the officer CLI
(they cost more than a second of start-up), nor the settings (bot.config) or the `holidays` package (only a
year no holiday schedule knows needs its lunar tables). Counted in `sys.modules` after a real run in a fresh
process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "storage", "alembic", "psycopg", "bot.officer_cli", "handlers", "starlette", "uvicorn",
         "bot.config", "holidays")

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


def _assess(facts: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, facts, ",".join(HEAVY)], capture_output=True, text=True,
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

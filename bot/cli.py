"""The `qingshen` command: assess, run, chat, migrate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from rules import QingshenError, assess
from rules.errors import FactError

TZ = ZoneInfo("Asia/Shanghai")
EXIT_BAD_INPUT = 2


def today() -> date:
    return datetime.now(TZ).date()


def _error(kind: str, field: str | None, message: str, index: int | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"error": kind, "field": field, "message": message}
    if index is not None:
        err["index"] = index
    return {"error": err}


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    with open(source, encoding="utf-8") as f:
        return f.read()


def run_assess(source: str, as_of_text: str | None, out: IO[str]) -> int:
    """`qingshen assess`: one JSON object -> one assessment; an array -> an array."""
    try:
        as_of = date.fromisoformat(as_of_text) if as_of_text else today()
    except ValueError:
        return _fail(out, _error("invalid_argument", "as_of", f"--as-of {as_of_text!r} is not a YYYY-MM-DD date"))
    try:
        text = _read(source)
    except (OSError, UnicodeDecodeError) as e:
        return _fail(out, _error("unreadable_input", None, f"cannot read {source}: {e}"))
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as e:
        return _fail(out, _error("invalid_json", None, f"not JSON: {e}"))
    items = payload if isinstance(payload, list) else [payload]
    results = []
    for i, raw in enumerate(items):
        try:
            results.append(assess(raw, as_of).to_dict())
        except FactError as e:
            index = i if isinstance(payload, list) else None
            return _fail(out, _error("invalid_fact", e.field, e.message, index))
    json.dump(results if isinstance(payload, list) else results[0], out, ensure_ascii=False, indent=2)
    out.write("\n")
    return 0


def _fail(out: IO[str], err: dict[str, Any]) -> int:
    json.dump(err, out, ensure_ascii=False)
    out.write("\n")
    detail = err["error"]
    print(f"qingshen: {detail['field'] or 'input'}: {detail['message']}", file=sys.stderr)
    return EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qingshen", description="清审: cleaner-production audit assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("assess", help="assess facts given as JSON (an object or an array of objects)")
    p.add_argument("file", nargs="?", default="-", help="a JSON file, or - for standard input (default)")
    p.add_argument("--as-of", dest="as_of", help="the date to judge on, YYYY-MM-DD (default: today in China)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "assess":
            return run_assess(args.file, args.as_of, sys.stdout)
    except QingshenError as e:
        print(f"qingshen: {e}", file=sys.stderr)
        return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())

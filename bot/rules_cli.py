"""`qingshen rules`: for the people who write a province's pack (rules/packs/SCHEMA.md, "Adding a document").

    qingshen rules check PACK... [--source TEXT]...   every problem of a pack, one line each; exit 0 or 1
    qingshen rules test CASES... [--packs DIR]...     the YAML cases, one test per case named by its sentence

Imported by bot/cli.py only for this command; it imports neither storage nor the server.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rules.errors import QingshenError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qingshen rules", description="check rule packs and run rule cases")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("check", help="check a pack: schema, dates, citations, quotes found in the source text")
    p.add_argument("packs", nargs="+", type=Path, metavar="PACK", help="a pack's YAML file")
    p.add_argument("--source", action="append", type=Path, default=[], metavar="TEXT",
                   help="the document's text (UTF-8) the quotes must be found in; repeatable "
                        "(default: rules/sources/<id>.txt beside the packs' directory, sources/<id>.txt or "
                        "<pack>.txt beside the pack)")
    p.add_argument("--packs", dest="extra", action="append", type=Path, default=[], metavar="DIR",
                   help="other new packs (a directory or a file) the pack is checked beside, e.g. the one it "
                        "supersedes")
    p = sub.add_parser("test", help="run YAML rule cases against the engine (a pytest run)")
    p.add_argument("cases", nargs="+", metavar="CASES", help="case files (*.yaml) or directories of them")
    p.add_argument("--packs", dest="extra", action="append", default=[], metavar="DIR",
                   help="rule packs (a directory of *.yaml, or one file) loaded beside the shipped ones")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only the cases whose name matches (pytest -k)")
    p.add_argument("-q", "--quiet", action="store_true", help="one character per case, then the failures")
    return parser


def run_check(packs: Sequence[Path], sources: Sequence[Path], extra: Sequence[Path], out: IO[str]) -> int:
    from rules.pack_check import check_pack
    from rules.packs import default_packs, load_pack

    others = list(default_packs())
    for where in extra:
        files = sorted(where.glob("*.yaml")) if where.is_dir() else [where]
        others.extend(load_pack(f) for f in files if f.resolve() not in {p.resolve() for p in packs})
    failed = 0
    for pack in packs:
        problems = check_pack(pack, sources, others)
        for problem in problems:
            print(problem.render(str(pack)), file=out)
        if problems:
            failed += 1
        else:
            print(f"{pack}: ok", file=out)
    if len(packs) > 1:
        print(f"{len(packs) - failed} of {len(packs)} packs ok", file=out)
    return 1 if failed else 0


def run_test(cases: Sequence[str], extra: Sequence[str], keyword: str | None, quiet: bool) -> int:
    try:
        import pytest
    except ImportError:
        print("qingshen rules test runs pytest, which is not installed: pip install 'pytest>=8'", file=sys.stderr)
        return 1
    missing = [c for c in cases if not Path(c).exists()]
    if missing:
        print(f"qingshen rules test: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 1
    # Only this plugin: no conftest.py of the directories, no plugins installed beside pytest, no cache (and
    # no warning about the options of a project's pytest configuration that those plugins would read).
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = ["-p", "rules.pytest_cases", "-p", "no:cacheprovider", "--noconftest", "--no-header",
            "-W", "ignore::pytest.PytestConfigWarning", "-q" if quiet else "-v", "-rf"]
    # Ids relative to the cases given (not to a project's root that some of them lie outside).
    dirs = [str(p if p.is_dir() else p.parent) for p in (Path(c).resolve() for c in cases)]
    args += ["--rootdir", os.path.commonpath(dirs)]
    for d in extra:
        args += ["--packs", d]
    if keyword:
        args += ["-k", keyword]
    code = pytest.main([*args, "--", *cases])
    return 0 if code == pytest.ExitCode.OK else 1


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.action == "check":
            return run_check(args.packs, args.source, args.extra, sys.stdout)
        return run_test(args.cases, args.extra, args.keyword, args.quiet)
    except QingshenError as e:
        print(f"qingshen rules: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the output was cut short (`| head`): stop quietly, as other filters do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1

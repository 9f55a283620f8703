"""Rule cases as pytest items: `qingshen rules test` and the project's tests/rules/cases/*.yaml.

A case file is a YAML list of cases, in the spirit of OpenFisca's YAML tests:

    - name: A full sentence saying what the law decides here.
      as_of: 2021-06-01
      facts: {province: shandong, exceeds_energy_limit: true, list_published_on: 2021-03-31}
      expect:
        obligation: mandatory                      # mandatory | voluntary | undetermined
        grounds: [national_measures_2016.art8_2]   # exact set of ground ids
        grounds_include: [...]                     # these among others
        grounds_exclude: [...]
        ground_documents: [shandong_rules_2017]    # exact set of documents that gave grounds
        missing: [province, ...]                   # exact, in order
        missing_first: province
        missing_include: [...] / missing_exclude: [...]
        deadlines:                                 # each listed kind must match
          disclosure: {nominal: 2021-04-30, due: 2021-04-30, cites: 第十一条, schedule_known: true,
                       note_include: ..., cites_exclude: 山东}
        deadline_kinds: [disclosure, start, report]   # exact set
        documents: {shandong_rules_2017: true, national_interim_2004: false}   # applied flags
        document_why: {shandong_rules_2017: 失效}      # substring of the (zh_CN) why
        disclosure_include: [...] / disclosure_exclude: [...]
        report_to_include: [...] / report_to_exclude: [...]
        voluntary: {eligible: true, cites: 一}
        notes_include: [...]
        duties: [national_env_disclosure_2021.yearly_disclosure, ...]   # exact set of duty ids
        duties_include: [...] / duties_exclude: [...]
        duty_due: {national_env_disclosure_2021.yearly_disclosure: {due: 2027-03-15, covers_year: 2026}}
        if_missed:                                 # what a deadline overdue on as_of risks (exact citation lists)
          disclosure: {penalties: [第三十六条], referred_by: [第三十一条], effects: [第三十四条], remedies: []}
        not_overdue: [report]                      # deadlines that carry no if_missed (not past on as_of)
      error: industry_code                         # instead of expect: the fact that is refused

Each case is one pytest item whose id is its `name` (`shandong.yaml::In 2021 a Shandong ...`), not its
position, so inserting a case changes no other case's id; a name must be unique within its file. A failing
case is reported as `file:line: name` and what differed, without a traceback.

Used as a plugin (`pytest -p rules.pytest_cases CASES...`, which is what `qingshen rules test` runs) it
collects every *.yaml file under the paths given and adds `--packs DIR` (repeatable): rule packs loaded beside
the shipped ones, so that a new province is tested before it is shipped. The project's tests use `CaseFile`
from tests/rules/conftest.py for tests/rules/cases only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules.engine import Engine
from rules.errors import FactError, QingshenError, RulePackError
from rules.facts import derive, parse_facts
from rules.packs import Pack, check_supersedes, default_packs, load_pack

CASE_KEYS = frozenset({"name", "as_of", "facts", "expect", "error"})
ENGINE_KEY = pytest.StashKey[Engine]()


class CaseMismatch(AssertionError):
    """A case's expectation that the engine's answer does not meet (or a malformed case)."""


def _expect(ok: object, message: str) -> None:
    if not ok:
        raise CaseMismatch(message)


def load_cases(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The cases of one file with their 1-based lines; RulePackError naming the file when it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return []
            if not isinstance(root, yaml.SequenceNode):
                raise RulePackError(f"{path.name}: a case file is a YAML list of cases (- name: ...)")
            cases = [(node.start_mark.line + 1, loader.construct_object(node, deep=True)) for node in root.value]
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as e:
        raise RulePackError(f"{path}: cannot read the case file: {e}") from None
    except yaml.YAMLError as e:
        raise RulePackError(f"{path.name}: not valid YAML: {e}") from None
    seen: dict[str, int] = {}
    for line, case in cases:
        if not isinstance(case, dict):
            raise RulePackError(f"{path.name}:{line}: a case is a mapping (name, as_of, facts, expect)")
        name = case.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RulePackError(f"{path.name}:{line}: the case has no name (a full sentence)")
        if name in seen:
            raise RulePackError(f"{path.name}:{line}: the name is already that of the case at line {seen[name]}: "
                                f"{name}")
        seen[name] = line
    return cases


def engine_with(extra: Sequence[Path]) -> Engine:
    """The engine over the shipped packs plus the packs in `extra` (files or directories of *.yaml)."""
    if not extra:
        from rules import default_engine

        return default_engine()
    packs: list[Pack] = list(default_packs())
    for where in extra:
        files = sorted(where.glob("*.yaml")) if where.is_dir() else [where]
        if not files:
            raise RulePackError(f"{where}: no *.yaml pack there")
        packs.extend(load_pack(f) for f in files)
    ids = [p.id for p in packs]
    dupes = sorted({x for x in ids if ids.count(x) > 1})
    if dupes:
        raise RulePackError(f"pack id(s) loaded twice (a shipped pack's id, or two extra packs): {dupes}")
    from rules.packs import _check_jurisdictions

    _check_jurisdictions(packs)
    check_supersedes(packs)
    return Engine(tuple(sorted(packs, key=lambda p: (not p.national, p.file))))


def _day(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CaseMismatch(f"{where}\n  as_of {value!r} is not a YYYY-MM-DD date") from None


def run_case(case: dict[str, Any], engine: Engine, where: str) -> None:
    """Assess the case's facts on its as_of day and compare; CaseMismatch says what differed."""
    unknown = sorted(set(case) - CASE_KEYS)
    _expect(not unknown, f"{where}\n  unknown case keys {unknown} (known: {sorted(CASE_KEYS)})")
    _expect("as_of" in case, f"{where}\n  the case has no as_of date")
    _expect(("expect" in case) != ("error" in case), f"{where}\n  a case has either expect or error")
    as_of = _day(case["as_of"], where)
    facts = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in (case.get("facts") or {}).items()}
    try:
        result = engine.assess(derive(parse_facts(facts)), as_of)
    except FactError as e:
        _expect(case.get("error") == e.field, f"{where}\n  the facts were refused: {e}")
        return
    _expect("error" not in case, f"{where}\n  expected the fact {case.get('error')!r} to be refused; it was "
                                 f"accepted (obligation {result.obligation})")
    expect = case["expect"]
    _expect(isinstance(expect, dict), f"{where}\n  expect is a mapping of expectations")
    check(result.to_dict(), expect, where)


class CaseFile(pytest.File):
    """A YAML file of rule cases."""

    def collect(self) -> Iterator[CaseItem]:
        try:
            cases = load_cases(self.path)
        except RulePackError as e:
            raise self.CollectError(str(e)) from None
        for line, case in cases:
            yield CaseItem.from_parent(self, name=case["name"], case=case, line=line)


class CaseItem(pytest.Item):
    """One case; its id is its name."""

    def __init__(self, *, case: dict[str, Any], line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case, self.line = case, line

    def runtest(self) -> None:
        engine = self.config.stash.get(ENGINE_KEY, None)
        if engine is None:
            extra = [Path(p) for p in (self.config.getoption("rule_packs", None) or [])]
            engine = self.config.stash[ENGINE_KEY] = engine_with(extra)
        run_case(self.case, engine, f"{self.path.name}:{self.line}: {self.name}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (CaseMismatch, QingshenError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        # Not the bare name: pytest would show its dots as "::" in the verbose line (and it shows the id there).
        return self.path, self.line - 1, f"{self.path.name}:{self.line}: {self.name}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rule cases")
    group.addoption("--packs", dest="rule_packs", action="append", default=[], metavar="DIR",
                    help="rule packs (a directory of *.yaml, or one file) to load beside the shipped ones")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CaseFile | None:
    if file_path.suffix in (".yaml", ".yml"):
        return CaseFile.from_parent(parent, path=file_path)
    return None


def _s(v: Any) -> str:
    return v.isoformat() if isinstance(v, date) else str(v)


def check(result: dict[str, Any], expect: dict[str, Any], where: str) -> None:
    known = {
        "obligation", "grounds", "grounds_include", "grounds_exclude", "ground_documents", "missing",
        "missing_first", "missing_include", "missing_exclude", "deadlines", "deadline_kinds", "documents",
        "document_why", "disclosure_include", "disclosure_exclude", "report_to_include",
        "report_to_exclude", "voluntary", "notes_include", "duties", "duties_include", "duties_exclude",
        "duty_due", "if_missed", "not_overdue",
    }
    unknown = set(expect) - known
    _expect(not unknown, f"{where}: unknown expectation keys {sorted(unknown)}")
    ctx = f"{where}\n  got: obligation={result['obligation']} grounds={[g['id'] for g in result['grounds']]} " \
          f"missing={result['missing']}"
    ground_ids = {g["id"] for g in result["grounds"]}
    if "obligation" in expect:
        _expect(result["obligation"] == expect["obligation"], f"{ctx}\n  expected obligation={expect['obligation']}")
    if "grounds" in expect:
        _expect(ground_ids == set(expect["grounds"]), f"{ctx}\n  expected grounds={sorted(expect['grounds'])}")
    for g in expect.get("grounds_include", []):
        _expect(g in ground_ids, f"{ctx}\n  expected ground {g}")
    for g in expect.get("grounds_exclude", []):
        _expect(g not in ground_ids, f"{ctx}\n  unexpected ground {g}")
    if "ground_documents" in expect:
        _expect({g["document_id"] for g in result["grounds"]} == set(expect["ground_documents"]), ctx)
    if "missing" in expect:
        _expect(result["missing"] == list(expect["missing"]), f"{ctx}\n  expected missing={list(expect['missing'])}")
    if "missing_first" in expect:
        _expect(result["missing"][:1] == [expect["missing_first"]], ctx)
    for m in expect.get("missing_include", []):
        _expect(m in result["missing"], ctx)
    for m in expect.get("missing_exclude", []):
        _expect(m not in result["missing"], ctx)
    deadlines = {d["kind"]: d for d in result["deadlines"]}
    if "deadline_kinds" in expect:
        _expect(set(deadlines) == set(expect["deadline_kinds"]), f"{ctx}\n  deadlines={sorted(deadlines)}")
    for kind, want in (expect.get("deadlines") or {}).items():
        _expect(kind in deadlines, f"{ctx}\n  no {kind} deadline in {sorted(deadlines)}")
        got = deadlines[kind]
        for key in ("nominal", "due"):
            if key in want:
                _expect(got[key] == _s(want[key]), f"{ctx}\n  {kind}.{key}: {got[key]} != {_s(want[key])}")
        if "cites" in want:
            _expect(want["cites"] in got["citation"], f"{ctx}\n  {kind} citation {got['citation']!r}")
        if "cites_exclude" in want:
            _expect(want["cites_exclude"] not in got["citation"], f"{ctx}\n  {kind} citation {got['citation']!r}")
        if "schedule_known" in want:
            _expect(got["schedule_known"] is want["schedule_known"], f"{ctx}\n  {kind}: {got}")
        if "note_include" in want:
            _expect(want["note_include"] in got["note"], f"{ctx}\n  {kind} note {got['note']!r}")
    docs = {d["id"]: d for d in result["documents"]}
    for doc, applied in (expect.get("documents") or {}).items():
        _expect(doc in docs, f"{ctx}\n  unknown document {doc}")
        _expect(docs[doc]["applied"] is applied, f"{ctx}\n  {doc}: {docs[doc]}")
    for doc, text in (expect.get("document_why") or {}).items():
        _expect(text in docs[doc]["why"], f"{ctx}\n  {doc}.why={docs[doc]['why']!r}")
    for f in expect.get("disclosure_include", []):
        _expect(f in result["disclosure_fields"], f"{ctx}\n  disclosure={result['disclosure_fields']}")
    for f in expect.get("disclosure_exclude", []):
        _expect(f not in result["disclosure_fields"], f"{ctx}\n  disclosure={result['disclosure_fields']}")
    for o in expect.get("report_to_include", []):
        _expect(o in result["report_to"], f"{ctx}\n  report_to={result['report_to']}")
    for o in expect.get("report_to_exclude", []):
        _expect(o not in result["report_to"], f"{ctx}\n  report_to={result['report_to']}")
    vol = expect.get("voluntary") or {}
    if "eligible" in vol:
        _expect(result["voluntary"]["eligible"] is vol["eligible"], f"{ctx}\n  voluntary={result['voluntary']}")
    if "cites" in vol:
        _expect(vol["cites"] in result["voluntary"]["citation"], f"{ctx}\n  voluntary={result['voluntary']}")
    for n in expect.get("notes_include", []):
        _expect(any(n in x for x in result["notes"]), f"{ctx}\n  notes={result['notes']}")
    check_duties(result, expect, ctx)


def check_duties(result: dict[str, Any], expect: dict[str, Any], ctx: str) -> None:
    """The duties (packs' `duties`) and what an overdue deadline risks (`deadlines[].if_missed`)."""
    duties = {d["id"]: d for d in result["duties"]}
    if "duties" in expect:
        _expect(set(duties) == set(expect["duties"]), f"{ctx}\n  duties={sorted(duties)}")
    for d in expect.get("duties_include", []):
        _expect(d in duties, f"{ctx}\n  duties={sorted(duties)}")
    for d in expect.get("duties_exclude", []):
        _expect(d not in duties, f"{ctx}\n  duties={sorted(duties)}")
    for d, want in (expect.get("duty_due") or {}).items():
        _expect(d in duties, f"{ctx}\n  no duty {d} in {sorted(duties)}")
        for key in ("due", "covers_year"):
            if key in want:
                wanted = _s(want[key]) if key == "due" else want[key]
                _expect(duties[d].get(key) == wanted, f"{ctx}\n  {d}: {duties[d]}")
    deadlines = {d["kind"]: d for d in result["deadlines"]}
    for kind in expect.get("not_overdue", []):
        _expect("if_missed" not in deadlines[kind], f"{ctx}\n  {kind}: {deadlines[kind]}")
    for kind, want in (expect.get("if_missed") or {}).items():
        got = deadlines[kind].get("if_missed") if kind in deadlines else duties.get(kind, {}).get("if_missed")
        _expect(got is not None, f"{ctx}\n  {kind} carries no if_missed")
        cited = {
            "penalties": [p["citation"] for p in got["penalties"]],
            "referred_by": [r["citation"] for p in got["penalties"] for r in p.get("referred_by", [])],
            "old": [p.get("old_citation", "") for p in got["penalties"]],
            "effects": [e["citation"] for e in got["effects"]],
            "remedies": [r["citation"] for r in got["remedies"]],
        }
        for key, values in want.items():
            _expect(cited[key] == list(values), f"{ctx}\n  {kind}.if_missed.{key}: {cited[key]} != {values}")

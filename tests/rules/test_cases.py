"""YAML rule cases (tests/rules/cases/*.yaml), in the spirit of OpenFisca's YAML tests.

Each file is a list of cases:

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
          disclosure: {nominal: 2021-04-30, due: 2021-04-30, cites: 第十一条, schedule_known: true}
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
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules import FactError, assess

CASES_DIR = Path(__file__).parent / "cases"


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        assert isinstance(cases, list), f"{path.name}: a case file is a list of cases"
        for i, case in enumerate(cases):
            params.append(pytest.param(path.name, case, id=f"{path.stem}:{i}"))
    return params


CASES = _load()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 80, f"only {len(CASES)} rule cases"


def test_case_names_are_sentences() -> None:
    for p in CASES:
        file, case = p.values
        name = case.get("name", "")
        assert name and name.rstrip()[-1] in ".。", f"{file}: case name is not a full sentence: {name!r}"


@pytest.mark.parametrize(("file", "case"), CASES)
def test_case(file: str, case: dict[str, Any]) -> None:
    where = f"{file}: {case.get('name')}"
    as_of = case["as_of"] if isinstance(case["as_of"], date) else date.fromisoformat(case["as_of"])
    facts = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in (case.get("facts") or {}).items()}
    if "error" in case:
        with pytest.raises(FactError) as info:
            assess(facts, as_of)
        assert info.value.field == case["error"], where
        return
    result = assess(facts, as_of).to_dict()
    check(result, case["expect"], where)


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
    assert not unknown, f"{where}: unknown expectation keys {sorted(unknown)}"
    ctx = f"{where}\n  got: obligation={result['obligation']} grounds={[g['id'] for g in result['grounds']]} " \
          f"missing={result['missing']}"
    ground_ids = {g["id"] for g in result["grounds"]}
    if "obligation" in expect:
        assert result["obligation"] == expect["obligation"], ctx
    if "grounds" in expect:
        assert ground_ids == set(expect["grounds"]), ctx
    for g in expect.get("grounds_include", []):
        assert g in ground_ids, f"{ctx}\n  expected ground {g}"
    for g in expect.get("grounds_exclude", []):
        assert g not in ground_ids, f"{ctx}\n  unexpected ground {g}"
    if "ground_documents" in expect:
        assert {g["document_id"] for g in result["grounds"]} == set(expect["ground_documents"]), ctx
    if "missing" in expect:
        assert result["missing"] == list(expect["missing"]), ctx
    if "missing_first" in expect:
        assert result["missing"][:1] == [expect["missing_first"]], ctx
    for m in expect.get("missing_include", []):
        assert m in result["missing"], ctx
    for m in expect.get("missing_exclude", []):
        assert m not in result["missing"], ctx
    deadlines = {d["kind"]: d for d in result["deadlines"]}
    if "deadline_kinds" in expect:
        assert set(deadlines) == set(expect["deadline_kinds"]), f"{ctx}\n  deadlines={sorted(deadlines)}"
    for kind, want in (expect.get("deadlines") or {}).items():
        assert kind in deadlines, f"{ctx}\n  no {kind} deadline in {sorted(deadlines)}"
        got = deadlines[kind]
        for key in ("nominal", "due"):
            if key in want:
                assert got[key] == _s(want[key]), f"{ctx}\n  {kind}.{key}: {got[key]} != {_s(want[key])}"
        if "cites" in want:
            assert want["cites"] in got["citation"], f"{ctx}\n  {kind} citation {got['citation']!r}"
        if "schedule_known" in want:
            assert got["schedule_known"] is want["schedule_known"], f"{ctx}\n  {kind}: {got}"
        if "note_include" in want:
            assert want["note_include"] in got["note"], f"{ctx}\n  {kind} note {got['note']!r}"
    docs = {d["id"]: d for d in result["documents"]}
    for doc, applied in (expect.get("documents") or {}).items():
        assert doc in docs, f"{ctx}\n  unknown document {doc}"
        assert docs[doc]["applied"] is applied, f"{ctx}\n  {doc}: {docs[doc]}"
    for doc, text in (expect.get("document_why") or {}).items():
        assert text in docs[doc]["why"], f"{ctx}\n  {doc}.why={docs[doc]['why']!r}"
    for f in expect.get("disclosure_include", []):
        assert f in result["disclosure_fields"], f"{ctx}\n  disclosure={result['disclosure_fields']}"
    for f in expect.get("disclosure_exclude", []):
        assert f not in result["disclosure_fields"], f"{ctx}\n  disclosure={result['disclosure_fields']}"
    for o in expect.get("report_to_include", []):
        assert o in result["report_to"], f"{ctx}\n  report_to={result['report_to']}"
    for o in expect.get("report_to_exclude", []):
        assert o not in result["report_to"], f"{ctx}\n  report_to={result['report_to']}"
    vol = expect.get("voluntary") or {}
    if "eligible" in vol:
        assert result["voluntary"]["eligible"] is vol["eligible"], f"{ctx}\n  voluntary={result['voluntary']}"
    if "cites" in vol:
        assert vol["cites"] in result["voluntary"]["citation"], f"{ctx}\n  voluntary={result['voluntary']}"
    for n in expect.get("notes_include", []):
        assert any(n in x for x in result["notes"]), f"{ctx}\n  notes={result['notes']}"
    check_duties(result, expect, ctx)


def check_duties(result: dict[str, Any], expect: dict[str, Any], ctx: str) -> None:
    """The duties (packs' `duties`) and what an overdue deadline risks (`deadlines[].if_missed`)."""
    duties = {d["id"]: d for d in result["duties"]}
    if "duties" in expect:
        assert set(duties) == set(expect["duties"]), f"{ctx}\n  duties={sorted(duties)}"
    for d in expect.get("duties_include", []):
        assert d in duties, f"{ctx}\n  duties={sorted(duties)}"
    for d in expect.get("duties_exclude", []):
        assert d not in duties, f"{ctx}\n  duties={sorted(duties)}"
    for d, want in (expect.get("duty_due") or {}).items():
        assert d in duties, f"{ctx}\n  no duty {d} in {sorted(duties)}"
        for key in ("due", "covers_year"):
            if key in want:
                assert duties[d].get(key) == (_s(want[key]) if key == "due" else want[key]), \
                    f"{ctx}\n  {d}: {duties[d]}"
    deadlines = {d["kind"]: d for d in result["deadlines"]}
    for kind in expect.get("not_overdue", []):
        assert "if_missed" not in deadlines[kind], f"{ctx}\n  {kind}: {deadlines[kind]}"
    for kind, want in (expect.get("if_missed") or {}).items():
        got = deadlines[kind].get("if_missed") if kind in deadlines else duties.get(kind, {}).get("if_missed")
        assert got is not None, f"{ctx}\n  {kind} carries no if_missed"
        cited = {
            "penalties": [p["citation"] for p in got["penalties"]],
            "referred_by": [r["citation"] for p in got["penalties"] for r in p.get("referred_by", [])],
            "old": [p.get("old_citation", "") for p in got["penalties"]],
            "effects": [e["citation"] for e in got["effects"]],
            "remedies": [r["citation"] for r in got["remedies"]],
        }
        for key, values in want.items():
            assert cited[key] == list(values), f"{ctx}\n  {kind}.if_missed.{key}: {cited[key]} != {values}"

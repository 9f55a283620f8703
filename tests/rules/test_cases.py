"""The YAML rule cases themselves (tests/rules/cases/*.yaml) are collected by tests/rules/conftest.py with the
plugin of rules/pytest_cases.py (the format is in its docstring), one test per case named by its sentence.
Here: what holds for the set of cases as a whole."""

from __future__ import annotations

from pathlib import Path

from rules.pytest_cases import load_cases

CASES_DIR = Path(__file__).parent / "cases"
CASES = [(path.name, case) for path in sorted(CASES_DIR.glob("*.yaml")) for _line, case in load_cases(path)]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 80, f"only {len(CASES)} rule cases"


def test_case_names_are_sentences() -> None:
    for file, case in CASES:
        name = case.get("name", "")
        assert name and name.rstrip()[-1] in ".。", f"{file}: case name is not a full sentence: {name!r}"

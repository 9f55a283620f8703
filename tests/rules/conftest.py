"""The rule cases of tests/rules/cases/*.yaml are collected by the plugin `qingshen rules test` runs
(rules/pytest_cases.py): one item per case, whose id is the case's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.pytest_cases import CaseFile

CASES_DIR = Path(__file__).parent / "cases"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CaseFile | None:
    if file_path.suffix == ".yaml" and file_path.parent == CASES_DIR:
        if parent.config.pluginmanager.has_plugin("rules.pytest_cases"):
            return None  # `pytest -p rules.pytest_cases` collects them already
        return CaseFile.from_parent(parent, path=file_path)
    return None

"""Completed work closes the steps before it (rules/READINGS.md): a round completed after the list was
published meets that list's start and report deadlines; one completed before does not."""

from __future__ import annotations

from datetime import date

import rules

TOXIC = {"province": "shandong", "toxic_classes": ["heavy_metal"], "list_published_on": "2026-03-31"}
AS_OF = date(2026, 12, 1)


def _deadlines(extra: dict[str, str]) -> dict[str, dict]:
    a = rules.assess({**TOXIC, **extra}, AS_OF)
    return {d["kind"]: d for d in a.to_dict()["deadlines"]}


def test_a_round_completed_after_the_list_meets_start_and_report() -> None:
    d = _deadlines({"last_audit_completed_on": "2026-09-01"})
    for kind in ("start", "report"):
        assert d[kind]["met_on"] == "2026-09-01" and d[kind]["met_by"] == "last_audit_completed_on"
        assert "overdue_days_unless_done" not in d[kind] and "if_missed" not in d[kind]
    assert "met_on" not in d["disclosure"] and d["disclosure"]["overdue_days_unless_done"] == 215
    assert "met_on" not in d["reaudit"] and d["reaudit"]["nominal"] == "2031-09-01"


def test_a_round_completed_on_the_list_day_counts_and_one_before_does_not() -> None:
    assert _deadlines({"last_audit_completed_on": "2026-03-31"})["start"]["met_on"] == "2026-03-31"
    before = _deadlines({"last_audit_completed_on": "2026-03-30"})
    assert "met_on" not in before["start"] and before["start"]["overdue_days_unless_done"] > 0
    assert "met_on" not in before["report"]


def test_an_evaluation_after_the_list_meets_them_too() -> None:
    d = _deadlines({"evaluated_on": "2026-10-10"})
    assert d["start"]["met_by"] == "evaluated_on" and d["report"]["met_on"] == "2026-10-10"


def test_the_earliest_later_step_is_named() -> None:
    d = _deadlines({"last_audit_completed_on": "2026-09-01", "evaluated_on": "2026-10-10"})
    assert d["report"]["met_by"] == "last_audit_completed_on"

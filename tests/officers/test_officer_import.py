"""Applying a list: one transaction, idempotent by file and by (enterprise, list date). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handlers.cycles import ImportRefused, import_rows, open_cycle
from handlers.listimport import Preview, assess_listed, read_list
from handlers.officers import ForbiddenError, Jurisdiction
from handlers.reminders import ReminderPolicy
from storage import (
    AuditCycle,
    Enterprise,
    ImportOutcome,
    ListEntry,
    ListImport,
    Milestone,
    Officer,
    Reminder,
    Repositories,
)
from tests.officers.officerkit import (
    LISTED,
    NOW,
    TODAY,
    add_officer,
    csv_bytes,
    row,
    shanxi_code,
    wrong_check,
    xlsx_bytes,
)

POLICY = ReminderPolicy()
TABLES = (Enterprise, AuditCycle, Milestone, Reminder, ListImport, ListEntry)


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def preview(data: bytes, name: str = "list.csv", scope: Jurisdiction | None = None) -> Preview:
    return read_list(data, name, scope or Jurisdiction("shanxi"), today=TODAY)


def apply(sessions: sessionmaker[Session], officer: Officer, p: Preview, *, accept_partial: bool = False,
          today: date = TODAY) -> ImportOutcome:
    with sessions.begin() as s:
        repos = Repositories(s)
        fresh = repos.officers.get_by_id(officer.id)
        assert fresh is not None
        return import_rows(repos, fresh, p, accept_partial=accept_partial, today=today, policy=POLICY, now=NOW)


@pytest.fixture
def officer(sessions: sessionmaker[Session]) -> Officer:
    return add_officer(sessions)


class TestImport:
    def test_rows_become_enterprises_cycles_milestones_reminders_and_entries(
        self, sessions: sessionmaker[Session], officer: Officer
    ) -> None:
        out = apply(sessions, officer, preview(csv_bytes([row(1), row(2, grounds="高耗能、有毒有害")])))
        assert (out.added, out.enterprises_created, out.cycles_created, out.milestones_created) == (2, 2, 2, 8)
        # 3 deadlines of the list and the yearly environmental-information disclosure (令第24号) each
        assert out.reminders_created > 0
        with sessions() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None
            assert (e.name, e.province, e.city, e.county) == ("企业1有限公司", "shanxi", "太原市", "清徐县")
            cycle = repos.cycles.get_by_enterprise(e.id)
            assert cycle is not None and cycle.source == "import" and cycle.list_published_on == LISTED
            assert cycle.list_document_number == "晋环发〔2026〕1号"
            expected = assess_listed("shanxi", ("pollution",), LISTED)
            assert cycle.grounds == [g.id for g in expected.grounds]
            milestones = repos.milestones.list_by_cycle(cycle.id)
            stored = {(m.kind, m.nominal, m.due) for m in milestones}
            assert stored == {(d.kind, d.nominal, d.due) for d in expected.deadlines} | {
                (y.milestone, y.due, y.due) for y in expected.duties if y.milestone and y.due}
            assert ("env_disclosure", date(2027, 3, 15), date(2027, 3, 15)) in stored   # 令第24号, for 2026
            reminders = repos.reminders.list_by_milestone(milestones[0].id)
            assert reminders and all(r.send_on >= TODAY and r.status == "pending" for r in reminders)
            imp = repos.imports.get_by_id(out.import_id or 0)
            assert imp is not None and (imp.row_count, imp.published_on, imp.officer_id) == (2, LISTED, officer.id)
            assert imp.document_number == "晋环发〔2026〕1号"

    def test_the_same_file_twice_changes_nothing(self, sessions: sessionmaker[Session], officer: Officer) -> None:
        p = preview(xlsx_bytes([row(1), row(2)]), "list.xlsx")
        first = apply(sessions, officer, p)
        before = counts(sessions)
        again = apply(sessions, officer, p)
        assert again.file_seen_before and again.import_id == first.import_id and again.added == 0
        assert counts(sessions) == before

    def test_the_same_rows_in_another_file_change_nothing(
        self, sessions: sessionmaker[Session], officer: Officer
    ) -> None:
        apply(sessions, officer, preview(csv_bytes([row(1), row(2)])))
        before = counts(sessions)
        other = preview(xlsx_bytes([row(2), row(1)]), "re-saved.xlsx")  # another file, same rows
        out = apply(sessions, officer, other)
        assert out.import_id is None and out.added == 0 and sorted(line for line, _ in out.unchanged) == [2, 3]
        assert counts(sessions) == before

    def test_a_file_with_new_and_known_rows_adds_only_the_new(
        self, sessions: sessionmaker[Session], officer: Officer
    ) -> None:
        first = apply(sessions, officer, preview(csv_bytes([row(1)])))
        out = apply(sessions, officer, preview(csv_bytes([row(1), row(2)]), "more.csv"))
        assert out.added == 1 and out.unchanged == [(2, first.import_id)]
        assert counts(sessions)["list_entries"] == 2

    def test_row_errors_import_nothing_unless_partial_is_accepted(
        self, sessions: sessionmaker[Session], officer: Officer
    ) -> None:
        p = preview(csv_bytes([row(1), row(2, code=wrong_check(shanxi_code(2))), row(3)]))
        assert not p.ok and len(p.rows) == 2
        before = counts(sessions)
        with pytest.raises(ImportRefused):
            apply(sessions, officer, p)
        assert counts(sessions) == before
        out = apply(sessions, officer, p, accept_partial=True)
        assert out.added == 2
        with sessions() as s:
            imp = Repositories(s).imports.get_by_id(out.import_id or 0)
            assert imp is not None and imp.skipped_count == 1

    def test_a_failure_midway_leaves_nothing_half_imported(
        self, sessions: sessionmaker[Session], officer: Officer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from storage.imports import ListImportRepository

        def boom(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(ListImportRepository, "_add_entries", boom)
        before = counts(sessions)
        with pytest.raises(RuntimeError):
            apply(sessions, officer, preview(csv_bytes([row(1), row(2)])))
        assert counts(sessions) == before

    def test_a_file_with_no_valid_row_is_refused(self, sessions: sessionmaker[Session], officer: Officer) -> None:
        with pytest.raises(ImportRefused):
            apply(sessions, officer, preview(csv_bytes([row(1, grounds="飞行")])), accept_partial=True)

    def test_a_later_list_supersedes_the_earlier_cycle(self, sessions: sessionmaker[Session], officer: Officer) -> None:
        apply(sessions, officer, preview(csv_bytes([row(1, day="2025-03-31")])), today=date(2025, 4, 1))
        apply(sessions, officer, preview(csv_bytes([row(1, day="2026-03-31")]), "2026.csv"))
        with sessions() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None
            old, new = sorted(repos.cycles.list_by_enterprise(e.id), key=lambda c: c.id)
            assert old.superseded_at is not None and new.superseded_at is None
            assert repos.cycles.get_by_enterprise(e.id) == new
            old_reminders = [r for m in repos.milestones.list_by_cycle(old.id)
                             for r in repos.reminders.list_by_milestone(m.id)]
            assert old_reminders and {r.status for r in old_reminders} <= {"cancelled", "queued", "superseded"}

    def test_an_earlier_list_imported_late_is_superseded_at_once(
        self, sessions: sessionmaker[Session], officer: Officer
    ) -> None:
        apply(sessions, officer, preview(csv_bytes([row(1, day="2026-03-31")])))
        apply(sessions, officer, preview(csv_bytes([row(1, day="2025-03-31")]), "old.csv"))
        with sessions() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None
            current = repos.cycles.get_by_enterprise(e.id)
            assert current is not None and current.list_published_on == date(2026, 3, 31)
            old = next(c for c in repos.cycles.list_by_enterprise(e.id) if c.list_published_on == date(2025, 3, 31))
            assert old.superseded_at is not None
            assert not any(repos.reminders.list_by_milestone(m.id) for m in repos.milestones.list_by_cycle(old.id))

    def test_what_a_contact_told_us_is_kept(self, sessions: sessionmaker[Session], officer: Officer) -> None:
        with sessions.begin() as s:
            Repositories(s).enterprises.add(credit_code=shanxi_code(1), name="自己填的名称", province="shanxi")
        out = apply(sessions, officer, preview(csv_bytes([row(1)])))
        assert out.enterprises_created == 0 and out.added == 1
        with sessions() as s:
            e = Repositories(s).enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None and e.name == "自己填的名称" and e.city == "太原市"

    def test_a_chat_cycle_of_the_same_list_is_reused(self, sessions: sessionmaker[Session], officer: Officer) -> None:
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.add(credit_code=shanxi_code(1))
            open_cycle(repos, e.id, assess_listed("shanxi", ("pollution",), LISTED), list_published_on=LISTED,
                       source="chat", today=TODAY, policy=POLICY)
        before = counts(sessions)
        out = apply(sessions, officer, preview(csv_bytes([row(1)])))
        assert (out.added, out.cycles_created, out.milestones_created, out.reminders_created) == (1, 0, 0, 0)
        after = counts(sessions)
        assert after["audit_cycles"] == before["audit_cycles"] and after["reminders"] == before["reminders"]

    def test_milestone_status_per_list_for_a_dashboard(self, sessions: sessionmaker[Session], officer: Officer) -> None:
        out = apply(sessions, officer, preview(csv_bytes([row(1), row(2)])))
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None
            cycle = repos.cycles.get_by_enterprise(e.id)
            assert cycle is not None
            disclosure = repos.milestones.get_by_kind(cycle.id, "disclosure")
            assert disclosure is not None
            repos.milestones.mark_done(disclosure, at=NOW)
        with sessions() as s:
            status = Repositories(s).imports.count_milestone_status(out.import_id or 0, date(2026, 6, 15))
        assert status["disclosure"] == {"total": 2, "done": 1, "overdue": 1}
        assert status["start"] == {"total": 2, "done": 0, "overdue": 2}
        assert status["report"] == {"total": 2, "done": 0, "overdue": 0}


class TestOpenCycle:
    def test_open_cycle_is_safe_to_repeat(self, sessions: sessionmaker[Session]) -> None:
        a = assess_listed("shanxi", ("pollution",), LISTED)
        for _ in range(2):
            with sessions.begin() as s:
                repos = Repositories(s)
                e = repos.enterprises.get_by_credit_code(shanxi_code(1)) or repos.enterprises.add(
                    credit_code=shanxi_code(1))
                open_cycle(repos, e.id, a, list_published_on=LISTED, source="chat", today=TODAY, policy=POLICY)
        c = counts(sessions)
        assert (c["audit_cycles"], c["milestones"]) == (1, 4) and c["reminders"] > 0    # 3 + the yearly disclosure


def test_a_preview_for_another_province_cannot_be_imported(sessions: sessionmaker[Session]) -> None:
    shanxi = add_officer(sessions, "shanxi")
    p = read_list(csv_bytes([row(1, code="91370100000000001W", place="济南市")]), "sd.csv", Jurisdiction("shandong"),
                  today=TODAY)
    before = counts(sessions)
    with pytest.raises(ForbiddenError):
        apply(sessions, shanxi, p)
    assert counts(sessions) == before


def test_bulk_rows_read_back_as_the_orm_writes_them(sessions: sessionmaker[Session]) -> None:
    """bulk_insert bypasses the ORM for speed: what it stores must read back exactly like ORM rows."""
    officer = add_officer(sessions)
    apply(sessions, officer, preview(csv_bytes([row(1, place="太原市"), row(2, grounds="高耗能、有毒有害")])))
    with sessions() as s:
        repos = Repositories(s)
        e = repos.enterprises.get_by_credit_code(shanxi_code(1))
        assert e is not None and e.county is None and e.created_at == NOW and e.created_at.tzinfo is not None
        entry = repos.imports.list_entries_by_enterprise(e.id)[0]
        assert (entry.grounds, entry.city, entry.county, entry.line) == (["pollution"], "太原市", None, 2)
        cycle = repos.cycles.get_by_enterprise(e.id)
        assert cycle is not None and cycle.created_at == NOW and isinstance(cycle.grounds, list)
        milestone = repos.milestones.list_by_cycle(cycle.id)[0]
        assert isinstance(milestone.nominal, date) and milestone.citation and milestone.done_at is None
        reminder = repos.reminders.list_by_milestone(milestone.id)[0]
        assert (reminder.created_at, reminder.status, reminder.queued_at) == (NOW, "pending", None)
        assert isinstance(reminder.send_on, date)
        other = repos.enterprises.get_by_credit_code(shanxi_code(2))
        assert other is not None
        assert repos.imports.list_entries_by_enterprise(other.id)[0].grounds == ["energy", "toxic"]

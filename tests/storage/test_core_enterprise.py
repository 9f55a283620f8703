"""The chat's Core statements on enterprises and cycles (issue 14): the facts written without a read, the
calendar token made once, the current cycle's milestones in one query, and a cycle's INSERT that says
whether the enterprise has others."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage import MilestonePlan, Repositories, utcnow
from storage.cycles import current_milestones
from storage.enterprises import calendar_token, update_known
from storage.errors import FieldError
from tests.handlers.chatkit import credit_code


def _enterprise(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as s:
        return Repositories(s).enterprises.add(credit_code=credit_code("91140100MA0K1234X"), province="shanxi").id


def test_the_facts_are_written_only_where_they_differ(sessions: sessionmaker[Session]) -> None:
    eid = _enterprise(sessions)
    known = {"province": "shanxi", "industry_code": "3011", "scale": None}
    with sessions.begin() as s:
        assert update_known(s.connection(), eid, known) is True
    with sessions.begin() as s:
        assert update_known(s.connection(), eid, known) is False      # the same: the row is left alone
        assert update_known(s.connection(), eid, {**known, "scale": "large"}) is True
    with sessions() as s:
        e = Repositories(s).enterprises.get_by_id(eid)
        assert e is not None and (e.province, e.industry_code, e.scale) == ("shanxi", "3011", "large")
    with sessions.begin() as s, pytest.raises(FieldError) as error:
        update_known(s.connection(), eid, {**known, "scale": "huge"})
    assert error.value.field == "scale"


def test_a_calendar_token_is_made_once(sessions: sessionmaker[Session]) -> None:
    eid = _enterprise(sessions)
    with sessions.begin() as s:
        first = calendar_token(s.connection(), eid)
    with sessions.begin() as s:
        assert first and calendar_token(s.connection(), eid) == first
        assert calendar_token(s.connection(), eid + 1000) is None
        e = Repositories(s).enterprises.get_by_calendar_token(first)
        assert e is not None and e.id == eid


def test_the_current_cycles_milestones_and_the_others_flag(sessions: sessionmaker[Session]) -> None:
    eid = _enterprise(sessions)
    with sessions.begin() as s:
        repos = Repositories(s)
        assert current_milestones(s.connection(), eid) == []
        old, added, others = repos.cycles.open_if_absent(eid, date(2025, 3, 31), source="import")
        assert added and not others                                   # the first
        repos.milestones.add(old.id, kind="report", nominal=date(2026, 3, 31), due=date(2026, 3, 31))
        new, added, others = repos.cycles.open_if_absent(eid, date(2026, 3, 31), source="chat")
        assert added and others                                       # the 2025 list's cycle is there
        repos.milestones.add(new.id, kind="start", nominal=date(2026, 5, 31), due=date(2026, 6, 1))
        repos.milestones.add(new.id, kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 4, 30))
        again, added, others = repos.cycles.open_if_absent(eid, date(2026, 3, 31), source="chat")
        assert again.id == new.id and not added and others
        rows = current_milestones(s.connection(), eid)                # the latest list's cycle, by date
        assert [(r.kind, r.due) for r in rows] == [("disclosure", date(2026, 4, 30)), ("start", date(2026, 6, 1))]
        repos.cycles.supersede(old, new.created_at)
        _, added, others = repos.cycles.open_if_absent(eid, date(2027, 3, 31), source="chat")
        assert added and others                                       # the 2026 one is still current


def test_a_new_enterprise_binds_its_contact_in_its_insert_and_a_known_one_binds_nobody(
    sessions: sessionmaker[Session],
) -> None:
    code = credit_code("91140100MA0K7654X")
    with sessions.begin() as s:
        repos = Repositories(s)
        alice = repos.contacts.add_if_absent("test", "alice")
        bob = repos.contacts.add_if_absent("test", "bob")
        repos.contacts.record_consent(alice, utcnow())
        repos.contacts.record_consent(bob, utcnow())
        enterprise, added = repos.enterprises.add_and_bind(code, alice, province="shanxi")
        assert added and alice.enterprise_id == enterprise.id
        _, added = repos.enterprises.add_and_bind(code, bob)
        assert not added and bob.enterprise_id is None
    with sessions() as s:
        repos = Repositories(s)
        a, b = repos.contacts.get_by_address("test", "alice"), repos.contacts.get_by_address("test", "bob")
        assert a is not None and b is not None and a.enterprise_id == enterprise.id and b.enterprise_id is None
        stored = repos.enterprises.get_by_id(enterprise.id)
        assert stored is not None and stored.bind_contact_id is None       # nothing left in the row


def test_the_trigger_binds_only_a_contact_who_consented(sessions: sessionmaker[Session]) -> None:
    """On SQLite the binding is the trigger's (migration 0011): it keeps the consent rule itself."""
    if sessions.kw["bind"].dialect.name != "sqlite":
        pytest.skip("the trigger is SQLite's; PostgreSQL binds in the CTE, after the same check in Python")
    with sessions.begin() as s:
        carol = Repositories(s).contacts.add_if_absent("test", "carol")
        carol_id = carol.id
    with sessions.begin() as s:
        s.execute(text("INSERT INTO enterprises (credit_code, created_at, updated_at, bind_contact_id) "
                       "VALUES (:code, '2026-12-02 00:00:00.000000', '2026-12-02 00:00:00.000000', :contact)"),
                  {"code": credit_code("91140100MA0K7655X"), "contact": carol_id})
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "carol")
        assert contact is not None and contact.enterprise_id is None


def test_planned_reminders_are_added_for_new_open_milestones_only(sessions: sessionmaker[Session]) -> None:
    eid = _enterprise(sessions)
    plan = [MilestonePlan(kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 4, 30), citation="c",
                          note="n", reminders=(("before_7", date(2026, 4, 23)), ("on_day", date(2026, 4, 30)))),
            MilestonePlan(kind="start", nominal=date(2026, 5, 31), due=date(2026, 6, 1), citation="c", note="n",
                          reminders=(("on_day", date(2026, 5, 31)),), done_on=date(2026, 5, 1))]
    done = {"start": datetime(2026, 5, 1, 12, tzinfo=UTC)}
    with sessions.begin() as s:
        repos = Repositories(s)
        cycle, _, _ = repos.cycles.open_if_absent(eid, date(2026, 3, 31), source="chat")
        added = repos.milestones.add_planned(cycle.id, plan, done_at=done)
        assert {m.kind for m in added} == {"disclosure", "start"} and all(m.reminder_plan is None for m in added)
        again = repos.milestones.add_planned(cycle.id, [replace(plan[0], reminders=(("late", date(2026, 5, 2)),))])
        assert again == []                                    # the cycle has it: no new reminders either
        kept = {m.kind: m for m in repos.milestones.list_by_cycle(cycle.id)}
        disclosure = repos.reminders.list_by_milestone(kept["disclosure"].id)
        assert sorted((r.kind, r.send_on, r.status) for r in disclosure) == [
            ("before_7", date(2026, 4, 23), "pending"), ("on_day", date(2026, 4, 30), "pending")]
        assert all(r.created_at.tzinfo is not None for r in disclosure)
        assert repos.reminders.list_by_milestone(kept["start"].id) == []        # done: never reminded
        assert all(m.reminder_plan is None for m in kept.values())

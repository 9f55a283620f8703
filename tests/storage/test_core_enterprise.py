"""The chat's Core statements on enterprises and cycles (issue 14): the facts written without a read, the
calendar token made once, the current cycle's milestones in one query, and a cycle's INSERT that says
whether the enterprise has others."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage import Repositories
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

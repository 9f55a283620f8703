"""AssessmentRepository: assessments as they were given, to show them again and to count them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from storage.columns import utcnow
from storage.errors import FieldError
from storage.models import Assessment

OBLIGATIONS = ("mandatory", "voluntary", "undetermined")
_INSERT = insert(cast(Table, Assessment.__table__))
_TABLE = cast(Table, Assessment.__table__)
_LATEST_RESULT = (select(_TABLE.c.result).where(_TABLE.c.contact_id == bindparam("contact_id"))
                  .order_by(_TABLE.c.id.desc()).limit(1))


def record_assessment(
    connection: Connection,
    *,
    facts: Mapping[str, Any],
    as_of: date,
    obligation: str,
    result: Mapping[str, Any],
    pack_versions: Mapping[str, str],
    enterprise_id: int | None = None,
    contact_id: int | None = None,
) -> None:
    """Store an assessment as given (the chat, once per verdict): one Core INSERT, compiled once, with no ORM
    object built and flushed (and no Session needed)."""
    connection.execute(_INSERT, {**_row(facts, as_of, obligation, result, pack_versions, enterprise_id, contact_id),
                                 "created_at": utcnow()})


def _row(facts: Mapping[str, Any], as_of: date, obligation: str, result: Mapping[str, Any],
         pack_versions: Mapping[str, str], enterprise_id: int | None, contact_id: int | None) -> dict[str, Any]:
    """An assessment's columns, checked (the obligation) and copied (the JSON values)."""
    if obligation not in OBLIGATIONS:
        raise FieldError("obligation", f"{obligation!r} is not one of {', '.join(OBLIGATIONS)}")
    return {"facts": dict(facts), "as_of": as_of, "obligation": obligation, "result": dict(result),
            "pack_versions": dict(pack_versions), "enterprise_id": enterprise_id, "contact_id": contact_id}


def latest_result_by_contact(connection: Connection, contact_id: int) -> dict[str, Any] | None:
    """The `result` of the contact's newest assessment (None if it has none), read as a plain value."""
    result = connection.execute(_LATEST_RESULT, {"contact_id": contact_id}).scalar_one_or_none()
    return dict(result) if result is not None else None


class AssessmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, assessment_id: int) -> Assessment | None:
        return self.session.get(Assessment, assessment_id)

    def list_by_enterprise(self, enterprise_id: int, *, limit: int = 20) -> list[Assessment]:
        """The enterprise's assessments, newest first."""
        stmt = select(Assessment).where(Assessment.enterprise_id == enterprise_id)
        return list(self.session.scalars(stmt.order_by(Assessment.id.desc()).limit(limit)))

    def list_by_contact(self, contact_id: int, *, limit: int = 20) -> list[Assessment]:
        """The contact's assessments, newest first."""
        stmt = select(Assessment).where(Assessment.contact_id == contact_id)
        return list(self.session.scalars(stmt.order_by(Assessment.id.desc()).limit(limit)))

    def count_by_obligation(self, *, since: date | None = None) -> dict[str, int]:
        """How many assessments gave each verdict (as of `since` or later)."""
        stmt = select(Assessment.obligation, func.count()).group_by(Assessment.obligation)
        if since is not None:
            stmt = stmt.where(Assessment.as_of >= since)
        return {obligation: count for obligation, count in self.session.execute(stmt)}

    def add(
        self,
        *,
        facts: Mapping[str, Any],
        as_of: date,
        obligation: str,
        result: Mapping[str, Any],
        pack_versions: Mapping[str, str],
        enterprise_id: int | None = None,
        contact_id: int | None = None,
    ) -> Assessment:
        """Store an assessment: the JSON facts, the whole JSON result and {pack_id: version}."""
        assessment = Assessment(**_row(facts, as_of, obligation, result, pack_versions, enterprise_id, contact_id))
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def delete_by_contact(self, contact_id: int) -> int:
        """Erase the contact's assessments (when a user asks to be forgotten); returns how many."""
        result = self.session.execute(
            delete(Assessment).where(Assessment.contact_id == contact_id),
            execution_options={"synchronize_session": "fetch"},
        )
        return int(getattr(result, "rowcount", 0) or 0)

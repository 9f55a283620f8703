"""BroadcastRepository: broadcasts, their targets, the batched outbox writes of a fan-out, and its counts.

A broadcast's outbox rows carry the idempotency key `bc:<broadcast id>:<contact id>`; progress and
the delivery report are counted from those rows (a key-prefix match), so they are live while the
sender drains the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage._dialect import insert_for
from storage.columns import utcnow
from storage.errors import FieldError
from storage.imports import CHUNK
from storage.models import (
    BROADCAST_KINDS,
    AuditCycle,
    Broadcast,
    BroadcastTarget,
    Contact,
    Enterprise,
    Milestone,
    OutboxMessage,
)


def broadcast_key_prefix(broadcast_id: int) -> str:
    return f"bc:{broadcast_id}:"


def broadcast_key(broadcast_id: int, contact_id: int) -> str:
    """The outbox idempotency key of one broadcast to one contact."""
    return f"{broadcast_key_prefix(broadcast_id)}{contact_id}"


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    contact_id: int
    channel: str
    address: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TargetRow:
    enterprise_id: int
    outcome: str  # queued | unreachable
    contacts: int = 0
    invitation_id: int | None = None


class BroadcastRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, broadcast_id: int) -> Broadcast | None:
        return self.session.get(Broadcast, broadcast_id)

    def list_by_province(self, province: str, *, limit: int = 100) -> list[Broadcast]:
        stmt = select(Broadcast).where(Broadcast.province == province).order_by(Broadcast.id.desc())
        return list(self.session.scalars(stmt.limit(limit)))

    def add(
        self,
        *,
        officer_id: int | None,
        kind: str,
        province: str,
        city: str | None = None,
        county: str | None = None,
        list_import_id: int | None = None,
        filters: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> Broadcast:
        if kind not in BROADCAST_KINDS:
            raise FieldError("kind", f"{kind!r} is not one of {', '.join(BROADCAST_KINDS)}")
        broadcast = Broadcast(
            officer_id=officer_id, kind=kind, province=province, city=city, county=county,
            list_import_id=list_import_id, filters=dict(filters or {}), message=message, status="planned",
            resume_after=0,
        )
        self.session.add(broadcast)
        self.session.flush()
        return broadcast

    def advance(self, broadcast_id: int, resume_after: int) -> None:
        """Record that every enterprise up to `resume_after` is done (commit it with the batch)."""
        self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(resume_after=resume_after, status="sending")
            .execution_options(synchronize_session="fetch")
        )

    def finish(self, broadcast_id: int, at: datetime) -> None:
        self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(status="done", finished_at=at)
            .execution_options(synchronize_session="fetch")
        )

    # -- batched writes --------------------------------------------------------------------------

    def queue_messages(
        self, broadcast_id: int, messages: Sequence[QueuedMessage], *, now: datetime | None = None
    ) -> int:
        """Outbox rows for the messages (ON CONFLICT DO NOTHING on the key); returns how many are new."""
        now = now or utcnow()
        rows = [
            {"idempotency_key": broadcast_key(broadcast_id, m.contact_id), "channel": m.channel,
             "address": m.address, "payload": dict(m.payload), "status": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for m in messages
        ]
        added = 0
        for start in range(0, len(rows), CHUNK):
            stmt = insert_for(self.session, OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
            added += len(self.session.execute(stmt.returning(OutboxMessage.id), rows[start:start + CHUNK]).all())
        return added

    def add_targets(self, broadcast_id: int, targets: Sequence[TargetRow]) -> None:
        rows = [
            {"broadcast_id": broadcast_id, "enterprise_id": t.enterprise_id, "outcome": t.outcome,
             "contacts": t.contacts, "invitation_id": t.invitation_id}
            for t in targets
        ]
        for start in range(0, len(rows), CHUNK):
            stmt = insert_for(self.session, BroadcastTarget).on_conflict_do_nothing(
                index_elements=["broadcast_id", "enterprise_id"]
            )
            self.session.execute(stmt, rows[start:start + CHUNK])

    # -- what a fan-out batch reads --------------------------------------------------------------

    def list_enterprises_in(
        self, province: str, *, after_id: int = 0, limit: int = CHUNK, industry_prefix: str | None = None
    ) -> list[Enterprise]:
        """Enterprises of a province by id (the caller narrows to a city or county)."""
        stmt = select(Enterprise).where(Enterprise.province == province, Enterprise.id > after_id)
        if industry_prefix:
            stmt = stmt.where(Enterprise.industry_code.startswith(industry_prefix, autoescape=True))
        return list(self.session.scalars(stmt.order_by(Enterprise.id).limit(limit)))

    def list_reachable_contacts(self, enterprise_ids: Sequence[int]) -> dict[int, list[Contact]]:
        """Consented, subscribed contacts of each enterprise, preferred first."""
        out: dict[int, list[Contact]] = {}
        for start in range(0, len(enterprise_ids), CHUNK):
            stmt = (
                select(Contact)
                .where(
                    Contact.enterprise_id.in_(enterprise_ids[start:start + CHUNK]),
                    Contact.consented_at.is_not(None),
                    Contact.unsubscribed_at.is_(None),
                )
                .order_by(Contact.preferred.desc(), Contact.id)
            )
            for contact in self.session.scalars(stmt):
                assert contact.enterprise_id is not None, "selected by enterprise"
                out.setdefault(contact.enterprise_id, []).append(contact)
        return out

    def list_milestones_by_cycles(self, cycle_ids: Sequence[int]) -> dict[int, list[Milestone]]:
        out: dict[int, list[Milestone]] = {}
        for start in range(0, len(cycle_ids), CHUNK):
            stmt = (
                select(Milestone)
                .where(Milestone.cycle_id.in_(cycle_ids[start:start + CHUNK]))
                .order_by(Milestone.nominal, Milestone.id)
            )
            for m in self.session.scalars(stmt):
                out.setdefault(m.cycle_id, []).append(m)
        return out

    def list_current_cycles(self, enterprise_ids: Sequence[int]) -> dict[int, AuditCycle]:
        """Each enterprise's current cycle (not superseded; the latest list first)."""
        out: dict[int, AuditCycle] = {}
        for start in range(0, len(enterprise_ids), CHUNK):
            stmt = (
                select(AuditCycle)
                .where(AuditCycle.enterprise_id.in_(enterprise_ids[start:start + CHUNK]),
                       AuditCycle.superseded_at.is_(None))
                .order_by(AuditCycle.enterprise_id, AuditCycle.list_published_on.desc().nulls_last(),
                          AuditCycle.id.desc())
            )
            for cycle in self.session.scalars(stmt):
                out.setdefault(cycle.enterprise_id, cycle)
        return out

    # -- counts ----------------------------------------------------------------------------------

    def count_outbox_by_status(self, broadcast_id: int) -> dict[str, int]:
        """The broadcast's outbox rows by status (pending, sending, sent, failed, dead)."""
        prefix = broadcast_key_prefix(broadcast_id)
        stmt = (
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.idempotency_key.startswith(prefix, autoescape=True))
            .group_by(OutboxMessage.status)
        )
        return {status: count for status, count in self.session.execute(stmt)}

    def count_targets(self, broadcast_id: int) -> dict[str, int]:
        """Enterprises by outcome (queued, unreachable), plus "invited": unreachable ones given a code."""
        stmt = (
            select(BroadcastTarget.outcome, func.count(), func.count(BroadcastTarget.invitation_id))
            .where(BroadcastTarget.broadcast_id == broadcast_id)
            .group_by(BroadcastTarget.outcome)
        )
        out = {"queued": 0, "unreachable": 0, "invited": 0}
        for outcome, count, invited in self.session.execute(stmt):
            out[outcome] = int(count)
            out["invited"] += int(invited)
        return out

"""OutboxRepository: push messages written with what caused them, drained by the sender.

Life cycle of a row: `pending` -> (claim_batch) `sending` -> `sent`, or -> `failed` with a retry
time -> claimed again ..., or -> `dead` when the sender gives up. A claim is a lease: a row left in
`sending` by a crashed sender can be claimed again once `next_attempt_at` (claim time + lease) has
passed. Each claim writes a new random `claim_token`, and every change after it (sent, failed,
released, lease renewed) is an UPDATE guarded by `status = 'sending'`, `claimed_by` and that token, so
a sender that ran past its lease (and whose row another sender claimed, sent and marked sent) changes
nothing when it comes back. Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so
several senders never claim the same row; on SQLite the claiming UPDATE re-checks the row is still due,
which in SQLite's one-writer-at-a-time model has the same effect.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Table, case, func, select, update
from sqlalchemy.orm import Session

from storage._dialect import insert_for
from storage.columns import utcnow
from storage.errors import FieldError
from storage.models import Conversation, OutboxMessage
from storage.reminders import REMINDER_KEY_PREFIX

DEFAULT_LEASE = timedelta(minutes=5)
CLAIMABLE = ("pending", "failed", "sending")


def _due(channel: str, now: datetime) -> list[ColumnElement[bool]]:
    return [
        OutboxMessage.channel == channel,
        OutboxMessage.status.in_(CLAIMABLE),
        OutboxMessage.next_attempt_at <= now,
    ]


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, message_id: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def get_by_key(self, idempotency_key: str) -> OutboxMessage | None:
        stmt = select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        return self.session.scalars(stmt).one_or_none()

    def list_by_address(
        self, channel: str, address: str, *, statuses: tuple[str, ...] = ("pending",), limit: int = 100
    ) -> list[OutboxMessage]:
        """Messages for one address, oldest first (e.g. a generic-API user's inbox)."""
        stmt = select(OutboxMessage).where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status.in_(statuses),
        )
        return list(self.session.scalars(stmt.order_by(OutboxMessage.id).limit(limit)))

    def count_by_status(self, *, channel: str | None = None) -> dict[str, int]:
        stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if channel is not None:
            stmt = stmt.where(OutboxMessage.channel == channel)
        return {status: count for status, count in self.session.execute(stmt)}

    def add_if_absent(
        self,
        idempotency_key: str,
        *,
        channel: str,
        address: str,
        payload: Mapping[str, Any],
        not_before: datetime | None = None,
    ) -> bool:
        """Queue a message unless one with this key exists (INSERT ... ON CONFLICT DO NOTHING).

        Returns True if the message was queued now, False if the key was already there. The row
        becomes visible to senders when the caller's transaction commits, no earlier than `not_before`.
        """
        now = utcnow()
        stmt = insert_for(self.session, OutboxMessage).values(
            idempotency_key=idempotency_key,
            channel=channel,
            address=address,
            payload=dict(payload),
            status="pending",
            attempts=0,
            next_attempt_at=not_before or now,
            created_at=now,
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
        return self.session.execute(stmt.returning(OutboxMessage.id)).scalar_one_or_none() is not None

    def claim_batch(
        self, channel: str, limit: int, worker: str, now: datetime, *, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxMessage]:
        """Claim up to `limit` due messages of the channel for `worker` (oldest due first), in id order.

        Claimed rows become `sending`, attempts + 1, leased until now + `lease`, under a new random claim
        token. Commit right after claiming, send outside the transaction, then `mark_sent` / `mark_failed`
        / `release` (and `renew` while sending takes long), each with the message returned here: they
        change the row only while this claim holds it.
        """
        if lease <= timedelta(0):
            raise FieldError("lease", f"must be positive, not {lease}")
        candidates = (
            select(OutboxMessage.id)
            .where(*_due(channel, now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(self.session.scalars(candidates))
        if not ids:
            return []
        claim = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *_due(channel, now))
            .values(
                status="sending",
                claimed_by=worker,
                claimed_at=now,
                claim_token=secrets.token_hex(16),
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + lease,
            )
            .returning(OutboxMessage)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        claimed = list(self.session.scalars(claim))
        return sorted(claimed, key=lambda message: message.id)

    def mark_sent(self, message: OutboxMessage, *, now: datetime) -> bool:
        """Record the claimed `message` sent; False (nothing changed) if the claim is no longer held."""
        return self._change_claimed([message], status="sent", sent_at=now, last_error=None) == [message.id]

    def mark_failed(self, message: OutboxMessage, *, error: str, retry_at: datetime | None) -> bool:
        """Record a failed attempt of the claimed `message`: retried at `retry_at`, or `dead` (given up)
        when it is None. False (nothing changed) if the claim is no longer held."""
        values: dict[str, Any] = {"last_error": error[:2000]}
        if retry_at is None:
            values["status"] = "dead"
        else:
            values.update(status="failed", next_attempt_at=retry_at)
        return self._change_claimed([message], **values) == [message.id]

    def release(self, messages: Collection[OutboxMessage], *, now: datetime) -> list[int]:
        """Give claimed rows back unsent, due at `now`, without spending an attempt; returns the ids released
        (rows whose claim was lost, e.g. claimed again after the lease ran out, are left alone)."""
        return self._change_claimed(
            messages,
            status=case((OutboxMessage.attempts > 1, "failed"), else_="pending"),
            attempts=OutboxMessage.attempts - 1,
            next_attempt_at=now,
            claimed_by=None,
            claim_token=None,
        )

    def renew(
        self, messages: Collection[OutboxMessage], *, now: datetime, lease: timedelta = DEFAULT_LEASE
    ) -> set[int]:
        """Extend the lease of claimed rows to `now + lease`; returns the ids still held (the others are lost:
        sent, failed or released already, or claimed by another sender after the lease ran out)."""
        if lease <= timedelta(0):
            raise FieldError("lease", f"must be positive, not {lease}")
        return set(self._change_claimed(messages, next_attempt_at=now + lease))

    def _change_claimed(self, messages: Collection[OutboxMessage], **values: Any) -> list[int]:
        """UPDATE the rows of `messages` that are still under the claim they were returned with (status
        `sending`, same claimed_by and claim_token); returns the ids changed. Any change after a claim goes
        through here, so a sender that lost its claim cannot touch a row another sender holds."""
        by_claim: dict[tuple[str | None, str | None], list[int]] = {}
        for message in messages:
            by_claim.setdefault((message.claimed_by, message.claim_token), []).append(message.id)
        changed: list[int] = []
        for (worker, token), ids in by_claim.items():
            if worker is None or token is None:
                continue  # not a claimed message: nothing it may change
            stmt = (
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_by == worker,
                    OutboxMessage.claim_token == token,
                )
                .values(**values)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session="fetch")
            )
            changed.extend(self.session.scalars(stmt))
        return sorted(changed)

    # -- inboxes (users who fetch their pushes: the generic API, the web chat page) ---------------

    def list_due_for_address(
        self,
        channel: str,
        address: str,
        *,
        now: datetime,
        after_id: int | None = None,
        exclude: Collection[int] = (),
        limit: int = 100,
    ) -> list[OutboxMessage]:
        """Pending messages of one address that are due (`next_attempt_at <= now`: a reminder waiting for
        the contact's 09:30 is not shown before it), oldest first; `after_id` and `exclude` leave out
        rows the caller already has."""
        stmt = select(OutboxMessage).where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        if after_id is not None:
            stmt = stmt.where(OutboxMessage.id > after_id)
        if exclude:
            stmt = stmt.where(OutboxMessage.id.not_in(list(exclude)))
        return list(self.session.scalars(stmt.order_by(OutboxMessage.id).limit(limit)))

    def mark_delivered(self, channel: str, address: str, ids: Collection[int], *, now: datetime) -> list[int]:
        """Mark the address's due pending rows among `ids` sent (the receiver has them); returns the ids marked.

        Rows of another address, not due yet (never shown), or no longer pending (already acknowledged)
        are left alone, so an acknowledgement can be repeated and cannot touch someone else's messages."""
        if not ids:
            return []
        stmt = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(ids)),
                OutboxMessage.channel == channel,
                OutboxMessage.address == address,
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
            )
            .values(status="sent", sent_at=now, last_error=None)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(self.session.scalars(stmt))

    def list_due_ids_by_address(
        self, channel: str, addresses: Collection[str], *, now: datetime
    ) -> dict[str, set[int]]:
        """For each of the addresses that has any, the ids of its due pending messages (one query per 500
        addresses: what a process's open inboxes wait for, looked up together)."""
        found: dict[str, set[int]] = {}
        wanted = sorted(set(addresses))
        for start in range(0, len(wanted), 500):
            # Due-ness is checked here, not in SQL: with `next_attempt_at <= ?` SQLite's planner (without
            # statistics) scans every due row of the channel (ix_outbox_due) instead of looking up the few
            # open inboxes in ix_outbox_address; an address's not-yet-due rows are few.
            stmt = select(OutboxMessage.address, OutboxMessage.id, OutboxMessage.next_attempt_at).where(
                OutboxMessage.channel == channel,
                OutboxMessage.address.in_(wanted[start:start + 500]),
                OutboxMessage.status == "pending",
            )
            for address, message_id, due_at in self.session.execute(stmt):
                if due_at <= now:
                    found.setdefault(address, set()).add(message_id)
        return found


def reminder_since_last_turn(connection: Connection, channel: str, address: str, contact_id: int) -> int | None:
    """The milestone of the newest reminder queued to this address since the contact's last message (its
    conversation's last write), or None: what a bare 好的 / 收到 right after a reminder answers."""
    outbox = cast(Table, OutboxMessage.__table__)
    conversations = cast(Table, Conversation.__table__)
    last_turn = select(conversations.c.updated_at).where(conversations.c.contact_id == contact_id).scalar_subquery()
    payload = connection.execute(
        select(outbox.c.payload)
        .where(outbox.c.channel == channel, outbox.c.address == address,
               outbox.c.idempotency_key.startswith(REMINDER_KEY_PREFIX), outbox.c.created_at > last_turn)
        .order_by(outbox.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    milestone = payload.get("milestone_id") if isinstance(payload, dict) else None
    return milestone if isinstance(milestone, int) else None


"""Inboxes: the pushes (reminders, list notices, broadcasts) of users who fetch them instead of being sent them.

Two contracts, over the same outbox rows (channel, address = the user id):

- `fetch` (the generic API's `GET /api/v1/users/{user_id}/inbox`): the due pending pushes, counted as
  delivered (`sent`) as they are fetched.
- `pending` + `acknowledge` (the web chat page's live inbox): `pending` lists the due pushes and changes
  nothing; a push stays `pending` until the receiver acknowledges its id, and only then counts as
  delivered. A page that was closed, or lost its connection before it got a push, gets it again on its
  next connection; one that got it says so and never gets it again.

The outbox sender never claims these rows (it is given no "web" channel, and "api" only with a webhook),
so they wait here, not dead-lettered, until the receiver comes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from handlers.messages import Choice, Outbound
from storage import OutboxMessage, Repositories, utcnow

MAX_BATCH = 100  # pushes per answer; more come on the next one


@dataclass(frozen=True, slots=True)
class Push:
    """One pending push: the outbox row id (the receiver acknowledges it), the message, when it was queued."""

    id: int
    message: Outbound
    queued_at: datetime


def _outbound(row: OutboxMessage) -> Outbound:
    payload: dict[str, Any] = row.payload or {}
    choices = tuple(Choice(str(c["id"]), str(c["label"])) for c in payload.get("choices") or ())
    return Outbound(str(payload.get("text") or ""), choices)


def pending(
    sessions: sessionmaker[Session],
    channel: str,
    user_id: str,
    after_id: int | None = None,
    *,
    exclude: Collection[int] = (),
    now: datetime | None = None,
    limit: int = MAX_BATCH,
) -> list[Push]:
    """The user's due pushes not yet acknowledged, oldest first; nothing is marked."""
    with sessions() as session:
        rows = Repositories(session).outbox.list_due_for_address(
            channel, user_id, now=now or utcnow(), after_id=after_id, exclude=exclude, limit=limit)
        return [Push(row.id, _outbound(row), row.created_at) for row in rows]


def waiting(
    sessions: sessionmaker[Session], channel: str, user_ids: Collection[str], *, now: datetime | None = None
) -> dict[str, set[int]]:
    """Which of these users have due pushes not yet acknowledged, and their ids (nothing is marked)."""
    if not user_ids:
        return {}
    with sessions() as session:
        return Repositories(session).outbox.list_due_ids_by_address(channel, user_ids, now=now or utcnow())


def acknowledge(
    sessions: sessionmaker[Session], channel: str, user_id: str, ids: Collection[int], *, now: datetime | None = None
) -> list[int]:
    """The receiver has these pushes: they count as delivered now. Returns the ids newly marked (ids of
    someone else's pushes, unknown or already acknowledged ones are ignored, so repeating is harmless)."""
    if not ids:
        return []
    with sessions.begin() as session:
        return Repositories(session).outbox.mark_delivered(channel, user_id, ids, now=now or utcnow())


def fetch(
    sessions: sessionmaker[Session], channel: str, user_id: str, *, now: datetime | None = None
) -> list[Outbound]:
    """The generic API's inbox: the due pending pushes, counted as delivered as they are fetched."""
    now = now or utcnow()
    with sessions.begin() as session:
        outbox = Repositories(session).outbox
        rows = outbox.list_due_for_address(channel, user_id, now=now, limit=MAX_BATCH)
        outbox.mark_delivered(channel, user_id, [row.id for row in rows], now=now)
        return [_outbound(row) for row in rows]


def locale_of(sessions: sessionmaker[Session], channel: str, user_id: str) -> str | None:
    """The language the contact chose (None for someone we do not know, or who was forgotten)."""
    with sessions() as session:
        contact = Repositories(session).contacts.get_by_address(channel, user_id)
        return contact.locale if contact is not None else None

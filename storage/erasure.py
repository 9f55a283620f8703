"""Erasing a person (个人信息保护法 第四十七条), and purging what a chat id left before consent.

`erase_contact` is the one routine behind 删除我的数据 and a refused or withdrawn consent. It removes,
in the caller's unit of work, every row that holds the contact or is reachable only through them:

- the contact row (channel, chat id, display name, consent) and its conversation;
- the assessments they were given; the outbox rows addressed to their chat id, whatever their status;
- the kv entries naming their chat id (a channel's window and dedupe rows, pushed choices), the
  invitation codes they made (`colleague:<code>`), and the Henan application form they submitted
  (`henan:apply:<id>` and its link `henan:form:<token>`);
- their enterprise, when nobody else is bound to it and no officer knows it (no list entry, no
  printed invitation code, no broadcast reached it): with its audit cycles, milestones, reminders,
  assessments, calendar token, invitation codes and application form;
- otherwise the enterprise stays (its colleagues or the officer who listed it need it), anonymised:
  its calendar link is revoked (the person had it; colleagues get a new one from 我的期限), a
  milestone keeps its done date and evidence link but not who confirmed it, a redeemed invitation
  code keeps that it was used but not by whom, and an officer account linked to the chat id is
  unlinked. Its application form goes too when the person submitted it or nobody is left.

`purge_before_consent` is run by the scheduler's sweep (every minute): chat ids that never consented
are forgotten `PRE_CONSENT_KEEP` (one hour) after they were last seen: contact rows without consent
(none are written any more; older databases have them) and WeChat's 48-hour window row
(`wechat:seen:<openid>`), the one row a platform's delivery writes per chat id before the
conversation knows whether the person consents. Message-id dedupe rows expire on their own (one hour,
`KeyValueRepository.delete_expired`, same sweep).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.orm import Session

from storage.kv import COLLEAGUE_PREFIX, HENAN_APPLY_PREFIX, HENAN_FORM_PREFIX, KeyValueRepository
from storage.models import (
    Assessment,
    AuditCycle,
    BroadcastTarget,
    Contact,
    Conversation,
    Enterprise,
    EnterpriseInvitation,
    ListEntry,
    Milestone,
    Officer,
    OfficerInvitation,
    OutboxMessage,
    Reminder,
)

log = logging.getLogger(__name__)

PRE_CONSENT_KEEP = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PURGE_BATCH = 1000
# kv rows a channel adapter writes per chat id before consent is known: prefix -> the contact's channel
DELIVERY_PREFIXES = {"wechat:seen:": "wechat"}


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def erase_contact(session: Session, contact: Contact) -> dict[str, int]:
    """Remove the contact and everything reachable from them (see the module's docstring); returns
    how many rows went, by table (`kv` counts every key). Flushes, never commits."""
    session.flush()
    gone: Counter[str] = Counter()
    kv = KeyValueRepository(session)
    contact_id, channel, user_id, enterprise_id = contact.id, contact.channel, contact.user_id, contact.enterprise_id

    gone["kv"] += kv.delete_naming(f"{channel}:", user_id)
    gone["outbox"] += _count(session.execute(delete(OutboxMessage).where(
        OutboxMessage.channel == channel, OutboxMessage.address == user_id)))
    gone["kv"] += kv.delete_many(_colleague_codes(kv, contact_id=contact_id))
    gone["assessments"] += _count(session.execute(delete(Assessment).where(Assessment.contact_id == contact_id)))
    for column in (Milestone.done_by_contact_id, OfficerInvitation.used_by_contact_id,
                   EnterpriseInvitation.used_by_contact_id, Officer.contact_id):
        session.execute(update(column.class_).where(column == contact_id).values({column.key: None}))
    gone["conversations"] += _count(session.execute(delete(Conversation).where(Conversation.contact_id == contact_id)))
    gone["contacts"] += _count(session.execute(delete(Contact).where(Contact.id == contact_id)))
    if contact in session:
        session.expunge(contact)

    if enterprise_id is not None:
        alone = not session.scalar(select(exists().where(Contact.enterprise_id == enterprise_id)))
        gone["kv"] += kv.delete_many(_henan_application(kv, enterprise_id, None if alone else contact_id))
        if alone and not _known_to_officers(session, enterprise_id):
            gone.update(_delete_enterprise(session, kv, enterprise_id))
        else:
            session.execute(update(Enterprise).where(Enterprise.id == enterprise_id).values(calendar_token=None))
    session.expire_all()
    log.info("erased a contact: %s", ", ".join(f"{n} {table}" for table, n in sorted(gone.items()) if n))
    return dict(gone)


def _colleague_codes(kv: KeyValueRepository, *, contact_id: int | None = None,
                     enterprise_id: int | None = None) -> list[str]:
    """The `colleague:<code>` keys made by the contact, or (older rows without a maker too) for the enterprise."""
    keys = []
    for key, value in kv.list_by_prefix(COLLEAGUE_PREFIX, now=EPOCH, include_expired=True):
        parts = value.split(":")
        made_by_them = contact_id is not None and len(parts) == 2 and parts[1] == str(contact_id)
        if made_by_them or (enterprise_id is not None and parts[0] == str(enterprise_id)):
            keys.append(key)
    return keys


def _henan_application(kv: KeyValueRepository, enterprise_id: int, contact_id: int | None) -> list[str]:
    """The enterprise's application form and its link, if `contact_id` submitted it (None: whoever did)."""
    key = HENAN_APPLY_PREFIX + str(enterprise_id)
    rows = dict(kv.list_by_prefix(key, now=EPOCH, include_expired=True))
    if key not in rows:
        return []
    try:
        value = json.loads(rows[key])
    except ValueError:
        value = {}
    if contact_id is not None and value.get("contact_id") != contact_id:
        return []
    keys = [key]
    if value.get("token"):
        keys.append(HENAN_FORM_PREFIX + str(value["token"]))
    # a link left by an older application of the same enterprise
    keys += [k for k, v in kv.list_by_prefix(HENAN_FORM_PREFIX, now=EPOCH, include_expired=True)
             if v == str(enterprise_id)]
    return keys


def _known_to_officers(session: Session, enterprise_id: int) -> bool:
    """On an imported list, given a printed invitation code, or reached by a broadcast."""
    return any(session.scalar(select(exists().where(condition))) for condition in (
        ListEntry.enterprise_id == enterprise_id,
        EnterpriseInvitation.enterprise_id == enterprise_id,
        BroadcastTarget.enterprise_id == enterprise_id,
    ))


def _delete_enterprise(session: Session, kv: KeyValueRepository, enterprise_id: int) -> Counter[str]:
    """An enterprise only this person told us about, with everything hanging off it."""
    gone: Counter[str] = Counter()
    cycles = select(AuditCycle.id).where(AuditCycle.enterprise_id == enterprise_id)
    milestones = select(Milestone.id).where(Milestone.cycle_id.in_(cycles))
    gone["reminders"] += _count(session.execute(delete(Reminder).where(Reminder.milestone_id.in_(milestones))))
    gone["milestones"] += _count(session.execute(delete(Milestone).where(Milestone.cycle_id.in_(cycles))))
    gone["audit_cycles"] += _count(session.execute(delete(AuditCycle).where(AuditCycle.enterprise_id == enterprise_id)))
    gone["assessments"] += _count(session.execute(delete(Assessment).where(Assessment.enterprise_id == enterprise_id)))
    gone["kv"] += kv.delete_many(_colleague_codes(kv, enterprise_id=enterprise_id))
    gone["kv"] += kv.delete_many(_henan_application(kv, enterprise_id, None))
    gone["enterprises"] += _count(session.execute(delete(Enterprise).where(Enterprise.id == enterprise_id)))
    return gone


# -- before consent -----------------------------------------------------------------------------------


def purge_before_consent(session: Session, now: datetime, keep: timedelta = PRE_CONSENT_KEEP) -> dict[str, int]:
    """Forget chat ids that did not consent within `keep` (see the module's docstring); at most
    PURGE_BATCH contacts per call. Returns how many rows went, by table."""
    cutoff = now - keep
    gone: Counter[str] = Counter()
    stale = list(session.scalars(select(Contact).where(
        Contact.consented_at.is_(None), Contact.created_at < cutoff).order_by(Contact.id).limit(PURGE_BATCH)))
    for contact in stale:
        gone.update(erase_contact(session, contact))
    for prefix, channel in DELIVERY_PREFIXES.items():
        doomed = []
        for key, value in KeyValueRepository(session).list_by_prefix(prefix, now=now):
            if _seen_at(value) >= cutoff:
                continue
            user_id = key.removeprefix(prefix)
            if not session.scalar(select(exists().where(*_consented(channel, user_id)))):
                doomed.append(key)
        gone["kv"] += KeyValueRepository(session).delete_many(doomed)
    return {table: n for table, n in gone.items() if n}


def _consented(channel: str, user_id: str) -> list[ColumnElement[bool]]:
    return [Contact.channel == channel, Contact.user_id == user_id, Contact.consented_at.is_not(None)]


def _seen_at(value: str) -> datetime:
    """When a window row was written (its value is the instant); long ago if it cannot be read."""
    try:
        seen = datetime.fromisoformat(value)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return seen if seen.tzinfo is not None else seen.replace(tzinfo=UTC)

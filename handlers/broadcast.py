"""Broadcasts: a list notice to every contact of a listed enterprise, or a general message to the
enterprises of a jurisdiction (filtered by industry, ground or milestone status).

`plan_notice` / `plan_general` write the broadcast; `fan_out` turns it into outbox rows in batches,
one transaction per batch (the rows and the batch's cursor commit together), so a crash loses at
most the batch in flight and `resume` carries on without duplicates (the keys `bc:<id>:<contact>`
are unique besides). The outbox sender delivers them under each channel's rate limit;
`delivery_report` counts the rows as they go. Enterprises no one can be reached at get an
invitation code (notices), printed by `invitation_sheet_xlsx` for the written notice.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from handlers.listimport import GROUND_ORDER, assess_listed
from handlers.messages import Outbound
from handlers.officers import Jurisdiction, authorize, role_label
from handlers.reminders import ReminderPolicy, outbound_payload, reply_word
from handlers.status import StatusItem, original, render_status
from rules import default_packs
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, gettext_for
from storage import (
    AuditCycle,
    Broadcast,
    Contact,
    Enterprise,
    ListEntry,
    ListImport,
    Milestone,
    Officer,
    QueuedMessage,
    Repositories,
    TargetRow,
    utcnow,
)

BATCH = 1000
MAX_TEXT = 2000
STATUSES = ("overdue", "due_soon", "open", "done")


class BroadcastError(QingshenError):
    """A broadcast cannot be planned or found; the message says why."""


@dataclass(frozen=True, slots=True)
class Filters:
    """General-broadcast filters: an industry code prefix, a ground kind, a milestone status."""

    industry_prefix: str | None = None
    ground: str | None = None  # pollution | energy | toxic | key_industry | master_list
    status: str | None = None  # overdue | due_soon (within `within_days`) | open | done
    within_days: int = 30

    def check(self, tr: Gettext) -> Filters:
        if self.industry_prefix is not None and not (self.industry_prefix.isdigit() and len(self.industry_prefix) <= 4):
            raise BroadcastError(tr(N_("The industry filter is the start of a GB/T 4754 code: 1 to 4 digits.")))
        if self.ground is not None and self.ground not in GROUND_ORDER:
            raise BroadcastError(tr(N_("Unknown ground {ground}; use one of {kinds}.")).format(
                ground=self.ground, kinds=", ".join(GROUND_ORDER)))
        if self.status is not None and self.status not in STATUSES:
            raise BroadcastError(tr(N_("Unknown status {status}; use one of {statuses}.")).format(
                status=self.status, statuses=", ".join(STATUSES)))
        if not 0 <= self.within_days <= 366:
            raise BroadcastError(tr(N_("The number of days must be from 0 to 366.")))
        return self

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Filters:
        return cls(**{k: raw[k] for k in ("industry_prefix", "ground", "status", "within_days") if k in raw})


@dataclass(frozen=True, slots=True)
class Progress:
    broadcast_id: int
    enterprises: int  # enterprises handled in this run
    queued: int  # outbox rows written in this run
    unreachable: int  # enterprises with no reachable contact, in this run
    done: bool


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    broadcast_id: int
    status: str
    planned: int  # outbox rows written
    sent: int
    failed: int  # given up (dead)
    pending: int  # waiting, being sent, or failed and to be retried
    unreachable: int  # enterprises nobody could be reached at
    invited: int  # of those, how many got an invitation code

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- planning --------------------------------------------------------------------------------------


def plan_notice(repos: Repositories, officer: Officer, import_id: int, *, locale: str = DEFAULT_LOCALE) -> Broadcast:
    """A notice of the list `import_id` (ForbiddenError outside the officer's jurisdiction)."""
    imp = _import(repos, officer, import_id, locale)
    return repos.broadcasts.add(officer_id=officer.id, kind="notice", province=imp.province, city=imp.city,
                                county=imp.county, list_import_id=imp.id)


def plan_general(
    repos: Repositories, officer: Officer, text: str, filters: Filters, *, locale: str = DEFAULT_LOCALE
) -> Broadcast:
    """A message to the reachable contacts of the enterprises in the officer's jurisdiction."""
    tr = gettext_for(locale)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise BroadcastError(tr(N_("A broadcast needs a text of 1 to {limit} characters.")).format(limit=MAX_TEXT))
    filters.check(tr)
    return repos.broadcasts.add(officer_id=officer.id, kind="general", province=officer.province,
                                city=officer.city, county=officer.county, filters=asdict(filters), message=text)


def _import(repos: Repositories, officer: Officer, import_id: int, locale: str) -> ListImport:
    imp = repos.imports.get_by_id(import_id)
    if imp is None:
        raise BroadcastError(gettext_for(locale)(N_("There is no list import {id}.")).format(id=import_id))
    authorize(officer, imp.province, imp.city, imp.county, locale=locale)
    return imp


def get_broadcast(repos: Repositories, officer: Officer | Jurisdiction, broadcast_id: int,
                  *, locale: str = DEFAULT_LOCALE) -> Broadcast:
    """The broadcast, if the officer's jurisdiction covers it (ForbiddenError otherwise)."""
    b = repos.broadcasts.get_by_id(broadcast_id)
    if b is None:
        raise BroadcastError(gettext_for(locale)(N_("There is no broadcast {id}.")).format(id=broadcast_id))
    authorize(officer, b.province, b.city, b.county, locale=locale)
    return b


# -- fan-out ---------------------------------------------------------------------------------------


def fan_out(
    sessions: sessionmaker[Session],
    officer: Officer | Jurisdiction,
    broadcast_id: int,
    *,
    today: date,
    batch_size: int = BATCH,
    on_progress: Callable[[Progress], None] | None = None,
    locale: str = DEFAULT_LOCALE,
    policy: ReminderPolicy | None = None,
) -> Progress:
    """Write the broadcast's outbox rows, one committed batch of enterprises at a time; safe to re-run.

    A notice shows each deadline as of `today` and promises only the reminders `policy` still plans (the
    policy the list import planned them with: `ReminderPolicy.from_env()` unless given, as in `import_rows`).
    """
    policy = policy or ReminderPolicy.from_env()
    with sessions() as session:
        get_broadcast(Repositories(session), officer, broadcast_id, locale=locale)
    total = Progress(broadcast_id, 0, 0, 0, False)
    while not total.done:
        with sessions.begin() as session:
            step = _batch(Repositories(session), broadcast_id, today, batch_size, policy)
        total = Progress(broadcast_id, total.enterprises + step.enterprises, total.queued + step.queued,
                         total.unreachable + step.unreachable, step.done)
        if on_progress is not None:
            on_progress(total)
    return total


resume = fan_out  # a fan-out interrupted by a crash is resumed by running it again


def _batch(repos: Repositories, broadcast_id: int, today: date, size: int, policy: ReminderPolicy) -> Progress:
    b = repos.broadcasts.get_by_id(broadcast_id)
    assert b is not None, "checked by fan_out"
    if b.status == "done":
        return Progress(b.id, 0, 0, 0, True)
    if b.kind == "notice":
        scanned, targets = _notice_targets(repos, b, size)
    else:
        scanned, targets = _general_targets(repos, b, today, size)
    if not scanned:
        repos.broadcasts.finish(b.id, utcnow())
        return Progress(b.id, 0, 0, 0, True)
    messages, rows = _messages(repos, b, targets, today, policy)
    queued = repos.broadcasts.queue_messages(b.id, messages)
    repos.broadcasts.add_targets(b.id, rows)
    repos.broadcasts.advance(b.id, scanned[-1])
    unreachable = sum(1 for r in rows if r.outcome == "unreachable")
    return Progress(b.id, len(targets), queued, unreachable, False)


@dataclass(frozen=True, slots=True)
class _Target:
    enterprise: Enterprise
    entry: ListEntry | None
    cycle_id: int | None


def _notice_targets(repos: Repositories, b: Broadcast, size: int) -> tuple[list[int], list[_Target]]:
    assert b.list_import_id is not None, "a notice has its list"
    found = repos.imports.list_entries(b.list_import_id, after_enterprise_id=b.resume_after, limit=size)
    return [e.id for _, e in found], [_Target(e, entry, entry.cycle_id) for entry, e in found]


def _general_targets(repos: Repositories, b: Broadcast, today: date, size: int) -> tuple[list[int], list[_Target]]:
    f = Filters.from_dict(b.filters)
    found = repos.broadcasts.list_enterprises_in(b.province, after_id=b.resume_after, limit=size,
                                                 industry_prefix=f.industry_prefix)
    scope = Jurisdiction(b.province, b.city, b.county)
    inside = [e for e in found if scope.covers(e.province or "", e.city, e.county)]
    cycles = repos.broadcasts.list_current_cycles([e.id for e in inside]) if f.ground or f.status else {}
    milestones = repos.broadcasts.list_milestones_by_cycles([c.id for c in cycles.values()]) if f.status else {}
    targets = []
    for e in inside:
        cycle = cycles.get(e.id)
        if (f.ground or f.status) and cycle is None:
            continue
        if f.ground and cycle is not None and f.ground not in ground_kinds(cycle):
            continue
        if f.status and cycle is not None and not status_matches(milestones.get(cycle.id, []), f, today):
            continue
        targets.append(_Target(e, None, cycle.id if cycle is not None else None))
    return [e.id for e in found], targets


@lru_cache(maxsize=1)
def _ground_kind_by_id() -> dict[str, str]:
    return {f"{p.id}.{g.id}": g.kind for p in default_packs() for g in p.grounds}


def ground_kinds(cycle: AuditCycle) -> set[str]:
    """The ground kinds of a cycle (its grounds are the engine's ids, e.g. "national_law_2012.art27_2_1")."""
    table = _ground_kind_by_id()
    heads = (".".join(str(g).split(".")[:2]) for g in cycle.grounds)  # "pack.ground" of "pack.ground.row"
    return {table[h] for h in heads if h in table}


def status_matches(milestones: Sequence[Milestone], f: Filters, today: date) -> bool:
    open_days = [m.nominal for m in milestones if m.done_at is None]
    if f.status == "done":
        return bool(milestones) and not open_days
    if f.status == "open":
        return bool(open_days)
    if f.status == "overdue":
        return any(d < today for d in open_days)
    soon = today + timedelta(days=f.within_days)
    return any(today <= d <= soon for d in open_days)


def _messages(
    repos: Repositories, b: Broadcast, targets: Sequence[_Target], today: date, policy: ReminderPolicy
) -> tuple[list[QueuedMessage], list[TargetRow]]:
    contacts = repos.broadcasts.list_reachable_contacts([t.enterprise.id for t in targets])
    cycle_ids = [t.cycle_id for t in targets if t.cycle_id is not None]
    milestones = repos.broadcasts.list_milestones_by_cycles(cycle_ids) if b.kind == "notice" else {}
    invitations = {}
    if b.kind == "notice" and b.list_import_id is not None:
        nobody = [t.enterprise.id for t in targets if not contacts.get(t.enterprise.id)]
        invitations = repos.invitations.ensure_enterprise_invitations(b.list_import_id, nobody)
    sender = _sender(repos, b)
    messages: list[QueuedMessage] = []
    rows: list[TargetRow] = []
    for t in targets:
        reach = contacts.get(t.enterprise.id, [])
        if not reach:
            invitation = invitations.get(t.enterprise.id)
            rows.append(TargetRow(t.enterprise.id, "unreachable", 0, invitation.id if invitation else None))
            continue
        texts: dict[str, str] = {}
        for contact in reach:
            if contact.locale not in texts:
                tr = gettext_for(contact.locale)
                texts[contact.locale] = (
                    notice_text(b, t, milestones.get(t.cycle_id or 0, []), tr, today=today, policy=policy)
                    if b.kind == "notice"
                    else general_text(b, sender, tr)
                )
            messages.append(_queued(b, contact, texts[contact.locale]))
        rows.append(TargetRow(t.enterprise.id, "queued", len(reach)))
    return messages, rows


def _queued(b: Broadcast, contact: Contact, text: str) -> QueuedMessage:
    return QueuedMessage(contact.id, contact.channel, contact.user_id,
                         outbound_payload(Outbound(text), broadcast_id=b.id, kind=b.kind))


def _sender(repos: Repositories, b: Broadcast) -> tuple[str, str | None]:
    officer = repos.officers.get_by_id(b.officer_id) if b.officer_id is not None else None
    return Jurisdiction(b.province, b.city, b.county).describe(), officer.role if officer else None


# -- texts -----------------------------------------------------------------------------------------


def notice_text(
    b: Broadcast, t: _Target, milestones: Sequence[Milestone], tr: Gettext, *, today: date,
    policy: ReminderPolicy | None,
) -> str:
    """The list notice for one enterprise: the list, its own deadlines as of `today` (done, due in N days,
    overdue by N days with the penalty and what to do now), what to publish, and the reminders `policy` still
    plans (none promised with `policy=None`: a contact who unsubscribed)."""
    e, entry = t.enterprise, t.entry
    assert entry is not None, "a notice target has its list entry"
    if entry.document_number:
        head = tr(N_("Notice: {name} ({code}) is on the list of enterprises that must carry out a mandatory "
                     "cleaner-production audit, published on {day} ({number}).")).format(
            name=e.name or "", code=e.credit_code or "", day=entry.published_on.isoformat(),
            number=original(entry.document_number, tr))
    else:
        head = tr(N_("Notice: {name} ({code}) is on the list of enterprises that must carry out a mandatory "
                     "cleaner-production audit, published on {day}.")).format(
            name=e.name or "", code=e.credit_code or "", day=entry.published_on.isoformat())
    parts = [head]
    if milestones:
        parts.append(render_status([StatusItem.from_milestone(m) for m in milestones], today, tr,
                                   province=b.province, policy=policy))
    fields = _disclosure_fields(b.province, tuple(entry.grounds), entry.published_on)
    if fields:
        parts.append(tr(N_("What to publish: {fields}")).format(fields=original(tr(N_(", ")).join(fields), tr)))
    if policy is None:
        parts.append(tr(N_("Your reminders are switched off; reply {resume} to receive them.")).format(
            resume=reply_word("resubscribe", tr)))
    else:
        parts.append(tr(N_("Reply 我的期限 to see your deadlines again, or {stop} to stop the reminders.")).format(
            stop=reply_word("unsubscribe", tr)))
    return "\n\n".join(parts)


def _disclosure_fields(province: str, grounds: tuple[str, ...], published_on: date) -> tuple[str, ...]:
    return assess_listed(province, grounds, published_on).disclosure_fields


def general_text(b: Broadcast, sender: tuple[str, str | None], tr: Gettext) -> str:
    where, role = sender
    who = f"{where} {role_label(role, tr)}" if role else where
    return tr(N_("Message from {sender}:")).format(sender=who) + "\n\n" + (b.message or "")


# -- report ----------------------------------------------------------------------------------------


def delivery_report(
    repos: Repositories, officer: Officer | Jurisdiction, broadcast_id: int, *, locale: str = DEFAULT_LOCALE
) -> DeliveryReport:
    """Counts from the broadcast's outbox rows and targets; live while the sender drains the outbox."""
    b = get_broadcast(repos, officer, broadcast_id, locale=locale)
    rows = repos.broadcasts.count_outbox_by_status(b.id)
    targets = repos.broadcasts.count_targets(b.id)
    return DeliveryReport(
        broadcast_id=b.id, status=b.status, planned=sum(rows.values()), sent=rows.get("sent", 0),
        failed=rows.get("dead", 0), pending=sum(rows.get(s, 0) for s in ("pending", "sending", "failed")),
        unreachable=targets["unreachable"], invited=targets["invited"],
    )


def render_report(r: DeliveryReport, tr: Gettext) -> str:
    return tr(N_("Broadcast {id} ({status}): {planned} messages planned, {sent} sent, {failed} failed, {pending} "
                 "pending; {unreachable} enterprises unreachable ({invited} given an invitation code).")).format(
        id=r.broadcast_id, status=r.status, planned=r.planned, sent=r.sent, failed=r.failed, pending=r.pending,
        unreachable=r.unreachable, invited=r.invited)


# -- the invitation sheet ----------------------------------------------------------------------------


def invitation_sheet_xlsx(
    repos: Repositories, officer: Officer, import_id: int, *, locale: str = DEFAULT_LOCALE,
    now: datetime | None = None,
) -> bytes:
    """A printable sheet of the list's enterprises nobody can be reached at, each with its one-time code.

    Creates the missing codes (the caller commits). Cells are written as text, never as formulas.
    """
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    imp = _import(repos, officer, import_id, locale)
    tr = gettext_for(locale)
    rows: list[tuple[Enterprise, str]] = []
    after = 0
    while batch := repos.imports.list_entries(imp.id, after_enterprise_id=after, limit=BATCH):
        after = batch[-1][1].id
        reachable = repos.broadcasts.list_reachable_contacts([e.id for _, e in batch])
        nobody = [e for _, e in batch if not reachable.get(e.id)]
        codes = repos.invitations.ensure_enterprise_invitations(imp.id, [e.id for e in nobody], now=now)
        rows.extend((e, codes[e.id].code) for e in nobody if codes[e.id].used_at is None)
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet), "a new workbook has a sheet"
    sheet.title = tr(N_("Invitation codes"))[:31]
    header = [tr(N_("Enterprise name")), tr(N_("Unified social credit code")), tr(N_("Invitation code")),
              tr(N_("How to use it"))]
    _text_row(sheet, header)
    for e, code in rows:
        _text_row(sheet, [e.name or "", e.credit_code or "", code,
                          tr(N_("In the chat, send: 绑定 {code}")).format(code=code)])
    for col, width in zip("ABCD", (40, 24, 14, 36), strict=True):
        sheet.column_dimensions[col].width = width
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_row(sheet: Any, values: Sequence[str]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        cell.data_type = "s"  # an enterprise name starting with "=" stays text, never a formula

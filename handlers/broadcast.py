"""Broadcasts: a list notice to every contact of a listed enterprise, or a general message to the
enterprises of a jurisdiction or of one list; both filtered by district (市/县), industry, ground and a
milestone's status ("overdue on 开展审核": `Filters(milestone="start", status="overdue")`).

`preview_audience` says, without writing anything, whom a broadcast would reach (and who needs an
invitation) and what the message says: it walks the same `_select` the fan-out does.

`plan_notice` / `plan_general` write the broadcast; `fan_out` turns it into outbox rows in batches,
one transaction per batch (the rows and the batch's cursor commit together), so a crash loses at
most the batch in flight and `resume` carries on without duplicates (the keys `bc:<id>:<contact>`
are unique besides). The outbox sender delivers them under each channel's rate limit;
`delivery_report` counts the rows as they go. Enterprises no one can be reached at get an
invitation code (notices), printed by `handlers.invitations` for the written notice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from handlers.compliance import check_reach, covers
from handlers.invitations import invitation_sheet_xlsx as invitation_sheet_xlsx  # the sheet lives there now
from handlers.listimport import GROUND_ORDER, IndustryError, assess_listed, industry_prefix
from handlers.messages import Outbound
from handlers.officers import Jurisdiction, authorize, role_label, same_place
from handlers.reminders import ReminderPolicy, outbound_payload, reply_word
from handlers.status import KIND_LABELS, StatusItem, original, render_status
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
    """Broadcast filters: a district, an industry code prefix, a ground kind, a milestone status (of one
    milestone kind, or of any)."""

    industry_prefix: str | None = None
    ground: str | None = None  # pollution | energy | toxic | key_industry | master_list
    status: str | None = None  # overdue | due_soon (within `within_days`) | open | done
    within_days: int = 30
    city: str | None = None
    county: str | None = None
    milestone: str | None = None  # a milestone kind (disclosure, start, report ...): the status is of it

    def check(self, tr: Gettext) -> Filters:
        """The filters checked; an industry filter given in words (水泥) becomes its GB/T 4754 prefix."""
        prefix = self.industry_prefix
        if prefix is not None:
            try:
                prefix = industry_prefix(prefix, tr)
            except IndustryError as e:
                raise BroadcastError(str(e)) from None
        if self.ground is not None and self.ground not in GROUND_ORDER:
            raise BroadcastError(tr(N_("Unknown ground {ground}; use one of {kinds}.")).format(
                ground=self.ground, kinds=", ".join(GROUND_ORDER)))
        if self.status is not None and self.status not in STATUSES:
            raise BroadcastError(tr(N_("Unknown status {status}; use one of {statuses}.")).format(
                status=self.status, statuses=", ".join(STATUSES)))
        if self.milestone is not None and self.milestone not in KIND_LABELS:
            raise BroadcastError(tr(N_("Unknown milestone {kind}; use one of {kinds}.")).format(
                kind=self.milestone, kinds=", ".join(KIND_LABELS)))
        if self.milestone is not None and self.status is None:
            raise BroadcastError(tr(N_("A milestone filter needs a status (overdue, due_soon, open or done).")))
        if not 0 <= self.within_days <= 366:
            raise BroadcastError(tr(N_("The number of days must be from 0 to 366.")))
        for place in (self.city, self.county):
            if place is not None and not 0 < len(place) <= 64:
                raise BroadcastError(tr(N_("A district is 1 to 64 characters.")))
        return replace(self, industry_prefix=prefix or None)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Filters:
        keys = ("industry_prefix", "ground", "status", "within_days", "city", "county", "milestone")
        return cls(**{k: raw[k] for k in keys if k in raw})


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
    reached: int = 0  # enterprises with at least one message planned

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- planning --------------------------------------------------------------------------------------


def plan_notice(repos: Repositories, officer: Officer, import_id: int, *, filters: Filters | None = None,
                locale: str = DEFAULT_LOCALE) -> Broadcast:
    """A notice of the list `import_id`, to all its enterprises or those the filters keep (ForbiddenError
    outside the officer's jurisdiction, for the list or the district filtered on)."""
    return repos.broadcasts.add(**_notice_fields(repos, officer, import_id, filters or Filters(), locale))


def plan_general(
    repos: Repositories, officer: Officer, text: str, filters: Filters, *, import_id: int | None = None,
    locale: str = DEFAULT_LOCALE,
) -> Broadcast:
    """A message to the reachable contacts of the enterprises in the officer's jurisdiction (or of the
    list `import_id`) that the filters keep."""
    return repos.broadcasts.add(**_general_fields(repos, officer, text, filters, import_id, locale))


def _notice_fields(repos: Repositories, officer: Officer, import_id: int, filters: Filters,
                   locale: str) -> dict[str, Any]:
    imp, f = _list_and_filters(repos, officer, import_id, filters.check(gettext_for(locale)), locale)
    province, city, county = _narrowed(officer, imp.province, imp.city, imp.county, f, locale)
    return {"officer_id": officer.id, "kind": "notice", "province": province, "city": city, "county": county,
            "list_import_id": imp.id, "filters": asdict(f)}


def _general_fields(repos: Repositories, officer: Officer, text: str, filters: Filters, import_id: int | None,
                    locale: str) -> dict[str, Any]:
    tr = gettext_for(locale)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise BroadcastError(tr(N_("A broadcast needs a text of 1 to {limit} characters.")).format(limit=MAX_TEXT))
    f = filters.check(tr)
    if import_id is not None:
        imp, f = _list_and_filters(repos, officer, import_id, f, locale)
        place = (imp.province, imp.city, imp.county)
    else:
        place = (officer.province, officer.city, officer.county)
    province, city, county = _narrowed(officer, *place, f, locale)
    return {"officer_id": officer.id, "kind": "general", "province": province, "city": city, "county": county,
            "list_import_id": import_id, "filters": asdict(f), "message": text}


def _list_and_filters(repos: Repositories, officer: Officer, import_id: int, f: Filters,
                      locale: str) -> tuple[ListImport, Filters]:
    """The list and the filters a broadcast from it keeps: for a list wider than the officer's jurisdiction
    (the province's list, for a city officer) the district is narrowed to the jurisdiction, so that only its
    enterprises are reached; ForbiddenError if none of the list's enterprises is in it."""
    imp = _import(repos, officer, import_id, locale)
    if check_reach(repos, officer, imp, locale=locale):
        return imp, f
    return imp, replace(f, city=f.city or officer.city, county=f.county or officer.county)


def _narrowed(officer: Officer, province: str, city: str | None, county: str | None, f: Filters,
              locale: str) -> tuple[str, str | None, str | None]:
    """The place a broadcast covers: its list's (or the officer's), narrowed to the district filtered on,
    which must lie inside the officer's jurisdiction (ForbiddenError)."""
    if f.city is not None:
        city = f.city
    if f.county is not None:
        county = f.county
    authorize(officer, province, city, county, locale=locale)
    return province, city, county


def _import(repos: Repositories, officer: Officer, import_id: int, locale: str) -> ListImport:
    imp = repos.imports.get_by_id(import_id)
    if imp is None:
        raise BroadcastError(gettext_for(locale)(N_("There is no list import {id}.")).format(id=import_id))
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
    scanned, targets = _select(repos, b, today, b.resume_after, size)
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


def _select(repos: Repositories, b: Broadcast, today: date, after: int, size: int) -> tuple[list[int], list[_Target]]:
    """(enterprise ids scanned, in id order; the targets among them the broadcast's filters keep): the
    entries of its list, or the enterprises of its jurisdiction. The fan-out and the preview both use it."""
    f = Filters.from_dict(b.filters)
    if b.list_import_id is not None:
        found = repos.imports.list_entries(b.list_import_id, after_enterprise_id=after, limit=size)
        scanned = [e.id for _, e in found]
        candidates = [_Target(e, entry, entry.cycle_id) for entry, e in found
                      if _in_district(f, entry.city or e.city, entry.county or e.county)
                      and _industry_ok(f, e.industry_code)]
        if f.ground:
            candidates = [t for t in candidates if t.entry is not None and f.ground in t.entry.grounds]
    else:
        enterprises = repos.broadcasts.list_enterprises_in(b.province, after_id=after, limit=size,
                                                           industry_prefix=f.industry_prefix)
        scanned = [e.id for e in enterprises]
        scope = Jurisdiction(b.province, b.city, b.county)
        inside = [e for e in enterprises if scope.covers(e.province or "", e.city, e.county)
                  and _in_district(f, e.city, e.county)]
        cycles = repos.broadcasts.list_current_cycles([e.id for e in inside]) if f.ground or f.status else {}
        candidates = []
        for e in inside:
            cycle = cycles.get(e.id)
            if (f.ground or f.status) and cycle is None:
                continue
            if f.ground and cycle is not None and f.ground not in ground_kinds(cycle):
                continue
            candidates.append(_Target(e, None, cycle.id if cycle is not None else None))
    if f.status:
        ids = [t.cycle_id for t in candidates if t.cycle_id is not None]
        milestones = repos.broadcasts.list_milestones_by_cycles(ids)
        candidates = [t for t in candidates if t.cycle_id is not None
                      and status_matches(milestones.get(t.cycle_id, []), f, today)]
    return scanned, candidates


def _in_district(f: Filters, city: str | None, county: str | None) -> bool:
    return (f.city is None or same_place(f.city, city)) and (f.county is None or same_place(f.county, county))


def _industry_ok(f: Filters, code: str | None) -> bool:
    return not f.industry_prefix or (code or "").startswith(f.industry_prefix)


@lru_cache(maxsize=1)
def _ground_kind_by_id() -> dict[str, str]:
    return {f"{p.id}.{g.id}": g.kind for p in default_packs() for g in p.grounds}


def ground_kinds(cycle: AuditCycle) -> set[str]:
    """The ground kinds of a cycle (its grounds are the engine's ids, e.g. "national_law_2012.art27_2_1")."""
    table = _ground_kind_by_id()
    heads = (".".join(str(g).split(".")[:2]) for g in cycle.grounds)  # "pack.ground" of "pack.ground.row"
    return {table[h] for h in heads if h in table}


def status_matches(milestones: Sequence[Milestone], f: Filters, today: date) -> bool:
    """Whether the milestones (of `f.milestone`'s kind, if given) are in `f.status` on `today`. Overdue
    and due soon count from the legal last day (`due`), as the dashboard's list does."""
    if f.milestone is not None:
        milestones = [m for m in milestones if m.kind == f.milestone]
    open_days = [m.due for m in milestones if m.done_at is None]
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


# -- preview ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    enterprise_id: int
    name: str
    credit_code: str
    contacts: int  # reachable contacts (consented, subscribed); 0: an invitation is needed


@dataclass(frozen=True)
class AudiencePreview:
    """Whom a broadcast would reach, before it is planned: nothing is written."""

    reachable: list[Recipient]
    need_invitation: list[Recipient]  # nobody to reach: a notice gives them an invitation code
    messages: int  # outbox rows the fan-out would write
    sample: str | None  # the message as the first recipient would read it (the officer's language)
    within: str | None = None  # the officer's jurisdiction, when the list is wider and only its part is reached
    listed: int = 0  # with `within`: the enterprises on the whole list

    @property
    def enterprises(self) -> int:
        return len(self.reachable) + len(self.need_invitation)


def preview_audience(
    repos: Repositories, officer: Officer, *, kind: str, import_id: int | None, filters: Filters,
    text: str | None = None, today: date, locale: str = DEFAULT_LOCALE, policy: ReminderPolicy | None = None,
) -> AudiencePreview:
    """What `plan_notice` / `plan_general` with these arguments and then `fan_out` would do, as of
    `today`: the same checks (BroadcastError, ForbiddenError) and the same selection, writing nothing."""
    if kind == "notice":
        if import_id is None:
            raise BroadcastError(gettext_for(locale)(N_("Choose the list to send the notice of.")))
        fields = _notice_fields(repos, officer, import_id, filters, locale)
    else:
        fields = _general_fields(repos, officer, text or "", filters, import_id, locale)
    b = Broadcast(**fields, status="planned", resume_after=0)  # transient: never added to the session
    reachable: list[Recipient] = []
    invite: list[Recipient] = []
    messages, sample, after = 0, None, 0
    tr = gettext_for(locale)
    while True:
        scanned, targets = _select(repos, b, today, after, BATCH)
        if not scanned:
            break
        after = scanned[-1]
        contacts = repos.broadcasts.list_reachable_contacts([t.enterprise.id for t in targets])
        for t in targets:
            e, n = t.enterprise, len(contacts.get(t.enterprise.id, []))
            messages += n
            (reachable if n else invite).append(Recipient(e.id, e.name or "", e.credit_code or "", n))
        if sample is None and targets:
            first = next((t for t in targets if contacts.get(t.enterprise.id)), targets[0])
            if b.kind == "notice":
                ms = repos.broadcasts.list_milestones_by_cycles([first.cycle_id] if first.cycle_id else [])
                sample = notice_text(b, first, ms.get(first.cycle_id or 0, []), tr, today=today,
                                     policy=policy or ReminderPolicy.from_env())
            else:
                sample = general_text(b, _sender(repos, b), tr)
    within, listed = None, 0
    imp = repos.imports.get_by_id(import_id) if import_id is not None else None
    if imp is not None and not covers(officer, imp):
        within, listed = Jurisdiction.of(officer).describe(), repos.imports.count_entries(imp.id)
    return AudiencePreview(reachable, invite, messages, sample, within, listed)


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
        unreachable=targets["unreachable"], invited=targets["invited"], reached=targets["queued"],
    )


def render_report(r: DeliveryReport, tr: Gettext) -> str:
    return tr(N_("Broadcast {id} ({status}): {planned} messages planned, {sent} sent, {failed} failed, {pending} "
                 "pending; {unreachable} enterprises unreachable ({invited} given an invitation code).")).format(
        id=r.broadcast_id, status=r.status, planned=r.planned, sent=r.sent, failed=r.failed, pending=r.pending,
        unreachable=r.unreachable, invited=r.invited)

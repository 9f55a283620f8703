"""Opening audit cycles: from one chat assessment (`open_cycle`) or from an imported list (`import_rows`).

Both plan the same milestones and reminders (`plan_milestones`): one milestone per deadline of the
assessment, and the reminders of `handlers.reminders.schedule` that are still ahead. A later list
supersedes the earlier cycle of the same enterprise (DOMAIN.md, "Readings we chose").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from handlers.listimport import Preview, assess_listed
from handlers.officers import authorize
from handlers.reminders import ReminderPolicy, initial_reminders
from handlers.status import CHINA, original
from rules.engine import Assessment, DeadlineHit, DutyHit
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, gettext_for
from storage import AuditCycle, EntryPlan, ImportOutcome, MilestonePlan, Officer, Repositories, utcnow


class ImportRefused(QingshenError):
    """A list import was refused as a whole (row errors without accept_partial, or nothing valid)."""


def note_text(d: DeadlineHit, tr: Gettext) -> str:
    """The deadline's note as reminders show it: a document's own words marked as such outside Chinese."""
    return "；".join(original(p, tr) if isinstance(p, str) else p.render(tr) for p in d.note)


def plan_milestones(
    a: Assessment, *, today: date, policy: ReminderPolicy, locale: str = DEFAULT_LOCALE
) -> tuple[MilestonePlan, ...]:
    """The milestones of an assessment's deadlines, each with its reminders due today or later."""
    tr = gettext_for(locale)
    publish = tr(N_("What to publish: {fields}")).format(fields=original(tr(N_(", ")).join(a.disclosure_fields), tr))

    def note(d: DeadlineHit) -> str:
        text = note_text(d, tr)
        return f"{text}\n{publish}" if d.kind == "disclosure" and a.disclosure_fields else text

    plans = [
        MilestonePlan(
            kind=d.kind, nominal=d.nominal, due=d.due, citation=d.citation, note=note(d),
            reminders=() if d.met_on is not None else tuple(initial_reminders(d.nominal, policy, today)),
            done_on=d.met_on,
        )
        for d in a.deadlines
    ]
    return tuple(plans + [_yearly_plan(y, tr, today=today, policy=policy) for y in a.duties
                          if y.due is not None and y.milestone is not None])


def _yearly_plan(y: DutyHit, tr: Gettext, *, today: date, policy: ReminderPolicy) -> MilestonePlan:
    """A yearly duty (the environmental-information disclosure by 15 March) as the milestone of its next date:
    a fixed day, so the target day is the legal last day."""
    assert y.due is not None and y.milestone is not None
    note = tr(N_("Disclose the environmental information of {year}: {fields}")).format(
        year=y.covers_year, fields=original(tr(N_(", ")).join(y.fields), tr))
    return MilestonePlan(kind=y.milestone, nominal=y.due, due=y.due, citation=f"{y.pack.title}{y.citation}",
                         note=note, reminders=tuple(initial_reminders(y.due, policy, today)))


def open_cycle(
    repos: Repositories,
    enterprise_id: int,
    a: Assessment,
    *,
    list_published_on: date,
    source: str,
    today: date,
    policy: ReminderPolicy,
    locale: str = DEFAULT_LOCALE,
    document_number: str | None = None,
    now: datetime | None = None,
    current: Sequence[AuditCycle] | None = None,
    replaces_source: bool = False,
) -> AuditCycle:
    """The cycle of (enterprise, list date), opened if new, with the milestones and reminders it lacks.

    Earlier cycles of the enterprise are superseded; if a later list already opened a cycle, this
    one is recorded superseded at once and gets no reminders. Safe to repeat. `current` is the
    enterprise's cycles not superseded, if the caller has just read them (or knows there are none);
    without it they are read only if the new cycle's INSERT says there are any. `replaces_source`: a
    cycle of the same source with another list date is superseded too, a later one included (a list date
    corrected in chat: the last answer decides).
    """
    now = now or utcnow()
    known = next((c for c in current or () if c.list_published_on == list_published_on), None)
    existed = known is not None
    if known is None:
        known, added, others = repos.cycles.open_if_absent(
            enterprise_id, list_published_on, source=source, grounds=[g.id for g in a.grounds],
            list_document_number=document_number,
        )
        existed = not added
        if current is None and not others:
            current = [known]  # the enterprise's only cycle: nothing to read, nothing to supersede
    cycle = known
    if current is None:
        current = repos.cycles.list_by_enterprise(enterprise_id, include_superseded=False)
    if replaces_source:
        for other in current:
            if other.id != cycle.id and other.source == source and other.list_published_on != list_published_on:
                repos.cycles.supersede(other, now)
        current = [c for c in current if c.superseded_at is None]
    for other in current:
        if other.id != cycle.id and other.list_published_on and other.list_published_on < list_published_on:
            repos.cycles.supersede(other, now)
    if cycle.superseded_at is None and any(
        o.list_published_on and o.list_published_on > list_published_on for o in current
    ):
        repos.cycles.supersede(cycle, now)
    plans = plan_milestones(a, today=today, policy=policy, locale=locale)
    done_at = {m.kind: datetime.combine(m.done_on, time(12), tzinfo=CHINA) for m in plans if m.done_on}
    if existed:
        _follow_facts(repos, cycle, plans, done_at)
    repos.milestones.add_planned(  # those shown done by the facts are kept as done, never reminded
        cycle.id, plans, with_reminders=cycle.superseded_at is None, done_at=done_at)
    return cycle


def _follow_facts(repos: Repositories, cycle: AuditCycle, plans: Sequence[MilestonePlan],
                  done_at: dict[str, datetime]) -> None:
    """The milestones a cycle already has follow a later verdict of the same list: a step its facts now show done
    (the last audit, given after the first verdict, completes this round's start and report) is marked done then
    and its reminders stop; an open one whose days changed (the last audit corrected: the next round moves) is
    rescheduled. Without this, 我的期限 said overdue what the verdict had just said done."""
    planned = {p.kind: p for p in plans}
    for milestone in repos.milestones.list_by_cycle(cycle.id):
        plan = planned.get(milestone.kind)
        if plan is None or milestone.done_at is not None:
            continue
        if milestone.kind in done_at:
            repos.milestones.mark_done(milestone, at=done_at[milestone.kind])
            repos.reminders.cancel_for_milestone(milestone.id)
        elif (milestone.nominal, milestone.due) != (plan.nominal, plan.due):
            repos.reminders.cancel_for_milestone(milestone.id)
            repos.milestones.reschedule(milestone, nominal=plan.nominal, due=plan.due, citation=plan.citation,
                                        note=plan.note)
            if cycle.superseded_at is None:  # the cancelled rows keep their kinds (unique per milestone)
                repos.reminders.add_for_milestone(milestone.id, [
                    (f"{kind}@{plan.nominal.isoformat()}", day) for kind, day in plan.reminders])


def import_rows(
    repos: Repositories,
    officer: Officer,
    preview: Preview,
    *,
    accept_partial: bool,
    today: date,
    policy: ReminderPolicy | None = None,
    locale: str = DEFAULT_LOCALE,
    now: datetime | None = None,
) -> ImportOutcome:
    """Apply a preview in the caller's transaction (one unit of work: all of it or nothing).

    ForbiddenError outside the officer's jurisdiction; ImportRefused when the file has row errors
    and `accept_partial` is false, or when no row is valid. Idempotent by file and by (enterprise,
    list date); `ImportOutcome` says what was added and which lines were already imported.
    """
    scope = preview.scope
    authorize(officer, scope.province, scope.city, scope.county, locale=locale)
    tr = gettext_for(locale)
    if preview.errors and not accept_partial:
        raise ImportRefused(tr(N_("{bad} rows have errors, so nothing was imported. Correct them, or choose to "
                                  "import only the {valid} valid rows.")).format(
            bad=preview.error_lines, valid=len(preview.rows)))
    if not preview.rows:
        raise ImportRefused(tr(N_("The file has no valid row to import.")))
    policy = policy or ReminderPolicy.from_env()
    plans: dict[tuple[tuple[str, ...], date], tuple[tuple[str, ...], tuple[MilestonePlan, ...]]] = {}
    entries = []
    for row in preview.rows:
        key = (row.grounds, row.published_on)
        if key not in plans:
            a = assess_listed(scope.province, row.grounds, row.published_on)
            plans[key] = (tuple(g.id for g in a.grounds),
                          plan_milestones(a, today=today, policy=policy, locale=locale))
        ground_ids, milestones = plans[key]
        entries.append(EntryPlan(
            line=row.line, credit_code=row.credit_code, name=row.name, published_on=row.published_on,
            document_number=row.document_number, city=row.city, county=row.county, grounds=row.grounds,
            ground_ids=ground_ids, milestones=milestones, industry_code=row.industry_code,
            contact_name=row.contact_name, contact_phone=row.contact_phone,
        ))
    return repos.imports.apply(
        officer_id=officer.id, province=scope.province, city=scope.city, county=scope.county,
        file_sha256=preview.sha256, filename=preview.filename, skipped=preview.error_lines, entries=entries,
        today=today, now=now,
    )

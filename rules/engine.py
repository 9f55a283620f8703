"""Facts + as-of date -> Assessment: verdict, grounds with citations, deadlines, offices.

Backward-chaining in the sense of DESIGN.md: every ground is a three-valued condition over the
facts; the verdict is decided as soon as one ground holds (mandatory) or all fail (voluntary);
otherwise `missing` names the facts the undecided grounds wait on, most decisive first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from rules.conditions import Condition, Facts, Tri, always, compile_condition
from rules.i18n import DEFAULT_LOCALE, N_, Msg, gettext_for
from rules.packs import SIZE_SCALES, Deadline, Duty, Ground, Pack, Supersedes, Table, TableRow, default_packs
from rules.periods import count_period
from rules.provinces import get_province

Text = str | Msg

# Tie-break for `missing`: the order in which a person can most easily answer.
FACT_PRIORITY: tuple[str, ...] = (
    "province", "industry_code", "scale", "exceeds_emission_standard", "exceeds_total_quota",
    "exceeds_energy_limit", "missed_energy_target", "toxic_classes", "on_master_list",
    "has_extraction", "has_industrial_coating", "above_designated_size", "central_enterprise",
)
# Derived facts are asked through the fact they come from.
ASKED_AS = {"industry_section": "industry_code", "industry_division": "industry_code"}
DEADLINE_ORDER = ("disclosure", "start", "report", "evaluation", "acceptance", "reaudit", "review")
SIZE_WORDS = {"any": "所有", "large_medium": "大中型", "not_micro": "大中小型"}  # the annex's own words


@dataclass(frozen=True, slots=True)
class GroundHit:
    id: str
    kind: str
    pack: Pack
    citation: str
    quote: str
    summary: str


@dataclass(frozen=True, slots=True)
class DeadlineHit:
    kind: str
    start: date
    nominal: date
    due: date
    schedule_known: bool
    citation: str
    note: tuple[Text, ...]
    packs: tuple[str, ...]
    met_on: date | None = None  # the facts show the step done: the day of the fact that shows it
    met_by: str | None = None  # that fact (last_audit_completed_on, evaluated_on, accepted_on)


# A step of a round counted from a date is done once a later step of that round is: an audit round
# completed (or evaluated, or accepted) on or after the list's publication is the round the list asked
# for, so it was started and its report written (rules/READINGS.md, "completed work").
_MET_BY: dict[str, tuple[str, ...]] = {
    "start": ("last_audit_completed_on", "evaluated_on", "accepted_on"),
    "report": ("last_audit_completed_on", "evaluated_on", "accepted_on"),
    "evaluation": ("evaluated_on", "accepted_on"),
    "acceptance": ("accepted_on",),
}


def _met(hit: DeadlineHit, facts: Facts) -> DeadlineHit:
    done = sorted((day, fact) for fact in _MET_BY.get(hit.kind, ())
                  if isinstance(day := facts.get(fact), date) and day >= hit.start)
    if not done:
        return hit
    return replace(hit, met_on=done[0][0], met_by=done[0][1])


@dataclass(frozen=True, slots=True)
class DutyHit:
    """An obligation of the verdict that is not a period counted from a date fact (packs' `duties`): with
    `due`, the next yearly date on or after the as-of day (and `covers_year`, the year it reports on)."""

    id: str
    pack: Pack
    citation: str
    quote: str
    summary: str
    due: date | None = None
    covers_year: int | None = None
    milestone: str | None = None
    fields: tuple[str, ...] = ()
    fields_citation: str = ""


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    pack: Pack
    applied: bool
    why: Msg


@dataclass(frozen=True, slots=True)
class VoluntaryStatus:
    eligible: bool | None
    why: Text
    citation: str
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Assessment:
    as_of: date
    obligation: str
    grounds: tuple[GroundHit, ...]
    documents: tuple[DocumentStatus, ...]
    deadlines: tuple[DeadlineHit, ...]
    disclosure_fields: tuple[str, ...]
    report_to: tuple[str, ...]
    voluntary: VoluntaryStatus
    missing: tuple[str, ...]
    notes: tuple[Msg, ...]
    duties: tuple[DutyHit, ...] = ()

    @property
    def pack_versions(self) -> dict[str, str]:
        return {d.pack.id: d.pack.version for d in self.documents if d.applied}

    def to_dict(self, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        """The `assess` JSON of DESIGN.md (plus `notes`, `voluntary.missing`, `documents[].version`)."""
        tr = gettext_for(locale)
        return {
            "as_of": self.as_of.isoformat(),
            "obligation": self.obligation,
            "grounds": [
                {"id": g.id, "kind": g.kind, "document_id": g.pack.id, "document": g.pack.title,
                 "citation": g.citation, "quote": g.quote, "summary": g.summary}
                for g in self.grounds
            ],
            "documents": [
                {"id": d.pack.id, "title": d.pack.title, "applied": d.applied, "why": d.why.render(tr),
                 "version": d.pack.version}
                for d in self.documents
            ],
            "deadlines": [self._deadline_dict(d, tr) for d in self.deadlines],
            "disclosure_fields": list(self.disclosure_fields),
            "report_to": list(self.report_to),
            "voluntary": {
                "eligible": self.voluntary.eligible,
                "why": _render(self.voluntary.why, tr),
                "citation": self.voluntary.citation,
                "missing": list(self.voluntary.missing),
            },
            "missing": list(self.missing),
            "notes": [n.render(tr) for n in self.notes],
            "duties": [
                {"id": f"{d.pack.id}.{d.id}", "document_id": d.pack.id, "document": d.pack.title,
                 "citation": d.citation, "quote": d.quote, "summary": d.summary,
                 **({"due": d.due.isoformat(), "covers_year": d.covers_year, "milestone": d.milestone,
                     **self._if_missed(d.milestone, d.due, d.citation)} if d.due else {}),
                 **({"fields": list(d.fields), "fields_citation": d.fields_citation} if d.fields else {})}
                for d in self.duties
            ],
        }

    def _deadline_dict(self, d: DeadlineHit, tr: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": d.kind, "from": d.start.isoformat(), "nominal": d.nominal.isoformat(), "due": d.due.isoformat(),
            "citation": d.citation, "note": _join(d.note, tr), "schedule_known": d.schedule_known,
        }
        if d.met_on is not None:
            out.update({"met_on": d.met_on.isoformat(), "met_by": d.met_by})
            return out
        out.update(self._if_missed(d.kind, d.due, d.citation))
        return out

    def _if_missed(self, kind: str | None, due: date, citation: str) -> dict[str, Any]:
        """For a deadline whose legal last day is before the as-of day: how many days it is overdue (unless
        done: the facts do not say) and what the law attaches to the miss (rules/penalties.py)."""
        if kind is None or due >= self.as_of:
            return {}
        from rules.penalties import consequences  # here: rules.penalties imports the packs through rules

        province = next((x.pack.jurisdiction for x in self.documents if not x.pack.national and x.applied), None)
        return {"overdue_days_unless_done": (self.as_of - due).days,
                "if_missed": consequences(kind, citation, province, due + timedelta(days=1))}


def _render(t: Text, tr: Any) -> str:
    return t if isinstance(t, str) else t.render(tr)


def _join(parts: Iterable[Text], tr: Any) -> str:
    sep = tr(N_("; "))
    return sep.join(s for s in (_render(p, tr) for p in parts) if s)


@dataclass(frozen=True, slots=True)
class _CompiledTable:
    by_code: Mapping[str, tuple[tuple[TableRow, Condition], ...]]      # every row that covers the code
    deciding: Mapping[str, tuple[tuple[TableRow, Condition], ...]]     # minus rows another row implies
    by_division: tuple[tuple[int, int, TableRow, Condition], ...]


def _row_condition(row: TableRow) -> Condition:
    parts: list[object] = []
    scales = SIZE_SCALES[row.size]
    if scales is not None:
        parts.append({"fact": "scale", "in": sorted(scales)})
    if row.when is not None:
        parts.append(row.when)
    return compile_condition({"all": parts}) if parts else always()


def _compile_table(table: Table) -> _CompiledTable:
    """Rows by class code, each code's list already holding the division rows that cover it, minus
    rows another row implies (3391 大中型 makes its 工业涂装 row, 大中型 + coating, redundant), so that
    `missing` never asks about a fact that cannot change the answer."""
    by_code: dict[str, list[tuple[TableRow, Condition]]] = {}
    ranges: list[tuple[int, int, TableRow, Condition]] = []
    for row in table.rows:
        cond = _row_condition(row)
        if row.code is not None:
            by_code.setdefault(row.code, []).append((row, cond))
        elif row.divisions is not None:
            ranges.append((row.divisions[0], row.divisions[1], row, cond))
    merged: dict[str, tuple[tuple[TableRow, Condition], ...]] = {}
    deciding: dict[str, tuple[tuple[TableRow, Condition], ...]] = {}
    for code, rows in by_code.items():
        division = int(code[:2])
        candidates = (*rows, *((r, c) for lo, hi, r, c in ranges if lo <= division <= hi))
        merged[code] = candidates
        deciding[code] = tuple(rc for i, rc in enumerate(candidates) if not _redundant(i, candidates))
    return _CompiledTable(merged, deciding, tuple(ranges))


def _redundant(i: int, rows: Sequence[tuple[TableRow, Condition]]) -> bool:
    """Another row holds whenever row i does (ties between equal rows keep the first)."""
    mine = rows[i][0]
    for j, (other, _) in enumerate(rows):
        if j != i and _implies(mine, other) and (not _implies(other, mine) or j < i):
            return True
    return False


def _implies(row: TableRow, other: TableRow) -> bool:
    """Whenever `row` holds, `other` holds too: its sizes include row's and it has no other test."""
    mine, theirs = SIZE_SCALES[row.size], SIZE_SCALES[other.size]
    sizes_covered = theirs is None or (mine is not None and mine <= theirs)
    return sizes_covered and (other.when is None or other.when == row.when)


class Engine:
    """Holds the compiled packs; `assess` is pure and cheap (no I/O)."""

    def __init__(self, packs: Sequence[Pack] | None = None) -> None:
        self.packs: tuple[Pack, ...] = tuple(packs if packs is not None else default_packs())
        self._tables = {
            (p.id, name): _compile_table(t) for p in self.packs for name, t in p.tables.items()
        }
        self._provinces_with_packs = frozenset(p.jurisdiction for p in self.packs if not p.national)
        # Plain tuples for the hot path (pydantic attribute access is slow).
        self._grounds_of = {p.id: tuple((g, g.condition.value, g.condition.waiting) for g in p.grounds)
                            for p in self.packs}
        self._deadlines_of = {
            p.id: tuple((r, r.from_, None if r.kinds is None else frozenset(r.kinds)) for r in p.deadlines)
            for p in self.packs
        }
        # Superseded pack id -> (the rule, the superseding pack): from the rule's date its provisions are
        # cited as the new document's articles.
        self._successors: dict[str, tuple[Supersedes, Pack]] = {
            s.document: (s, p) for p in self.packs for s in p.supersedes
        }
        self._doc_cache: dict[tuple[object, ...], DocumentStatus] = {}
        self._docs_cache: dict[tuple[object, ...], tuple[DocumentStatus, ...]] = {}
        self._notes_cache: dict[tuple[object, ...], tuple[Msg, ...]] = {}

    # -- the verdict -------------------------------------------------------------------------

    def assess(self, facts: Facts, as_of: date) -> Assessment:
        """`facts` are validated and derived (rules.facts.parse_facts + derive)."""
        province = facts.get("province")
        binding = [(p, True if p.national else None if province is None else province == p.jurisdiction)
                   for p in self.packs]
        hits, undecided = self._grounds(binding, facts, as_of)
        if self._successors:
            hits = [self._recite_ground(h, as_of) for h in hits]
        if hits:
            obligation = "mandatory"
        elif undecided:
            obligation = "undetermined"
        else:
            obligation = "voluntary"
        missing = self._missing(facts, as_of, undecided) if obligation == "undetermined" else ()
        kinds = frozenset(h.kind for h in hits)
        basis = facts.get("list_published_on") or as_of
        deadlines = self._deadlines(binding, facts, obligation, kinds)
        duties = self._duties(binding, facts, obligation, kinds, as_of) if obligation != "undetermined" else ()
        used_for_deadlines = {pid for d in deadlines for pid in d.packs} | {d.pack.id for d in duties}
        return Assessment(
            as_of=as_of,
            obligation=obligation,
            grounds=tuple(hits),
            documents=self._documents_cached(binding, facts, as_of, used_for_deadlines),
            deadlines=deadlines,
            disclosure_fields=self._disclosure(binding, kinds, basis) if hits else (),
            report_to=self._offices(binding, facts, kinds, basis) if hits else (),
            voluntary=self._voluntary(binding, facts, as_of, obligation, hits),
            missing=missing,
            notes=self._notes_cached(province, as_of),
            duties=duties,
        )

    def _documents_cached(
        self, binding: Sequence[tuple[Pack, Tri]], facts: Facts, as_of: date, used: set[str]
    ) -> tuple[DocumentStatus, ...]:
        key = (facts.get("province"), as_of, frozenset(used))
        found = self._docs_cache.get(key)
        if found is None:
            if len(self._docs_cache) > 20_000:
                self._docs_cache.clear()
            found = self._docs_cache[key] = self._documents(binding, facts, as_of, used)
        return found

    def _notes_cached(self, province: str | None, as_of: date) -> tuple[Msg, ...]:
        key = (province, as_of)
        found = self._notes_cache.get(key)
        if found is None:
            if len(self._notes_cache) > 20_000:
                self._notes_cache.clear()
            found = self._notes_cache[key] = self._notes({"province": province} if province else {}, as_of)
        return found

    def clock_facts(self, province: str | None, obligation: str, kinds: frozenset[str]) -> frozenset[str]:
        """The date facts from which a document binding `province` (national ones always) counts a
        deadline for this verdict and these grounds: what an interview asks once the verdict is known.
        Dates are not checked here: whether a document governs a clock depends on the day it starts."""
        return frozenset(
            rule.from_ for p in self.packs if p.national or p.jurisdiction == province
            for rule in p.deadlines
            if rule.obligation == obligation and (rule.kinds is None or not kinds.isdisjoint(rule.kinds))
        )

    def duty_facts(self, facts: Facts, as_of: date, kinds: frozenset[str]) -> tuple[str, ...]:
        """Unknown facts that change the duties (not the verdict) of an enterprise with these grounds: a
        `when` on where to report that is still undecided (Xinjiang 第十六条: a central enterprise also
        reports to the national authorities)."""
        province = facts.get("province")
        out: dict[str, None] = {}
        for pack in self.packs:
            if not (pack.national or pack.jurisdiction == province) or not pack.in_force(as_of):
                continue
            for entry in pack.report_to:
                if not kinds.isdisjoint(entry.kinds) and entry.condition.value(facts) is None:
                    out.update(dict.fromkeys(ASKED_AS.get(f, f) for f in entry.condition.waiting(facts)))
        return tuple(out)

    def _missing(self, facts: Facts, as_of: date, undecided: list[list[str]]) -> tuple[str, ...]:
        """Facts that could still change the verdict. With the province unknown, a fact counts only if
        it matters in some province where no ground already holds (a Shanxi cement maker needs no
        answer about the master list: the annex decides it there, and the list binds nowhere else)."""
        if facts.get("province") is not None:
            return _rank_missing(undecided)
        relevant = {"province"}
        for world in (*sorted(self._provinces_with_packs), None):
            assumed = {**facts, "province": world or "__elsewhere__"}
            binding = [(p, self._jurisdiction(p, assumed)) for p in self.packs]
            hits, waiting = self._grounds(binding, assumed, as_of)
            if not hits:
                relevant.update(ASKED_AS.get(f, f) for w in waiting for f in w)
        return _rank_missing([[f for f in w if ASKED_AS.get(f, f) in relevant] for w in undecided])

    def _jurisdiction(self, pack: Pack, facts: Facts) -> Tri:
        if pack.national:
            return True
        province = facts.get("province")
        return None if province is None else province == pack.jurisdiction

    def _grounds(
        self, binding: Sequence[tuple[Pack, Tri]], facts: Facts, as_of: date
    ) -> tuple[list[GroundHit], list[list[str]]]:
        hits: list[GroundHit] = []
        undecided: list[list[str]] = []
        for pack, juris in binding:
            if juris is False or not pack.in_force(as_of):
                continue
            for ground, value_of, waiting_of in self._grounds_of[pack.id]:
                if ground.table is not None:
                    value, waiting, found = self._table_ground(pack, ground, facts)
                else:
                    value = value_of(facts)
                    waiting = waiting_of(facts) if value is None else []
                    found = [_hit(pack, ground)] if value else []
                if value is False:
                    continue
                if juris is None:
                    undecided.append(["province", *waiting])
                elif value:
                    hits.extend(found)
                else:
                    undecided.append(waiting)
        return hits, undecided

    def _table_ground(
        self, pack: Pack, ground: Ground, facts: Facts
    ) -> tuple[Tri, list[str], list[GroundHit]]:
        table = self._tables[(pack.id, ground.table or "")]
        code = facts.get("industry_code")
        if code is None:
            return None, ["industry_code"], []
        rows = table.by_code.get(code)
        deciding = table.deciding.get(code)
        if rows is None or deciding is None:
            division = facts["industry_division"]
            rows = deciding = tuple((r, c) for lo, hi, r, c in table.by_division if lo <= division <= hi)
        found = [_table_hit(pack, ground, row) for row, cond in rows if cond.value(facts)]
        if found:
            return True, [], found
        waiting = [f for _, cond in deciding if cond.value(facts) is None for f in cond.waiting(facts)]
        return (None if waiting else False), waiting, []

    # -- what follows from the verdict ---------------------------------------------------------

    def _deadlines(
        self, binding: Sequence[tuple[Pack, Tri]], facts: Facts, obligation: str, kinds: frozenset[str]
    ) -> tuple[DeadlineHit, ...]:
        if obligation == "undetermined":
            return ()
        best: dict[str, list[tuple[Pack, Deadline, Any]]] = {}
        for pack, juris in binding:
            if juris is not True:
                continue
            for rule, from_fact, rule_kinds in self._deadlines_of[pack.id]:
                start = facts.get(from_fact)
                if (
                    start is None
                    or rule.obligation != obligation
                    or (rule_kinds is not None and kinds.isdisjoint(rule_kinds))
                    or not pack.in_force(start)
                ):
                    continue
                p = rule.period
                period = count_period(start, years=p.years, months=p.months, days=p.days)
                cited, cited_rule = (self._recite_deadline(pack, rule, start) if pack.id in self._successors
                                     else (pack, rule))
                current = best.get(rule.kind)
                if current is None or period.nominal < current[0][2].nominal:
                    best[rule.kind] = [(cited, cited_rule, period)]
                elif period.nominal == current[0][2].nominal:
                    current.append((cited, cited_rule, period))
        out = [_met(_deadline_hit(kind, entries), facts) for kind, entries in best.items()]
        return tuple(sorted(out, key=lambda d: (d.nominal, DEADLINE_ORDER.index(d.kind))))

    def _duties(
        self, binding: Sequence[tuple[Pack, Tri]], facts: Facts, obligation: str, kinds: frozenset[str],
        as_of: date,
    ) -> tuple[DutyHit, ...]:
        """The duties of packs in force on the as-of day, provincial first; a yearly one dated on its next
        day on or after the as-of day, and not before the year after the list was published (the first
        yearly report covers the year of the list)."""
        out: list[DutyHit] = []
        listed = facts.get("list_published_on")
        for pack in _provincial_first(binding, as_of):
            for duty in pack.duties:
                if duty.obligation != obligation or (duty.kinds is not None and kinds.isdisjoint(duty.kinds)):
                    continue
                if duty.condition.value(facts) is not True:
                    continue
                out.append(_duty_hit(pack, duty, as_of, listed))
        return tuple(out)

    def _disclosure(
        self, binding: Sequence[tuple[Pack, Tri]], kinds: frozenset[str], basis: date
    ) -> tuple[str, ...]:
        fields: dict[str, None] = {}
        for pack in _provincial_first(binding, basis):
            for entry in pack.disclosure:
                if not kinds.isdisjoint(entry.kinds):
                    fields.update(dict.fromkeys(entry.fields))
        return tuple(fields)

    def _offices(
        self, binding: Sequence[tuple[Pack, Tri]], facts: Facts, kinds: frozenset[str], basis: date
    ) -> tuple[str, ...]:
        offices: dict[str, None] = {}
        for pack in _provincial_first(binding, basis):
            for entry in pack.report_to:
                if not kinds.isdisjoint(entry.kinds) and entry.condition.value(facts):
                    offices.update(dict.fromkeys(entry.offices))
        return tuple(offices)

    def _voluntary(
        self,
        binding: Sequence[tuple[Pack, Tri]],
        facts: Facts,
        as_of: date,
        obligation: str,
        hits: Sequence[GroundHit],
    ) -> VoluntaryStatus:
        if obligation == "mandatory":
            first = hits[0]
            return VoluntaryStatus(
                False,
                Msg(N_("The enterprise is within the scope of mandatory audits, so the voluntary "
                       "programme does not apply.")),
                f"{first.pack.title}{first.citation}",
            )
        if obligation == "undetermined":
            return VoluntaryStatus(
                None, Msg(N_("Not known yet whether the audit is mandatory.")), "",
            )
        provincial = [p for p in _provincial_first(binding, as_of) if p.voluntary]
        for pack in provincial:
            for entry in pack.voluntary:
                if not entry.programme:
                    continue
                v = entry.condition.value(facts)
                why: Text = entry.summary if v else Msg(
                    N_("Does not meet the programme's conditions: {summary}"), {"summary": entry.summary}
                ) if v is False else Msg(
                    N_("Whether the programme's conditions are met is not known yet: {summary}"),
                    {"summary": entry.summary},
                )
                missing = tuple(_dedupe(ASKED_AS.get(f, f) for f in entry.condition.waiting(facts)))
                return VoluntaryStatus(v, why, f"{pack.title}{entry.citation}", missing)
        for pack in provincial:
            entry = pack.voluntary[0]
            return VoluntaryStatus(True, entry.summary, f"{pack.title}{entry.citation}")
        return VoluntaryStatus(None, Msg(N_("No rule on voluntary audits is loaded.")), "")

    def _documents(
        self, binding: Sequence[tuple[Pack, Tri]], facts: Facts, as_of: date, used: set[str]
    ) -> tuple[DocumentStatus, ...]:
        province = facts.get("province")
        out = []
        for p, j in binding:
            key = (p.id, j, province, as_of, p.id in used)
            status = self._doc_cache.get(key)
            if status is None:
                if len(self._doc_cache) > 50_000:
                    self._doc_cache.clear()
                status = self._doc_cache[key] = self._superseded_status(p, as_of) or _document_status(
                    p, j, facts, as_of, p.id in used)
            out.append(status)
        return tuple(out)

    def _superseded_status(self, pack: Pack, as_of: date) -> DocumentStatus | None:
        found = self._successors.get(pack.id)
        if found is None or as_of < found[0].from_:
            return None
        rule, new = found
        return DocumentStatus(pack, True, Msg(
            N_("Superseded by {title} from {date}: its provisions still apply and are cited as that "
               "document's articles."),
            {"title": new.title, "date": rule.from_.isoformat()},
        ))

    # -- a superseded document's provisions, cited as the new document's articles ----------------

    def _successor(self, pack: Pack, citation: str, on: date) -> tuple[Pack, str, str] | None:
        """(new pack, new citation, new quote or "") when `pack` is superseded on `on` and the article is mapped."""
        found = self._successors.get(pack.id)
        if found is None or on < found[0].from_:
            return None
        rule, new = found
        mapped = rule.recite(citation)
        if mapped is None:
            return None
        return new, mapped.new + citation[len(mapped.old):], mapped.quote

    def _recite_ground(self, hit: GroundHit, on: date) -> GroundHit:
        found = self._successor(hit.pack, hit.citation, on)
        if found is None:
            return hit
        new, citation, quote = found
        return GroundHit(hit.id, hit.kind, new, citation, quote or hit.quote, hit.summary)

    def _recite_deadline(self, pack: Pack, rule: Deadline, start: date) -> tuple[Pack, Deadline]:
        found = self._successor(pack, rule.citation, start)
        if found is None:
            return pack, rule
        new, citation, quote = found
        return new, rule.model_copy(update={"citation": citation, "quote": quote or rule.quote})

    def _notes(self, facts: Facts, as_of: date) -> tuple[Msg, ...]:
        notes: list[Msg] = []
        if not any(p.national and p.in_force(as_of) for p in self.packs):
            notes.append(Msg(N_("No national document on cleaner-production audits was in force on {as_of}."),
                             {"as_of": as_of.isoformat()}))
        province = facts.get("province")
        if province is None:
            notes.append(Msg(N_("The province is not known yet: only national rules could be applied so far.")))
        elif province not in self._provinces_with_packs:
            name = get_province(province).name
            notes.append(Msg(N_("No provincial rules are loaded for {province}: only the national documents "
                                "were applied."), {"province": name}))
        return tuple(notes)


def _duty_hit(pack: Pack, duty: Duty, as_of: date, listed: date | None) -> DutyHit:
    if duty.yearly is None:
        return DutyHit(duty.id, pack, duty.citation, duty.quote, duty.summary,
                       fields=tuple(duty.fields), fields_citation=duty.fields_citation)
    m, d = duty.yearly.month, duty.yearly.day
    year = as_of.year if (as_of.month, as_of.day) <= (m, d) else as_of.year + 1
    if listed is not None:
        year = max(year, listed.year + 1)
    return DutyHit(duty.id, pack, duty.citation, duty.quote, duty.summary, due=date(year, m, d),
                   covers_year=year - 1, milestone=duty.milestone, fields=tuple(duty.fields),
                   fields_citation=duty.fields_citation)


def _hit(pack: Pack, ground: Ground) -> GroundHit:
    return GroundHit(f"{pack.id}.{ground.id}", ground.kind, pack, ground.citation, ground.quote, ground.summary)


def _table_hit(pack: Pack, ground: Ground, row: TableRow) -> GroundHit:
    key = row.code or (f"{row.divisions[0]:02d}-{row.divisions[1]:02d}" if row.divisions else "")
    label = f"{row.name}（{row.code}）" if row.code else row.name
    return GroundHit(
        f"{pack.id}.{ground.id}.{key}",
        ground.kind,
        pack,
        f"{ground.citation}（{row.sector}：{label}，{SIZE_WORDS[row.size]}）",
        ground.quote,
        f"{ground.summary}：{row.sector}，{label}，规模：{SIZE_WORDS[row.size]}"
        + (f"；{row.note}" if row.note else ""),
    )


def _deadline_hit(kind: str, entries: list[tuple[Pack, Deadline, Any]]) -> DeadlineHit:
    period = entries[0][2]
    provincial = [rule.note for p, rule, _ in entries if rule.note and not p.national]
    national = [rule.note for p, rule, _ in entries if rule.note and p.national]
    note: list[Text] = [*(provincial or national)[:1]]
    if period.due != period.nominal:
        note.append(Msg(
            N_("{nominal} is a statutory holiday or rest day, so the period ends on the next working day, "
               "{due} (Civil Code art. 203)."),
            {"nominal": period.nominal.isoformat(), "due": period.due.isoformat()},
        ))
    if not period.schedule_known:
        note.append(Msg(
            N_("The State Council's holiday schedule for {year} is not published yet: the statutory "
               "holidays fixed by the 《全国年节及纪念日放假办法》 and weekends were counted; the schedule's "
               "extra days off and make-up working days may still move the last day."),
            {"year": period.nominal.year},
        ))
    return DeadlineHit(
        kind=kind,
        start=period.start,
        nominal=period.nominal,
        due=period.due,
        schedule_known=period.schedule_known,
        citation="；".join(f"{p.title}{rule.citation}" for p, rule, _ in entries),
        note=tuple(note),
        packs=tuple(_dedupe(p.id for p, _, _ in entries)),
    )


def _provincial_first(binding: Sequence[tuple[Pack, Tri]], on: date) -> list[Pack]:
    bound = [p for p, j in binding if j is True and p.in_force(on)]
    return [p for p in bound if not p.national] + [p for p in bound if p.national]


def _document_status(pack: Pack, juris: Tri, facts: Facts, as_of: date, used: bool) -> DocumentStatus:
    if juris is None:
        return DocumentStatus(pack, False, Msg(
            N_("Applies in {province} only; the enterprise's province is not known yet."),
            {"province": get_province(pack.jurisdiction).name},
        ))
    if juris is False:
        return DocumentStatus(pack, False, Msg(
            N_("Applies in {province} only; the enterprise is in {other}."),
            {"province": get_province(pack.jurisdiction).name,
             "other": get_province(facts["province"]).name},
        ))
    start = pack.effective_from.isoformat() if pack.effective_from else ""
    end = pack.effective_until.isoformat() if pack.effective_until else ""
    if pack.effective_from is not None and as_of < pack.effective_from:
        msg = N_("Not yet in force on {as_of}: it takes effect on {start}.")
        return DocumentStatus(pack, used, Msg(msg, {"as_of": as_of.isoformat(), "start": start}))
    if pack.effective_until is not None and as_of > pack.effective_until:
        if used:
            msg = N_("Expired on {end}; not applied to the verdict, but in force on the day a deadline "
                     "counts from, so applied to that deadline.")
        else:
            msg = N_("Expired on {end}: not applied on {as_of}.")
        return DocumentStatus(pack, used, Msg(msg, {"end": end, "as_of": as_of.isoformat()}))
    if pack.period_end is not None and as_of > pack.period_end:
        return DocumentStatus(pack, True, Msg(
            N_("In force; its planning period ended on {end} and no successor is loaded, so it still applies."),
            {"end": pack.period_end.isoformat()},
        ))
    if pack.effective_from is None:
        return DocumentStatus(pack, True, Msg(N_("The text carries no date; treated as in force.")))
    if end:
        return DocumentStatus(pack, True, Msg(N_("In force from {start} to {end}."), {"start": start, "end": end}))
    return DocumentStatus(pack, True, Msg(N_("In force since {start}."), {"start": start}))


def _rank_missing(undecided: Sequence[Sequence[str]]) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for waiting in undecided:
        for fact in _dedupe(ASKED_AS.get(f, f) for f in waiting):
            counts[fact] = counts.get(fact, 0) + 1

    def rank(fact: str) -> tuple[int, int, str]:
        prio = FACT_PRIORITY.index(fact) if fact in FACT_PRIORITY else len(FACT_PRIORITY)
        return (-counts[fact], prio, fact)

    return tuple(sorted(counts, key=rank))


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

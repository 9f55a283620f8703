"""Facts + as-of date -> Assessment: verdict, grounds with citations, deadlines, offices.

Backward-chaining in the sense of DESIGN.md: every ground is a three-valued condition over the
facts; the verdict is decided as soon as one ground holds (mandatory) or all fail (voluntary);
otherwise `missing` names the facts the undecided grounds wait on, most decisive first.

Speed: what does not depend on the enterprise is worked out once per (province, as-of day) and kept in
bounded LRU caches (`Engine(cache_size=...)`): which documents bind and are in force, their grounds ready
to evaluate (hits built beforehand), the duties, notes and document statuses, the statuses' text rendered
once per locale; the grounds of each (province, span) are evaluated by one generated function
(`_generated_plan`). A deadline hit is built once per (kind, rules and start days) and what a miss risks once
per span of days in which the same documents are in force; the JSON of what assessments share is kept with
it. The facts of one enterprise are then only run through the conditions.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from rules.conditions import KNOWN_FACTS, CodeGen, Condition, Facts, Tri, always, compile_condition
from rules.facts import DATE_FACTS
from rules.i18n import DEFAULT_LOCALE, N_, Msg, gettext_for
from rules.packs import SIZE_SCALES, Deadline, Duty, Ground, Pack, Supersedes, Table, TableRow, default_packs
from rules.periods import Period, count_period
from rules.provinces import get_province

Text = str | Msg
JsonDict = dict[str, Any]
Consequences = Callable[[str, str, "str | None", date], JsonDict]

# Tie-break for `missing`: the order in which a person can most easily answer.
FACT_PRIORITY: tuple[str, ...] = (
    "province", "industry_code", "scale", "exceeds_emission_standard", "exceeds_total_quota",
    "exceeds_energy_limit", "missed_energy_target", "toxic_classes", "on_master_list",
    "has_extraction", "has_industrial_coating", "above_designated_size", "central_enterprise",
)
_PRIORITY = {fact: i for i, fact in enumerate(FACT_PRIORITY)}
# Derived facts are asked through the fact they come from.
ASKED_AS = {"industry_section": "industry_code", "industry_division": "industry_code"}
DEADLINE_ORDER = ("disclosure", "start", "report", "evaluation", "acceptance", "reaudit", "review")
_DEADLINE_RANK = {kind: i for i, kind in enumerate(DEADLINE_ORDER)}
SIZE_WORDS = {"any": "所有", "large_medium": "大中型", "not_micro": "大中小型"}  # the annex's own words
# Entries per LRU cache of an engine: document statuses, plans; twice as many (province, day, documents
# used) frames and deadline hits (each keeping its JSON and up to four variants marked done). 100,000
# assessments on random days and facts grow the process by about 80 MB with these sizes (68 MB before the JSON
# was kept with the hits).
CACHE_SIZE = 4096

_MANDATORY = Msg(N_("The enterprise is within the scope of mandatory audits, so the voluntary "
                    "programme does not apply."))
_UNDETERMINED = Msg(N_("Not known yet whether the audit is mandatory."))
_NO_VOLUNTARY = Msg(N_("No rule on voluntary audits is loaded."))


@dataclass(frozen=True, slots=True)
class GroundHit:
    id: str
    kind: str
    pack: Pack
    citation: str
    quote: str
    summary: str
    # What is derived from the hit alone (a hit is shared between assessments): "json", its JSON; "voluntary",
    # the voluntary status of a mandatory verdict whose first ground it is.
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)


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
    # locale -> this deadline's JSON without the as-of-dependent part (a hit is shared between assessments).
    _json: dict[str, JsonDict] = field(default_factory=dict, init=False, repr=False, compare=False)
    # locale -> ((as-of day, province), the JSON of the deadline overdue on that day): the last day asked.
    _overdue: dict[str, tuple[tuple[date, str | None], JsonDict]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    # (day, fact) -> this hit marked done by that fact on that day (see `_met`)
    _done: dict[tuple[date, str], DeadlineHit] = field(default_factory=dict, init=False, repr=False, compare=False)


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
    """The hit marked done by the earliest later step the facts show (ties: by the fact's name)."""
    done: tuple[date, str] | None = None
    for fact in _MET_BY.get(hit.kind, ()):
        day = facts.get(fact)
        if isinstance(day, date) and day >= hit.start and (done is None or (day, fact) < done):
            done = (day, fact)
    if done is None:
        return hit
    found = hit._done.get(done)
    if found is None:
        if len(hit._done) >= 4:  # bounded: a hit shared by many enterprises keeps the last few
            hit._done.clear()
        found = hit._done[done] = DeadlineHit(hit.kind, hit.start, hit.nominal, hit.due, hit.schedule_known,
                                              hit.citation, hit.note, hit.packs, done[0], done[1])
    return found


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
    _json: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)  # shared hits


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    pack: Pack
    applied: bool
    why: Msg
    # locale -> this status's JSON (a status is shared between assessments).
    _json: dict[str, JsonDict] = field(default_factory=dict, init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class VoluntaryStatus:
    eligible: bool | None
    why: Text
    citation: str
    missing: tuple[str, ...] = ()
    # locale -> this status's JSON (most statuses are shared between assessments).
    _json: dict[str, JsonDict] = field(default_factory=dict, init=False, repr=False, compare=False)


_UNDETERMINED_STATUS = VoluntaryStatus(None, _UNDETERMINED, "")
_NO_KINDS: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Frame:
    """What assessments of one province, day and set of documents used share: the document statuses, the
    province of the provincial document applied (for penalties), the statuses rendered per locale."""

    documents: tuple[DocumentStatus, ...]
    province: str | None
    consequences: Consequences
    rendered: dict[str, list[JsonDict]] = field(default_factory=dict)
    # locale -> (the notes, rendered): the notes of a frame's assessments depend on its province and day only
    notes: dict[str, tuple[tuple[Msg, ...], list[str]]] = field(default_factory=dict)


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
    _frame: _Frame | None = field(default=None, repr=False, compare=False)

    @property
    def pack_versions(self) -> dict[str, str]:
        return {d.pack.id: d.pack.version for d in self.documents if d.applied}

    def to_dict(self, locale: str = DEFAULT_LOCALE, *, shared: bool = False) -> JsonDict:
        """The `assess` JSON of DESIGN.md (plus `notes`, `voluntary.missing`, `documents[].version`).

        Parts that do not depend on the enterprise are rendered once and kept by the engine; the result
        gets its own copies, unless `shared` (for a caller that encodes it at once and keeps nothing)."""
        frame = self._frame
        if frame is None:
            documents = [d.copy() for d in _documents_json(self.documents, gettext_for(locale), locale)]
            province, consequences_of = _province_of(self.documents), _consequences()
        else:
            documents = frame.rendered.get(locale)  # type: ignore[assignment]
            if documents is None:
                documents = frame.rendered[locale] = _documents_json(self.documents, gettext_for(locale), locale)
            if not shared:
                documents = [d.copy() for d in documents]
            province, consequences_of = frame.province, frame.consequences
        as_of = self.as_of
        v = self.voluntary
        voluntary = v._json.get(locale)
        if voluntary is None:
            voluntary = v._json[locale] = {
                "eligible": v.eligible,
                "why": v.why if isinstance(v.why, str) else v.why.render(gettext_for(locale)),
                "citation": v.citation,
                "missing": list(v.missing),
            }
        if not shared:
            voluntary = {**voluntary, "missing": list(v.missing)}
        notes = None
        if frame is not None:
            kept = frame.notes.get(locale)
            if kept is not None and kept[0] is self.notes:
                notes = kept[1]
        if notes is None:
            tr = gettext_for(locale)
            notes = [n.render(tr) for n in self.notes]
            if frame is not None:
                frame.notes[locale] = (self.notes, notes)
        return {
            "as_of": as_of.isoformat(),
            "obligation": self.obligation,
            "grounds": ([g._derived.get("json") or _ground_json(g, True) for g in self.grounds] if shared
                        else [_ground_json(g, False) for g in self.grounds]),
            "documents": documents,
            "deadlines": [_deadline_json(d, locale, as_of, province, consequences_of, shared)
                          for d in self.deadlines],
            "disclosure_fields": list(self.disclosure_fields),
            "report_to": list(self.report_to),
            "voluntary": voluntary,
            "missing": list(self.missing),
            "notes": notes if shared else list(notes),
            "duties": [_duty_json(d, as_of, province, consequences_of, shared) for d in self.duties],
        }


_ASSESSMENT_FIELDS = ("as_of", "obligation", "grounds", "documents", "deadlines", "disclosure_fields", "report_to",
                      "voluntary", "missing", "notes", "duties", "_frame")
if tuple(f.name for f in fields(Assessment)) != _ASSESSMENT_FIELDS:  # _new_assessment sets them in this order
    raise RuntimeError("Assessment's fields changed: update _new_assessment")
_S = tuple(getattr(Assessment, name).__set__ for name in _ASSESSMENT_FIELDS)


def _new_assessment(as_of: date, obligation: str, grounds: tuple[GroundHit, ...], documents: tuple[DocumentStatus, ...],
                    deadlines: tuple[DeadlineHit, ...], disclosure_fields: tuple[str, ...], report_to: tuple[str, ...],
                    voluntary: VoluntaryStatus, missing: tuple[str, ...], notes: tuple[Msg, ...],
                    duties: tuple[DutyHit, ...], frame: _Frame, new: Any = object.__new__, s: Any = _S) -> Assessment:
    """`Assessment(...)` without the frozen dataclass's `__init__`, which sets each field through
    `object.__setattr__` (3.4 us of the engine's ~20 per call on the bench machine): the slots are set
    directly, 1.3 us. The same object (tests/rules/test_engine_equivalence.py compares them)."""
    out = new(Assessment)
    s[0](out, as_of); s[1](out, obligation); s[2](out, grounds); s[3](out, documents)  # noqa: E702
    s[4](out, deadlines); s[5](out, disclosure_fields); s[6](out, report_to); s[7](out, voluntary)  # noqa: E702
    s[8](out, missing); s[9](out, notes); s[10](out, duties); s[11](out, frame)  # noqa: E702
    return out


def _ground_json(g: GroundHit, shared: bool) -> JsonDict:
    found = g._derived.get("json")
    if found is None:
        found = g._derived["json"] = {
            "id": g.id, "kind": g.kind, "document_id": g.pack.id, "document": g.pack.title,
            "citation": g.citation, "quote": g.quote, "summary": g.summary}
    return found if shared else found.copy()


def _duty_json(d: DutyHit, as_of: date, province: str | None, consequences_of: Consequences,
               shared: bool) -> JsonDict:
    """A duty's JSON: kept on the (shared) hit unless its day is past, when it also says what a miss risks."""
    overdue = d.due is not None and d.milestone is not None and d.due < as_of
    if not overdue and d._json:
        return d._json if shared else _copy_json(d._json)
    out = {"id": f"{d.pack.id}.{d.id}", "document_id": d.pack.id, "document": d.pack.title,
           "citation": d.citation, "quote": d.quote, "summary": d.summary,
           **({"due": d.due.isoformat(), "covers_year": d.covers_year, "milestone": d.milestone,
               **_if_missed(d.milestone, d.due, d.citation, as_of, province, consequences_of, shared)}
              if d.due else {}),
           **({"fields": list(d.fields), "fields_citation": d.fields_citation} if d.fields else {})}
    if overdue:
        return out
    d._json.update(out)
    return out if shared else _copy_json(out)


def _documents_json(documents: Iterable[DocumentStatus], tr: Any, locale: str) -> list[JsonDict]:
    out = []
    for d in documents:
        found = d._json.get(locale)
        if found is None:
            found = d._json[locale] = {"id": d.pack.id, "title": d.pack.title, "applied": d.applied,
                                       "why": d.why.render(tr), "version": d.pack.version}
        out.append(found)
    return out


def _province_of(documents: Iterable[DocumentStatus]) -> str | None:
    """The province of the provincial document applied, if any (penalties and remedies are scoped by it)."""
    return next((x.pack.jurisdiction for x in documents if not x.pack.national and x.applied), None)


def _deadline_json(d: DeadlineHit, locale: str, as_of: date, province: str | None,
                   consequences_of: Consequences, shared: bool) -> JsonDict:
    base = d._json.get(locale)
    if base is None:
        base = d._json[locale] = {
            "kind": d.kind, "from": d.start.isoformat(), "nominal": d.nominal.isoformat(),
            "due": d.due.isoformat(), "citation": d.citation, "note": _join(d.note, gettext_for(locale)),
            "schedule_known": d.schedule_known,
        }
        if d.met_on is not None:
            base.update({"met_on": d.met_on.isoformat(), "met_by": d.met_by})
    if d.met_on is not None or d.due >= as_of:
        return base if shared else base.copy()
    # Overdue: the JSON on the last as-of day asked is kept with the hit (assessments of one day share it).
    key = (as_of, province)
    kept = d._overdue.get(locale)
    if kept is None or kept[0] != key:
        out = base.copy()
        out.update(_if_missed(d.kind, d.due, d.citation, as_of, province, consequences_of, True))
        kept = d._overdue[locale] = (key, out)
    return kept[1] if shared else _copy_json(kept[1])


def _if_missed(kind: str | None, due: date, citation: str, as_of: date, province: str | None,
               consequences_of: Consequences, shared: bool) -> JsonDict:
    """For a deadline whose legal last day is before the as-of day: how many days it is overdue (unless
    done: the facts do not say) and what the law attaches to the miss (rules/penalties.py)."""
    if kind is None or due >= as_of:
        return {}
    found = consequences_of(kind, citation, province, due + timedelta(days=1))
    return {"overdue_days_unless_done": (as_of - due).days, "if_missed": found if shared else _copy_json(found)}


def _copy_json(value: Any) -> Any:
    if type(value) is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy_json(v) for v in value]
    return value


def _consequences() -> Consequences:
    from rules.penalties import consequences  # here: rules.penalties imports the packs through rules

    return consequences


class _EraConsequences:
    """`rules.penalties.consequences`, memoised. It depends on the day only through which documents of the
    penalty table are in force on it, so all days between two consecutive effective dates (or days after
    an expiry) share one answer: the memo is keyed by that span. Callers copy what they keep."""

    def __init__(self, size: int) -> None:
        from rules.penalties import penalty_table

        bounds: set[date] = set()
        for p in penalty_table().packs.values():
            if p.effective_from is not None:
                bounds.add(p.effective_from)
            if p.effective_until is not None and p.effective_until < date.max:
                bounds.add(p.effective_until + timedelta(days=1))
        self._bounds = tuple(sorted(bounds))
        self._raw = _consequences()
        self._memo = lru_cache(maxsize=size)(self._span)

    def __call__(self, kind: str, citation: str, province: str | None, on: date) -> JsonDict:
        return self._memo(kind, citation, province, bisect_right(self._bounds, on))

    def _span(self, kind: str, citation: str, province: str | None, span: int) -> JsonDict:
        return self._raw(kind, citation, province, self._bounds[span - 1] if span else date.min)


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


# One table ground, ready to evaluate: for a class code (or, for a code no row names, its division), the
# rows that cover it as (condition value, hit), and the conditions of the rows that decide `missing`.
_TableRows = tuple[tuple[tuple[Callable[[Facts], Tri], GroundHit], ...], tuple[Condition, ...]]


@dataclass(frozen=True, slots=True)
class _GroundTable:
    by_code: Mapping[str, _TableRows]
    by_division: Mapping[int, _TableRows]


# A ground of a (province, day): (province unknown, value, waiting, hit, table, the condition as written);
# value/waiting/hit/condition are None for a table ground, table None otherwise.
_PlannedGround = tuple[bool, Any, Any, Any, "_GroundTable | None", Any]
_Evaluation = tuple[list[GroundHit], list[list[str]]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """The grounds of a (province, span) and two functions over them: `evaluate(facts)` -> (hits, the
    waiting facts of each undecided ground) and `waiting_unless_hit(facts)` (see `_waiting_unless_hit`)."""

    grounds: tuple[_PlannedGround, ...]
    evaluate: Callable[[Facts], _Evaluation]
    waiting_unless_hit: Callable[[Facts], list[str] | None]


def _reference_plan(grounds: tuple[_PlannedGround, ...]) -> _Plan:
    return _Plan(grounds, lambda facts: _evaluate(grounds, facts), lambda facts: _waiting_unless_hit(grounds, facts))


def _generated_plan(grounds: tuple[_PlannedGround, ...]) -> _Plan:
    """`_evaluate` and `_waiting_unless_hit` over these grounds written out as two Python functions (one
    block per ground, its condition inlined by `CodeGen`, each fact read once): the same answers without
    a call per ground and per condition part. tests/rules/test_engine_equivalence.py compares them."""
    gen = CodeGen()
    table_ground = gen.const(_table_ground)
    evaluate = ["    hits = []", "    undecided = []"]
    unless = ["    out = []"]
    for unknown, _, _, hit, table, raw in grounds:
        if table is None:
            value, waiting = gen.node(raw) if raw is not None else ("True", "()")
            h = gen.const(hit)
            evaluate += [f"    _v = {value}", "    if _v is not False:"]
            if unknown:
                evaluate.append(f"        undecided.append(['province', *{waiting}] if _v is None else ['province'])")
            else:
                evaluate += [f"        if _v:\n            hits.append({h})",
                             f"        else:\n            undecided.append(list({waiting}))"]
            unless += [f"    _v = {value}", "    if _v:\n        return None",
                       f"    if _v is None:\n        out.extend({waiting})"]
        else:
            t = gen.const(table)
            evaluate += [f"    _v, _w, _found = {table_ground}({t}, facts)", "    if _v is not False:"]
            if unknown:
                evaluate.append("        undecided.append(['province', *_w])")
            else:
                evaluate += ["        if _v:\n            hits.extend(_found)",
                             "        else:\n            undecided.append(_w)"]
            unless += [f"    _v, _w, _ = {table_ground}({t}, facts)", "    if _v:\n        return None",
                       "    if _v is None:\n        out.extend(_w)"]
    evaluate.append("    return hits, undecided")
    unless.append("    return out")
    fns = gen.build("def evaluate(facts):\n" + gen.prologue() + "\n".join(evaluate) + "\n"
                    "def waiting_unless_hit(facts):\n" + gen.prologue() + "\n".join(unless) + "\n")
    return _Plan(grounds, fns["evaluate"], fns["waiting_unless_hit"])


@dataclass(frozen=True, slots=True)
class _Day:
    """What the assessments of one province share on the days of one span (see `Engine._bounds`)."""

    grounds: _Plan
    # obligation -> (rule number, date fact, ground kinds or None, deadline kind, whether the date fact starts
    # a standing interval), in the packs' order
    deadlines: Mapping[str, tuple[tuple[int, str, frozenset[str] | None, str, bool], ...]]
    # obligation -> (pack, duty, ground kinds or None, condition value, the hit (None for a yearly duty),
    # the yearly duty's number, 0, its first year on or after the day), provincial packs first
    duties: Mapping[str, tuple[tuple[Pack, Duty, frozenset[str] | None, Any, DutyHit | None, int, int, int], ...]]
    programme: tuple[Any, Any, tuple[Text, Text, Text], str] | None  # (value, waiting, whys, citation)
    voluntary_default: VoluntaryStatus
    notes: tuple[Msg, ...] | None  # None: they name the as-of day (no national document in force)
    # (obligation, which date facts are known, ground kinds) -> the deadline rules that count for them, as
    # `deadlines` lists them (see `Engine._rules_for`); bounded by those combinations.
    _rules: dict[tuple[str, tuple[bool, ...], frozenset[str]], tuple[tuple[int, str, str, bool], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)


if DATE_FACTS != ("list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on"):
    raise RuntimeError("the date facts changed: update Engine._deadlines, which reads them in this order")

# The date facts a standing interval counts from (rather than an authority's act: a list, an evaluation).
_STANDING_FROM = frozenset({"last_audit_completed_on"})


def _field_key(name: str) -> str:
    """A disclosure field without its joining words: two packs that name the same contents with "、"
    or "及" between the parts (超标、超总量情况 / 超标及超总量情况) name one field."""
    return name.replace("、", "").replace("及", "")


@dataclass(frozen=True, slots=True)
class _Basis:
    """What the disclosure fields and offices of one (province, basis day) draw on."""

    disclosure: tuple[tuple[frozenset[str], tuple[str, ...]], ...]
    offices: tuple[tuple[frozenset[str], Any, tuple[str, ...]], ...]
    conditional: bool = False  # some entry has a `when`
    # (ground kinds, the values of the `when`s of the entries with those kinds) -> the offices; bounded by the
    # combinations of kinds and conditions, and kept as long as the basis is.
    _offices: dict[tuple[frozenset[str], tuple[Tri, ...]], tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)


def _table_ground(table: _GroundTable, facts: Facts) -> tuple[Tri, list[str], list[GroundHit]]:
    code = facts.get("industry_code")
    if code is None:
        return None, ["industry_code"], []
    rows = table.by_code.get(code)
    if rows is None:
        rows = table.by_division.get(facts["industry_division"], ((), ()))
    found = [hit for value, hit in rows[0] if value(facts)]
    if found:
        return True, [], found
    waiting = [f for cond in rows[1] if cond.value(facts) is None for f in cond.waiting(facts)]
    return (None if waiting else False), waiting, []


def _waiting_unless_hit(plan: Sequence[_PlannedGround], facts: Facts) -> list[str] | None:
    """None when a ground holds (the province is known in `facts`); else the facts the undecided ones wait on."""
    out: list[str] = []
    for _, value_of, waiting_of, _, table, _ in plan:
        if table is None:
            value = value_of(facts)
            if value:
                return None
            if value is None:
                out.extend(waiting_of(facts))
        else:
            value, waiting, _ = _table_ground(table, facts)
            if value:
                return None
            if value is None:
                out.extend(waiting)
    return out


def _evaluate(plan: Sequence[_PlannedGround], facts: Facts) -> tuple[list[GroundHit], list[list[str]]]:
    hits: list[GroundHit] = []
    undecided: list[list[str]] = []
    for unknown, value_of, waiting_of, hit, table, _ in plan:
        if table is None:
            value = value_of(facts)
            if value is False:
                continue
            if unknown:
                undecided.append(["province", *waiting_of(facts)] if value is None else ["province"])
            elif value:
                hits.append(hit)
            else:
                undecided.append(waiting_of(facts))
        else:
            value, waiting, found = _table_ground(table, facts)
            if value is False:
                continue
            if unknown:
                undecided.append(["province", *waiting])
            elif value:
                hits.extend(found)
            else:
                undecided.append(waiting)
    return hits, undecided


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
    """Holds the compiled packs; `assess` is pure and cheap (no I/O). `cache_size=0` keeps nothing between
    calls (each assessment works everything out afresh, by the reference loop `_evaluate`: generating code
    per call would cost more than it saves). `generated` (by default: when caches are kept) evaluates the
    grounds of a (province, span) by the functions `_generated_plan` writes once."""

    def __init__(self, packs: Sequence[Pack] | None = None, *, cache_size: int = CACHE_SIZE,
                 generated: bool | None = None) -> None:
        self._make_plan = _generated_plan if (cache_size > 0 if generated is None else generated) else _reference_plan
        self.packs: tuple[Pack, ...] = tuple(packs if packs is not None else default_packs())
        self._tables = {
            (p.id, name): _compile_table(t) for p in self.packs for name, t in p.tables.items()
        }
        self._provinces_with_packs = frozenset(p.jurisdiction for p in self.packs if not p.national)
        # The provinces an enterprise of unknown province may be in, as `_missing` tries them: each with
        # provincial documents, then anywhere else.
        self._worlds = (*sorted(self._provinces_with_packs), "__elsewhere__")
        # Superseded pack id -> (the rule, the superseding pack): from the rule's date its provisions are
        # cited as the new document's articles.
        self._successors: dict[str, tuple[Supersedes, Pack]] = {
            s.document: (s, p) for p in self.packs for s in p.supersedes
        }
        # Plain tuples for the hot path (pydantic attribute access is slow); hits built once, as cited
        # before and after a supersession.
        self._grounds_of = {p.id: tuple(self._compile_ground(p, g) for g in p.grounds) for p in self.packs}
        self._rules: list[tuple[Pack, Deadline]] = []
        self._deadlines_of: dict[str, tuple[tuple[int, str, frozenset[str] | None, str, str], ...]] = {}
        for p in self.packs:
            numbered = []
            for r in p.deadlines:
                numbered.append((len(self._rules), r.from_, None if r.kinds is None else frozenset(r.kinds),
                                 r.kind, r.obligation))
                self._rules.append((p, r))
            self._deadlines_of[p.id] = tuple(numbered)
        # Per rule, plain values for `_count`: its document's dates in force, its period, and the day from
        # which it is cited as a superseding document's article (with that citation), if any.
        self._rule_specs = []
        for p, r in self._rules:
            successor = self._successors.get(p.id)
            since = successor[0].from_ if successor is not None else None
            self._rule_specs.append((p, r, p.effective_from, p.effective_until, r.period.years, r.period.months,
                                     r.period.days, since, self._recite_deadline(p, r, since) if since else (p, r)))
        self._duty_specs = [(p, d) for p in self.packs for d in p.duties]
        self._duty_numbers = {id(d): i for i, (_, d) in enumerate(self._duty_specs)}
        # The days on which a document's status can change (it takes effect, expires, ends its planning
        # period, is superseded): between two of them every document is in force or not alike, so the
        # per-day work is keyed by the span (the index of the as-of day among these bounds), not the day.
        bounds: set[date] = set()
        for p in self.packs:
            bounds.update(d for d in (p.effective_from, *(s.from_ for s in p.supersedes)) if d is not None)
            bounds.update(d + timedelta(days=1) for d in (p.effective_until, p.period_end)
                          if d is not None and d < date.max)
        self._bounds = tuple(sorted(bounds))
        size = max(0, cache_size)
        self._binding = lru_cache(maxsize=size)(self._make_binding)
        self._day = lru_cache(maxsize=size)(self._make_day)
        self._ground_plan = lru_cache(maxsize=size)(self._make_ground_plan)
        self._basis = lru_cache(maxsize=size)(self._make_basis)
        self._frame = lru_cache(maxsize=2 * size)(self._make_frame)
        self._status = lru_cache(maxsize=size)(self._make_status)
        self._notes_on = lru_cache(maxsize=size)(self._make_notes)
        self._disclosure = lru_cache(maxsize=size)(self._make_disclosure)
        self._deadline = lru_cache(maxsize=2 * size)(self._make_deadline)
        self._yearly = lru_cache(maxsize=size)(self._make_yearly)
        self._consequences: Consequences = _EraConsequences(size) if size else _consequences()

    # -- the verdict -------------------------------------------------------------------------

    def assess(self, facts: Facts, as_of: date) -> Assessment:
        """`facts` are validated and derived (rules.facts.parse_facts + derive)."""
        province = facts.get("province")
        span = bisect_right(self._bounds, as_of)
        day = self._day(province, span)
        hits, undecided = day.grounds.evaluate(facts)
        if hits:
            obligation = "mandatory"
        elif undecided:
            obligation = "undetermined"
        else:
            obligation = "voluntary"
        kinds = frozenset([h.kind for h in hits]) if hits else _NO_KINDS
        if obligation == "undetermined":
            missing = self._missing(facts, as_of, undecided)
            deadlines: tuple[DeadlineHit, ...] = ()
            duties: tuple[DutyHit, ...] = ()
            used: frozenset[str] = frozenset()
        else:
            missing = ()
            deadlines = self._deadlines(day, facts, obligation, kinds, as_of)
            duties = self._duties(day, facts, obligation, kinds, as_of)
            ids = [pid for d in deadlines for pid in d.packs]
            for duty in duties:
                ids.append(duty.pack.id)
            used = frozenset(ids)
        frame = self._frame(province, as_of, used)
        if hits:
            basis = facts.get("list_published_on") or as_of
            basis_span = span if basis is as_of else bisect_right(self._bounds, basis)
            disclosure = self._disclosure(province, basis_span, kinds)
            report_to = self._offices(self._basis(province, basis_span), facts, kinds)
        else:
            disclosure = report_to = ()
        return _new_assessment(
            as_of, obligation, tuple(hits), frame.documents, deadlines, disclosure, report_to,
            self._voluntary(day, facts, obligation, hits), missing,
            day.notes if day.notes is not None else self._notes_on(province, as_of), duties, frame,
        )

    def clock_facts(self, province: str | None, obligation: str, kinds: frozenset[str]) -> frozenset[str]:
        """The date facts from which a document binding `province` (national ones always) counts a
        deadline for this verdict and these grounds: what an interview asks once the verdict is known.
        Dates are not checked here: whether a document governs a clock depends on the days it starts and ends."""
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
        span = bisect_right(self._bounds, as_of)
        for world in self._worlds:
            assumed = {**facts, "province": world}
            waiting = self._ground_plan(world, span).waiting_unless_hit(assumed)
            if waiting is not None:
                relevant.update([ASKED_AS.get(f, f) for f in waiting])
        return _rank_missing([[f for f in w if ASKED_AS.get(f, f) in relevant] for w in undecided])

    def _make_binding(self, province: str | None) -> tuple[tuple[Pack, Tri], ...]:
        """Each document with whether it binds an enterprise of `province` (None: the province is unknown)."""
        return tuple((p, True if p.national else None if province is None else province == p.jurisdiction)
                     for p in self.packs)

    # -- compiled once ------------------------------------------------------------------------

    def _compile_ground(self, pack: Pack, ground: Ground) -> tuple[Any, Any, GroundHit | None, GroundHit | None,
                                                                    _GroundTable | None, _GroundTable | None, Any]:
        """(value, waiting, hit, hit once superseded, table, table once superseded, condition as written)."""
        successor = self._successors.get(pack.id)
        since = successor[0].from_ if successor else None
        if ground.table is None:
            hit = _hit(pack, ground)
            recited = self._recite_ground(hit, since) if since else hit
            return ground.condition.value, ground.condition.waiting, hit, recited, None, None, ground.when
        table = self._tables[(pack.id, ground.table)]
        plain = self._ground_table(pack, ground, table, None)
        return (None, None, None, None, plain, self._ground_table(pack, ground, table, since) if since else plain,
                None)

    def _ground_table(self, pack: Pack, ground: Ground, table: _CompiledTable, since: date | None) -> _GroundTable:
        hits: dict[int, GroundHit] = {}

        def hit(row: TableRow) -> GroundHit:
            found = hits.get(id(row))
            if found is None:
                found = hits[id(row)] = _table_hit(pack, ground, row)
                if since is not None:
                    found = hits[id(row)] = self._recite_ground(found, since)
            return found

        def rows(covering: Sequence[tuple[TableRow, Condition]], deciding: Sequence[tuple[TableRow, Condition]]
                 ) -> _TableRows:
            return tuple((c.value, hit(r)) for r, c in covering), tuple(c for _, c in deciding)

        by_code = {code: rows(covering, table.deciding[code]) for code, covering in table.by_code.items()}
        by_division = {}
        for division in range(100):
            covering = tuple((r, c) for lo, hi, r, c in table.by_division if lo <= division <= hi)
            by_division[division] = rows(covering, covering)
        return _GroundTable(by_code, by_division)

    # -- what one (province, day) shares -------------------------------------------------------

    def _first_day(self, span: int) -> date:
        """A day of the span: every document's status on it is its status on any day of the span."""
        return self._bounds[span - 1] if span else date.min

    def _make_ground_plan(self, province: str | None, span: int) -> _Plan:
        as_of = self._first_day(span)
        out: list[_PlannedGround] = []
        for pack, juris in self._binding(province):
            if juris is False or not pack.in_force(as_of):
                continue
            successor = self._successors.get(pack.id)
            recite = successor is not None and as_of >= successor[0].from_
            for value, waiting, hit, recited, table, recited_table, raw in self._grounds_of[pack.id]:
                out.append((juris is None, value, waiting, recited if recite else hit,
                            recited_table if recite else table, raw))
        return self._make_plan(tuple(out))

    def _make_day(self, province: str | None, span: int) -> _Day:
        as_of = self._first_day(span)
        binding = self._binding(province)
        deadlines: dict[str, list[tuple[int, str, frozenset[str] | None, str, bool]]] = {
            "mandatory": [], "voluntary": []}
        for pack, juris in binding:
            if juris is True:
                for number, from_fact, rule_kinds, kind, obligation in self._deadlines_of[pack.id]:
                    deadlines.setdefault(obligation, []).append(
                        (number, from_fact, rule_kinds, kind, from_fact in _STANDING_FROM))
        first = _provincial_first(binding, as_of)
        duties: dict[str, list[Any]] = {"mandatory": [], "voluntary": []}
        for pack in first:
            for duty in pack.duties:
                kinds = None if duty.kinds is None else frozenset(duty.kinds)
                entry: tuple[Any, ...]
                if duty.yearly is None:
                    entry = (pack, duty, kinds, duty.condition.value, _duty_hit(pack, duty, as_of, None), 0, 0, 0)
                else:
                    entry = (pack, duty, kinds, duty.condition.value, None, self._duty_numbers[id(duty)],
                             duty.yearly.month, duty.yearly.day)
                duties.setdefault(duty.obligation, []).append(entry)
        provincial = [p for p in first if p.voluntary]
        programme = next(((pack, entry) for pack in provincial for entry in pack.voluntary if entry.programme), None)
        planned = None
        if programme is not None:
            in_pack, rule = programme
            whys: tuple[Text, Text, Text] = (
                rule.summary,
                Msg(N_("Does not meet the programme's conditions: {summary}"), {"summary": rule.summary}),
                Msg(N_("Whether the programme's conditions are met is not known yet: {summary}"),
                    {"summary": rule.summary}),
            )
            planned = (rule.condition.value, rule.condition.waiting, whys, f"{in_pack.title}{rule.citation}")
        default = (VoluntaryStatus(True, provincial[0].voluntary[0].summary,
                                   f"{provincial[0].title}{provincial[0].voluntary[0].citation}")
                   if provincial else VoluntaryStatus(None, _NO_VOLUNTARY, ""))
        return _Day(
            grounds=self._ground_plan(province, span),
            deadlines={k: tuple(v) for k, v in deadlines.items()},
            duties={k: tuple(v) for k, v in duties.items()},
            programme=planned,
            voluntary_default=default,
            # The notes name the day only when no national document is in force.
            notes=(self._notes({"province": province} if province else {}, as_of)
                   if any(p.national and p.in_force(as_of) for p in self.packs) else None),
        )

    def _make_notes(self, province: str | None, as_of: date) -> tuple[Msg, ...]:
        return self._notes({"province": province} if province else {}, as_of)

    def _make_basis(self, province: str | None, span: int) -> _Basis:
        first = _provincial_first(self._binding(province), self._first_day(span))
        return _Basis(
            disclosure=tuple((frozenset(e.kinds), tuple(e.fields)) for p in first for e in p.disclosure),
            offices=tuple((frozenset(e.kinds), None if e.when is None else e.condition.value, tuple(e.offices))
                          for p in first for e in p.report_to),
            conditional=any(e.when is not None for p in first for e in p.report_to),
        )

    def _make_frame(self, province: str | None, as_of: date, used: frozenset[str]) -> _Frame:
        span = bisect_right(self._bounds, as_of)
        documents = tuple(
            self._status(i, province, span, as_of if self._names_the_day(p, j, as_of) else None,
                         p.id in used)
            for i, (p, j) in enumerate(self._binding(province)))
        return _Frame(documents, _province_of(documents), self._consequences)

    def _names_the_day(self, pack: Pack, juris: Tri, as_of: date) -> bool:
        """The document's status carries the as-of day (not yet in force on it, or expired)."""
        if juris is not True:
            return False
        found = self._successors.get(pack.id)
        if found is not None and as_of >= found[0].from_:
            return False
        if pack.effective_from is not None and as_of < pack.effective_from:
            return True
        return pack.effective_until is not None and as_of > pack.effective_until

    def _make_status(self, number: int, province: str | None, span: int, day: date | None, used: bool
                     ) -> DocumentStatus:
        """The number-th document's status on `day`, or on any day of the span when its text names none."""
        pack, juris = self._binding(province)[number]
        on = day or self._first_day(span)
        facts = {"province": province} if province else {}
        return self._superseded_status(pack, on) or _document_status(pack, juris, facts, on, used)

    # -- what follows from the verdict ---------------------------------------------------------

    def _deadlines(self, day: _Day, facts: Facts, obligation: str, kinds: frozenset[str],
                   as_of: date) -> tuple[DeadlineHit, ...]:
        """The earliest deadline of each kind. A deadline counts under the documents in force on the day it
        counts from. The interval between two rounds (counted from the last round, no authority's act) is
        a standing duty: only under those of them still in force on its legal last day, or on `as_of` while
        it still runs; when all of those have expired, under the documents in force on that day that set
        such an interval (READINGS.md, "A deadline's documents")."""
        best: dict[str, list[Any]] = {}  # kind -> [earliest nominal day, the keys of the rules giving it...]
        lapsed: set[str] = set()
        later: list[tuple[int, date, str]] = []
        get, count = facts.get, self._count
        known = (get("list_published_on") is not None, get("last_audit_completed_on") is not None,
                 get("evaluated_on") is not None, get("accepted_on") is not None)
        rules = day._rules.get((obligation, known, kinds))
        if rules is None:
            rules = self._rules_for(day, obligation, known, kinds)
        for number, from_fact, kind, standing in rules:
            start: date = facts[from_fact]  # known: `rules` keeps the rules of known date facts only
            counted = count(number, start)
            if counted is None:
                if standing:
                    later.append((number, start, kind))
                continue
            if standing and not counted[1].in_force(min(as_of, counted[3].due)):
                lapsed.add(kind)
                continue
            nominal = counted[0]
            current = best.get(kind)
            if current is None or nominal < current[0]:
                best[kind] = [nominal, (number, start, False)]
            elif nominal == current[0]:
                current.append((number, start, False))
        if lapsed:
            self._carried(best, lapsed, later, as_of)
        if not best:
            return ()
        deadline = self._deadline
        if len(best) == 1:
            (kind, entries), = best.items()
            return (_met(deadline(kind, tuple(entries[1:])), facts),)
        out = [_met(deadline(kind, tuple(entries[1:])), facts) for kind, entries in best.items()]
        out.sort(key=lambda d: (d.nominal, _DEADLINE_RANK[d.kind]))
        return tuple(out)

    @staticmethod
    def _rules_for(day: _Day, obligation: str, known: tuple[bool, ...], kinds: frozenset[str]
                   ) -> tuple[tuple[int, str, str, bool], ...]:
        """The rules of `day.deadlines[obligation]` whose date fact is known and whose kinds these grounds meet."""
        present = {fact for fact, k in zip(DATE_FACTS, known, strict=True) if k}
        found = day._rules[(obligation, known, kinds)] = tuple(
            (number, from_fact, kind, standing)
            for number, from_fact, rule_kinds, kind, standing in day.deadlines.get(obligation, ())
            if from_fact in present and (rule_kinds is None or not kinds.isdisjoint(rule_kinds)))
        return found

    def _carried(self, best: dict[str, list[Any]], lapsed: set[str], later: list[tuple[int, date, str]],
                 as_of: date) -> None:
        """Standing intervals whose documents have all expired, carried on by later documents in force."""
        for kind in lapsed - set(best):
            for number, start, rule_kind in later:
                if rule_kind != kind:
                    continue
                counted = self._count(number, start, True)
                if counted is not None and counted[1].in_force(min(as_of, counted[3].due)):
                    nominal = counted[0]
                    current = best.get(kind)
                    if current is None or nominal < current[0]:
                        best[kind] = [nominal, (number, start, True)]
                    elif nominal == current[0]:
                        current.append((number, start, True))

    def _count(self, number: int, start: date, carried: bool = False) -> tuple[date, Pack, Deadline, Period] | None:
        """A deadline rule counted from `start`, cited as on that day; None when its document was not in
        force on `start` (unless `carried`: a later document carrying on a lapsed one's period, see
        `_deadlines`)."""
        pack, rule, start_on, until, years, months, days, since, recited = self._rule_specs[number]
        if not carried and ((start_on is not None and start < start_on) or (until is not None and start > until)):
            return None  # not in force on `start` (Pack.in_force)
        period = count_period(start, years=years, months=months, days=days)
        if since is not None and start >= since:
            return period.nominal, recited[0], recited[1], period
        return period.nominal, pack, rule, period

    def _make_deadline(self, kind: str, keys: tuple[tuple[int, date, bool], ...]) -> DeadlineHit:
        entries = []
        for number, start, carried in keys:
            counted = self._count(number, start, carried)
            assert counted is not None
            entries.append(counted[1:])
        return _deadline_hit(kind, entries)

    def _duties(self, day: _Day, facts: Facts, obligation: str, kinds: frozenset[str], as_of: date
                ) -> tuple[DutyHit, ...]:
        """The duties of packs in force on the as-of day, provincial first; a yearly one dated on its next
        day on or after the as-of day, and not before the year after the list was published (the first
        yearly report covers the year of the list)."""
        out: list[DutyHit] = []
        listed = facts.get("list_published_on")
        for _, _, duty_kinds, value, hit, number, month, dom in day.duties.get(obligation, ()):
            if duty_kinds is not None and kinds.isdisjoint(duty_kinds):
                continue
            if value(facts) is not True:
                continue
            if hit is None:
                year = as_of.year if (as_of.month, as_of.day) <= (month, dom) else as_of.year + 1
                hit = self._yearly(number, max(year, listed.year + 1) if listed is not None else year)
            out.append(hit)
        return tuple(out)

    def _make_yearly(self, number: int, year: int) -> DutyHit:
        """A yearly duty due in `year`: `_duty_hit` on its own day."""
        pack, duty = self._duty_specs[number]
        assert duty.yearly is not None
        return _duty_hit(pack, duty, date(year, duty.yearly.month, duty.yearly.day), None)

    def _make_disclosure(self, province: str | None, span: int, kinds: frozenset[str]) -> tuple[str, ...]:
        """The union of the fields in pack order (provincial first). A field that restates one already
        listed in other joining words (山西细则第十条 "超标、超总量情况" for 《清洁生产审核办法》第十一条
        "超标及超总量情况") is the same field: the first (provincial) wording is kept, the other dropped."""
        fields: dict[str, str] = {}
        for entry_kinds, entry_fields in self._basis(province, span).disclosure:
            if not kinds.isdisjoint(entry_kinds):
                for name in entry_fields:
                    fields.setdefault(_field_key(name), name)
        return tuple(fields.values())

    def _offices(self, basis: _Basis, facts: Facts, kinds: frozenset[str]) -> tuple[str, ...]:
        """The offices of the entries for these kinds whose `when` holds, in order, without repeats."""
        values = (tuple(value(facts) for entry_kinds, value, _ in basis.offices
                        if value is not None and not kinds.isdisjoint(entry_kinds))
                  if basis.conditional else ())
        found = basis._offices.get((kinds, values))
        if found is None:
            offices: dict[str, None] = {}
            conditions = iter(values)
            for entry_kinds, value, entry_offices in basis.offices:
                if not kinds.isdisjoint(entry_kinds) and (value is None or next(conditions)):
                    offices.update(dict.fromkeys(entry_offices))
            found = basis._offices[(kinds, values)] = tuple(offices)
        return found

    def _voluntary(self, day: _Day, facts: Facts, obligation: str, hits: Sequence[GroundHit]) -> VoluntaryStatus:
        if obligation == "mandatory":
            first = hits[0]
            found = first._derived.get("voluntary")
            if found is None:
                found = first._derived["voluntary"] = VoluntaryStatus(
                    False, _MANDATORY, f"{first.pack.title}{first.citation}")
            return found
        if obligation == "undetermined":
            return _UNDETERMINED_STATUS
        if day.programme is None:
            return day.voluntary_default
        value_of, waiting_of, whys, citation = day.programme
        v = value_of(facts)
        why = whys[0] if v else whys[1] if v is False else whys[2]
        missing = tuple(_dedupe(ASKED_AS.get(f, f) for f in waiting_of(facts)))
        return VoluntaryStatus(v, why, citation, missing)

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
        return new, replace(rule, citation=citation, quote=quote or rule.quote)

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


class _AskedAs(dict[str, str]):
    """ASKED_AS for every fact: a fact not in it is asked as itself."""

    def __missing__(self, fact: str) -> str:
        return fact


_ASKED = _AskedAs({**{fact: fact for fact in KNOWN_FACTS}, **ASKED_AS})


def _rank_missing(undecided: Sequence[Sequence[str]]) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    asked, count = _ASKED.__getitem__, counts.get
    for waiting in undecided:
        for fact in set(map(asked, waiting)):  # each undecided ground counts a fact once
            counts[fact] = count(fact, 0) + 1
    if len(counts) < 2:
        return tuple(counts)
    last = len(FACT_PRIORITY)
    return tuple(sorted(counts, key=lambda fact: (-counts[fact], _PRIORITY.get(fact, last), fact)))


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

"""Rule packs: one YAML file per legal document, validated and compiled once (see packs/SCHEMA.md).

A pack is a tree of plain frozen dataclasses (below); its YAML is validated by the pydantic models of
`rules.pack_schema`, imported only when a pack is read from YAML. `load_packs` keeps the validated packs of
a directory in a cache file (`rules.pack_cache`: a pickle keyed by the packs' and the loader's contents),
so that a process that finds it, such as `qingshen assess`, imports neither pydantic nor the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from rules.conditions import Condition, always, compile_condition
from rules.errors import RulePackError

PACK_DIR = Path(__file__).parent / "packs"

GroundKind = Literal["pollution", "energy", "toxic", "key_industry", "master_list"]
DeadlineKind = Literal["disclosure", "start", "report", "reaudit", "evaluation", "acceptance", "review"]
DateFact = Literal["list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on"]
SizeColumn = Literal["any", "large_medium", "not_micro"]

SIZE_SCALES: dict[str, frozenset[str] | None] = {
    "any": None,
    "large_medium": frozenset({"large", "medium"}),
    "not_micro": frozenset({"large", "medium", "small"}),
}

# The dataclasses mirror the models of rules.pack_schema field for field (a test compares them); the
# schema's documentation of each field is there and in packs/SCHEMA.md.


@dataclass(frozen=True, kw_only=True)
class _Conditional:
    """A provision with an optional `when`, compiled on first use (the schema checked that it compiles)."""

    when: dict[str, Any] | None = None

    @cached_property
    def condition(self) -> Condition:
        return always() if self.when is None else compile_condition(self.when, "when")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("condition", None)  # closures: compiled again after unpickling
        return state


@dataclass(frozen=True, kw_only=True)
class Ground(_Conditional):
    id: str
    kind: GroundKind
    citation: str
    quote: str
    summary: str
    table: str | None = None


@dataclass(frozen=True, kw_only=True)
class TableRow(_Conditional):
    code: str | None = None
    divisions: tuple[int, int] | None = None
    sector: str
    name: str
    size: SizeColumn
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Table:
    rows: list[TableRow]


@dataclass(frozen=True, kw_only=True)
class Disclosure:
    id: str
    kinds: list[GroundKind]
    citation: str
    quote: str
    fields: list[str]


@dataclass(frozen=True, kw_only=True)
class ReportTo(_Conditional):
    id: str
    kinds: list[GroundKind]
    citation: str
    quote: str
    offices: list[str]


@dataclass(frozen=True, kw_only=True)
class PeriodSpec:
    years: int = 0
    months: int = 0
    days: int = 0


@dataclass(frozen=True, kw_only=True)
class Deadline:
    id: str
    kind: DeadlineKind
    from_: DateFact
    period: PeriodSpec
    obligation: Literal["mandatory", "voluntary"]
    kinds: list[GroundKind] | None = None
    citation: str
    quote: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Voluntary(_Conditional):
    id: str
    citation: str
    quote: str
    summary: str
    programme: bool = False


@dataclass(frozen=True, kw_only=True)
class OfficerDate:
    id: str
    month: int
    day: int | Literal["end"]
    citation: str
    quote: str
    note: str


@dataclass(frozen=True, kw_only=True)
class YearlyDate:
    month: int
    day: int


@dataclass(frozen=True, kw_only=True)
class Duty(_Conditional):
    """An obligation that follows from a mandatory (or voluntary) verdict without a period counted from a
    date fact: what to do (publish the audit result in local media), or a yearly date (the environmental-
    information disclosure by 15 March). `milestone` names the milestone kind a yearly duty is kept as."""

    id: str
    obligation: Literal["mandatory", "voluntary"] = "mandatory"
    kinds: list[GroundKind] | None = None
    citation: str
    quote: str
    summary: str
    yearly: YearlyDate | None = None
    milestone: Literal["env_disclosure"] | None = None
    fields: list[str] = field(default_factory=list)
    fields_citation: str = ""


@dataclass(frozen=True, kw_only=True)
class ArticleMap:
    """One article of the superseded document and the new document's article that replaces it."""

    old: str                      # a citation prefix in the old pack, e.g. 第二十七条第二款
    new: str                      # the new document's article, e.g. 第三百零一条第二款
    quote: str = ""               # the new text's wording, verbatim, when known


@dataclass(frozen=True, kw_only=True)
class Supersedes:
    """This document replaces `document` from `from_`; its provisions are then cited by `articles`."""

    document: str                 # the id of the superseded pack
    from_: date
    citation: str                 # the article of this document that repeals or absorbs the old one
    quote: str
    articles: list[ArticleMap]

    def recite(self, citation: str) -> ArticleMap | None:
        """The mapping whose `old` is the longest prefix of `citation`, or None (not mapped)."""
        found = [a for a in self.articles if citation.startswith(a.old)]
        return max(found, key=lambda a: len(a.old)) if found else None


@dataclass(frozen=True, kw_only=True)
class Pack:
    id: str
    title: str
    issuer: str
    number: str
    jurisdiction: str
    published_on: date | None = None      # the day it was issued (印发/发布), when the text says
    effective_from: date | None
    effective_until: date | None
    period_end: date | None = None
    validity_citation: str = ""
    notes: str = ""
    grounds: list[Ground] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    disclosure: list[Disclosure] = field(default_factory=list)
    report_to: list[ReportTo] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    voluntary: list[Voluntary] = field(default_factory=list)
    officer_dates: list[OfficerDate] = field(default_factory=list)
    duties: list[Duty] = field(default_factory=list)
    supersedes: list[Supersedes] = field(default_factory=list)
    # Filled by the loader, not the YAML.
    file: str = ""
    version: str = ""

    def in_force(self, on: date) -> bool:
        return _in_force(self.effective_from, self.effective_until, on)

    @property
    def national(self) -> bool:
        return self.jurisdiction == "national"


@lru_cache(maxsize=65536)
def _in_force(start: date | None, until: date | None, on: date) -> bool:
    return (start is None or start <= on) and (until is None or on <= until)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML with dates left as text, so a bad date is reported by its key, not by PyYAML. LibYAML's
    parser when PyYAML has it (10x faster: the packs load in about 20 ms instead of 200), same result."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_pack(path: Path) -> Pack:
    """Read and validate one pack; errors name the file and the key."""
    from rules.pack_schema import parse_pack

    return parse_pack(path.name, path.read_bytes())


def load_packs(directory: Path | None = None, *, cache: bool = True) -> tuple[Pack, ...]:
    """Every pack in the directory: national ones first, then provincial, each group by file name.

    With `cache`, the validated packs are kept in a cache file (rules.pack_cache) and read from it while no
    pack file and no file of the loader has changed; a cache that cannot be read or written is ignored."""
    from rules import pack_cache

    d = directory or PACK_DIR
    contents = [(p.name, p.read_bytes()) for p in sorted(d.glob("*.yaml"))]
    key = pack_cache.key_of(d, contents) if cache else None
    if key is not None:
        cached = pack_cache.read(key)
        if cached is not None:
            return cached
    from rules.pack_schema import parse_pack

    packs = [parse_pack(name, data) for name, data in contents]
    ids = [p.id for p in packs]
    dupes = sorted({x for x in ids if ids.count(x) > 1})
    if dupes:
        raise RulePackError(f"{d.name}: duplicate pack id(s) {dupes}")
    _check_jurisdictions(packs)
    check_supersedes(packs)
    loaded = tuple(sorted(packs, key=lambda p: (not p.national, p.file)))
    if key is not None:
        pack_cache.write(key, loaded)
    return loaded


def check_supersedes(packs: Sequence[Pack]) -> None:
    """Every superseded document is loaded and superseded by one document only."""
    ids = {p.id for p in packs}
    by: dict[str, str] = {}
    for p in packs:
        for i, s in enumerate(p.supersedes):
            if s.document not in ids:
                raise RulePackError(f"{p.file}: supersedes[{i}].document: no loaded pack {s.document!r}")
            if s.document in by:
                raise RulePackError(f"{p.file}: supersedes[{i}].document: {s.document!r} is already "
                                    f"superseded by {by[s.document]!r}")
            by[s.document] = p.id


def _check_jurisdictions(packs: Sequence[Pack]) -> None:
    from rules.provinces import all_provinces

    known = {p.id for p in all_provinces()} | {"national"}
    for p in packs:
        if p.jurisdiction not in known:
            raise RulePackError(f"{p.file}: jurisdiction: unknown province {p.jurisdiction!r}")


@lru_cache(maxsize=1)
def default_packs() -> tuple[Pack, ...]:
    return load_packs()

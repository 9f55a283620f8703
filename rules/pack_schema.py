"""The schema of a rule pack as pydantic models: the validation of a pack's YAML (packs/SCHEMA.md), with the
errors named by key path. Imported only when a pack is read from YAML (`rules.packs.load_pack`, a cache miss
of `rules.packs.load_packs`, `qingshen rules check`): pydantic and these models cost about 100 ms to import
and build. A validated pack is turned into the plain dataclasses of `rules.packs`, which the engine uses."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

import rules.packs as runtime
from rules.conditions import ConditionError, compile_condition
from rules.errors import RulePackError
from rules.packs import DateFact, DeadlineKind, GroundKind, SizeColumn, _Loader

NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Conditional(_Model):
    """A provision with an optional `when`, a condition that must compile (the dataclass compiles it again
    when the engine first asks for it)."""

    when: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _compile(self) -> _Conditional:
        if self.when is not None:
            try:
                compile_condition(self.when, "when")
            except ConditionError as e:
                raise ValueError(str(e)) from None
        return self


class Ground(_Conditional):
    id: NonEmpty
    kind: GroundKind
    citation: NonEmpty
    quote: NonEmpty
    summary: NonEmpty
    table: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Ground:
        if (self.when is None) == (self.table is None):
            raise ValueError("a ground needs exactly one of 'when' and 'table'")
        return self


class TableRow(_Conditional):
    code: str | None = None
    divisions: tuple[int, int] | None = None
    sector: NonEmpty
    name: NonEmpty
    size: SizeColumn
    note: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, v: str | None) -> str | None:
        if v is not None and not (len(v) == 4 and v.isdigit()):
            raise ValueError(f"bad industry class code {v!r} (four digits, quoted)")
        return v

    @model_validator(mode="after")
    def _one_key(self) -> TableRow:
        if (self.code is None) == (self.divisions is None):
            raise ValueError("a row needs exactly one of 'code' and 'divisions'")
        return self


class Table(_Model):
    rows: list[TableRow] = Field(min_length=1)


class Disclosure(_Model):
    id: NonEmpty
    kinds: list[GroundKind] = Field(min_length=1)
    citation: NonEmpty
    quote: NonEmpty
    fields: list[NonEmpty] = Field(min_length=1)


class ReportTo(_Conditional):
    id: NonEmpty
    kinds: list[GroundKind] = Field(min_length=1)
    citation: NonEmpty
    quote: NonEmpty
    offices: list[NonEmpty] = Field(min_length=1)


class PeriodSpec(_Model):
    years: int = Field(default=0, ge=0, le=50)
    months: int = Field(default=0, ge=0, le=600)
    days: int = Field(default=0, ge=0, le=3650)

    @model_validator(mode="after")
    def _nonzero(self) -> PeriodSpec:
        if not (self.years or self.months or self.days):
            raise ValueError("a period needs years, months or days")
        return self


class Deadline(_Model):
    id: NonEmpty
    kind: DeadlineKind
    from_: DateFact = Field(alias="from")
    period: PeriodSpec
    obligation: Literal["mandatory", "voluntary"]
    kinds: list[GroundKind] | None = None
    citation: NonEmpty
    quote: NonEmpty
    note: str = ""


class Voluntary(_Conditional):
    id: NonEmpty
    citation: NonEmpty
    quote: NonEmpty
    summary: NonEmpty
    programme: bool = False


class OfficerDate(_Model):
    id: NonEmpty
    month: int = Field(ge=1, le=12)
    day: int | Literal["end"]
    citation: NonEmpty
    quote: NonEmpty
    note: NonEmpty


class YearlyDate(_Model):
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class Duty(_Conditional):
    """An obligation that follows from a mandatory (or voluntary) verdict without a period counted from a
    date fact: what to do (publish the audit result in local media), or a yearly date (the environmental-
    information disclosure by 15 March). `milestone` names the milestone kind a yearly duty is kept as."""

    id: NonEmpty
    obligation: Literal["mandatory", "voluntary"] = "mandatory"
    kinds: list[GroundKind] | None = None
    citation: NonEmpty
    quote: NonEmpty
    summary: NonEmpty
    yearly: YearlyDate | None = None
    milestone: Literal["env_disclosure"] | None = None
    fields: list[NonEmpty] = []
    fields_citation: str = ""

    @model_validator(mode="after")
    def _milestone_is_yearly(self) -> Duty:
        if (self.milestone is None) != (self.yearly is None):
            raise ValueError("a duty has 'milestone' exactly when it has 'yearly'")
        return self


class ArticleMap(_Model):
    """One article of the superseded document and the new document's article that replaces it."""

    old: NonEmpty                 # a citation prefix in the old pack, e.g. 第二十七条第二款
    new: NonEmpty                 # the new document's article, e.g. 第三百零一条第二款
    quote: str = ""               # the new text's wording, verbatim, when known


class Supersedes(_Model):
    """This document replaces `document` from `from`; its provisions are then cited by `articles`."""

    document: NonEmpty            # the id of the superseded pack
    from_: date = Field(alias="from")
    citation: NonEmpty            # the article of this document that repeals or absorbs the old one
    quote: NonEmpty
    articles: list[ArticleMap] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Supersedes:
        olds = [a.old for a in self.articles]
        dupes = sorted({x for x in olds if olds.count(x) > 1})
        if dupes:
            raise ValueError(f"articles: old article(s) mapped twice {dupes}")
        return self


class Pack(_Model):
    id: NonEmpty
    title: NonEmpty
    issuer: NonEmpty
    number: str
    jurisdiction: NonEmpty
    published_on: date | None = None      # the day it was issued (印发/发布), when the text says
    effective_from: date | None
    effective_until: date | None
    period_end: date | None = None
    validity_citation: str = ""
    notes: str = ""
    grounds: list[Ground] = []
    tables: dict[str, Table] = {}
    disclosure: list[Disclosure] = []
    report_to: list[ReportTo] = []
    deadlines: list[Deadline] = []
    voluntary: list[Voluntary] = []
    officer_dates: list[OfficerDate] = []
    duties: list[Duty] = []
    supersedes: list[Supersedes] = []
    # Filled by the loader, not the YAML.
    file: str = ""
    version: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Pack:
        if self.effective_from and self.effective_until and self.effective_until < self.effective_from:
            raise ValueError("effective_until is before effective_from")
        if self.published_on and self.effective_from and self.effective_from < self.published_on:
            raise ValueError("effective_from: the document takes effect before its published_on")
        for i, g in enumerate(self.grounds):
            if g.table is not None and g.table not in self.tables:
                raise ValueError(f"grounds[{i}].table: no table named {g.table!r} in 'tables'")
        for i, s in enumerate(self.supersedes):
            if s.document == self.id:
                raise ValueError(f"supersedes[{i}].document: a document cannot supersede itself")
            if self.effective_from is not None and s.from_ < self.effective_from:
                raise ValueError(f"supersedes[{i}].from: {s.from_} is before this document's effective_from")
        for section in ("grounds", "disclosure", "report_to", "deadlines", "voluntary", "officer_dates", "duties"):
            ids = [item.id for item in getattr(self, section)]
            dupes = sorted({x for x in ids if ids.count(x) > 1})
            if dupes:
                raise ValueError(f"{section}: duplicate id(s) {dupes}")
        return self


def to_runtime(value: Any) -> Any:
    """The validated model (or a list, dict or tuple of them) as the dataclasses of `rules.packs`, field by
    field (a test checks that both have the same fields)."""
    if isinstance(value, BaseModel):
        cls = getattr(runtime, type(value).__name__)
        return cls(**{name: to_runtime(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, list):
        return [to_runtime(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_runtime(v) for v in value)
    if isinstance(value, dict):
        return {k: to_runtime(v) for k, v in value.items()}
    return value


def parse_pack(name: str, raw_bytes: bytes) -> runtime.Pack:
    """Read and validate one pack's YAML; RulePackError names the file (`name`) and the key."""
    try:
        raw = yaml.load(raw_bytes, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as e:
        raise RulePackError(f"{name}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise RulePackError(f"{name}: (top): a pack must be a mapping")
    try:
        pack = Pack.model_validate(raw)
    except ValidationError as e:
        raise RulePackError(f"{name}: {_where(e)}") from None
    version = hashlib.sha256(raw_bytes).hexdigest()[:12]
    built: runtime.Pack = to_runtime(pack)
    return dataclasses.replace(built, file=name, version=version)


def _where(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    msg = str(first["msg"]).removeprefix("Value error, ")
    extra = f" (got {first['input']!r})" if first["type"] not in ("value_error", "missing") else ""
    return f"{loc or '(top)'}: {msg}{extra}"

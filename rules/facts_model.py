"""The pydantic model of the fact table: the reference validation of `rules.facts.parse_facts`, and the one
that words the error. Imported only when the fast check of `rules.facts` cannot accept the facts as they are
(pydantic costs about 80 ms to import, more than an assessment)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from rules.errors import FactError
from rules.facts import _ISO_DATE, DATE_FACTS, NUMBER_FACTS, TOXIC_CLASSES, _json_type
from rules.industries import validate_code
from rules.provinces import normalize_province

ToxicClass = Literal["hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic"]
Number = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class FactsModel(BaseModel):
    """DESIGN.md's fact table. Unknown names are refused, types are strict (no "yes" for true)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    province: str | None = None
    industry_code: str | None = None
    scale: Literal["large", "medium", "small", "micro"] | None = None
    employees: Number | None = None
    revenue_10k_yuan: Number | None = None
    exceeds_emission_standard: StrictBool | None = None
    exceeds_total_quota: StrictBool | None = None
    exceeds_energy_limit: StrictBool | None = None
    missed_energy_target: StrictBool | None = None
    toxic_classes: list[ToxicClass] | None = None
    has_extraction: StrictBool | None = None
    has_industrial_coating: StrictBool | None = None
    above_designated_size: StrictBool | None = None
    on_master_list: StrictBool | None = None
    list_published_on: date | None = None
    last_audit_completed_on: date | None = None
    evaluated_on: date | None = None
    accepted_on: date | None = None
    central_enterprise: StrictBool | None = None

    @field_validator("province", mode="before")
    @classmethod
    def _province(cls, v: object) -> str | None:
        return None if v is None else normalize_province(v)

    @field_validator("industry_code", mode="before")
    @classmethod
    def _industry(cls, v: object) -> str | None:
        return None if v is None else validate_code(v)

    @field_validator(*NUMBER_FACTS, mode="before")
    @classmethod
    def _json_number(cls, v: object) -> object:
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
            return v
        raise ValueError(f"expected a JSON number, not {_json_type(v)}")

    @field_validator(*DATE_FACTS, mode="before")
    @classmethod
    def _iso_date(cls, v: object) -> object:
        if v is None or isinstance(v, date):
            return v
        if not isinstance(v, str):
            raise ValueError(f"expected a date as a \"YYYY-MM-DD\" string, not {_json_type(v)}")
        if not _ISO_DATE.fullmatch(v):
            raise ValueError("expected a date written exactly YYYY-MM-DD (no week dates, no spaces)")
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a real date (YYYY-MM-DD)") from None

    @field_validator("toxic_classes")
    @classmethod
    def _dedupe(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else list(dict.fromkeys(v))


def validate(raw: dict[object, object]) -> dict[str, object]:
    """The known facts of `raw` (a dict) in the model's field order; FactError names the bad field."""
    try:
        model = FactsModel.model_validate(raw)
    except FactError:
        raise
    except ValidationError as e:
        raise _fact_error(e) from None
    return model.model_dump(exclude_none=True)


def _fact_error(err: ValidationError) -> FactError:
    first = err.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "(facts)"
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, FactError):
        return cause
    if first["type"] == "extra_forbidden":
        return FactError(field, "unknown fact name (see the fact table in DESIGN.md)")
    if field == "toxic_classes" and first["type"] == "literal_error":
        return FactError(field, f"unknown toxic class {first['input']!r}; expected one of {list(TOXIC_CLASSES)}")
    if first["type"] == "list_type":
        return FactError(field, f"expected a JSON array of strings, not {_json_type(first['input'])}")
    if first["type"] == "bool_type":
        return FactError(field, f"expected true or false, not {_json_type(first['input'])} {first['input']!r}")
    msg = str(first["msg"]).removeprefix("Value error, ")
    return FactError(field, f"{msg} (got {first['input']!r})")

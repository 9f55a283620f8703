"""The facts an assessment starts from: validated at the edge, then enriched with derived facts.

Absent means unknown. Every error names the offending field (`FactError.field`).

The reference validation is the pydantic model of `rules.facts_model`. Facts that are plainly well formed
(JSON types exactly as the table says) are accepted here by a hand-written check that gives the same
result; anything else goes through the model, which words the error. So `qingshen assess` does not import
pydantic for good input (a test compares both on random facts).
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from rules.errors import FactError
from rules.industries import division_of, section_of, validate_code
from rules.provinces import normalize_province
from rules.sizes import above_designated_size, derive_scale

TOXIC_CLASSES: tuple[str, ...] = ("hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic")
SCALES = ("large", "medium", "small", "micro")
DATE_FACTS = ("list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on")
NUMBER_FACTS = ("employees", "revenue_10k_yuan")
# Exactly YYYY-MM-DD in ASCII digits: no ISO week or ordinal dates, no basic format, no spaces.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _json_type(v: object) -> str:
    """The JSON name of a value's type, for error messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true/false"
    names = {str: "a string", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return names.get(type(v), type(v).__name__)


def parse_facts(raw: object) -> dict[str, Any]:
    """Validate a JSON object of facts; returns only the facts that are known, in the fact table's order."""
    if not isinstance(raw, dict):
        raise FactError("(facts)", f"expected a JSON object of facts, got {type(raw).__name__}")
    try:
        fast = _plain_facts(raw)
    except FactError:
        fast = None
    if fast is not None:
        return fast
    from rules.facts_model import validate

    return validate(raw)


_BOOL, _NUMBER, _DATE, _SCALE, _TOXIC, _PROVINCE, _INDUSTRY = range(7)
# The fact table in the model's field order (rules.facts_model.FactsModel), each with its kind.
_FIELDS: tuple[tuple[str, int], ...] = (
    ("province", _PROVINCE), ("industry_code", _INDUSTRY), ("scale", _SCALE), ("employees", _NUMBER),
    ("revenue_10k_yuan", _NUMBER), ("exceeds_emission_standard", _BOOL), ("exceeds_total_quota", _BOOL),
    ("exceeds_energy_limit", _BOOL), ("missed_energy_target", _BOOL), ("toxic_classes", _TOXIC),
    ("has_extraction", _BOOL), ("has_industrial_coating", _BOOL), ("above_designated_size", _BOOL),
    ("on_master_list", _BOOL), ("list_published_on", _DATE), ("last_audit_completed_on", _DATE),
    ("evaluated_on", _DATE), ("accepted_on", _DATE), ("central_enterprise", _BOOL),
)
_NAMES = frozenset(name for name, _kind in _FIELDS)
_TOXIC_SET = frozenset(TOXIC_CLASSES)
_SCALE_SET = frozenset(SCALES)


def _plain_facts(raw: dict[Any, Any]) -> dict[str, Any] | None:
    """What the model makes of `raw` when every value is exactly of its JSON type and valid; None when the
    model must decide (an unknown name, another type, a value out of range). FactError from the province
    and industry checks, which the model would raise the same."""
    if not _NAMES.issuperset(raw):
        return None
    out: dict[str, Any] = {}
    for name, kind in _FIELDS:
        v = raw.get(name)
        if v is None:
            continue
        t = type(v)
        if kind == _BOOL:
            if t is not bool:
                return None
        elif kind == _DATE:
            if t is str and _ISO_DATE.fullmatch(v):
                try:
                    v = date.fromisoformat(v)
                except ValueError:
                    return None
            elif t is not date:
                return None
        elif kind == _NUMBER:
            if t is not int and t is not float:
                return None
            try:
                v = float(v)
            except OverflowError:
                return None
            if not (math.isfinite(v) and v >= 0):
                return None
        elif kind == _PROVINCE:
            if t is not str:
                return None
            v = normalize_province(v)
        elif kind == _INDUSTRY:
            if t is not str:
                return None
            v = validate_code(v)
        elif kind == _SCALE:
            if t is not str or v not in _SCALE_SET:
                return None
        elif t is not list or not all(type(x) is str and x in _TOXIC_SET for x in v):  # _TOXIC
            return None
        else:
            v = list(dict.fromkeys(v))
        out[name] = v
    return out


_CODE_PARTS: dict[str, tuple[str, int]] = {}  # industry code -> (section, division), as derive found them


def derive(facts: dict[str, Any]) -> dict[str, Any]:
    """Add the derived facts the rules may name: industry section/division, scale, 规上."""
    return derive_into(dict(facts))


def derive_into(out: dict[str, Any]) -> dict[str, Any]:
    """`derive`, adding to `out` itself (for facts just made by `parse_facts`, which nothing else holds)."""
    code = out.get("industry_code")
    if code is not None:
        parts = _CODE_PARTS.get(code)
        if parts is None:
            parts = (section_of(code), division_of(code))
            if len(_CODE_PARTS) < 4096:  # the classes of GB/T 4754 (about 1,400), and codes of other levels
                _CODE_PARTS[code] = parts
        out["industry_section"], out["industry_division"] = parts
    if out.get("scale") is None:
        scale = derive_scale(out.get("employees"), out.get("revenue_10k_yuan"))
        if scale is not None:
            out["scale"] = scale
    if out.get("above_designated_size") is None:
        above = above_designated_size(out.get("revenue_10k_yuan"))
        if above is not None:
            out["above_designated_size"] = above
    return out

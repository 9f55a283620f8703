"""`rules.facts.parse_facts` accepts plainly well-formed facts without pydantic; whatever it accepts must be
exactly what the pydantic model (`rules.facts_model`) makes of them, and whatever it refuses must get the
model's error. Compared on random facts, valid and not."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.errors import FactError
from rules.facts import _FIELDS, TOXIC_CLASSES, _plain_facts, parse_facts
from rules.facts_model import validate

NAMES = [name for name, _kind in _FIELDS]
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-5, max_value=10**400), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["", "2021-02-30", "2021-3-31", "20210331", "2021-W13-3", " 2021-03-31"]),
    st.lists(st.sampled_from([*TOXIC_CLASSES, "lead", 1]), max_size=4), st.dates(), st.just({"a": 1}),
)
GOOD: dict[str, Any] = {
    "province": st.sampled_from(["shandong", "Shanxi", " 14 ", "山东", "鲁", "xinjiang", "henan", "atlantis"]),
    "industry_code": st.sampled_from(["3011", "2614", "0111", "30A1", "9999", "301"]),
    "scale": st.sampled_from(["large", "medium", "small", "micro", "huge"]),
    "employees": st.one_of(st.integers(min_value=0, max_value=10**6), st.floats(min_value=0, max_value=1e9)),
    "revenue_10k_yuan": st.one_of(st.integers(min_value=0, max_value=10**6), st.floats(min_value=0, max_value=1e9)),
    "toxic_classes": st.lists(st.sampled_from(TOXIC_CLASSES), max_size=6),
}


def _value(name: str) -> st.SearchStrategy[Any]:
    if name.endswith("_on"):
        good: st.SearchStrategy[Any] = st.dates(min_value=date(1990, 1, 1)).map(date.isoformat)
    else:
        good = GOOD.get(name, st.booleans())
    return st.one_of(good, good, good, ODD)


FACTS = st.sets(st.sampled_from([*NAMES, "colour"]), max_size=8).flatmap(
    lambda keys: st.fixed_dictionaries({k: _value(k) for k in keys}))


def _outcome(call: Any, raw: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", call(raw)
    except FactError as e:
        return "error", (e.field, e.message)


@settings(max_examples=600, deadline=None)
@given(FACTS)
def test_the_fast_check_says_what_the_model_says(raw: dict[str, Any]) -> None:
    expected = _outcome(validate, raw)
    got = _outcome(parse_facts, raw)
    assert got == expected
    if got[0] == "ok":
        assert repr(got[1]) == repr(expected[1])          # the same order and types (300.0, not 300)


def test_plain_facts_are_accepted_without_the_model() -> None:
    raw = {"province": "山东", "industry_code": "3011", "employees": 300, "exceeds_energy_limit": True,
           "toxic_classes": ["pop", "pop", "heavy_metal"], "list_published_on": "2021-03-31", "scale": None}
    assert _plain_facts(raw) == {"province": "shandong", "industry_code": "3011", "employees": 300.0,
                                 "exceeds_energy_limit": True, "toxic_classes": ["pop", "heavy_metal"],
                                 "list_published_on": date(2021, 3, 31)}


def test_anything_else_is_left_to_the_model() -> None:
    for raw in ({"colour": "red"}, {"exceeds_energy_limit": "yes"}, {"employees": -1}, {"employees": True},
                {"list_published_on": "2021-02-30"}, {"toxic_classes": ["lead"]}, {"employees": 10**400}):
        assert _plain_facts(raw) is None, raw

"""Generated conditions answer as the reference tree of closures (rules/conditions.py).

Random conditions (every operator and test, nested junctions and negations) over random facts, some
absent: the generated value is the same object (True, False or None) and the waiting facts the same list.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.conditions import ConditionError, compile_condition

SCALES = ["large", "medium", "small", "micro"]
TOXIC = ["hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic"]
BOOLS = ["exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit", "has_extraction",
         "on_master_list", "central_enterprise"]

LEAVES = st.one_of(
    st.builds(lambda f, v: {"fact": f, "is": v}, st.sampled_from(BOOLS), st.booleans()),
    st.builds(lambda v: {"fact": "scale", "is": v}, st.sampled_from(SCALES)),
    st.builds(lambda v: {"fact": "scale", "in": v}, st.lists(st.sampled_from(SCALES), min_size=1, unique=True)),
    st.builds(lambda v: {"fact": "industry_section", "in": v}, st.lists(st.sampled_from("BCD"), min_size=1)),
    st.builds(lambda v: {"fact": "toxic_classes", "intersects": v}, st.lists(st.sampled_from(TOXIC), min_size=1)),
    st.builds(lambda v: {"fact": "toxic_classes", "nonempty": v}, st.booleans()),
    st.builds(lambda v: {"fact": "employees", "at_least": v}, st.integers(0, 3000)),
    st.builds(lambda v: {"fact": "revenue_10k_yuan", "below": v}, st.floats(0, 1e5, allow_nan=False)),
)
CONDITIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=4)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=4)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=12,
)
FACTS = st.fixed_dictionaries({}, optional={
    **{name: st.booleans() for name in BOOLS},
    "scale": st.sampled_from(SCALES),
    "industry_section": st.sampled_from("ABCD"),
    "toxic_classes": st.lists(st.sampled_from(TOXIC), max_size=3, unique=True),
    "employees": st.integers(0, 3000),
    "revenue_10k_yuan": st.floats(0, 1e5, allow_nan=False),
})


@settings(max_examples=600, deadline=None)
@given(raw=CONDITIONS, facts=st.lists(FACTS, min_size=1, max_size=8))
def test_generated_condition_answers_as_the_reference(raw: dict[str, Any], facts: list[dict[str, Any]]) -> None:
    fast, reference = compile_condition(raw), compile_condition(raw, generated=False)
    assert fast.facts == reference.facts
    for f in facts:
        assert fast.value(f) is reference.value(f), (raw, f)
        assert fast.waiting(f) == reference.waiting(f), (raw, f)


def test_a_malformed_condition_is_refused_before_any_code_is_written() -> None:
    for raw, path in (({"fact": "province; import os", "is": 1}, ".fact"), ({"all": []}, ".all"),
                      ({"fact": "scale", "matches": "x"}, ".matches")):
        try:
            compile_condition(raw)
        except ConditionError as e:
            assert e.path == path
        else:
            raise AssertionError(f"{raw} was accepted")

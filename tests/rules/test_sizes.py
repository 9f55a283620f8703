"""Industrial enterprise size (统计上大中小微型企业划分办法 2017) and 规模以上 (rules/sizes.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.sizes import SCALES, above_designated_size, derive_scale


@pytest.mark.parametrize(
    ("employees", "revenue", "scale"),
    [
        (1000, 40000, "large"),
        (1000, 39999, "medium"),
        (999, 40000, "medium"),
        (300, 2000, "medium"),
        (299, 2000, "small"),
        (300, 1999, "small"),
        (20, 300, "small"),
        (20, 299, "micro"),
        (19, 300, "micro"),
        (0, 0, "micro"),
        (5000, 100, "micro"),  # micro needs only one measure
        (10, 1_000_000, "micro"),
        (1000, 300, "small"),  # large employees, small revenue: the lower class
        (1e6, 1e9, "large"),
    ],
)
def test_both_known(employees: float, revenue: float, scale: str) -> None:
    assert derive_scale(employees, revenue) == scale


@pytest.mark.parametrize(
    ("employees", "revenue", "scale"),
    [
        (10, None, "micro"),  # below small's employee bound, whatever the revenue
        (19.5, None, "micro"),
        (None, 299, "micro"),
        (None, 0, "micro"),
        (20, None, None),  # small or micro
        (5000, None, None),  # anything from micro to large
        (None, 40000, None),
        (None, 300, None),
        (None, None, None),
        (math.nan, None, None),
        (math.nan, 100, "micro"),
        (math.nan, 5000, None),
    ],
)
def test_partial_knowledge(employees: float | None, revenue: float | None, scale: str | None) -> None:
    assert derive_scale(employees, revenue) == scale


def test_partial_answer_holds_for_every_unknown_value() -> None:
    probes = [0, 19, 20, 299, 300, 999, 1000, 1999, 2000, 39999, 40000, 1e7]
    for known in probes:
        by_revenue = {derive_scale(known, r) for r in probes}
        by_employees = {derive_scale(e, known) for e in probes}
        expect_e = by_revenue.pop() if len(by_revenue) == 1 else None
        expect_r = by_employees.pop() if len(by_employees) == 1 else None
        assert derive_scale(known, None) == expect_e
        assert derive_scale(None, known) == expect_r


def test_above_designated_size() -> None:
    assert above_designated_size(2000) is True
    assert above_designated_size(1999.99) is False
    assert above_designated_size(0) is False
    assert above_designated_size(None) is None
    assert above_designated_size(math.nan) is None


amounts = st.floats(min_value=0, max_value=1e9, allow_nan=False) | st.integers(min_value=0, max_value=10**7)


@given(amounts, amounts)
def test_both_known_is_always_decided(employees: float, revenue: float) -> None:
    assert derive_scale(employees, revenue) in SCALES


@given(amounts, amounts, amounts, amounts)
def test_monotone(e1: float, r1: float, e2: float, r2: float) -> None:
    lo_e, hi_e = sorted((e1, e2))
    lo_r, hi_r = sorted((r1, r2))
    low = derive_scale(lo_e, lo_r)
    high = derive_scale(hi_e, hi_r)
    assert low is not None and high is not None
    assert SCALES.index(high) >= SCALES.index(low)
    for e, r in ((hi_e, lo_r), (lo_e, hi_r)):
        mid = derive_scale(e, r)
        assert mid is not None and SCALES.index(low) <= SCALES.index(mid) <= SCALES.index(high)

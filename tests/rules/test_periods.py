"""Periods under 民法典 第二百零一条至第二百零三条 (rules/periods.py).

Expected holiday dates were checked against the installed chinese_calendar (1.11.0), e.g.
2025 National Day 10-01..10-08 off (10-09 works), 2026 National Day 10-01..10-07 off (10-08 works),
2026 Spring Festival 02-15..02-23 off with 02-14 and 02-28 (Saturdays) as make-up working days.
The schedules written to tmp_path below are test fixtures, not real State Council schedules.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.errors import RulePackError
from rules.periods import (
    HOLIDAYS_FILE,
    Period,
    add_period,
    count_period,
    day_status,
    is_working_day,
    load_holidays,
    package_years,
    schedule_known,
)

UNKNOWN_YEAR = 2099  # far beyond any published schedule


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- 第二百零二条: nominal end ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "kwargs", "nominal"),
    [
        (date(2026, 1, 30), {"months": 1}, date(2026, 2, 28)),
        (date(2026, 1, 31), {"months": 1}, date(2026, 2, 28)),
        (date(2024, 1, 31), {"months": 1}, date(2024, 2, 29)),
        (date(2024, 2, 29), {"years": 1}, date(2025, 2, 28)),
        (date(2028, 2, 29), {"years": 4}, date(2032, 2, 29)),
        (date(2026, 3, 31), {"months": 6}, date(2026, 9, 30)),
        (date(2026, 1, 15), {"days": 30}, date(2026, 2, 14)),
        (date(2026, 1, 15), {}, date(2026, 1, 15)),
    ],
)
def test_add_period_month_ends(start: date, kwargs: dict[str, int], nominal: date) -> None:
    assert add_period(start, **kwargs) == nominal
    assert count_period(start, **kwargs).nominal == nominal


def test_start_day_is_not_counted() -> None:
    # 第二百零一条: one day from 2026-03-02 ends on 2026-03-03, not on the start day itself.
    assert add_period(date(2026, 3, 2), days=1) == date(2026, 3, 3)


def test_negative_period_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_period(date(2026, 1, 1), months=-1)


# --- 第二百零三条: holiday shift -------------------------------------------------------------------------


def test_make_up_saturday_is_not_shifted() -> None:
    # 2026-02-28 is a Saturday and a make-up working day of the 2026 Spring Festival schedule.
    assert date(2026, 2, 28).weekday() == 5
    assert chinese_calendar.is_workday(date(2026, 2, 28))
    assert day_status(date(2026, 2, 28)) is True
    assert count_period(date(2026, 1, 30), months=1) == Period(
        start=date(2026, 1, 30),
        nominal=date(2026, 2, 28),
        due=date(2026, 2, 28),
        schedule_known=True,
        note="",
    )


@pytest.mark.parametrize(
    ("start", "nominal", "due"),
    [
        (date(2025, 9, 1), date(2025, 10, 1), date(2025, 10, 9)),
        (date(2025, 9, 8), date(2025, 10, 8), date(2025, 10, 9)),
        (date(2026, 9, 1), date(2026, 10, 1), date(2026, 10, 8)),
        (date(2026, 9, 7), date(2026, 10, 7), date(2026, 10, 8)),
    ],
)
def test_national_day_shifts_to_first_working_day(start: date, nominal: date, due: date) -> None:
    period = count_period(start, months=1)
    assert (period.nominal, period.due) == (nominal, due)
    assert period.schedule_known
    assert period.note == f"{nominal.isoformat()}为法定节假日，顺延至{due.isoformat()}"


def test_spring_festival_shift() -> None:
    # 2026 Spring Festival: 02-15..02-23 off; 02-24 is the first working day.
    period = count_period(date(2026, 1, 16), months=1)
    assert period.nominal == date(2026, 2, 16)
    assert period.due == date(2026, 2, 24)
    assert period.note == "2026-02-16为法定节假日，顺延至2026-02-24"


def test_plain_weekend_shift() -> None:
    # 2025-03-08 is an ordinary Saturday; Monday 2025-03-10 is a working day.
    period = count_period(date(2025, 2, 8), months=1)
    assert period.nominal == date(2025, 3, 8)
    assert period.due == date(2025, 3, 10)
    assert period.schedule_known
    assert period.note == "2025-03-08为休息日，顺延至2025-03-10"


def test_working_day_is_not_shifted() -> None:
    period = count_period(date(2026, 2, 10), months=1)
    assert period.nominal == period.due == date(2026, 3, 10)
    assert period.note == ""


# --- years without a known schedule ----------------------------------------------------------------------


def test_package_coverage_is_probed() -> None:
    years = package_years()
    assert {2004, 2025, 2026} <= years
    assert UNKNOWN_YEAR not in years
    assert years == frozenset(range(min(years), max(years) + 1))
    assert not schedule_known(UNKNOWN_YEAR)
    assert schedule_known(2026)


def test_day_status_agrees_with_package_in_every_covered_year() -> None:
    for year in sorted(package_years()):
        d = date(year, 1, 1)
        while d.year == year:
            assert day_status(d) is bool(chinese_calendar.is_workday(d)), d
            d += timedelta(days=1)


def test_unknown_year_uses_weekends_and_statutory_days() -> None:
    saturday = date(UNKNOWN_YEAR, 3, 7)
    assert saturday.weekday() == 5
    assert day_status(saturday) is None
    assert not is_working_day(saturday)
    assert is_working_day(saturday + timedelta(days=2))
    period = count_period(date(UNKNOWN_YEAR, 2, 7), months=1)
    assert period.nominal == saturday
    assert period.due == date(UNKNOWN_YEAR, 3, 9)
    assert not period.schedule_known
    assert period.note == (
        f"{UNKNOWN_YEAR}-03-07为休息日，顺延至{UNKNOWN_YEAR}-03-09；"
        f"{UNKNOWN_YEAR}年节假日安排（调休）尚未公布，仅按法定节假日和周末顺延"
    )


def test_unknown_year_weekday_is_flagged_without_shift() -> None:
    period = count_period(date(UNKNOWN_YEAR, 1, 2), months=2)  # 2099-03-02 is a Monday
    assert period.nominal == period.due == date(UNKNOWN_YEAR, 3, 2)
    assert not period.schedule_known
    assert period.note == f"{UNKNOWN_YEAR}年节假日安排（调休）尚未公布，仅按法定节假日和周末顺延"


def test_year_before_package_coverage_says_not_included() -> None:
    year = min(package_years()) - 1
    period = count_period(date(year, 1, 1), days=1)
    assert not period.schedule_known
    assert f"{year}年节假日安排（调休）未收录" in period.note


def test_shift_into_unknown_year_is_flagged() -> None:
    last = max(package_years())
    period = count_period(date(last, 12, 1), months=1)
    examined = [period.nominal + timedelta(days=n) for n in range((period.due - period.nominal).days + 1)]
    assert period.schedule_known == all(schedule_known(d.year) for d in examined)


# --- holidays.yaml ---------------------------------------------------------------------------------------


def test_packaged_file_is_valid_and_lists_no_invented_year() -> None:
    table = load_holidays()
    assert table.file == HOLIDAYS_FILE.name
    assert dict(table.years) == {}


FIXTURE = f"""
years:
  {UNKNOWN_YEAR}:
    source: "测试用安排（非真实通知）"
    holidays:
      - {UNKNOWN_YEAR}-01-01
      - {{from: {UNKNOWN_YEAR}-03-02, to: {UNKNOWN_YEAR}-03-04}}
    workdays:
      - "{UNKNOWN_YEAR}-03-07"
"""


def test_year_from_file_is_honoured(tmp_path: Path) -> None:
    table = load_holidays(_write(tmp_path, FIXTURE))
    schedule = table.years[UNKNOWN_YEAR]
    assert schedule.source == "测试用安排（非真实通知）"
    assert schedule.holidays == {date(UNKNOWN_YEAR, 1, 1)} | {date(UNKNOWN_YEAR, 3, d) for d in (2, 3, 4)}
    assert table.schedule_known(UNKNOWN_YEAR)
    assert table.day_status(date(UNKNOWN_YEAR, 3, 7)) is True  # make-up Saturday
    assert table.day_status(date(UNKNOWN_YEAR, 3, 8)) is False  # ordinary Sunday
    assert table.day_status(date(UNKNOWN_YEAR, 3, 5)) is True

    period = table.count_period(date(UNKNOWN_YEAR, 2, 2), months=1)
    assert period == Period(
        start=date(UNKNOWN_YEAR, 2, 2),
        nominal=date(UNKNOWN_YEAR, 3, 2),
        due=date(UNKNOWN_YEAR, 3, 5),
        schedule_known=True,
        note=f"{UNKNOWN_YEAR}-03-02为法定节假日，顺延至{UNKNOWN_YEAR}-03-05",
    )
    assert table.count_period(date(UNKNOWN_YEAR, 2, 7), months=1).due == date(UNKNOWN_YEAR, 3, 7)


def test_year_in_file_replaces_package_year(tmp_path: Path) -> None:
    text = """
years:
  2026:
    source: "测试用安排（非真实通知）"
    holidays: [2026-01-01]
    workdays: []
"""
    table = load_holidays(_write(tmp_path, text))
    assert table.day_status(date(2026, 10, 1)) is True  # the package's National Day is replaced
    assert table.day_status(date(2026, 2, 28)) is False  # no make-up day any more
    assert table.day_status(date(2025, 10, 1)) is False  # other years still come from the package


def _year_2027(
    *, source: str = "x", holidays: str = "[2027-01-01]", workdays: str = "[]", extra: str = ""
) -> str:
    """A one-year holidays.yaml with the given (YAML flow style) values, for the malformed cases."""
    return (
        f"years:\n  2027:\n    source: {source}\n    holidays: {holidays}\n    workdays: {workdays}\n{extra}"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("- 2027\n", "(top)"),
        ("year: {}\n", "year"),
        ("years: []\n", "years"),
        ("years:\n  '2027': {}\n", "years.2027"),
        ("years:\n  2027: [2027-01-01]\n", "years.2027"),
        ("years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: []\n", "years.2027.source"),
        ("years:\n  2027:\n    source: x\n    holidays: [2027-01-01]\n", "years.2027.workdays"),
        (_year_2027(extra="    notes: 1\n"), "years.2027.notes"),
        (_year_2027(source="' '"), "years.2027.source"),
        (_year_2027(holidays="[]"), "years.2027.holidays"),
        (_year_2027(holidays="2027-01-01"), "years.2027.holidays"),
        (_year_2027(holidays="[2028-01-01]"), "years.2027.holidays[0]"),
        (_year_2027(holidays="[2027-01-01, 1.5]"), "years.2027.holidays[1]"),
        (_year_2027(holidays="['2027-13-01']"), "years.2027.holidays[0]"),
        (_year_2027(holidays="[{from: 2027-02-01}]"), "years.2027.holidays[0].to"),
        (_year_2027(holidays="[{from: 2027-02-01, to: 2027-02-03, by: 1}]"), "years.2027.holidays[0].by"),
        (_year_2027(holidays="[{from: 2027-02-05, to: 2027-02-01}]"), "years.2027.holidays[0]"),
        (_year_2027(workdays="[{from: 2027-01-02, to: x}]"), "years.2027.workdays[0].to"),
        (_year_2027(workdays="[2027-01-01]"), "years.2027"),
        ("years: {2027: [\n", None),
    ],
)
def test_malformed_file_names_file_and_key(tmp_path: Path, text: str, key: str | None) -> None:
    with pytest.raises(RulePackError) as excinfo:
        load_holidays(_write(tmp_path, text))
    message = str(excinfo.value)
    assert message.startswith("holidays.yaml: ")
    if key is not None:
        assert message.startswith(f"holidays.yaml: {key}: ")


def test_missing_file_raises_rule_pack_error(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match=r"^absent\.yaml: "):
        load_holidays(tmp_path / "absent.yaml")


def test_all_holiday_year_is_reported_as_corrupt(tmp_path: Path) -> None:
    text = f"""
years:
  {UNKNOWN_YEAR}:
    source: x
    holidays: [{{from: {UNKNOWN_YEAR}-01-01, to: {UNKNOWN_YEAR}-12-31}}]
    workdays: []
"""
    table = load_holidays(_write(tmp_path, text))
    with pytest.raises(RulePackError, match=rf"^holidays\.yaml: years\.{UNKNOWN_YEAR}: "):
        table.count_period(date(UNKNOWN_YEAR, 1, 1), months=1)


# --- caching and inputs ----------------------------------------------------------------------------------


def test_results_are_cached() -> None:
    first = count_period(date(2026, 9, 1), months=1)
    assert count_period(date(2026, 9, 1), months=1) is first


def test_datetime_start_is_treated_as_its_date() -> None:
    assert count_period(datetime(2026, 9, 1, 15, 30), months=1) == count_period(date(2026, 9, 1), months=1)


# --- properties ------------------------------------------------------------------------------------------

starts = st.dates(min_value=date(1995, 1, 1), max_value=date(2060, 12, 31))
counts = st.integers(min_value=0, max_value=36)


@settings(max_examples=300, deadline=None)
@given(start=starts, years=st.integers(0, 5), months=counts, days=st.integers(0, 400))
def test_due_is_first_working_day(start: date, years: int, months: int, days: int) -> None:
    period = count_period(start, years=years, months=months, days=days)
    assert period.start == start
    assert period.due >= period.nominal
    assert is_working_day(period.due)
    gap = (period.due - period.nominal).days
    assert not any(is_working_day(period.nominal + timedelta(days=n)) for n in range(gap))
    if period.schedule_known:
        assert day_status(period.due) is True
        assert "尚未公布" not in period.note and "未收录" not in period.note
    else:
        assert "周末顺延" in period.note and "调休" in period.note
    assert (period.note == "") == (gap == 0 and period.schedule_known)


@settings(max_examples=300, deadline=None)
@given(start=starts, months=counts)
def test_months_between_start_and_nominal_equal_the_period(start: date, months: int) -> None:
    start = start.replace(day=min(start.day, 28))
    delta = relativedelta(count_period(start, months=months).nominal, start)
    assert (delta.years * 12 + delta.months, delta.days) == (months, 0)


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(0, 1000))
def test_day_periods_end_n_days_later(start: date, days: int) -> None:
    assert (count_period(start, days=days).nominal - start).days == days

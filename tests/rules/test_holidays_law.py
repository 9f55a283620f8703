"""Statutory holidays of 《全国年节及纪念日放假办法》 in years with no published schedule (rules/holidays_law.py).

Expected dates were computed by hand from the law's day lists and a printed lunar calendar: 春节 (正月初一)
2027-02-06 and 2028-01-26; 清明 2027-04-05 and 2028-04-04; 端午 2027-06-09 and 2028-05-28; 中秋
2027-09-15 and 2028-10-03 (the same day as the third National Day holiday).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from rules.errors import RulePackError
from rules.holidays_law import LAW_FILE, load_law, statutory_law
from rules.periods import HolidayTable, count_period, is_working_day, load_holidays, package_years

D = date

STATUTORY_2027 = {
    D(2027, 1, 1): "元旦", D(2027, 2, 5): "春节", D(2027, 2, 6): "春节", D(2027, 2, 7): "春节",
    D(2027, 2, 8): "春节", D(2027, 4, 5): "清明节", D(2027, 5, 1): "劳动节", D(2027, 5, 2): "劳动节",
    D(2027, 6, 9): "端午节", D(2027, 9, 15): "中秋节", D(2027, 10, 1): "国庆节", D(2027, 10, 2): "国庆节",
    D(2027, 10, 3): "国庆节",
}
STATUTORY_2028 = {
    D(2028, 1, 1): "元旦", D(2028, 1, 25): "春节", D(2028, 1, 26): "春节", D(2028, 1, 27): "春节",
    D(2028, 1, 28): "春节", D(2028, 4, 4): "清明节", D(2028, 5, 1): "劳动节", D(2028, 5, 2): "劳动节",
    D(2028, 5, 28): "端午节", D(2028, 10, 1): "国庆节", D(2028, 10, 2): "国庆节", D(2028, 10, 3): "国庆节",
}

# (statutory day, the first working day after it by weekends and the law alone), worked out on a calendar.
NEXT_WORKING_DAY = [
    (D(2027, 1, 1), D(2027, 1, 4)), (D(2027, 2, 5), D(2027, 2, 9)), (D(2027, 2, 6), D(2027, 2, 9)),
    (D(2027, 2, 7), D(2027, 2, 9)), (D(2027, 2, 8), D(2027, 2, 9)), (D(2027, 4, 5), D(2027, 4, 6)),
    (D(2027, 5, 1), D(2027, 5, 3)), (D(2027, 5, 2), D(2027, 5, 3)), (D(2027, 6, 9), D(2027, 6, 10)),
    (D(2027, 9, 15), D(2027, 9, 16)), (D(2027, 10, 1), D(2027, 10, 4)), (D(2027, 10, 2), D(2027, 10, 4)),
    (D(2027, 10, 3), D(2027, 10, 4)),
    (D(2028, 1, 1), D(2028, 1, 3)), (D(2028, 1, 25), D(2028, 1, 31)), (D(2028, 1, 26), D(2028, 1, 31)),
    (D(2028, 1, 27), D(2028, 1, 31)), (D(2028, 1, 28), D(2028, 1, 31)), (D(2028, 4, 4), D(2028, 4, 5)),
    (D(2028, 5, 1), D(2028, 5, 3)), (D(2028, 5, 2), D(2028, 5, 3)), (D(2028, 5, 28), D(2028, 5, 29)),
    (D(2028, 10, 1), D(2028, 10, 4)), (D(2028, 10, 2), D(2028, 10, 4)), (D(2028, 10, 3), D(2028, 10, 4)),
]


def _law_only() -> HolidayTable:
    """A table that knows no State Council schedule at all: the law and weekends only."""
    return HolidayTable(file="(law only)", years={}, law=statutory_law(), use_package=False)


def test_the_years_under_test_have_no_published_schedule() -> None:
    assert 2027 not in package_years() and 2028 not in package_years()


@pytest.mark.parametrize(("year", "expected"), [(2027, STATUTORY_2027), (2028, STATUTORY_2028)])
def test_statutory_days_of_future_years(year: int, expected: dict[date, str]) -> None:
    assert statutory_law().statutory_days(year) == expected


@pytest.mark.parametrize(("holiday", "due"), NEXT_WORKING_DAY, ids=[d.isoformat() for d, _ in NEXT_WORKING_DAY])
def test_deadline_on_a_statutory_holiday_moves_to_the_next_working_day(holiday: date, due: date) -> None:
    period = count_period(holiday - timedelta(days=30), days=30)
    assert (period.nominal, period.due) == (holiday, due)
    assert not period.schedule_known
    name = {**STATUTORY_2027, **STATUTORY_2028}[holiday]
    assert f"{holiday.isoformat()}为法定节假日（{name}）" in period.note
    assert "调休" in period.note and "尚未公布" in period.note
    assert not is_working_day(holiday)


def test_new_years_day_2027_is_not_a_disclosure_due_day() -> None:
    # 民法典 第二百零三条: a list published 2026-12-01 gives one month ending on Friday 2027-01-01 (元旦).
    period = count_period(D(2026, 12, 1), months=1)
    assert (period.nominal, period.due) == (D(2027, 1, 1), D(2027, 1, 4))


def test_statutory_days_are_days_off_in_every_published_year() -> None:
    # Every schedule 2004-2026 gives every statutory day of the version then in force as a day off.
    law = statutory_law()
    for year in sorted(package_years()):
        days = law.statutory_days(year)
        assert len(days) >= 10, year  # 中秋 may fall on 10-03
        for d, name in days.items():
            assert not chinese_calendar.is_workday(d), (d, name)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        # 5月2日: a statutory day from 2025-01-01 (国务院令第795号), not before (第644号: 劳动节 1 day).
        (D(2024, 5, 2), None),
        (D(2025, 5, 2), "劳动节"),
        # 除夕: statutory from 2025 (795号) and 2008-2013 (513号), not 2014-2024 (644号).
        (D(2024, 2, 9), None),
        (D(2025, 1, 28), "春节"),
        (D(2008, 2, 6), "春节"),
        (D(2014, 1, 30), None),
        # 正月初三: statutory 2014-2024 and again from 2025 (初一至初三), not 2008-2013.
        (D(2013, 2, 12), None),
        (D(2014, 2, 2), "春节"),
        # Before 2008 (国务院令第270号): 劳动节 3 days and no 清明.
        (D(2007, 5, 3), "劳动节"),
        (D(2008, 5, 2), None),
        (D(2007, 4, 5), None),
    ],
)
def test_both_sides_of_each_amendment(day: date, name: str | None) -> None:
    table = _law_only()
    assert table.statutory_holiday_name(day) == name
    assert table.is_working_day(day) is (day.weekday() < 5 and name is None)


def test_the_2025_rule_change_moves_a_last_day_only_after_it() -> None:
    # With the law alone: Thursday 2024-05-02 is a working day; Friday 2025-05-02 is 劳动节.
    table = _law_only()
    assert table.count_period(D(2024, 4, 2), months=1).due == D(2024, 5, 2)
    assert table.count_period(D(2025, 4, 2), months=1).due == D(2025, 5, 5)
    # 除夕 2024-02-09 (Friday) was no statutory day; 除夕 2025-01-28 (Tuesday) is.
    assert table.count_period(D(2024, 1, 9), months=1).due == D(2024, 2, 9)
    assert table.count_period(D(2024, 12, 28), months=1).due == D(2025, 2, 3)


def test_the_published_schedule_wins_where_known() -> None:
    # The 2024 notice gave 2024-05-02 off by 调休 although the law did not (the law alone: due that day).
    assert count_period(D(2024, 4, 2), months=1).due == D(2024, 5, 6)
    # It kept 除夕 2024-02-09 a working day; the 2026 notice gives 除夕 2026-02-16 off with the law.
    assert count_period(D(2024, 1, 9), months=1).due == D(2024, 2, 9)
    assert count_period(D(2026, 1, 16), months=1).due == D(2026, 2, 24)
    period = count_period(D(2024, 4, 2), months=1)
    assert period.schedule_known and "尚未公布" not in period.note


def test_a_year_in_holidays_yaml_wins_over_the_law(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(
        "years:\n  2027:\n    source: 测试用安排（非真实通知）\n    holidays: [2027-01-01]\n"
        "    workdays: [2027-02-08]\n",
        encoding="utf-8",
    )
    table = load_holidays(path)
    assert table.is_working_day(D(2027, 2, 8))  # the fixture's notice makes it a working day
    period = table.count_period(D(2027, 1, 8), months=1)
    assert (period.nominal, period.due, period.schedule_known) == (D(2027, 2, 8), D(2027, 2, 8), True)


def test_packaged_law_file_cites_each_amendment() -> None:
    law = load_law()
    assert law.file == LAW_FILE.name
    assert [(v.id, v.in_force_from) for v in law.versions] == [
        ("order_270", D(1999, 9, 18)), ("order_513", D(2008, 1, 1)),
        ("order_644", D(2014, 1, 1)), ("order_795", D(2025, 1, 1)),
    ]
    assert all("国务院令第" in v.source for v in law.versions)
    assert law.version_on(D(2024, 12, 31)) is law.versions[2]
    assert law.version_on(D(2025, 1, 1)) is law.versions[3]


V = "versions:\n  - {id: a, in_force_from: 2025-01-01, source: s, quote: q, holidays: "


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("versions: []\n", "versions"),
        ("nope: 1\n", "versions"),
        ("versions:\n  - {id: a, in_force_from: 2025-13-01, source: s, quote: q, holidays: []}\n", None),
        ("versions:\n  - {id: a, in_force_from: x, source: s, quote: q, holidays: [{name: n, days: ['05-01']}]}\n",
         "versions[0].in_force_from"),
        (V + "[{name: n, days: ['13-01']}]}\n",
         "versions[0].holidays[0].days[0]"),
        (V + "[{name: n, days: [{festival: x}]}]}\n",
         "versions[0].holidays[0].days[0]"),
        ("versions:\n  - {id: a, in_force_from: 2025-01-01, source: s, holidays: [{name: n, days: ['05-01']}]}\n",
         "versions[0].quote"),
    ],
)
def test_malformed_law_file_names_the_key(tmp_path: Path, text: str, key: str | None) -> None:
    path = tmp_path / "holidays_law.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulePackError) as info:
        load_law(path)
    assert str(info.value).startswith("holidays_law.yaml: ")
    if key is not None:
        assert f": {key}: " in str(info.value)

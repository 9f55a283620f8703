"""Legal periods under 民法典 第二百零一条至第二百零三条.

- 第二百零一条: the start day is not counted; counting begins the next day.
- 第二百零二条: a period of months or years ends on the corresponding day of the last month, or on that
  month's last day when there is no corresponding day; a period of N days from D ends on D + N days.
  This is `Period.nominal`.
- 第二百零三条: when the last day is a statutory holiday or rest day, the period ends on the first working
  day after it (make-up working days, 调休上班, are working days). This is `Period.due`.

The holiday schedule comes from the `chinese_calendar` package, overridden or extended per year by
rules/data/holidays.yaml (format documented in that file). Where neither knows a year, the statutory
holidays of 《全国年节及纪念日放假办法》 (rules/holidays_law.py) and weekends are the rest days: a period
never ends on a statutory holiday, only the 调休 of that year is unknown, and the result says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import chinese_calendar
import yaml
from dateutil.relativedelta import relativedelta

from rules.errors import RulePackError
from rules.holidays_law import StatutoryLaw, statutory_law

_SAFE_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # LibYAML's parser when PyYAML has it

__all__ = [
    "HOLIDAYS_FILE",
    "HolidayTable",
    "Period",
    "YearSchedule",
    "add_period",
    "count_period",
    "day_status",
    "is_working_day",
    "load_holidays",
    "package_years",
    "schedule_known",
]

HOLIDAYS_FILE = Path(__file__).parent / "data" / "holidays.yaml"

# Years probed for chinese_calendar coverage; the package raises NotImplementedError outside its range.
_PROBE_YEARS = range(1949, 2200)
# A schedule can never make this many consecutive days non-working; a longer run means corrupt data.
_MAX_SHIFT_DAYS = 60
_CACHE_SIZE = 1 << 16
_YEAR_KEYS = frozenset({"source", "holidays", "workdays"})
_RANGE_KEYS = frozenset({"from", "to"})


@dataclass(frozen=True, slots=True)
class Period:
    """A counted period: `nominal` per 第二百零二条, `due` after the 第二百零三条 holiday shift."""

    start: date
    nominal: date
    due: date
    schedule_known: bool
    note: str


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's holidays and make-up working days from holidays.yaml; other days follow the week."""

    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return _is_weekday(d)


@dataclass(frozen=True, slots=True)
class HolidayTable:
    """The schedule: years from a holidays.yaml file first, then the chinese_calendar package; in a
    year neither knows, the statutory holidays of `law` and weekends."""

    file: str
    years: Mapping[int, YearSchedule]
    law: StatutoryLaw | None = None
    use_package: bool = True

    def schedule_known(self, year: int) -> bool:
        return self.schedule(year) is not None

    def schedule(self, year: int) -> YearSchedule | None:
        """The year's schedule: from the file, else from the package, else None (unknown)."""
        found = self.years.get(year)
        if found is not None or not self.use_package:
            return found
        return _package_schedules().get(year)

    def statutory_holiday_name(self, d: date) -> str | None:
        """The festival whose statutory day `d` is under the 放假办法 in force on `d`, if any."""
        return None if self.law is None else self.law.holiday_name(d)

    def _law_working_day(self, d: date) -> bool:
        """Working day when the year's schedule is unknown: not a weekend, not a statutory holiday."""
        return _is_weekday(d) and self.statutory_holiday_name(d) is None

    def day_status(self, d: date) -> bool | None:
        """True working day, False holiday or rest day, None when the year's schedule is unknown."""
        schedule = self.schedule(d.year)
        return None if schedule is None else schedule.is_working_day(d)

    def is_working_day(self, d: date) -> bool:
        status = self.day_status(d)
        return self._law_working_day(d) if status is None else status

    def is_statutory_holiday(self, d: date) -> bool:
        """A listed holiday (放假日) of a known schedule, or, in an unknown year, a statutory day."""
        schedule = self.schedule(d.year)
        if schedule is None:
            return self.statutory_holiday_name(d) is not None
        return d in schedule.holidays

    def count_period(self, start: date, *, years: int = 0, months: int = 0, days: int = 0) -> Period:
        nominal = add_period(start, years=years, months=months, days=days)
        due, unknown = self._first_working_day(nominal)
        return Period(
            start=start,
            nominal=nominal,
            due=due,
            schedule_known=not unknown,
            note=self._note(nominal, due, unknown),
        )

    def _first_working_day(self, nominal: date) -> tuple[date, tuple[int, ...]]:
        """The first working day on or after `nominal`, and the unknown years examined on the way."""
        unknown: list[int] = []
        d = nominal
        for _ in range(_MAX_SHIFT_DAYS):
            status = self.day_status(d)
            if status is None:
                if d.year not in unknown:
                    unknown.append(d.year)
                status = self._law_working_day(d)
            if status:
                return d, tuple(unknown)
            d += timedelta(days=1)
        raise RulePackError(
            f"{self.file}: years.{nominal.year}: no working day within {_MAX_SHIFT_DAYS} days "
            f"after {nominal.isoformat()}; the holiday schedule is corrupt."
        )

    def _note(self, nominal: date, due: date, unknown: tuple[int, ...]) -> str:
        parts: list[str] = []
        if due != nominal:
            kind = "法定节假日" if self.is_statutory_holiday(nominal) else "休息日"
            name = self.statutory_holiday_name(nominal) if nominal.year in unknown else None
            kind += f"（{name}）" if name else ""
            parts.append(f"{nominal.isoformat()}为{kind}，顺延至{due.isoformat()}")
        if unknown:
            parts.append(_unknown_note(unknown, self.law))
        return "；".join(parts)


# --- period arithmetic -------------------------------------------------------------------------------


def add_period(start: date, *, years: int = 0, months: int = 0, days: int = 0) -> date:
    """The nominal last day (第二百零二条): month ends clamp to the month's last day."""
    if years < 0 or months < 0 or days < 0:
        raise ValueError(f"a period cannot be negative: years={years}, months={months}, days={days}")
    end: date = start + _delta(years, months, days)
    return end


@lru_cache(maxsize=1024)
def _delta(years: int, months: int, days: int) -> relativedelta:
    return relativedelta(years=years, months=months, days=days)


def count_period(start: date, *, years: int = 0, months: int = 0, days: int = 0) -> Period:
    """Nominal and due end of a period counted from `start` with the packaged holiday schedule."""
    return _count_period_cached(_as_date(start), years, months, days)


@lru_cache(maxsize=_CACHE_SIZE)
def _count_period_cached(start: date, years: int, months: int, days: int) -> Period:
    return _default_table().count_period(start, years=years, months=months, days=days)


# --- day status with the packaged schedule -------------------------------------------------------------


def day_status(d: date) -> bool | None:
    """True working day, False holiday or rest day, None when the year's schedule is unknown."""
    return _day_status_cached(_as_date(d))


@lru_cache(maxsize=_CACHE_SIZE)
def _day_status_cached(d: date) -> bool | None:
    return _default_table().day_status(d)


def is_working_day(d: date) -> bool:
    """Working day per the schedule; in a year with no known schedule, Monday to Friday except the
    statutory holidays of 《全国年节及纪念日放假办法》."""
    return _is_working_day_cached(_as_date(d))


@lru_cache(maxsize=_CACHE_SIZE)
def _is_working_day_cached(d: date) -> bool:
    return _default_table().is_working_day(d)


def schedule_known(year: int) -> bool:
    """Whether the holiday schedule of `year` is known (package or holidays.yaml)."""
    return _default_table().schedule_known(year)


@lru_cache(maxsize=1)
def package_years() -> frozenset[int]:
    """The years chinese_calendar has a schedule for, found by probing it (it raises outside them)."""
    return frozenset(y for y in _PROBE_YEARS if _package_knows(y))


@lru_cache(maxsize=1)
def _package_schedules() -> dict[int, YearSchedule]:
    """The package's data as plain sets per year (its is_workday scans all its data on every call)."""
    holidays: dict[int, set[date]] = {y: set() for y in package_years()}
    workdays: dict[int, set[date]] = {y: set() for y in package_years()}
    for table, days in ((holidays, chinese_calendar.holidays), (workdays, chinese_calendar.workdays)):
        for d in days:
            if d.year in table:
                table[d.year].add(d)
    source = f"chinese_calendar {getattr(chinese_calendar, '__version__', '')}".strip()
    return {
        y: YearSchedule(year=y, source=source, holidays=frozenset(days), workdays=frozenset(workdays[y]))
        for y, days in sorted(holidays.items())
    }


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=1)
def _default_table() -> HolidayTable:
    return load_holidays()


def _is_weekday(d: date) -> bool:
    return d.weekday() < 5


def _as_date(d: date) -> date:
    """Plain date for cache keys and comparisons (a datetime is a date subclass)."""
    return d.date() if isinstance(d, datetime) else d


def _unknown_note(years: tuple[int, ...], law: StatutoryLaw | None) -> str:
    known = package_years()
    earliest = min(known) if known else None
    parts: list[str] = []
    for y in years:
        status = "未收录" if earliest is not None and y < earliest else "尚未公布"
        parts.append(f"{y}年节假日安排（调休）{status}")
    counted = "法定节假日和周末" if law is not None and law.versions[0].in_force_from.year <= min(years) else "周末"
    return "，".join(parts) + f"，仅按{counted}顺延"


# --- holidays.yaml ---------------------------------------------------------------------------------------


def load_holidays(path: Path | None = None, law: StatutoryLaw | None = None) -> HolidayTable:
    """Load and validate a holidays.yaml file (None: the packaged one); RulePackError names file and key.

    `law` is the 放假办法 for years no schedule knows (None: the packaged holidays_law.yaml)."""
    path = HOLIDAYS_FILE if path is None else path
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RulePackError(f"{name}: cannot be read: {e.strerror or e}.") from None
    try:
        raw = yaml.load(text, Loader=_SAFE_YAML)
    except (yaml.YAMLError, ValueError) as e:  # a bad timestamp raises ValueError
        raise RulePackError(f"{name}: not valid YAML: {e}") from None
    years = MappingProxyType(_parse_file(raw, name))
    return HolidayTable(file=name, years=years, law=statutory_law() if law is None else law)


def _fail(name: str, key: str, message: str) -> RulePackError:
    return RulePackError(f"{name}: {key}: {message}")


def _parse_file(raw: object, name: str) -> dict[int, YearSchedule]:
    if not isinstance(raw, dict):
        raise _fail(name, "(top)", "the file must be a mapping with the key 'years'.")
    for key in raw:
        if key != "years":
            raise _fail(name, str(key), "unknown key; the only top-level key is 'years'.")
    if "years" not in raw:
        raise _fail(name, "years", "missing; write 'years: {}' when no year is listed.")
    years = raw["years"]
    if not isinstance(years, dict):
        raise _fail(name, "years", "must be a mapping of year to schedule ('{}' when empty).")
    return {_parse_year_key(name, y): _parse_year(name, y, entry) for y, entry in years.items()}


def _parse_year_key(name: str, key: object) -> int:
    if isinstance(key, bool) or not isinstance(key, int) or key not in _PROBE_YEARS:
        raise _fail(name, f"years.{key}", "a year key must be an unquoted year such as 2027.")
    return key


def _parse_year(name: str, year: int, entry: object) -> YearSchedule:
    where = f"years.{year}"
    if not isinstance(entry, dict):
        raise _fail(name, where, "must be a mapping with 'source', 'holidays' and 'workdays'.")
    for key in entry:
        if key not in _YEAR_KEYS:
            raise _fail(name, f"{where}.{key}", "unknown key; expected 'source', 'holidays', 'workdays'.")
    missing = sorted(_YEAR_KEYS - entry.keys())
    if missing:
        raise _fail(name, f"{where}.{missing[0]}", "missing.")
    source = entry["source"]
    if not isinstance(source, str) or not source.strip():
        raise _fail(name, f"{where}.source", "must name the State Council notice (title and 文号).")
    holidays = _parse_days(name, year, "holidays", entry["holidays"])
    workdays = _parse_days(name, year, "workdays", entry["workdays"])
    if not holidays:
        raise _fail(name, f"{where}.holidays", "must list at least one day.")
    both = sorted(holidays & workdays)
    if both:
        raise _fail(name, where, f"{both[0].isoformat()} is listed both as a holiday and as a workday.")
    return YearSchedule(year=year, source=source.strip(), holidays=holidays, workdays=workdays)


def _parse_days(name: str, year: int, field: str, items: object) -> frozenset[date]:
    where = f"years.{year}.{field}"
    if not isinstance(items, list):
        raise _fail(name, where, "must be a list of dates or {from, to} ranges ('[]' when empty).")
    days: set[date] = set()
    for i, item in enumerate(items):
        days.update(_parse_item(name, year, f"{where}[{i}]", item))
    return frozenset(days)


def _parse_item(name: str, year: int, where: str, item: object) -> list[date]:
    if not isinstance(item, dict):
        return [_parse_date(name, year, where, item)]
    for key in item:
        if key not in _RANGE_KEYS:
            raise _fail(name, f"{where}.{key}", "unknown key; a range has only 'from' and 'to'.")
    missing = sorted(_RANGE_KEYS - item.keys())
    if missing:
        raise _fail(name, f"{where}.{missing[0]}", "missing.")
    first = _parse_date(name, year, f"{where}.from", item["from"])
    last = _parse_date(name, year, f"{where}.to", item["to"])
    if last < first:
        raise _fail(name, where, f"the range ends ({last.isoformat()}) before it starts.")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _parse_date(name: str, year: int, where: str, value: object) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(name, where, f"{value!r} is not a date in the form YYYY-MM-DD.") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _fail(name, where, f"{value!r} is not a date in the form YYYY-MM-DD.")
    if value.year != year:
        raise _fail(name, where, f"{value.isoformat()} is not in {year}.")
    return value

"""Statutory holidays from 《全国年节及纪念日放假办法》 第二条, for any year (rules/data/holidays_law.yaml).

The State Council's yearly notice decides the days off of a year (bridging days and 调休 included);
before it is out, the law still fixes the statutory days themselves: New Year's Day, the Spring
Festival days counted from 农历正月初一, 清明, 端午, 中秋, Labour Day and National Day. A version of the
law governs the days from its `in_force_from` until the next version's.

Lunar days and 清明 come from the `holidays` package's Chinese lunisolar tables (1901-2100): the
package computes them; which of them are statutory in a given year is this module's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from rules.errors import RulePackError

__all__ = ["LAW_FILE", "LawVersion", "StatutoryLaw", "load_law", "statutory_law"]

LAW_FILE = Path(__file__).parent / "data" / "holidays_law.yaml"

_SAFE_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # LibYAML's parser when PyYAML has it
# The festivals a day may name, and the method of the lunisolar tables that dates each.
_FESTIVALS: dict[str, str] = {
    "qingming": "qingming_date",
    "dragon_boat": "dragon_boat_date",
    "mid_autumn": "mid_autumn_date",
}
_VERSION_KEYS = frozenset({"id", "in_force_from", "source", "quote", "holidays"})
_HOLIDAY_KEYS = frozenset({"name", "days"})


@dataclass(frozen=True, slots=True)
class DaySpec:
    """One statutory day: a Gregorian month-day, an offset from 正月初一, or a named festival."""

    month_day: tuple[int, int] | None = None
    lunar_new_year: int | None = None
    festival: str | None = None

    def in_year(self, year: int) -> date | None:
        """The day in `year`, or None beyond the lunisolar tables."""
        if self.month_day is not None:
            return date(year, *self.month_day)
        if self.lunar_new_year is not None:
            first, _ = _lunisolar().lunar_new_year_date(year)
            return None if first is None else first + timedelta(days=self.lunar_new_year)
        assert self.festival is not None
        dated: Callable[[int], tuple[date | None, bool]] = getattr(_lunisolar(), _FESTIVALS[self.festival])
        day, _ = dated(year)
        return day


@lru_cache(maxsize=1)
def _lunisolar() -> Any:
    """The `holidays` package's Chinese lunisolar tables, imported when a lunar day is first needed (only
    for a year no holiday schedule knows): the package costs about 40 ms to import."""
    from holidays.calendars.chinese import _ChineseLunisolar

    return _ChineseLunisolar()


@dataclass(frozen=True, slots=True)
class LawVersion:
    id: str
    in_force_from: date
    source: str
    quote: str
    holidays: tuple[tuple[str, tuple[DaySpec, ...]], ...]


@dataclass(frozen=True, slots=True)
class StatutoryLaw:
    """The versions of the 放假办法, oldest first."""

    file: str
    versions: tuple[LawVersion, ...]

    def version_on(self, d: date) -> LawVersion | None:
        found = None
        for version in self.versions:
            if version.in_force_from <= d:
                found = version
        return found

    def statutory_days(self, year: int) -> dict[date, str]:
        """The statutory holidays falling in `year`, each with its festival's name."""
        return dict(_days_of_year(self, year))

    def holiday_name(self, d: date) -> str | None:
        return dict(_days_of_year(self, d.year)).get(d)


@lru_cache(maxsize=512)
def _days_of_year(law: StatutoryLaw, year: int) -> tuple[tuple[date, str], ...]:
    found: dict[date, str] = {}
    for i, version in enumerate(law.versions):
        until = law.versions[i + 1].in_force_from if i + 1 < len(law.versions) else date.max
        if until.year < year or version.in_force_from.year > year:
            continue
        for name, specs in version.holidays:
            for spec in specs:
                d = spec.in_year(year)
                if d is not None and version.in_force_from <= d < until:
                    found[d] = name
    return tuple(sorted(found.items()))


@lru_cache(maxsize=1)
def statutory_law() -> StatutoryLaw:
    """The packaged holidays_law.yaml."""
    return load_law()


def load_law(path: Path | None = None) -> StatutoryLaw:
    """Load and validate a holidays_law.yaml; RulePackError names the file and the key."""
    path = LAW_FILE if path is None else path
    name = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_YAML)  # safe: no arbitrary objects
    except OSError as e:
        raise RulePackError(f"{name}: cannot be read: {e.strerror or e}.") from None
    except (yaml.YAMLError, ValueError) as e:  # a bad timestamp raises ValueError
        raise RulePackError(f"{name}: not valid YAML: {e}") from None
    if not isinstance(raw, dict) or set(raw) != {"versions"} or not isinstance(raw["versions"], list):
        raise _fail(name, "versions", "the file must be a mapping with one key, 'versions', a list.")
    versions = tuple(_version(name, f"versions[{i}]", v) for i, v in enumerate(raw["versions"]))
    if not versions:
        raise _fail(name, "versions", "must list at least one version.")
    for before, after in pairwise(versions):
        if after.in_force_from <= before.in_force_from:
            raise _fail(name, f"versions.{after.id}.in_force_from", "versions must be in date order.")
    return StatutoryLaw(file=name, versions=versions)


def _fail(name: str, key: str, message: str) -> RulePackError:
    return RulePackError(f"{name}: {key}: {message}")


def _version(name: str, where: str, raw: object) -> LawVersion:
    if not isinstance(raw, dict):
        raise _fail(name, where, "must be a mapping.")
    unknown = sorted(set(map(str, raw)) - _VERSION_KEYS)
    if unknown:
        raise _fail(name, f"{where}.{unknown[0]}", f"unknown key; expected {sorted(_VERSION_KEYS)}.")
    missing = sorted(_VERSION_KEYS - set(raw))
    if missing:
        raise _fail(name, f"{where}.{missing[0]}", "missing.")
    start = raw["in_force_from"]
    if not isinstance(start, date):
        raise _fail(name, f"{where}.in_force_from", f"{start!r} is not a date in the form YYYY-MM-DD.")
    for key in ("id", "source", "quote"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise _fail(name, f"{where}.{key}", "must be a non-empty text.")
    holidays = raw["holidays"]
    if not isinstance(holidays, list) or not holidays:
        raise _fail(name, f"{where}.holidays", "must be a non-empty list of {name, days}.")
    return LawVersion(
        id=raw["id"], in_force_from=start, source=raw["source"], quote=raw["quote"],
        holidays=tuple(_holiday(name, f"{where}.holidays[{i}]", h) for i, h in enumerate(holidays)),
    )


def _holiday(name: str, where: str, raw: object) -> tuple[str, tuple[DaySpec, ...]]:
    if not isinstance(raw, dict) or set(raw) != _HOLIDAY_KEYS:
        raise _fail(name, where, "must be a mapping with exactly 'name' and 'days'.")
    if not isinstance(raw["name"], str) or not isinstance(raw["days"], list) or not raw["days"]:
        raise _fail(name, where, "'name' must be a text and 'days' a non-empty list.")
    return raw["name"], tuple(_day(name, f"{where}.days[{i}]", d) for i, d in enumerate(raw["days"]))


def _day(name: str, where: str, raw: object) -> DaySpec:
    if isinstance(raw, str):
        try:
            month, day = (int(p) for p in raw.split("-"))
            date(2000, month, day)
        except ValueError:
            raise _fail(name, where, f"{raw!r} is not a month-day such as \"05-01\".") from None
        if (month, day) == (2, 29):
            raise _fail(name, where, "02-29 is not in every year.")
        return DaySpec(month_day=(month, day))
    if isinstance(raw, dict) and len(raw) == 1:
        ((key, value),) = raw.items()
        if key == "lunar_new_year" and isinstance(value, int) and not isinstance(value, bool) and -2 <= value <= 6:
            return DaySpec(lunar_new_year=value)
        if key == "festival" and value in _FESTIVALS:
            return DaySpec(festival=value)
    raise _fail(name, where, f"{raw!r}: expected \"MM-DD\", {{lunar_new_year: N}} or "
                             f"{{festival: {'|'.join(_FESTIVALS)}}}.")


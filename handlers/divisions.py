"""China's administrative divisions (省, 地市, 县（市、区）) for checking where a listed enterprise is.

The data is `handlers/data/divisions.tsv`, generated from jionlp's place dictionary by
`python -m handlers.divisions_gen` (jionlp is not a runtime dependency; README, "Officers"). Read once per
process (~3,500 lines). Lookups take the names as a list writes them (NFKC, no spaces):

- a full name (小店区, 古交市, 山西转型综合改革示范区) or the short name of exactly one unit of the city
  (小店, 古交: the same county, returned by its full name);
- `near` gives the likely meant names for a typo (晋原区 -> 晋源区) with rapidfuzz, never as an answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "divisions.tsv"
DIRECT = ("省直辖行政区划", "自治区直辖县级行政区划", "省直辖县级行政区划")  # county-level units under the province
CITY_DIRECT = "市直辖行政区划"  # 东莞市, 中山市 ...: a city with no county-level units (towns directly)
# Words of functional zones that are not administrative divisions but stand on published lists in the
# county's place (太原高新区, 综改示范区, 某某经济技术开发区, 某某工业园区 ...).
ZONE = re.compile(r"(开发区|高新区|示范区|综改区|园区|工业园|产业园|经开区|保税区|试验区|实验区|管委会|管理区|合作区|"
                  r"集聚区|工业区|自贸区|新区|新城|基地|风景区|名胜区)")
SUFFIX = re.compile(r"(自治县|自治旗|市|县|区|旗)$")


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    code: str
    short: str


@dataclass(frozen=True)
class City:
    name: str
    code: str
    short: str
    counties: tuple[Unit, ...]

    @property
    def has_counties(self) -> bool:
        return bool(self.counties) and all(c.name != CITY_DIRECT for c in self.counties)

    def county(self, text: str) -> tuple[Unit | None, tuple[Unit, ...]]:
        """(the county named, ()) for a full or unique short name; (None, the units it could be) otherwise."""
        return _match(text, self.counties)


@dataclass(frozen=True)
class Rename:
    day: str
    old_city: str
    old_county: str
    new_city: str
    new_county: str


@dataclass
class Province:
    name: str
    code: str  # two digits
    cities: list[City] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)

    def city(self, text: str) -> tuple[City | None, tuple[City, ...]]:
        """The city (地市) named, by full or unique short name; a county-level unit the province administers
        directly (济源市, 石河子市) is a city here too."""
        units = [Unit(c.name, c.code, c.short) for c in self.cities]
        unit, options = _match(text, units)
        by_code = {c.code: c for c in self.cities}
        return (by_code[unit.code] if unit else None), tuple(by_code[u.code] for u in options)

    def counties_named(self, text: str) -> list[tuple[City, Unit]]:
        """Every county of the province with this full name (or unique short name in its city)."""
        found = []
        for c in self.cities:
            unit, _ = c.county(text)
            if unit is not None:
                found.append((c, unit))
        return found

    def by_code(self, code: str) -> tuple[City, Unit] | None:
        """The county whose GB/T 2260 code this is (a credit code's 3rd to 8th characters)."""
        return next(((c, u) for c in self.cities for u in c.counties if u.code == code), None)

    def renamed(self, city: str, county: str) -> Rename | None:
        """The rename of `county` of `city` into a county that exists now, if any."""
        for r in self.renames:
            if r.old_city == city and r.old_county == county:
                new = next((c for c in self.cities if c.name == r.new_city), None)
                if new is not None and any(u.name == r.new_county for u in new.counties):
                    return r
        return None


def key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def is_zone(text: str) -> bool:
    """Whether a place name is a development zone, park or the like (太原高新区, 综改示范区)."""
    return ZONE.search(key(text)) is not None


def _match(text: str, units: tuple[Unit, ...] | list[Unit]) -> tuple[Unit | None, tuple[Unit, ...]]:
    t = key(text)
    exact = [u for u in units if u.name == t]
    if exact:
        return exact[0], ()
    short = [u for u in units if t in (u.short, SUFFIX.sub("", u.name))]
    if len(short) == 1:
        return short[0], ()
    return None, tuple(short)


def near(text: str, names: list[str], *, limit: int = 3) -> list[str]:
    """The names close to `text` (a typo: one character in three wrong), best first; [] when none is."""
    from rapidfuzz import fuzz, process

    t = key(text)
    found = process.extract(t, names, scorer=fuzz.ratio, score_cutoff=60, limit=limit)
    if not found:
        return []
    best = found[0][1]
    return [name for name, score, _ in found if score == best]


@lru_cache(maxsize=1)
def provinces() -> dict[str, Province]:
    """Two-digit province code -> its divisions."""
    out: dict[str, Province] = {}
    by_name: dict[str, Province] = {}
    counties: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    city_rows: list[tuple[Province, str, str, str]] = []
    current: Province | None = None
    city_code = ""
    for line in DATA.read_text("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        if f[0] == "P":
            current = out.setdefault(f[1][:2], Province(f[2], f[1][:2]))
            by_name[f[2]] = current
        elif f[0] == "C" and current is not None:
            city_code = f[1]
            city_rows.append((current, f[1], f[2], f[3]))
        elif f[0] == "K" and current is not None:
            counties[(current.code, city_code)].append(Unit(f[2], f[1], f[3]))
        elif f[0] == "R" and f[2] in by_name:
            by_name[f[2]].renames.append(Rename(f[1], f[3], f[4], f[5], f[6]))
    for province, code, name, short in city_rows:
        units = tuple(counties[(province.code, code)])
        if name in DIRECT:  # each directly administered unit stands as a city of its own
            province.cities.extend(City(u.name, u.code, u.short, ()) for u in units)
        else:
            province.cities.append(City(name, code, short, units))
    return out


def province(code: str) -> Province | None:
    return provinces().get(code)

"""One clear "where to hand in" list: the bodies the documents name, merged into one line per office
with its current name and level; the documents' own wording kept for a second reply (法律原文).

The synonyms and levels are data (rules/data/offices.yaml); the current names are gettext messages
here (OFFICE_NAMES), keyed by office and level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from handlers.status import original
from rules.engine import Assessment
from rules.errors import RulePackError
from rules.i18n import N_, Gettext

OFFICES_FILE = Path(__file__).resolve().parent.parent / "rules" / "data" / "offices.yaml"
LEGAL_WORDS = ("法律原文", "原文", "legal wording", "legal text")

OFFICE_NAMES: dict[tuple[str, str], str] = {
    ("environment", "county"): N_("the county (district) ecology and environment bureau"),
    ("environment", "city"): N_("the city ecology and environment bureau"),
    ("environment", "province"): N_("the provincial department of ecology and environment"),
    ("environment", "national"): N_("the Ministry of Ecology and Environment"),
    ("coordination", "county"): N_("the county's cleaner-production coordinating department"),
    ("coordination", "city"): N_("the city's cleaner-production coordinating department"),
    ("coordination", "province"): N_("the provincial cleaner-production coordinating department"),
    ("energy_saving", "county"): N_("the county's energy-saving authority"),
    ("energy_saving", "city"): N_("the city's energy-saving authority"),
    ("development_reform", "county"): N_("the county development and reform bureau"),
    ("development_reform", "city"): N_("the city development and reform commission"),
    ("development_reform", "province"): N_("the provincial development and reform commission"),
    ("development_reform", "national"): N_("the National Development and Reform Commission"),
    ("industry", "county"): N_("the county industry and information technology bureau"),
    ("industry", "city"): N_("the city industry and information technology bureau"),
    ("industry", "province"): N_("the provincial department of industry and information technology"),
}
ALSO_NAMES = {"energy_saving": N_("{name} (as the energy-saving authority)")}
LEVEL_LABELS = {
    ("county", False): N_("county level"),
    ("county", True): N_("county level or above"),
    ("city", False): N_("city level"),
    ("city", True): N_("city level or above"),
    ("province", False): N_("provincial level"),
    ("province", True): N_("provincial level"),
    ("national", False): N_("national level"),
    ("national", True): N_("national level"),
}
HINTS = {
    "coordination": N_("which department this is differs by place, often development and reform or industry and "
                       "information technology; your list notice names it"),
}


@dataclass(frozen=True, slots=True)
class OfficeLine:
    """One office to hand the report to: `office` (a key of offices.yaml, or "" for wording not
    recognised, then shown as written), its `level`, whether the law allows any level from there up,
    the further roles it serves (`also`), and every wording of the documents merged into it (`legal`)."""

    office: str
    level: str
    or_above: bool
    also: tuple[str, ...]
    legal: tuple[str, ...]

    def name(self, tr: Gettext) -> str:
        msgid = OFFICE_NAMES.get((self.office, self.level))
        if msgid is None:
            return original(self.legal[0], tr)
        text = tr(msgid)
        for role in self.also:
            if role in ALSO_NAMES:
                text = tr(ALSO_NAMES[role]).format(name=text)
        return text

    def render(self, tr: Gettext) -> str:
        level = tr(LEVEL_LABELS[(self.level, self.or_above)])
        hint = HINTS.get(self.office)
        if hint:
            return tr(N_("• {name} ({level}; {hint})")).format(name=self.name(tr), level=level, hint=tr(hint))
        return tr(N_("• {name} ({level})")).format(name=self.name(tr), level=level)


@dataclass
class _Group:
    or_above: bool
    also: list[str]
    legal: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Table:
    synonyms: tuple[tuple[str, str, tuple[str, ...]], ...]
    levels: tuple[tuple[str, str, bool], ...]


@lru_cache(maxsize=1)
def _table() -> _Table:
    """rules/data/offices.yaml, checked: every office and level must have its name here (OFFICE_NAMES)."""
    raw = yaml.safe_load(OFFICES_FILE.read_text(encoding="utf-8"))
    offices = {o for o, _ in OFFICE_NAMES}
    levels = {lv for _, lv in OFFICE_NAMES}
    for i, x in enumerate(raw["synonyms"]):
        for o in (x["office"], *(x.get("also") or ())):
            if o not in offices:
                raise RulePackError(f"{OFFICES_FILE.name}: synonyms[{i}]: unknown office {o!r}")
    for i, x in enumerate(raw["levels"]):
        if x["level"] not in levels:
            raise RulePackError(f"{OFFICES_FILE.name}: levels[{i}]: unknown level {x['level']!r}")
    return _Table(
        synonyms=tuple((str(s["match"]), str(s["office"]), tuple(s.get("also") or ())) for s in raw["synonyms"]),
        levels=tuple((str(x["match"]), str(x["level"]), bool(x.get("or_above", False))) for x in raw["levels"]),
    )


def classify(wording: str) -> tuple[str, tuple[str, ...], str, bool]:
    """(office, also, level, or_above) for one wording; office "" when no synonym matches."""
    t = _table()
    office, also = next(((o, a) for m, o, a in t.synonyms if m in wording), ("", ()))
    level, or_above = next(((lv, up) for m, lv, up in t.levels if m in wording), ("county", True))
    return office, also, level, or_above


def merge_offices(report_to: Sequence[str], province: str | None = None) -> list[OfficeLine]:
    """One line per office, in the order the offices first appear. A "县级以上" wording merges into a more
    specific level of the same office from another document (Shanxi 市级环保部门 + national 县级以上环境保护部门
    → the city bureau); national bodies stay lines of their own. `province` is kept for provinces whose
    wording needs it; the tables are national so far."""
    del province
    groups: dict[tuple[str, str], _Group] = {}
    loose: list[tuple[str, str, str]] = []    # "县级以上" wordings, placed once the specific ones are known
    roles: dict[str, tuple[str, str]] = {}    # a role served by an office line -> that line's key

    def add(key: tuple[str, str], wording: str, or_above: bool, also: tuple[str, ...]) -> None:
        g = groups.setdefault(key, _Group(or_above=or_above, also=list(also)))
        g.legal.append(wording)
        g.or_above = g.or_above and or_above
        for role in also:
            roles.setdefault(role, key)

    for wording in report_to:
        office, also, level, or_above = classify(wording)
        if not office:
            add((f"?{wording}", "county"), wording, False, ())
        elif level == "national" or not or_above:
            add((office, level), wording, False, also)
        else:
            loose.append((office, level, wording))
    for office, level, wording in loose:
        target = next((k for k in groups if k[0] == office and k[1] != "national"), None) or roles.get(office)
        if target is not None:
            add(target, wording, groups[target].or_above, ())
        else:
            add((office, level), wording, True, ())
    out = [OfficeLine("" if key[0].startswith("?") else key[0], key[1], g.or_above, tuple(g.also), tuple(g.legal))
           for key, g in groups.items()]
    return sorted(out, key=lambda line: line.level == "national")  # stable: local offices first


def render_offices(report_to: Sequence[str], tr: Gettext, *, province: str | None = None) -> str:
    """The verdict's "Report the audit to" block: one line per office, then how to see the legal wording."""
    lines = [tr(N_("Report the audit to:"))]
    lines += [line.render(tr) for line in merge_offices(report_to, province)]
    lines.append(tr(N_("Type “legal wording” to see how the documents name these offices.")))
    return "\n".join(lines)


def render_offices_legal(a: Assessment, tr: Gettext) -> str:
    """The second reply (法律原文): for each merged office, the documents' own wording with the article."""
    province = next((d.pack.jurisdiction for d in a.documents if d.applied and not d.pack.national), None)
    lines_out = [tr(N_("How the documents name these offices:"))]
    if not a.report_to:
        return tr(N_("No office to report to is known yet: the verdict has no mandatory ground."))
    entries = [(d.pack, e) for d in a.documents if d.applied for e in d.pack.report_to]
    for line in merge_offices(list(a.report_to), province):
        lines_out.append(tr(N_("• {name}:")).format(name=line.name(tr)))
        for wording in line.legal:
            sources = [f"{p.title}{e.citation}" for p, e in entries if wording in e.offices]
            lines_out.append("  " + tr(N_("{wording} ({sources})")).format(
                wording=original(wording, tr), sources=original("；".join(dict.fromkeys(sources)), tr)))
    return "\n".join(lines_out)


def is_legal_wording_request(text: str) -> bool:
    """The contact asks for the offices' legal wording (法律原文 / legal wording)."""
    t = text.strip().lower()
    return any(t == w or t == f"{w}?" for w in LEGAL_WORDS)

"""The word tables of handlers/extract.py, loaded once: the lexicon, places, industry names, readings.

Everything becomes one gazetteer: word -> the roles it can play (a filler, a negation, a fact word, a
place, an industry ...). `Gazetteer.scan` cuts a normalised message into the leftmost-longest words
it knows, so a longer word always wins over a shorter word inside it.

Sources: `handlers/data/lexicon.yaml` (the reading rules), `handlers/data/places.yaml` and
`handlers/data/pinyin.yaml` (generated from jionlp's dictionaries by handlers/extract_gen.py),
`rules.provinces` (province names, short names, abbreviations, English names) and
`rules.industries` (GB/T 4754-2017 class names).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rules.industries import all_classes, get_class
from rules.provinces import all_provinces

DATA_DIR = Path(__file__).parent / "data"
LEXICON_FILE = DATA_DIR / "lexicon.yaml"
PLACES_FILE = DATA_DIR / "places.yaml"
PINYIN_FILE = DATA_DIR / "pinyin.yaml"

TOXIC_CLASSES = ("hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic")
# Endings of class names that say nothing about which class ("水泥制造" is read from "水泥" too).
_NAME_ENDINGS = ("开采洗选", "开采辅助活动", "精加工", "制造", "加工", "生产", "开采", "采选", "冶炼", "种植", "养殖")
# Class-name stems too generic to stand for one industry on their own.
_GENERIC_STEMS = frozenset({"金属", "化学", "电力", "热力", "工业", "其他", "日用", "专用", "通用", "建筑", "服务"})


class LexiconError(ValueError):
    """The tables contradict themselves (a bad code, a word that is not a string ...)."""


@dataclass(frozen=True, slots=True)
class Term:
    """A fact word: "超标" -> exceeds_emission_standard True."""

    fact: str
    value: Any
    level: float
    options: tuple[Any, ...] = ()
    answers: frozenset[str] = frozenset()
    negatable: bool = True


@dataclass(frozen=True, slots=True)
class IndustryWord:
    codes: tuple[str, ...]
    level: float


@dataclass(frozen=True, slots=True)
class Place:
    province: str  # canonical id
    level: float


@dataclass(slots=True)
class Roles:
    """What one word can be. Most words have one role; a few have several (不是: a no and a negation)."""

    kinds: set[str] = field(default_factory=set)
    terms: list[Term] = field(default_factory=list)
    industry: IndustryWord | None = None
    place: Place | None = None
    date_facts: tuple[str, ...] = ()
    date_strong: bool = True


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    word: str
    roles: Roles


@dataclass(frozen=True, slots=True)
class Gazetteer:
    by_first: dict[str, tuple[tuple[str, Roles], ...]]

    def scan(self, text: str, blocked: list[tuple[int, int]]) -> tuple[list[Token], list[int]]:
        """Leftmost-longest words of `text`, skipping the `blocked` spans (sorted, non-overlapping);
        also the positions of characters no word covers."""
        tokens: list[Token] = []
        uncovered: list[int] = []
        i, n, b = 0, len(text), 0
        while i < n:
            while b < len(blocked) and blocked[b][1] <= i:
                b += 1
            if b < len(blocked) and blocked[b][0] <= i:
                i = blocked[b][1]
                continue
            limit = blocked[b][0] if b < len(blocked) else n
            hit = None
            for word, roles in self.by_first.get(text[i], ()):
                end = i + len(word)
                if end <= limit and text.startswith(word, i) and _bounded(text, i, end, word):
                    hit = Token(i, end, word, roles)
                    break
            if hit is None:
                uncovered.append(i)
                i += 1
            else:
                tokens.append(hit)
                i = hit.end
        return tokens, uncovered


def _bounded(text: str, start: int, end: int, word: str) -> bool:
    """Latin words stand as whole words ("no" is not in "nonsense", "lead" not in "leading")."""
    if not word[0].isascii() or not word[0].isalnum():
        return True
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (_latin(before) or (word[-1].isascii() and word[-1].isalnum() and _latin(after)))


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True, slots=True)
class Tables:
    gazetteer: Gazetteer
    levels: dict[str, float]
    abbreviations: dict[str, str]  # 晋 -> shanxi (a whole message only)
    province_names: dict[str, str]  # canonical id -> 山西 (for typo options)
    latin_provinces: dict[str, str]  # shanxi, inner mongolia ... -> id (for Latin typos)
    city_names: dict[str, str]  # prefecture-level city -> id (for one-character typos)
    traditional: dict[str, str]  # 廣 -> 广: traditional characters of the lexicon's words


@lru_cache(maxsize=1)
def tables() -> Tables:
    raw = _load(LEXICON_FILE)
    levels = {str(k): float(v) for k, v in raw["levels"].items()}
    words: dict[str, Roles] = defaultdict(Roles)

    def add(kind: str, items: object) -> None:
        for w in _words(items, kind):
            words[w].kinds.add(kind)

    for kind, key in (
        ("filler", "fillers"), ("conj", "conjunctions"), ("contrast", "contrast"), ("hypo", "hypothetical"),
        ("hedge", "hedges"), ("past", "past_words"), ("past_event", "past_events"), ("present", "present_words"),
        ("tentative", "tentative"), ("energy", "energy_topic"),
        ("yes", "yes_words"), ("no", "no_words"), ("exceed", "exceed_words"),
        ("neg", "negators"), ("postneg", "post_negators"), ("question", "questions"), ("unknown", "unknown"),
        ("none", "none"), ("emp_unit", "employee_units"), ("emp_key", "employee_keys"),
        ("rev_key", "revenue_keys"), ("not_rev", "not_revenue_keys"), ("output", "output_keys"),
        ("approx", "approx_words"),
        ("below", "below_words"), ("above", "above_words"), ("third", "third_party"), ("subset", "subset_words"),
        ("nothing", "not_toxic"), ("frame_before", "frame_before"), ("frame_after", "frame_after"),
    ):
        add(kind, raw[key])
    for entry in raw["terms"]:
        term = Term(
            fact=str(entry["fact"]),
            value=entry["value"],
            level=levels[entry.get("level", "sure")],
            options=tuple(entry.get("options", ())),
            answers=frozenset(entry.get("answers", ())),
            negatable=bool(entry.get("negatable", True)),
        )
        if term.fact == "toxic_classes" and not set(term.options) | set(term.value or ()) <= set(TOXIC_CLASSES):
            raise LexiconError(f"{LEXICON_FILE.name}: unknown toxic class in {entry}")
        for w in _words(entry["words"], term.fact):
            words[w].kinds.add("term")
            words[w].terms.append(term)
    weak = set(_words(raw["weak_date_keys"], "weak_date_keys"))
    for facts, items in raw["date_keys"].items():
        for w in _words(items, str(facts)):
            words[w].kinds.add("date_key")
            words[w].date_facts = tuple(str(facts).split())
            words[w].date_strong = w not in weak
    _add_industries(words, raw["industries"], levels)
    _add_places(words, levels)
    for w in _words(raw["ambiguous_places"], "ambiguous_places"):
        place = words[w].place
        if place is None:
            raise LexiconError(f"{LEXICON_FILE.name}: ambiguous_places: {w} is not a place")
        words[w].place = Place(place.province, levels["likely"])
    for pid, aliases in raw["place_aliases"].items():
        for w in _words(aliases, f"place_aliases {pid}"):
            words[w].kinds.add("place")
            words[w].place = Place(str(pid), 1.0)
    for roles in words.values():
        if "term" in roles.kinds and roles.place is not None:
            roles.place = None  # a fact word is never a place
    by_first: dict[str, list[tuple[str, Roles]]] = defaultdict(list)
    for w, roles in words.items():
        by_first[w[0]].append((w, roles))
    provinces = all_provinces()
    return Tables(
        gazetteer=Gazetteer({k: tuple(sorted(v, key=lambda t: -len(t[0]))) for k, v in by_first.items()}),
        levels=levels,
        abbreviations={a: p.id for p in provinces for a in p.abbr},
        province_names={p.id: p.short for p in provinces},
        latin_provinces={a.lower(): p.id for p in provinces for a in (p.id, *p.aliases)},
        city_names={w: r.place.province for w, r in words.items()
                    if r.place is not None and len(w) >= 3 and not w.isascii()},
        traditional=_pairs(raw["traditional"]),
    )


def _pairs(raw: object) -> dict[str, str]:
    if not isinstance(raw, str) or len(raw.split()) % 2:
        raise LexiconError(f"{LEXICON_FILE.name}: traditional: expected pairs of characters")
    items = raw.split()
    return dict(zip(items[::2], items[1::2], strict=True))


def _add_industries(words: dict[str, Roles], entries: list[Any], levels: dict[str, float]) -> None:
    # Class names first, the lexicon's trade words over them.
    stems: dict[str, list[str]] = defaultdict(list)
    for c in all_classes():
        name = c.name
        if name.startswith(("其他", "其它")):
            continue
        if (c.section in ("B", "C", "D") and len(name) >= 2) or len(name) >= 4:
            stems[name].append(c.code)
        if c.section in ("B", "C", "D"):
            for ending in _NAME_ENDINGS:
                stem = name.removesuffix(ending)
                if stem != name and len(stem) >= 2 and stem not in _GENERIC_STEMS:
                    stems[stem].append(c.code)
                    break
    for w, found in stems.items():
        unique = tuple(dict.fromkeys(found))
        if w in words and "term" in words[w].kinds:
            continue
        level = levels["sure"] if len(unique) == 1 else levels["maybe"]
        words[w].kinds.add("industry")
        words[w].industry = IndustryWord(unique, level)
    class_names = {c.name for c in all_classes()}
    for entry in entries:
        listed = tuple(str(c) for c in entry["codes"])
        for code in listed:
            if get_class(code) is None:
                raise LexiconError(f"{LEXICON_FILE.name}: {code} is not a GB/T 4754-2017 class")
        default = "sure" if len(listed) == 1 else "maybe"
        level = levels[entry.get("level", default)]
        for w in _words(entry["words"], f"industries {listed}"):
            if w in class_names:
                continue  # an exact class name says its class, whatever a trade word might add
            words[w].kinds.add("industry")
            words[w].industry = IndustryWord(listed, level)


def _add_places(words: dict[str, Roles], levels: dict[str, float]) -> None:
    by_code = {p.code: p.id for p in all_provinces()}
    raw = _load(PLACES_FILE)
    for code, kinds in raw.items():
        pid = by_code[str(code)]
        for w in str(kinds["counties"]).split():
            level = 0.92 if w.endswith(("县", "区", "市", "旗")) else levels["likely"]
            if w not in words or not words[w].kinds:
                words[w].kinds.add("place")
                words[w].place = Place(pid, level)
        for w in str(kinds["cities"]).split():
            words[w].kinds.add("place")
            words[w].place = Place(pid, levels["sure"])
    for p in all_provinces():
        for w in (p.name, p.short, p.id, *(" ".join(a.lower().split()) for a in p.aliases)):
            words[w].kinds.add("place")
            words[w].place = Place(p.id, 1.0)


@lru_cache(maxsize=1)
def readings() -> tuple[dict[str, tuple[str, ...]], dict[tuple[str, ...], list[tuple[str, str]]]]:
    """Character -> toned readings, and toneless syllables -> [(province id, short name)]."""
    raw = _load(PINYIN_FILE)
    table = {str(ch): tuple(str(v).split()) for ch, v in raw.items()}
    by_sound: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
    for p in all_provinces():
        options = [{r[:-1] for r in table.get(ch, ())} for ch in p.short]
        for sound in itertools.product(*options):
            by_sound[sound].append((p.id, p.short))
    return table, dict(by_sound)


def _load(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


def _words(items: object, where: str) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(w, str) and w for w in items):
        raise LexiconError(f"{LEXICON_FILE.name}: {where}: expected a list of words (quote yes/no/y/n/true)")
    return [" ".join(w.lower().split()) for w in items]

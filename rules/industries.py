"""GB/T 4754-2017 《国民经济行业分类》: class lookup, code checks, and search by the words people use.

The standard is read from `rules/data/gbt4754_2017.csv` (20 sections 门类, 97 divisions 大类, 275 group
rows 中类, 1380 classes 小类, with the standard's explanatory notes) once, on first use; trade words
that appear in neither a class name nor its note come from `rules/data/industry_synonyms.yaml`.
Every industry code the engine takes is a 4-digit class code, as a string ("0610", not 610).
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TypeGuard

import yaml

from rules.errors import FactError, RulePackError

_SAFE_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # LibYAML's parser when PyYAML has it

DATA_DIR = Path(__file__).parent / "data"
CSV_FILE = DATA_DIR / "gbt4754_2017.csv"
SYNONYM_FILE = DATA_DIR / "industry_synonyms.yaml"
INDUSTRIAL_SECTIONS = frozenset({"B", "C", "D"})  # 采矿业, 制造业, 电力、热力、燃气及水生产和供应业

_COLUMNS = ("section", "division", "group", "class", "level", "name", "note")
# Words around an industry that say nothing about which one ("水泥厂", "印染企业"), longest first.
_TRADE_SUFFIXES = (
    *("有限责任公司", "股份有限公司", "有限公司", "公司", "集团"),
    *("企业", "工厂", "行业", "产业", "厂", "业"),
)
_FRAME_PREFIXES = (
    *("我们是做", "我们是生产", "我们是", "我们做", "我们生产", "我司是", "我司", "主要做", "主要生产", "主营"),
    *("是做", "是生产", "做", "搞", "生产", "制造", "加工", "从事", "经营", "开"),
)
_SEGMENT_RE = re.compile(r"[^\W_]+")
_CODE_QUERY_RE = re.compile(r"(?P<section>[a-t]?)(?P<digits>[0-9]+)")  # "3011", "c3011" (normalised)

Rank = tuple[int, float, int]  # (tier, ordering within the tier, tie-break); smaller is better


@dataclass(frozen=True, slots=True)
class Industry:
    code: str  # class 小类, 4 digits
    name: str
    group: str  # 中类, 3 digits
    division: str  # 大类, 2 digits
    section: str  # 门类, one letter
    note: str  # the standard's 说明, "" when it has none


@dataclass(frozen=True, slots=True)
class _Entry:
    """A class as `search` sees it: normalised text and character bigrams."""

    industry: Industry
    name: str
    note: str
    group_name: str
    division_name: str
    name_grams: frozenset[str]
    note_grams: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Index:
    classes: Mapping[str, Industry]  # in code order
    sections: Mapping[str, str]
    divisions: Mapping[str, str]
    division_section: Mapping[str, str]
    entries: tuple[_Entry, ...]
    idf: Mapping[str, float]
    synonyms: Mapping[str, tuple[str, ...]]


# -- lookup and validation ------------------------------------------------------------------------


def get_class(code: str) -> Industry | None:
    """The class with this 4-digit code, or None (division and group codes are not classes)."""
    return _codes().classes.get(code)


def all_classes() -> list[Industry]:
    """All 1380 classes in code order."""
    return list(_codes().classes.values())


def sections() -> Mapping[str, str]:
    """Section letter -> name (20 sections, A to T)."""
    return _codes().sections


def divisions() -> Mapping[str, str]:
    """Two-digit division code -> name (97 divisions, 01 to 97)."""
    return _codes().divisions


def validate_code(code: object) -> str:
    """The code itself if it is a class of GB/T 4754-2017; otherwise a `FactError("industry_code", ...)`."""
    if not _is_digits(code, 4):
        raise FactError(
            "industry_code",
            f"行业代码格式错误，应为4位数字的小类代码 / malformed industry code {code!r}: expected the "
            'GB/T 4754-2017 class (小类) code as a string of exactly 4 digits, such as "3011"',
        )
    if code not in _codes().classes:
        raise FactError(
            "industry_code",
            f"《国民经济行业分类》(GB/T 4754-2017) 中没有小类 {code} / unknown class {code!r}: "
            "no such class in GB/T 4754-2017",
        )
    return code


def section_of(code: str) -> str:
    """The section letter (门类) of a class, group or division code."""
    section = _codes().division_section.get(code[:2]) if _is_code_prefix(code) else None
    if section is None:
        raise FactError("industry_code", f"unknown industry code {code!r} / 未知行业代码")
    return section


def division_of(code: str) -> int:
    """The division (大类) of a class, group or division code, as a number 1-97."""
    section_of(code)
    return int(code[:2])


def is_industrial(code: str) -> bool:
    """True for mining, manufacturing and utilities (sections B, C, D: 工业 in the statistical sense)."""
    return section_of(code) in INDUSTRIAL_SECTIONS


def _is_digits(value: object, n: int) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == n and value.isascii() and value.isdigit()


def _is_code_prefix(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 2 <= len(value) <= 4 and value.isascii() and value.isdigit()


# -- search ---------------------------------------------------------------------------------------


def search(text: str, limit: int = 8) -> list[Industry]:
    """Classes matching what a person typed, best first.

    A 4-digit code gives that class; a 2- or 3-digit code the classes of that division or group; a
    section letter may lead ("C3011").
    Words rank, in tiers: exact class name > a trade word from industry_synonyms.yaml typed on its own
    > class name contains the words (name ending in them first), then a trade word inside longer text
    > a class name inside a short sentence > explanatory note contains the words (earliest mention
    first) > group or division name contains them > shared character bigrams weighted by rarity.
    Ties go to the shorter name, then the lower code, so the order is deterministic. A trailing trade
    suffix (厂, 企业, 行业 ...) is also tried without it ("水泥厂" -> "水泥").
    """
    q = _normalize(text)
    if limit <= 0 or not q:
        return []
    idx = _index()
    code = _CODE_QUERY_RE.fullmatch(q)
    if code is not None:
        found = _by_code_prefix(idx, code["digits"])
        return [c for c in found if code["section"] in ("", c.section.lower())][:limit]
    terms = _terms(q)
    synonyms = _synonym_ranks(idx.synonyms, q, terms)
    grams = _bigrams(text)
    ranked: list[tuple[Rank, str, Industry]] = []
    for e in idx.entries:
        rank = _rank(e, terms, synonyms, grams, idx.idf)
        if rank is not None:
            ranked.append((rank, e.industry.code, e.industry))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [t[2] for t in ranked[:limit]]


WEAK_TIER = 6  # only character bigrams shared with a name or note: a guess to offer, never an answer


def search_tiers(text: str, limit: int = 8) -> list[tuple[Industry, int]]:
    """`search` with each class's tier (0 exact name ... WEAK_TIER shared bigrams only)."""
    q = _normalize(text)
    if limit <= 0 or not q:
        return []
    idx = _index()
    if _CODE_QUERY_RE.fullmatch(q) is not None:
        return [(c, 0) for c in search(text, limit)]
    terms = _terms(q)
    synonyms = _synonym_ranks(idx.synonyms, q, terms)
    grams = _bigrams(text)
    ranked = [(rank, e.industry.code, e.industry) for e in idx.entries
              if (rank := _rank(e, terms, synonyms, grams, idx.idf)) is not None]
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [(t[2], t[0][0]) for t in ranked[:limit]]


def _normalize(text: str) -> str:
    """NFKC, lower case, letters and digits only (CJK included)."""
    return "".join(_SEGMENT_RE.findall(unicodedata.normalize("NFKC", text).lower()))


def _terms(q: str) -> tuple[str, ...]:
    """The query, and the query without a trade suffix when that leaves two characters or more."""
    terms = [q]
    framed = q
    for prefix in _FRAME_PREFIXES:  # 做轮胎的, 我们是生产水泥的: the trade inside the frame
        if framed.startswith(prefix) and len(framed) - len(prefix) >= 2:
            framed = framed[len(prefix) :]
            break
    if framed.endswith("的") and len(framed) >= 3:
        framed = framed[:-1]
    if framed != q:
        terms.append(framed)
    for term in list(terms):
        for suffix in _TRADE_SUFFIXES:
            stem = term.removesuffix(suffix)
            if stem != term and len(stem) >= 2:
                terms.append(stem)
                break
    return tuple(dict.fromkeys(terms))


def _bigrams(text: str) -> frozenset[str]:
    """Character bigrams within runs of letters and digits (never across punctuation)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    grams = {seg[i : i + 2] for seg in _SEGMENT_RE.findall(norm) for i in range(len(seg) - 1)}
    return frozenset(grams - _GENERIC_GRAMS)


# Bigrams of the words around a trade, not of the trade ("生产采煤机" is not 中成药生产, "做假发的" not
# 软件开发): sharing one of them says nothing about the industry.
_GENERIC_GRAMS = frozenset({
    "生产", "制造", "加工", "制品", "产品", "企业", "公司", "工厂", "我们", "我司", "主要", "从事", "经营", "做的",
    "发的", "的厂", "的企", "的公", "是做", "是一", "一家", "其他", "以及", "相关", "服务", "行业", "业务",
})


def _by_code_prefix(idx: _Index, q: str) -> list[Industry]:
    if len(q) == 4:
        found = idx.classes.get(q)
        return [] if found is None else [found]
    if len(q) in (2, 3):
        return [c for code, c in idx.classes.items() if code.startswith(q)]
    return []


def _synonym_ranks(
    synonyms: Mapping[str, tuple[str, ...]], q: str, terms: tuple[str, ...]
) -> dict[str, Rank]:
    """Class code -> rank from trade words: tier 1 when the query is the word, else after name matches."""
    ranks: dict[str, Rank] = {}
    for word, codes in synonyms.items():
        if word not in q:
            continue
        for pos, code in enumerate(codes):
            rank: Rank = (1, -len(word), pos) if word in terms else (2, 2 + 1 / (1 + len(word)), pos)
            if code not in ranks or rank < ranks[code]:
                ranks[code] = rank
    return ranks


def _rank(
    e: _Entry,
    terms: tuple[str, ...],
    synonyms: Mapping[str, Rank],
    grams: frozenset[str],
    idf: Mapping[str, float],
) -> Rank | None:
    if e.name in terms:
        return (0, 0, 0)
    candidates = [r for t in terms if (r := _text_rank(e, t)) is not None]
    if e.industry.code in synonyms:
        candidates.append(synonyms[e.industry.code])
    if candidates:
        return min(candidates)
    score = _overlap(e, grams, idf)
    return (6, -score, len(e.name)) if score > 0 else None


def _overlap(e: _Entry, grams: frozenset[str], idf: Mapping[str, float]) -> float:
    """Shared bigrams weighted by rarity, a bigram of the name counting twice one of the note."""
    return sum(
        idf[g] * (2 if g in e.name_grams else 1) for g in grams if g in e.name_grams or g in e.note_grams
    )


def _text_rank(e: _Entry, t: str) -> Rank | None:
    if t in e.name:
        where = 0 if e.name.endswith(t) else 1 if e.name.startswith(t) else 2
        return (2, where, len(e.name))
    if len(e.name) >= 2 and e.name in t and 3 * len(e.name) >= len(t):
        return (3, -len(e.name), 0)
    pos = e.note.find(t)
    if pos >= 0:
        return (4, pos, len(e.name))
    if t in e.group_name or t in e.division_name:
        return (5, 0 if t in e.group_name else 1, len(e.name))
    return None


# -- loading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Codes:
    """The classification itself: what validating a code needs (the name search's index is `_Index`)."""

    classes: Mapping[str, Industry]  # in code order
    sections: Mapping[str, str]
    divisions: Mapping[str, str]
    division_section: Mapping[str, str]
    groups: Mapping[str, str]


@lru_cache(maxsize=1)
def _codes() -> _Codes:
    rows = _read_rows()
    secs = {r["section"]: r["name"] for r in rows if r["level"] == "1"}
    divs = {r["division"]: r["name"] for r in rows if r["level"] == "2"}
    div_sec = {r["division"]: r["section"] for r in rows if r["level"] == "2"}
    groups = {r["group"]: r["name"] for r in rows if r["level"] == "3"}
    classes = {c.code: c for c in sorted(_classes(rows, div_sec), key=lambda c: c.code)}
    return _Codes(classes=MappingProxyType(classes), sections=MappingProxyType(secs),
                  divisions=MappingProxyType(divs), division_section=MappingProxyType(div_sec),
                  groups=MappingProxyType(groups))


@lru_cache(maxsize=1)
def _index() -> _Index:
    codes = _codes()
    classes, groups, divs = codes.classes, codes.groups, codes.divisions
    entries = tuple(_entry(c, groups.get(c.group, ""), divs[c.division]) for c in classes.values())
    return _Index(
        classes=classes,
        sections=codes.sections,
        divisions=divs,
        division_section=codes.division_section,
        entries=entries,
        idf=MappingProxyType(_idf(entries)),
        synonyms=MappingProxyType(_load_synonyms(classes)),
    )


def _read_rows() -> list[dict[str, str]]:
    with CSV_FILE.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise RulePackError(f"{CSV_FILE.name}: expected the columns {', '.join(_COLUMNS)}")
        # Some names and notes in the source carry a trailing space ("造纸和纸制品业 "): strip every cell.
        return [{k: (v or "").strip() for k, v in r.items()} for r in reader]


def _classes(rows: Iterable[dict[str, str]], div_sec: Mapping[str, str]) -> list[Industry]:
    out = []
    for line, r in enumerate(rows, start=2):
        if r["level"] != "4":
            continue
        code, group, division, section = r["class"], r["group"], r["division"], r["section"]
        if not (
            _is_digits(code, 4)
            and code.startswith(group)
            and group.startswith(division)
            and len(group) == 3
            and div_sec.get(division) == section
        ):
            raise RulePackError(f"{CSV_FILE.name}: line {line}: inconsistent codes for class {code!r}")
        out.append(Industry(code, r["name"], group, division, section, r["note"]))
    return out


def _entry(c: Industry, group_name: str, division_name: str) -> _Entry:
    return _Entry(
        industry=c,
        name=_normalize(c.name),
        note=_normalize(c.note),
        group_name=_normalize(group_name),
        division_name=_normalize(division_name),
        name_grams=_bigrams(c.name),
        note_grams=_bigrams(c.note),
    )


def _idf(entries: tuple[_Entry, ...]) -> dict[str, float]:
    """Inverse document frequency of each bigram over the classes (name and note together)."""
    df = Counter(g for e in entries for g in e.name_grams | e.note_grams)
    n = len(entries)
    return {g: math.log((n + 1) / (k + 0.5)) for g, k in df.items()}


def _load_synonyms(classes: Mapping[str, Industry]) -> dict[str, tuple[str, ...]]:
    raw = yaml.load(SYNONYM_FILE.read_text(encoding="utf-8"), Loader=_SAFE_YAML)
    if not isinstance(raw, dict):
        raise RulePackError(f"{SYNONYM_FILE.name}: expected a mapping of words to class codes")
    out: dict[str, tuple[str, ...]] = {}
    for word, codes in raw.items():
        if not isinstance(word, str) or _normalize(word) != word or not word:
            raise RulePackError(f"{SYNONYM_FILE.name}: {word!r}: a word is lower-case letters only")
        if not isinstance(codes, list) or not codes or not all(c in classes for c in codes):
            raise RulePackError(f"{SYNONYM_FILE.name}: {word}: expected a list of known 4-digit class codes")
        out[word] = tuple(codes)
    return out

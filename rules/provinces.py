"""China's 31 provincial-level divisions (GB/T 2260 codes): strict ids for the API, lenient matching for chat.

The data lives in `rules/data/provinces.yaml`, read once on first use. Two entry points:

- `normalize_province` for the API contract: a pinyin id (any case), a two-digit GB/T 2260 code, or the
  Chinese full or short name -> canonical id; anything else is a `FactError("province", ...)`.
- `find_province` for free chat text: also abbreviations (晋, 鲁 ...), English names (Inner Mongolia,
  Tibet ...) and names inside a sentence ("我们在山西太原").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rules.errors import FactError, RulePackError

_SAFE_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # LibYAML's parser when PyYAML has it

DATA_FILE = Path(__file__).parent / "data" / "provinces.yaml"
_FIELDS = frozenset({"id", "code", "name", "short", "abbr", "aliases"})
_ID_RE = re.compile(r"[a-z]+")
_CODE_RE = re.compile(r"[1-9][0-9]")


@dataclass(frozen=True, slots=True)
class Province:
    id: str
    code: str
    name: str
    short: str
    abbr: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Index:
    provinces: tuple[Province, ...]
    by_id: dict[str, Province]
    by_key: dict[str, Province]  # what normalize_province accepts: id, code, full and short name
    by_abbr: dict[str, Province]
    pattern: re.Pattern[str]  # names and aliases inside free text
    by_match: dict[str, Province]  # a `pattern` match (lowercased, spaces squeezed) -> province


def all_provinces() -> list[Province]:
    """The 31 provinces in GB/T 2260 code order."""
    return list(_index().provinces)


def get_province(pid: str) -> Province:
    """The province with this canonical id; a `FactError` when there is none."""
    p = _index().by_id.get(pid)
    if p is None:
        raise FactError("province", f"未知省份 / unknown province id {pid!r}")
    return p


def normalize_province(value: object) -> str:
    """The canonical id for a pinyin id (any case), a two-digit code, or a Chinese full or short name."""
    if not isinstance(value, str):
        raise FactError(
            "province",
            f"省份须为字符串 / expected a province id as a string such as 'shanxi' or '14' "
            f"(got {type(value).__name__})",
        )
    p = _index().by_key.get(value.strip().lower())
    if p is None:
        raise FactError(
            "province",
            f"未知省份 {value!r} / unknown province {value!r}: expected a pinyin id such as 'shanxi' "
            "(山西) or 'shaanxi' (陕西), or a GB/T 2260 code such as '14'",
        )
    return p.id


def find_province(text: str) -> Province | None:
    """The province a person means in free text, or None.

    A whole answer may be an id, code, name, abbreviation or alias ("晋", "14", "Shanxi"). Inside a
    sentence only names and aliases count, never a lone abbreviation or number ("新的一年" is not
    Xinjiang); the leftmost name wins, the longest at that position ("上海南京路" is Shanghai).
    """
    idx = _index()
    s = unicodedata.normalize("NFKC", text).strip()
    compact = "".join(ch for ch in s if ch.isalnum()).lower()
    whole = idx.by_key.get(compact) or idx.by_abbr.get(compact)
    if whole is not None:
        return whole
    m = idx.pattern.search(s.lower())
    return None if m is None else idx.by_match[_squeeze(m.group())]


def _squeeze(s: str) -> str:
    return " ".join(s.split())


@lru_cache(maxsize=1)
def _index() -> _Index:
    provinces = tuple(_parse(entry, i) for i, entry in enumerate(_load_raw()))
    _check_unique(provinces)
    by_key: dict[str, Province] = {}
    by_match: dict[str, Province] = {}
    for p in provinces:
        for key in (p.id, p.code, p.name, p.short):
            by_key[key] = p
        for key in (p.name, p.short, p.id, *(a.lower() for a in p.aliases)):
            by_match[_squeeze(key)] = p
    return _Index(
        provinces=provinces,
        by_id={p.id: p for p in provinces},
        by_key=by_key,
        by_abbr={a: p for p in provinces for a in p.abbr},
        pattern=_compile_pattern(by_match),
        by_match=by_match,
    )


def _compile_pattern(keys: dict[str, Province]) -> re.Pattern[str]:
    """One alternation, longest first, so that at the leftmost match the longest name wins.

    Latin names must stand as whole words (shanxi never matches inside shaanxi, nor hunan in
    "zhunan"); Chinese names are plain substrings.
    """
    parts = []
    for key in sorted(keys, key=lambda k: (-len(k), k)):
        if key.isascii():
            body = r"\s+".join(re.escape(w) for w in key.split())
            parts.append(rf"(?<![a-z]){body}(?![a-z])")
        else:
            parts.append(re.escape(key))
    return re.compile("|".join(parts))


def _load_raw() -> list[Any]:
    try:
        raw = yaml.load(DATA_FILE.read_text(encoding="utf-8"), Loader=_SAFE_YAML)
    except yaml.YAMLError as e:
        raise RulePackError(f"{DATA_FILE.name}: not valid YAML: {e}") from None
    if not isinstance(raw, list):
        raise RulePackError(f"{DATA_FILE.name}: expected a list of provinces")
    return raw


def _parse(entry: object, i: int) -> Province:
    where = f"{DATA_FILE.name}: entry {i + 1}"
    if not isinstance(entry, dict) or set(entry) != _FIELDS:
        raise RulePackError(f"{where}: expected exactly the keys {sorted(_FIELDS)}")
    pid, code, name, short = (entry[k] for k in ("id", "code", "name", "short"))
    if not isinstance(pid, str) or not _ID_RE.fullmatch(pid):
        raise RulePackError(f"{where}: id: expected lowercase pinyin, got {pid!r}")
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise RulePackError(f"{where}: code: expected a quoted two-digit GB/T 2260 code, got {code!r}")
    if not (isinstance(name, str) and isinstance(short, str) and short and name.startswith(short)):
        raise RulePackError(f"{where}: name/short: the short name must begin the full name")
    return Province(
        id=pid,
        code=code,
        name=name,
        short=short,
        abbr=_strings(entry["abbr"], f"{where}: abbr", one_char=True),
        aliases=_strings(entry["aliases"], f"{where}: aliases", one_char=False),
    )


def _strings(value: object, where: str, *, one_char: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulePackError(f"{where}: expected a list of non-empty strings")
    if one_char and any(len(v) != 1 for v in value):
        raise RulePackError(f"{where}: an abbreviation is one character")
    if not one_char and not all(v.isascii() for v in value):
        raise RulePackError(f"{where}: aliases are Latin-script names")
    return tuple(value)


def _check_unique(provinces: tuple[Province, ...]) -> None:
    seen: dict[str, str] = {}
    for p in provinces:
        keys = {p.id, p.code, p.name, p.short, *p.abbr, *(_squeeze(a.lower()) for a in p.aliases)}
        for key in keys:
            other = seen.setdefault(key, p.id)
            if other != p.id:
                raise RulePackError(f"{DATA_FILE.name}: {key!r} names both {other} and {p.id}")

"""`qingshen rules check`: every problem of one rule pack, each with its key path and YAML line.

The loader (`rules.packs.load_pack`) stops at the first error; a pack author wants them all, and wants the
checks the loader cannot make: dates in order, citations that name an article of the text, and every
`quote` found verbatim in the document's text (rules/sources/<id>.txt, or a file given with --source).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rules.packs import Pack, _Loader, default_packs

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = "零〇一二三四五六七八九十百千两"
# An article reference of this document: 第X条, optionally 第X款 and 第（X）项. One right after 》 cites another text.
ARTICLE_RE = re.compile(rf"(?<!》)第([{NUMERAL}]+)条")
ARABIC_ARTICLE_RE = re.compile(r"第\s*\d+\s*[条款项]")
ASCII_ITEM_RE = re.compile(rf"第\([{NUMERAL}]+\)项")
OUTLINE_RE = re.compile(rf"^([{NUMERAL}]+)、")
ELLIPSIS_RE = re.compile(r"…+|\.{3,}")
CITATION_KEYS = ("citation", "validity_citation", "fields_citation", "new")
DATE_KEYS = ("published_on", "effective_from", "effective_until", "period_end")


@dataclass(frozen=True)
class Problem:
    path: str          # the key path, e.g. grounds[0].quote; "" for the file as a whole
    line: int | None   # 1-based line in the pack's YAML, when known
    message: str

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.path or '(file)'}: {self.message}"


def cn_number(text: str) -> int | None:
    """A Chinese numeral as written in article numbers (二十七, 一百零一, 九百零一); None if malformed."""
    total, digit, last_unit = 0, None, 10_000
    for ch in text:
        if ch in CN_DIGITS:
            if digit is not None and digit != 0:
                return None  # two digits in a row (二三)
            digit = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            unit = CN_UNITS[ch]
            if unit >= last_unit:
                return None  # 十十, 十百
            total += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:
            return None
    total += digit or 0
    return total or None


def normalise(text: str) -> str:
    """Whitespace removed, except one space between two Latin letters or digits (so words stay apart)."""
    def keep(m: re.Match[str]) -> str:
        before, after = m.string[m.start() - 1:m.start()], m.string[m.end():m.end() + 1]
        return " " if before.isascii() and before.isalnum() and after.isascii() and after.isalnum() else ""
    return re.sub(r"\s+", keep, text).strip()


def quote_problem(quote: str, source: str) -> str | None:
    """None when the quote is in the (normalised) source; pieces around an ellipsis (……) in that order."""
    pos = 0
    for piece in (p for p in (normalise(x) for x in ELLIPSIS_RE.split(quote)) if p):
        found = source.find(piece, pos)
        if found < 0:
            n = _longest_prefix(piece, source)
            if n == 0:
                return f"not found in the source text: 「{piece}」"
            return (f"not found in the source text: 「{piece}」 (the text has 「{piece[:n]}」, then differs at "
                    f"「{piece[n:n + 8]}」)")
        pos = found + len(piece)
    return None


def _longest_prefix(piece: str, source: str) -> int:
    lo, hi = 0, len(piece)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if piece[:mid] in source:
            lo = mid
        else:
            hi = mid - 1
    return lo


class _Tree:
    """The composed YAML nodes, to find the line of a key path."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, loc: Sequence[str | int]) -> int | None:
        node, line = self.root, (self.root.start_mark.line + 1 if self.root else None)
        for part in loc:
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if key.value == part:
                        child, line = value, key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line


def _path(loc: Sequence[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _has(node: Any, part: Any) -> bool:
    return (isinstance(node, dict) and part in node) or (
        isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))


def _trim(raw: Any, loc: Sequence[Any]) -> tuple[str | int, ...]:
    """The part of pydantic's location that exists in the YAML, plus a missing key (not union tags)."""
    out: list[str | int] = []
    node = raw
    for part in loc:
        if _has(node, part):
            node = node[part]
            out.append(part)
        else:
            if isinstance(node, dict) and isinstance(part, str):
                out.append(part)  # a missing or unknown key of this mapping
            break
    return tuple(out)


def _walk(raw: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield loc, raw
    if isinstance(raw, dict):
        for k, v in raw.items():
            yield from _walk(v, (*loc, str(k)))
    elif isinstance(raw, list):
        for i, v in enumerate(raw):
            yield from _walk(v, (*loc, i))


def _get(raw: Any, loc: Sequence[str | int]) -> Any:
    for part in loc:
        if not _has(raw, part):
            return None
        raw = raw[part]
    return raw


@dataclass
class PackCheck:
    """The problems of one pack file, given the texts its quotes must come from."""

    file: Path
    sources: Sequence[Path] = ()
    others: Sequence[Pack] | None = None   # the packs it is loaded beside (default: the shipped ones)

    def run(self) -> list[Problem]:
        self.problems: list[Problem] = []
        try:
            text = self.file.read_bytes().decode("utf-8")
        except OSError as e:
            return [Problem("", None, f"cannot read the pack: {e.strerror or e}")]
        except UnicodeDecodeError as e:
            return [Problem("", None, f"the pack is not UTF-8 text (byte {e.start})")]
        try:
            self.tree = _Tree(yaml.compose(text, Loader=_Loader))
            raw = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            reason = getattr(e, "problem", None) or str(e)
            return [Problem("", mark.line + 1 if mark else None, f"not valid YAML: {reason}")]
        if not isinstance(raw, dict):
            return [Problem("", 1, "a pack is a mapping of keys (id, title, ...), not a list or a scalar")]
        self.raw = raw
        dates = self._dates()
        pack = self._schema(dated=dates)
        self._citations_and_quotes()
        if pack is not None:
            self._context(pack)
        return sorted(self.problems, key=lambda p: (p.line or 0, p.path))

    def add(self, loc: Sequence[str | int], message: str) -> None:
        problem = Problem(_path(loc), self.tree.line(loc), message)
        if problem not in self.problems:
            self.problems.append(problem)

    # -- schema --------------------------------------------------------------------------------------

    def _schema(self, dated: set[str]) -> Pack | None:
        from rules.pack_schema import Pack as PackModel
        from rules.pack_schema import to_runtime

        try:
            pack: Pack = to_runtime(PackModel.model_validate(self.raw))
            return pack
        except ValidationError as e:
            errors = e.errors()
        by_path: dict[tuple[str | int, ...], list[str]] = {}
        for err in errors:
            msg = str(err["msg"]).removeprefix("Value error, ")
            loc = _trim(self.raw, err["loc"])
            if not loc:  # a whole-pack check; its message starts with the key path when it has one
                m = re.match(r"([\w.\[\]]+): (.*)", msg)
                if m:
                    loc, msg = _parse_path(m.group(1)), m.group(2)
                elif "effective_until" in msg:
                    loc = ("effective_until",)
            if _path(loc).split("[")[0].split(".")[0] in dated:
                continue  # said already, in the dates' own words
            if err["type"] == "missing":
                msg = "required, missing"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key (see rules/packs/SCHEMA.md for the keys of this section)"
            elif err["type"] not in ("value_error", "assertion_error") and "input" in err:
                msg = f"{msg} (got {err['input']!r})"
            by_path.setdefault(loc, [])
            if msg not in by_path[loc]:
                by_path[loc].append(msg)
        for loc, msgs in by_path.items():
            self.add(loc, "; or ".join(msgs) if len(msgs) > 1 else msgs[0])
        return None

    # -- dates ---------------------------------------------------------------------------------------

    def _dates(self) -> set[str]:
        """Each date a real YYYY-MM-DD day; published <= in force <= expiry; supersedes within them."""
        values: dict[str, date] = {}
        bad: set[str] = set()
        for key in DATE_KEYS:
            d = self._date((key,))
            if d is False:
                bad.add(key)
            elif isinstance(d, date):
                values[key] = d
        order = [("published_on", "effective_from", "the document takes effect before it was published"),
                 ("effective_from", "effective_until", "the last day in force is before the first"),
                 ("effective_from", "period_end", "the planning period ends before the document takes effect")]
        for a, b, why in order:
            if a in values and b in values and values[b] < values[a]:
                self.add((b,), f"{values[b]} is before {a} {values[a]}: {why}")
                bad.add(b)
        for i, s in enumerate(self.raw.get("supersedes") or []):
            if not isinstance(s, dict):
                continue
            d = self._date(("supersedes", i, "from"))
            if not isinstance(d, date) or d is False:
                if d is False:
                    bad.add("supersedes")
                continue
            if "effective_from" in values and d < values["effective_from"]:
                self.add(("supersedes", i, "from"), f"{d} is before this document's effective_from "
                                                    f"{values['effective_from']}")
                bad.add("supersedes")
            if "effective_until" in values and d > values["effective_until"]:
                self.add(("supersedes", i, "from"), f"{d} is after this document's effective_until "
                                                    f"{values['effective_until']}")
                bad.add("supersedes")
        return bad

    def _date(self, loc: tuple[str | int, ...]) -> date | bool | None:
        """The date at loc; None when absent or null; False (and a problem) when it is not a date."""
        value = _get(self.raw, loc)
        if value is None:
            return None
        text = value if isinstance(value, str) else repr(value)
        if not isinstance(value, str) or not DATE_RE.fullmatch(value):
            self.add(loc, f"{text} is not a date written YYYY-MM-DD (or null)")
            return False
        try:
            return date.fromisoformat(value)
        except ValueError as e:
            self.add(loc, f"{value} is not a day of the calendar ({e})")
            return False

    # -- citations and quotes ------------------------------------------------------------------------

    def _citations_and_quotes(self) -> None:
        source = self._source()
        for loc, value in _walk(self.raw):
            if not loc or not isinstance(value, str) or loc[0] == "tables":
                continue
            key = loc[-1]
            if key in CITATION_KEYS and (key != "new" or "articles" in loc):
                self._citation(loc, value, source)
            elif key == "quote" and value and source is not None:
                why = quote_problem(value, source)
                if why:
                    self.add(loc, why)

    def _source(self) -> str | None:
        if not self.sources:
            raw_id = self.raw.get("id")
            pack_id = raw_id if isinstance(raw_id, str) else self.file.stem
            where = conventional_source(self.file, pack_id)
            self.add(("id",), f"no source text to check the quotes against: give --source FILE, or put the "
                              f"document's text at {where}")
            return None
        texts = []
        for path in self.sources:
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as e:
                self.add((), f"cannot read the source text {path}: {getattr(e, 'strerror', None) or e}")
        return normalise("\n".join(texts)) if texts else None

    def _citation(self, loc: tuple[str | int, ...], value: str, source: str | None) -> None:
        if not value.strip():
            return  # the schema says whether it may be empty
        if m := ARABIC_ARTICLE_RE.search(value):
            self.add(loc, f"「{m.group(0)}」: write article numbers in Chinese numerals as the text does (第八条)")
        if ASCII_ITEM_RE.search(value):
            self.add(loc, "items are written with full-width parentheses: 第（一）项")
        for m in ARTICLE_RE.finditer(value):
            n = cn_number(m.group(1))
            if n is None:
                self.add(loc, f"「{m.group(0)}」 is not a Chinese numeral article number")
            elif source is not None and not re.search(rf"(?:^|[^》{NUMERAL}])第{m.group(1)}条", source):
                self.add(loc, f"the source text has no article 「{m.group(0)}」")
        outline = OUTLINE_RE.match(value)
        if outline and source is not None and f"{outline.group(1)}、" not in source:
            self.add(loc, f"the source text has no section 「{outline.group(0)}」")

    # -- beside the other packs ----------------------------------------------------------------------

    def _context(self, pack: Pack) -> None:
        from rules.provinces import all_provinces

        known = {p.id for p in all_provinces()} | {"national"}
        if pack.jurisdiction not in known:
            self.add(("jurisdiction",), f"unknown province {pack.jurisdiction!r}: use an id of "
                                        f"rules/data/provinces.yaml (e.g. hebei) or national")
        if pack.id != self.file.stem:
            self.add(("id",), f"the id {pack.id!r} and the file name {self.file.name!r} differ: name the file "
                              f"{pack.id}.yaml")
        others = {p.id: p for p in (self.others if self.others is not None else default_packs())}
        same = others.get(pack.id)
        if same is not None and not _same_file(same, self.file):
            self.add(("id",), f"{pack.id!r} is already the id of the loaded pack {same.file}")
        for i, s in enumerate(pack.supersedes):
            old = others.get(s.document)
            if old is None:
                self.add(("supersedes", i, "document"), f"no loaded pack {s.document!r}")
                continue
            if old.effective_until is not None and old.effective_until < s.from_:
                self.add(("supersedes", i, "from"), f"{s.from_} is after {s.document}'s last day in force "
                                                    f"{old.effective_until}: nothing is left to supersede")
            cited = _citations(old)
            for j, a in enumerate(s.articles):
                if not any(c.startswith(a.old) for c in cited):
                    self.add(("supersedes", i, "articles", j, "old"),
                             f"{s.document} cites no article starting with 「{a.old}」")
            unmapped = sorted(c for c in cited if ARTICLE_RE.match(c) and s.recite(c) is None)
            if unmapped:
                self.add(("supersedes", i, "articles"), f"no mapping for {s.document}'s "
                                                        f"{'、'.join(unmapped)} (they would stay cited as the old "
                                                        f"document)")


def _parse_path(text: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", text))


def _same_file(pack: Pack, file: Path) -> bool:
    from rules.packs import PACK_DIR

    return (PACK_DIR / pack.file).resolve() == file.resolve()


def _citations(pack: Pack) -> set[str]:
    items: list[Any] = [*pack.grounds, *pack.disclosure, *pack.report_to, *pack.deadlines, *pack.voluntary,
                        *pack.officer_dates, *pack.duties]
    return {c for item in items for c in item.citation.split("；")}


def conventional_source(pack_file: Path, pack_id: str) -> Path:
    """Where a pack's source text lives: rules/sources/<id>.txt beside rules/packs/."""
    return pack_file.parent.parent / "sources" / f"{pack_id}.txt"


def find_sources(pack_file: Path, given: Sequence[Path]) -> list[Path]:
    """The texts given with --source; else the first of <sources>/<id>.txt, sources/<id>.txt and
    <pack>.txt beside the pack that exists (the id read from the pack, else its file name)."""
    if given:
        return list(given)
    pack_id = pack_file.stem
    try:
        raw = yaml.load(pack_file.read_text(encoding="utf-8"), Loader=_Loader)
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            pack_id = raw["id"]
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass  # reported by the check itself
    candidates = [conventional_source(pack_file, pack_id), pack_file.parent / "sources" / f"{pack_id}.txt",
                  pack_file.with_suffix(".txt")]
    return [p for p in candidates if p.is_file()][:1]


def check_pack(file: Path, sources: Sequence[Path] = (), others: Sequence[Pack] | None = None) -> list[Problem]:
    """Every problem of the pack at `file` (an empty list: it is fine)."""
    return PackCheck(file, find_sources(file, sources), others).run()

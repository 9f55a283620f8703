"""Dates, amounts and credit codes in a normalised message (handlers/extract.py cuts words around them).

Chinese numerals are read with `handlers.parse.chinese_to_number` (measured against cn2an in the
README: same answers on the corpus, no 120 ms import).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.parse import chinese_to_number

SURE, LIKELY, MAYBE = 0.95, 0.8, 0.6

_CN_DIGIT = "〇零一二三四五六七八九"
_CN_DIGIT_VALUE = {ch: max(0, i - 1) for i, ch in enumerate(_CN_DIGIT)}  # 〇 and 零 are both 0
_CN_SMALL = "一二三四五六七八九十"
_YEAR = (
    rf"(?:(?P<y>\d{{4}}|\d{{2}}|[{_CN_DIGIT}]{{4}}|[{_CN_DIGIT}]{{2}})\s*年"
    r"|(?P<rel>大前年|前年|去年|今年|本年|明年|当年))"
)
_MONTH = rf"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[{_CN_SMALL[:-1]}])\s*月份?"
_DAY = (
    r"(?:(?P<d>3[01]|[12]\d|0?[1-9]|三十[一]?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?"
    rf"|[{_CN_SMALL[:-1]}])(?:\s*[日号])?(?![\d万亿元人]))"
)
_PART = r"(?P<part>月底|月末|底|末|初|上旬|中旬|下旬|中)"
_DATE_RES = (
    # 2026-03-31, 2026/3/31, 2026.3.31, 2026年3月31日 (also 26年, 今年, 去年 ...), 3月31号, 去年3月底
    re.compile(rf"(?<!\d)(?:{_YEAR}\s*的?\s*)?{_MONTH}\s*(?:{_DAY}|{_PART})?"),
    re.compile(r"(?<![\d.])(?P<y>\d{4})\s*[-/.]\s*(?P<m>1[0-2]|0?[1-9])\s*(?:[-/.]\s*(?P<d>3[01]|[12]\d|0?[1-9]))?(?![\d.])"),
    re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"),
    re.compile(r"(?P<rel>大前年|前年|去年|今年|明年)(?:年)?(?P<part>年底|年末|底|末|年初|初)"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<part>年底|年末|底|末|年初|初)"),
    re.compile(rf"(?P<month_rel>上个月|上月|这个月|本月|当月)\s*的?\s*(?:{_DAY}|(?P<part>底|末|初))?"),
    re.compile(r"(?P<day_rel>大前天|前天|昨天|今天|今日)"),
    # a year alone (21年, 2021年, 去年): not a day, the interview asks for the month and the day; not 20年前
    # or 做了10年 (a span of years), nor 去年底 (read above)
    re.compile(r"(?<![\d.了近这共满])(?P<year_only>\d{4}|\d{2})\s*年(?![前后多来间内里度代份底末初\d])"),
    re.compile(r"(?P<year_rel>大前年|前年|去年|今年)(?!年?[底末初])"),
    # 3/15 (month/day, no year): this year most likely, asked back like 3月15日; not 1/3 of a figure (3/15 may
    # be a share too, so it is a date only beside a step's words or at a date question)
    re.compile(r"(?<![\d./-])(?P<m>1[0-2]|0?[1-9])\s*/\s*(?P<d>3[01]|[12]\d|0?[1-9])(?![\d./%-])"),
)
_EN_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m
}
_EN_MONTH = "|".join(sorted(_EN_MONTHS, key=len, reverse=True))
_EN_DATE_RES = (
    re.compile(
        rf"(?<![a-z])(?P<mn>{_EN_MONTH})\.?\s+(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})"
    ),
    re.compile(rf"(?<!\d)(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\s+(?P<mn>{_EN_MONTH})\.?,?\s+(?P<y>\d{{4}})"),
    re.compile(rf"(?<![a-z])(?P<mn>{_EN_MONTH})\.?\s+(?P<y>\d{{4}})"),
)
_REL_YEARS = {"大前年": -3, "前年": -2, "去年": -1, "今年": 0, "本年": 0, "当年": 0, "明年": 1}
_REL_DAYS = {"大前天": -3, "前天": -2, "昨天": -1, "今天": 0, "今日": 0}

_CODE_RE = re.compile(r"(?<![0-9a-z])[0-9a-hj-npqrtuwxy]{18}(?![0-9a-z])")
# written in groups ("9137 0300 ma3c 1234 5k", "91140100-MA0K12345Y"): tried at every start, the check character
# decides (a failed try must not swallow the start of the real code)
_SPACED_CODE_RE = re.compile(
    r"(?<![0-9a-z])(?=(?P<code>[0-9a-hj-npqrtuwxy](?:[ -]?[0-9a-hj-npqrtuwxy]){17})(?![0-9a-z]))"
)
_CODE_CHARS = re.compile(r"[0-9a-z]")

_NUM_RE = re.compile(
    r"(?<![\d.a-z])(?P<num>\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千万亿点]+)"
    r"(?P<a1>多|来|余|几)?"
    r"(?P<mult>(?:个?(?:多|余)?[十百千万亿])+)?"
    r"(?P<a2>多|余)?"
    r"(?P<unit>\s*(?:万元|亿元|元钱|元|块钱|块|rmb|yuan|w(?![a-z])|million|billion|thousand|k(?![a-z])))?"
    r"(?P<unit2>(?<=[a-z])\s*(?:yuan|rmb)(?![a-z]))?",
    re.I,
)
_RANGE_RE = re.compile(r"[一二两三四五六七八九]{2}")
_FEW_RE = re.compile(r"(?<![\d零〇一二两三四五六七八九十百千万])几(?P<mult>[十百千])(?=\s*(?:人|名|个人|号人|位))")
_MULTS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_UNIT_YUAN = {"million": 1e6, "billion": 1e9, "thousand": 1e3, "k": 1e3, "w": 1e4}
# A number followed by these is not a headcount or an amount (a year, a share, a weight ...).
_NOT_AMOUNT = (
    *("吨", "平方", "千瓦", "kw", "kwh", "度电", "立方", "m3", "m²", "件", "套", "头", "只", "辆", "张", "箱"),
    *("株", "亩", "公斤"),
    *("年", "月", "日", "号", "%", "％", "岁", "度", "吨", "平", "米", "公里", "个月", "天", "次", "倍", "家", "台"),
    *("条", "项", "级", "类", "批", "轮", "版", "期", "届", "小时", "分", "秒", "周", "点"),
)


@dataclass(frozen=True, slots=True)
class DateHit:
    start: int
    end: int
    value: date | None
    partial: str | None  # "YYYY-MM" when the day is not known, "YYYY" when only the year is
    level: float


@dataclass(frozen=True, slots=True)
class Amount:
    start: int
    end: int
    value: float  # people, or yuan (money), or the bare number
    kind: str  # "money" (value in yuan), "bare" (no unit), "people_mult" (万人: value already multiplied)
    approx: bool
    chinese: bool  # written in Chinese numerals
    ranged: bool = False  # 两三百, 六七个亿: somewhere between two numbers
    around: bool = False  # 三百来人, 几百人: near the number, on either side
    high: float | None = None  # a range's upper end (两三百 -> 300; `value` is its lower end)


def find_dates(text: str, today: date) -> list[DateHit]:
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []
    for rx in (*_DATE_RES[1:3], _DATE_RES[0], *_DATE_RES[3:], *_EN_DATE_RES):
        for m in rx.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            hit = _date_hit(m, today)
            if hit is not None:
                hits.append(hit)
                taken.append((m.start(), m.end()))
    return sorted(hits, key=lambda h: h.start)


def _date_hit(m: re.Match[str], today: date) -> DateHit | None:
    g = m.groupdict()
    s, e = m.start(), m.end()
    if g.get("day_rel"):
        return DateHit(s, e, today + timedelta(days=_REL_DAYS[g["day_rel"]]), None, SURE)
    if g.get("year_only") or g.get("year_rel"):
        year_only = _year(g["year_only"]) if g.get("year_only") else today.year + _REL_YEARS[g["year_rel"]]
        return None if year_only is None else DateHit(s, e, None, f"{year_only:04d}", MAYBE)
    if g.get("month_rel"):
        first = today.replace(day=1)
        if g["month_rel"] in ("上个月", "上月"):
            first = (first - timedelta(days=1)).replace(day=1)
        day = _small(g["d"]) if g.get("d") else None  # 上个月15号
        return _month_date(s, e, first.year, first.month, day, g.get("part"), SURE)
    year: int | None = today.year
    level = SURE
    if g.get("y"):
        year = _year(g["y"])
    elif g.get("rel"):
        year = today.year + _REL_YEARS[g["rel"]]
    else:
        level = LIKELY  # 3月31日: this year, most likely, but confirm
    if year is None:
        return None
    if "m" not in g and "mn" not in g:  # 去年底, 2021年底
        part = g.get("part") or ""
        first_month = part.endswith("初")
        return _month_date(s, e, year, 1 if first_month else 12, None, "初" if first_month else "底", level)
    month: int | None = _EN_MONTHS[g["mn"].lower()] if g.get("mn") else _small(g["m"])
    if year is None or month is None or not 1 <= month <= 12:
        return None
    day = _small(g["d"]) if g.get("d") else None
    return _month_date(s, e, year, month, day, g.get("part"), level)


def _month_date(
    s: int, e: int, year: int, month: int, day: int | None, part: str | None, level: float
) -> DateHit | None:
    partial = f"{year:04d}-{month:02d}"
    if day is not None:
        try:
            return DateHit(s, e, date(year, month, day), None, level)
        except ValueError:
            return None
    if part and part[-1] in "底末":  # 月底: the last day, a guess the contact confirms
        return DateHit(s, e, date(year, month, calendar.monthrange(year, month)[1]), partial, min(level, LIKELY))
    return DateHit(s, e, None, partial, MAYBE)  # a month without a day is never guessed


def _year(raw: str) -> int | None:
    digits = "".join(str(_CN_DIGIT_VALUE[ch]) if ch in _CN_DIGIT_VALUE else ch for ch in raw)
    if not digits.isdigit():
        return None
    y = int(digits)
    return 2000 + y if len(digits) == 2 else y if 1980 <= y <= 2100 else None


def _small(raw: str) -> int | None:
    if raw.isdigit():
        return int(raw)
    n = chinese_to_number(raw)
    return None if n is None else int(n)


def find_codes(text: str) -> list[tuple[int, int, str]]:
    """Valid 统一社会信用代码 (18 characters, GB 32100-2015 check digit), upper-cased."""
    found = _CODE_RE.findall(text)
    if not found:
        return _spaced_codes(text)
    from stdnum.cn import uscc  # lazily: most messages carry no code

    out = []
    for m in _CODE_RE.finditer(text):
        code = m.group().upper()
        if uscc.is_valid(code):
            out.append((m.start(), m.end(), code))
    return out


def _spaced_codes(text: str) -> list[tuple[int, int, str]]:
    """Codes typed in groups, with spaces or hyphens between them; only where no code is written whole."""
    if (" " not in text and "-" not in text) or len(_CODE_CHARS.findall(text)) < 18:
        return []
    from stdnum.cn import uscc

    out: list[tuple[int, int, str]] = []
    for m in _SPACED_CODE_RE.finditer(text):
        start, end = m.start("code"), m.end("code")
        if out and start < out[-1][1]:
            continue
        code = re.sub(r"[ -]", "", m.group("code")).upper()
        if uscc.is_valid(code):
            out.append((start, end, code))
    return out


def find_amounts(text: str, blocked: list[tuple[int, int]]) -> list[Amount]:
    out: list[Amount] = []
    for m in _NUM_RE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in blocked):
            continue
        amount = _amount(m, text)
        if amount is not None:
            out.append(amount)
    for m in _FEW_RE.finditer(text):  # 几百人: a few hundred, 200 to 900 (a range, said back and asked)
        if any(s < m.end() and m.start() < e for s, e in blocked) or any(a.start < m.end() and m.start() < a.end
                                                                         for a in out):
            continue
        mult = _MULTS[m["mult"]]
        out.append(Amount(m.start(), m.end(), 2.0 * mult, "bare", True, True, True, False, 9.0 * mult))
    out.sort(key=lambda a: a.start)
    return out


def _amount(m: re.Match[str], text: str) -> Amount | None:
    raw, mult_raw = m["num"], m["mult"] or ""
    if m.start() > 0 and text[m.start() - 1] == "几":
        return None  # 几十人, 几百万: "a few" tens or hundreds (几十 / 几百 people are read by _FEW_RE)
    unit = (m["unit"] or "").strip().lower()
    chinese = not raw[0].isdigit()
    after_raw = text[m.end() : m.end() + 4]
    after = after_raw.lstrip()
    if after_raw.startswith(("th", "st", "nd", "rd")) and raw.isdigit():
        return None  # 1st, 2nd: an ordinal
    if after.startswith(_NOT_AMOUNT) and not after.startswith("号人") and not unit:
        return None  # 30万吨, 2021年: a measure or a year, not money
    if chinese:
        if raw[0] not in "零〇一二两三四五六七八九十":  # 万一, 千万 (= "by all means"), 百分之
            return None
        value = chinese_to_number(raw.rstrip("点"))
        if value is None:
            return None
        has_big = any(ch in raw for ch in "万亿")
        if len(raw) == 1 and not mult_raw and not unit and not after.startswith(("人", "名", "位", "个人")):
            return None  # 一家, 两个: a lone numeral is a word, not a number
    else:
        value = float(raw.replace(",", ""))
        has_big = False
    ranged = chinese and _RANGE_RE.search(raw) is not None and not raw.startswith(("一二", "十"))
    high: float | None = None
    if ranged:
        high = _range_high(raw)
        value = _range_low(raw, value)
    factor = 1.0
    for ch in mult_raw.replace("个", "").replace("多", "").replace("余", ""):
        factor *= _MULTS[ch]
        has_big = has_big or ch in "万亿"
    value *= factor
    high = None if high is None else high * factor
    if m["a1"] == "几" and chinese and not has_big:  # 三百几十人: 310 to 390; 十几人, 二十几人: 11 to 19, 21 to 29
        place = _MULTS.get(mult_raw.replace("个", "")) if mult_raw else 1 if raw.endswith("十") else None
        if place is not None:
            base = value / factor
            value, high, ranged = base + place, base + 9 * place, True
    approx = bool(m["a1"] or m["a2"] or "多" in mult_raw or "余" in mult_raw)
    around = m["a1"] in ("来", "几")
    if unit in _UNIT_YUAN:
        return Amount(m.start(), m.end(), value * _UNIT_YUAN[unit], "money", approx, chinese, ranged, around)
    if unit:
        if unit.startswith("万"):
            value *= 10_000
        elif unit.startswith("亿"):
            value *= 100_000_000
        return Amount(m.start(), m.end(), value, "money", approx, chinese, ranged, around)
    if has_big:
        people = after_raw.startswith(("人", "名"))
        kind = "people_mult" if people else "money"
        return Amount(m.start(), m.end(), value, kind, approx, chinese, ranged, around, high)
    return Amount(m.start(), m.end(), value, "bare", approx, chinese, ranged, around, high)


def _range_high(raw: str) -> float | None:
    """两三百 -> 300, 六七 -> 7: the upper end of a spoken range."""
    m = _RANGE_RE.search(raw)
    if m is None:
        return None
    return chinese_to_number(raw[: m.start()] + m.group()[1] + raw[m.end() :])


def _range_low(raw: str, value: float) -> float:
    """两三百 -> 200, 六七 -> 6: the lower end of a spoken range (confirmed with the contact)."""
    m = _RANGE_RE.search(raw)
    if m is None:
        return value
    low = raw[: m.start()] + m.group()[0] + raw[m.end() :]
    n = chinese_to_number(low)
    return value if n is None else n

"""Reading what people type: yes/no in natural Chinese, numbers with units and Chinese numerals,
dates, sizes and toxic-substance classes. Each parser returns None when it cannot read the answer.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

YES = ("是的", "是", "有的", "有", "对的", "对", "存在", "属于", "超过", "超了", "超标", "yes", "y", "true", "嗯", "会")
NO = (
    "不是", "不对", "没有", "没", "无", "否", "不存在", "不属于", "未超", "不会", "不", "no", "n", "false", "未",
)
# 好的 / 收到 / ok alone: the message takes note of something and names no fact (handlers.confirm, questions).
ACKNOWLEDGEMENTS = frozenset((
    "好", "好的", "好滴", "好嘞", "好吧", "行", "收到", "已收到", "收到了", "知道了", "知道", "明白", "明白了", "了解",
    "了解了", "嗯", "嗯嗯", "哦", "哦哦", "谢谢", "多谢", "好的谢谢", "收到谢谢", "谢谢提醒", "ok", "okay", "thanks",
    "thank you", "got it", "noted", "👌", "👍", "🙏",
))
UNKNOWN = ("不知道", "不清楚", "不确定", "不晓得", "跳过", "skip", "unknown", "不了解", "说不准", "?", "？")

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万亿点]+")


@lru_cache(maxsize=4096)  # a message is normalized by a dozen handlers in turn; a pure function of a str
def normalize(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), lower case, trimmed, inner spaces folded."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return re.sub(r"\s+", " ", text).strip().lower()


def _strip_punct(text: str) -> str:
    return re.sub(r"[\s,，。.!！~～、;；:：\"'“”‘’()（）]+", "", text)


def parse_unknown(text: str) -> bool:
    t = _strip_punct(normalize(text))
    return t in UNKNOWN or any(t.startswith(u) for u in UNKNOWN[:5])


def parse_yes_no(text: str) -> bool | None:
    """是/否/有/没有/对/不是 and friends; negations (不超标, 没有超) are read before affirmations."""
    t = _strip_punct(normalize(text))
    if not t or parse_unknown(text):
        return None
    # whole words only: "有机化学原料" is not a yes, "不锈钢加工" is not a no (handlers.extract reads the rest)
    if t in NO:
        return False
    if t in YES:
        return True
    return None


def chinese_to_number(text: str) -> float | None:
    """三百五十 -> 350, 一万二千 -> 12000, 两亿 -> 2e8, 一点五 -> 1.5; None if not a Chinese numeral."""
    if not text or not _CN_NUMBER.fullmatch(text):
        return None
    if "点" in text:
        whole, _, frac = text.partition("点")
        w = chinese_to_number(whole) if whole else 0.0
        digits = [_DIGITS.get(ch) for ch in frac]
        if w is None or not digits or any(d is None for d in digits):
            return None
        return w + float("0." + "".join(str(d) for d in digits))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        elif ch in _BIG_UNITS:
            section += digit or 0
            total = (total + section) * _BIG_UNITS[ch] if ch == "亿" else total + section * _BIG_UNITS[ch]
            section, digit = 0, None
        else:
            return None
    return float(total + section + (digit or 0))


def _numbers(text: str) -> list[tuple[float, str, bool]]:
    """Every number in the text with the word right after it (its unit); the flag says whether the
    number was written in Chinese numerals with 万/亿 inside it (五千万 is already 50,000,000)."""
    out: list[tuple[float, str, bool]] = []
    for m in re.finditer(r"(\d+(?:\.\d+)?)|([零〇一二两三四五六七八九十百千万亿点]+)", text):
        raw = m.group(0)
        value = float(raw) if m.group(1) else chinese_to_number(raw)
        if value is None:
            continue
        out.append((value, text[m.end():m.end() + 3], bool(m.group(2)) and ("万" in raw or "亿" in raw)))
    return out


def parse_count(text: str) -> float | None:
    """A head count: "350", "350人", "三百五十名员工", "1.2万人"."""
    t = normalize(text).replace(",", "").replace("，", "")
    found = _numbers(t)
    if not found:
        return None
    value, unit, _ = found[0]
    if unit.startswith("万"):
        value *= 10_000
    return value if value >= 0 else None


def parse_money_10k(text: str) -> float | None:
    """An amount in 万元: "5000万", "5000万元", "1.2亿", "3千万", "8000000元", "五千万"."""
    t = normalize(text).replace(",", "").replace("，", "")
    found = _numbers(t)
    if not found:
        return None
    value, unit, whole_yuan = found[0]
    if whole_yuan:
        return value / 10_000
    if unit.startswith("亿"):
        return value * 10_000
    if unit.startswith("千万"):
        return value * 1_000
    if unit.startswith("百万"):
        return value * 100
    if unit.startswith("万"):
        return value
    if unit.startswith("元") or unit.startswith("块"):
        return value / 10_000
    return value  # a bare number is read in 万元, the unit the question asks for


def parse_headcount_and_revenue(text: str) -> tuple[float | None, float | None]:
    """"300人，营收5000万" -> (300, 5000). Numbers followed by 人/名 are people; by 万/亿/元 money."""
    t = normalize(text).replace(",", "").replace("，", " ")
    people: float | None = None
    money: float | None = None
    for value, unit, whole_yuan in _numbers(t):
        if unit[:1] in ("人", "名", "个") or unit.startswith("万人"):
            people = value * (10_000 if unit.startswith("万人") else 1)
        elif whole_yuan and money is None:
            money = value / 10_000
        elif unit[:1] in ("万", "亿", "元", "千", "百") and money is None:
            money = parse_money_10k(f"{value:g}{unit}")
    return people, money


_DATE_PATTERNS = (
    re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(text: str) -> date | None:
    """2026-03-31, 2026/3/31, 2026.3.31, 2026年3月31日, 20260331; None if absent or impossible."""
    t = normalize(text)
    for pattern in _DATE_PATTERNS:
        m = pattern.search(t)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


SCALE_WORDS = {
    "large": ("大型", "大企业", "大型企业", "large", "大"),
    "medium": ("中型", "中企业", "中型企业", "medium", "中"),
    "small": ("小型", "小企业", "小型企业", "small", "小"),
    "micro": ("微型", "微企业", "微型企业", "小微", "micro", "微"),
}


def parse_scale(text: str) -> str | None:
    t = _strip_punct(normalize(text))
    for scale in ("micro", "large", "medium", "small"):  # 小微 before 小
        if any(t == w or (len(w) > 1 and w in t) for w in SCALE_WORDS[scale]):
            return scale
    return None


TOXIC_WORDS = {
    "hazardous_waste": ("危险废物", "危废", "hazardous waste", "废机油", "废矿物油", "废润滑油", "废液压油", "废乳化液",
                        "waste oil"),
    "highly_toxic_chemical": ("剧毒", "危险化学品", "危化品", "重点环境管理危险化学品", "toxic chemical"),
    "heavy_metal": ("重金属", "铅", "汞", "镉", "铬", "砷", "heavy metal"),
    "pop": ("持久性有机污染物", "斯德哥尔摩", "pops", "pop"),
    "other_toxic": ("其他有毒", "其他", "other"),
}


_OPTION_NUMBERS = re.compile(r"(?:(?:第|选)?\d+(?:个|项|类|号)?(?:[,，、;；和及与还有\s]|以及)*)+[。.!！]?")


def parse_toxic_classes(text: str, numbered: tuple[str, ...]) -> list[str] | None:
    """"1,3" (numbers of the listed classes), class words, or no -> []; None if unreadable."""
    t = normalize(text)
    picked: list[str] = []
    # numbers pick options only when the message is nothing but option numbers ("1,3", "1和3", "第2项"):
    # "去年3月", "有3吨废机油" carry numbers that are not options
    for m in re.finditer(r"\d+", t) if _OPTION_NUMBERS.fullmatch(t) else ():
        i = int(m.group(0)) - 1
        if not 0 <= i < len(numbered):
            return None
        picked.append(numbered[i])
    for cls, words in TOXIC_WORDS.items():
        if any(w in t for w in words) and cls not in picked:
            picked.append(cls)
    if picked:
        return picked
    if parse_yes_no(text) is False or any(w in t for w in ("都没有", "都不", "以上都没有", "none")):
        return []
    return None

"""Which language a message is clearly written in, so that a session follows the contact's own writing.

A session's language is chosen by its first message (or the client's `locale`) and by 语言 / language. A
contact who then writes whole sentences in the other language expects the answer in that language: a
message in English words (no Chinese character, at least three words that are not pinyin) switches a Chinese
session to English; one in Chinese (at least five Chinese characters outside 《》 titles, and no English
sentence beside them) switches an English session to Chinese, unless it is only a name (山西太原水泥有限公司,
太原市小店区: names are written in Chinese whatever language their writer uses). One word (ok, yes, 好,
山东) never switches, nor does pinyin typed without an input method (bu zhi dao, meiyou, women shi
shandong de), a number or a credit code. An English sentence with Chinese names in it (we are a chemical
company in 淄博, we produce 有机化学原料) is English: its names are short and hold no Chinese sentence word.
"""

from __future__ import annotations

import re
from functools import cache

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TITLE = re.compile(r"《[^《》]*》")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_TOKEN = re.compile(r"[^\s,.!?;:，。！？；：、()（）\"“”]+")
# A Mandarin syllable in toneless pinyin (a little looser than the real table: it only has to keep pinyin
# from being counted as English words).
_SYLLABLE = re.compile(
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcs])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|er|ia|ie|iu|in|ua|uo|ui|un"
    r"|ue|ve|vn|a|o|e|i|u|v)"
    r"|y(?:uan|ang|ing|ong|ao|ou|an|in|ue|un|a|e|i|u|o)"
    r"|w(?:ang|eng|ai|ei|an|en|a|o|u))")
# A message that is only a name (an enterprise's registered name, a place): written in Chinese because names
# are, by a contact who may write English all the same. Nothing in it says "I write Chinese": no switch.
_NAME_ONLY = re.compile(
    r"[\u3400-\u9fff（）()·]{2,40}?(?:股份有限公司|有限责任公司|有限公司|分公司|公司|集团|总厂|分厂|工厂|厂|矿|园区)"
    r"|(?:[\u3400-\u9fff]{1,8}?(?:自治区|特别行政区|省|市|自治州|地区|盟|区|县|旗|镇|乡))+")
_SENTENCE = re.compile(r"[的是我你们了吗呢吧在要没请把说想问么怎哪谁几这那]")
ENGLISH_WORDS = 3  # English words (not pinyin) that make a message English
CHINESE_CHARACTERS = 5  # Chinese characters (outside 《》) that make a message Chinese


@cache
def _pinyin(word: str) -> bool:
    """The word splits wholly into pinyin syllables (shandong, meiyou, buzhidao)."""
    w = word.lower()
    ends = {0}
    for i in range(len(w)):
        if i in ends:
            ends.update(i + m.end() for m in _prefixes(w[i:]))
    return len(w) in ends


def _prefixes(rest: str) -> list[re.Match[str]]:
    return [m for n in range(1, min(6, len(rest)) + 1) if (m := _SYLLABLE.fullmatch(rest[:n])) is not None]


def english_words(text: str) -> int:
    """How many words of the message are English words (Latin letters only, not pinyin)."""
    words = [t for t in _TOKEN.findall(text) if _WORD.fullmatch(t)]
    return sum(1 for w in words if not _pinyin(w))


_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
NAMED_ENGLISH_WORDS = 5  # English words that make a message with Chinese names in it English
_NAME_RUN = 12  # a longer run of Chinese characters is a sentence, not a name or a product


def _english_with_names(text: str, english: int) -> bool:
    """"we are a chemical company in 淄博, we produce 有机化学原料": an English sentence whose names (places,
    products, enterprises) are written in Chinese, as names are: every Chinese run is short and has no word
    of a Chinese sentence (的, 是, 我们 …), and the English words outnumber the runs."""
    runs = _HAN_RUN.findall(_TITLE.sub("", text))
    if english < NAMED_ENGLISH_WORDS or len(runs) * 2 > english:
        return False
    return all(len(r) <= _NAME_RUN and not _SENTENCE.search(r) for r in runs)


def written_in(text: str) -> str | None:
    """"en" or "zh_CN" when the message is clearly written in that language, None otherwise."""
    han = len(_HAN.findall(_TITLE.sub("", text)))
    english = english_words(text)
    if han and _english_with_names(text, english):
        return "en"
    if han == 0 and english >= ENGLISH_WORDS:
        words = [t for t in _TOKEN.findall(text) if _WORD.fullmatch(t)]
        return "en" if english * 2 >= len(words) else None
    if han >= CHINESE_CHARACTERS and english < ENGLISH_WORDS:
        bare = re.sub(r"[\s,，.。!！?？、;；:：\"“”']+", "", text)
        if _NAME_ONLY.fullmatch(bare) and not _SENTENCE.search(bare):
            return None  # 山西太原水泥有限公司, 太原市小店区: a name, not a sentence
        return "zh_CN"
    return None

"""`assert_no_chinese`: an English reply may not contain Chinese text except where it is Chinese by nature.

The rule (what is let through; everything else with a Han character fails):

1. Document titles between 《》: 《山东省清洁生产审核实施细则》.
2. Original wording between 「」: article citations, quotes, fields to publish and offices as the
   documents write them. The renderer marks these with `handlers.status.original`, which wraps text in
   「」 in English (and leaves it bare in Chinese), so a reader knows it is the law's own words.
3. A Chinese gloss in ASCII parentheses right after an English term, containing nothing but Chinese:
   "acceptance (验收)", "(强制性清洁生产审核)". Full-width parentheses do not count: they are Chinese text.
4. The strings a test passes in `allow` (e.g. a command word it expects the reply to name).

Only Han ideographs are checked (CJK Unified Ideographs with extensions A-B and the compatibility block);
stray full-width punctuation alone is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df]")
_QUOTED = re.compile(r"「[^「」]*」")
_TITLE = re.compile(r"《[^《》]*》")
_GLOSS = re.compile(r"(?<=[A-Za-z0-9.,;:!?\"'”’)\s])\((?:[\u3000-\u303f\u3400-\u9fff\uff00-\uffef、]+)\)")


def chinese_left(text: str, allow: Iterable[str] = ()) -> list[str]:
    """The fragments (with a little context) of `text` that still hold Chinese once the allowed parts are
    removed; [] when the text passes."""
    rest = text
    for s in sorted(allow, key=len, reverse=True):
        rest = rest.replace(s, " ")
    previous = None
    while previous != rest:  # quotes may hold titles and titles quotes: strip until nothing changes
        previous = rest
        rest = _QUOTED.sub(" ", rest)
        rest = _TITLE.sub(" ", rest)
    rest = _GLOSS.sub(" ", rest)
    found = []
    for m in HAN.finditer(rest):
        start, end = max(0, m.start() - 20), min(len(rest), m.end() + 20)
        fragment = rest[start:end].replace("\n", " ")
        if not found or fragment != found[-1]:
            found.append(fragment)
    return found


def assert_no_chinese(text: str, *, allow: Iterable[str] = ()) -> None:
    """Fail when an English reply has Chinese outside titles, marked original wording and glosses."""
    left = chinese_left(text, allow)
    assert not left, "Chinese text left in an English reply:\n" + "\n".join(f"  …{f}…" for f in left[:10]) \
        + f"\n--- the reply ---\n{text}"

"""Translations for every user-facing sentence (Babel/gettext catalogs in ../locales, zh_CN first;
rules/locales in an installed wheel).

Messages are English msgids with named `{placeholders}`; `Msg` keeps one unrendered so that an
assessment can be shown in any locale. The catalogs are read from the compiled `.mo` files (by the standard
library's gettext: Babel costs 10 ms to import and is needed only to compile), or straight from the `.po`
files with Babel when nothing has been compiled yet (a fresh checkout).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

# An installed wheel carries the compiled catalogs in rules/locales (setup.py); a checkout has them in ./locales.
PACKAGED_LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LOCALES_DIR = (PACKAGED_LOCALES_DIR if PACKAGED_LOCALES_DIR.is_dir()
               else Path(__file__).resolve().parent.parent / "locales")
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")

Gettext = Callable[[str], str]


def N_(msgid: str) -> str:
    """Mark a message for extraction without translating it yet (gettext_noop)."""
    return msgid


@dataclass(frozen=True, slots=True)
class Msg:
    msgid: str
    args: Mapping[str, object] = field(default_factory=dict)

    def render(self, gettext: Gettext) -> str:
        text = gettext(self.msgid)
        return text.format(**self.args) if self.args else text


@lru_cache(maxsize=8)
def translations(locale: str = DEFAULT_LOCALE) -> NullTranslations:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    base = LOCALES_DIR / locale / "LC_MESSAGES"
    mo, po = base / f"{DOMAIN}.mo", base / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return GNUTranslations(f)
    if po.exists():
        return _from_po(po, locale)
    return NullTranslations()


def _from_po(po: Path, locale: str) -> NullTranslations:
    from babel.messages.pofile import read_po  # only without compiled catalogs: not on every start

    with po.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    t = NullTranslations()
    table = {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id and isinstance(m.string, str)}

    def lookup(message: str) -> str:
        return table.get(message) or message

    t.gettext = lookup  # type: ignore[method-assign]
    return t


def gettext_for(locale: str = DEFAULT_LOCALE) -> Gettext:
    return translations(locale).gettext

"""What the law attaches to a missed milestone, and what the enterprise can ask for: rules/data/penalties.yaml,
checked and loaded once. Pure data; the sentences around it are in handlers/status.py.

Which entries apply to one milestone (`consequences`): a penalty article of a document in force on the day
asked about (the 2012 law from 2012-07-01, the 2002 law before); a provincial article that refers the miss to
it, a remedy or a further consequence only when that provincial document governs the milestone (its title
is in the milestone's citation, or, for entries scoped by province, the enterprise is in that province).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rules.errors import RulePackError
from rules.packs import Pack, default_packs

PENALTIES_FILE = Path(__file__).resolve().parent / "data" / "penalties.yaml"
_SAFE_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # LibYAML's parser when PyYAML has it

SANCTIONS = ("publish_fine", "correct_fine", "correct_criticise_fine")
ACTIONS = ("extension_request", "acceptance_extension")
EFFECTS = ("credit_record", "public_credit")


@dataclass(frozen=True, slots=True)
class Penalty:
    id: str
    pack: str
    kinds: frozenset[str]
    article: str
    old_article: str
    sanction: str
    fine_min: int | None
    fine_max: int
    quote: str


@dataclass(frozen=True, slots=True)
class Referral:
    """A provincial article that refers a miss to the law's penalty article, citing `cites`."""

    pack: str
    kinds: frozenset[str]
    article: str
    cites: str
    quote: str


@dataclass(frozen=True, slots=True)
class Remedy:
    pack: str
    kinds: frozenset[str]
    article: str
    action: str
    office: str
    quote: str


@dataclass(frozen=True, slots=True)
class Effect:
    """A further consequence of being punished (a credit record, publication): `scope` "citation" (the pack
    governs the milestone) or "province" (any milestone of an enterprise in the pack's province)."""

    pack: str
    kinds: frozenset[str]
    article: str
    effect: str
    scope: str
    quote: str


@dataclass(frozen=True, slots=True)
class PenaltyTable:
    law_pack: str
    penalties: tuple[Penalty, ...]
    provincial: tuple[Referral, ...]
    remedies: tuple[Remedy, ...]
    effects: tuple[Effect, ...]
    packs: Mapping[str, Pack]

    @property
    def law_title(self) -> str:
        return self.packs[self.law_pack].title

    def title(self, pack_id: str) -> str:
        return self.packs[pack_id].title

    def penalties_for(self, kind: str, on: date | None = None) -> list[Penalty]:
        """The penalty articles for a miss of this kind, of documents in force `on` (the law in force now
        when `on` is None)."""
        found = [p for p in self.penalties if kind in p.kinds]
        if on is None:
            on = date.max
        in_force = [p for p in found if self.packs[p.pack].in_force(on)]
        return in_force or [p for p in found if self.packs[p.pack].effective_until is None]

    def governs(self, pack_id: str, citation: str, province: str | None, scope: str = "citation") -> bool:
        """The pack governs this milestone: its title is in the milestone's citation (or, for an item
        without a citation or an entry scoped by province, the pack is the enterprise's province's)."""
        pack = self.packs.get(pack_id)
        if pack is None:
            return False
        if citation and scope == "citation":
            return pack.title in citation
        return province is not None and pack.jurisdiction == province


@lru_cache(maxsize=1)
def penalty_table() -> PenaltyTable:
    """rules/data/penalties.yaml, checked: every pack id must exist, every sanction, action and effect must be
    one the sentences know (RulePackError names the file and the entry)."""
    raw = yaml.load(PENALTIES_FILE.read_text(encoding="utf-8"), Loader=_SAFE_YAML)  # safe: no arbitrary objects
    packs = {p.id: p for p in default_packs()}
    _check(raw, packs.keys())
    law = str(raw["law_pack"])
    return PenaltyTable(
        law_pack=law,
        penalties=tuple(
            Penalty(str(p["id"]), str(p.get("pack") or law), frozenset(p["kinds"]), str(p["article"]),
                    str(p.get("old_article") or ""), str(p["sanction"]), p.get("fine_min_10k_yuan"),
                    int(p["fine_max_10k_yuan"]), str(p.get("quote") or ""))
            for p in raw["penalties"]
        ),
        provincial=tuple(
            Referral(str(r["pack"]), frozenset(r["kinds"]), str(r["article"]), str(r["cites"]), str(r["quote"]))
            for r in raw.get("provincial") or []
        ),
        remedies=tuple(
            Remedy(str(r["pack"]), frozenset(r["kinds"]), str(r["article"]), str(r["action"]),
                   str(r.get("office") or ""), str(r["quote"]))
            for r in raw.get("remedies") or []
        ),
        effects=tuple(
            Effect(str(r["pack"]), frozenset(r["kinds"]), str(r["article"]), str(r["effect"]),
                   str(r.get("scope") or "citation"), str(r["quote"]))
            for r in raw.get("effects") or []
        ),
        packs=packs,
    )


def _check(raw: Any, pack_ids: Iterable[str]) -> None:
    known = set(pack_ids)
    where = PENALTIES_FILE.name
    if not isinstance(raw, dict):
        raise RulePackError(f"{where}: (top): expected a mapping")
    if raw.get("law_pack") not in known:
        raise RulePackError(f"{where}: law_pack: unknown pack {raw.get('law_pack')!r}")
    for i, p in enumerate(raw.get("penalties") or []):
        if p.get("pack") is not None and p["pack"] not in known:
            raise RulePackError(f"{where}: penalties[{i}].pack: unknown pack {p['pack']!r}")
        if p.get("sanction") not in SANCTIONS:
            raise RulePackError(f"{where}: penalties[{i}].sanction: expected one of {list(SANCTIONS)}")
        if not isinstance(p.get("fine_max_10k_yuan"), int):
            raise RulePackError(f"{where}: penalties[{i}].fine_max_10k_yuan: expected a whole number of 万元")
    for section in ("provincial", "remedies", "effects"):
        for i, r in enumerate(raw.get(section) or []):
            if r.get("pack") not in known:
                raise RulePackError(f"{where}: {section}[{i}].pack: unknown pack {r.get('pack')!r}")
            if section == "remedies" and r.get("action") not in ACTIONS:
                raise RulePackError(f"{where}: remedies[{i}].action: expected one of {list(ACTIONS)}")
            if section == "effects" and r.get("effect") not in EFFECTS:
                raise RulePackError(f"{where}: effects[{i}].effect: expected one of {list(EFFECTS)}")
            if section == "effects" and r.get("scope", "citation") not in ("citation", "province"):
                raise RulePackError(f"{where}: effects[{i}].scope: expected citation or province")


def consequences(kind: str, citation: str, province: str | None, on: date | None = None) -> dict[str, Any]:
    """The `assess` JSON of what a miss of this milestone risks: {"penalties": [...], "remedies": [...],
    "effects": [...]}, each entry with its document and article (and the verbatim quote where held)."""
    t = penalty_table()
    penalties = []
    for p in t.penalties_for(kind, on):
        entry: dict[str, Any] = {
            "document_id": p.pack, "document": t.title(p.pack), "citation": p.article, "sanction": p.sanction,
            "fine_min_10k_yuan": p.fine_min, "fine_max_10k_yuan": p.fine_max,
        }
        if p.old_article:
            entry["old_citation"] = p.old_article
        refs = [{"document_id": r.pack, "document": t.title(r.pack), "citation": r.article, "cites": r.cites,
                 "quote": r.quote}
                for r in t.provincial if kind in r.kinds and t.governs(r.pack, citation, province)]
        if refs:
            entry["referred_by"] = refs
        penalties.append(entry)
    remedies = [{"document_id": r.pack, "document": t.title(r.pack), "citation": r.article, "action": r.action,
                 "office": r.office, "quote": r.quote}
                for r in t.remedies if kind in r.kinds and t.governs(r.pack, citation, province)]
    effects = [{"document_id": r.pack, "document": t.title(r.pack), "citation": r.article, "effect": r.effect,
                "quote": r.quote}
               for r in t.effects if kind in r.kinds and t.governs(r.pack, citation, province, r.scope)
               and t.packs[r.pack].in_force(on or date.max)]
    return {"penalties": penalties, "remedies": remedies, "effects": effects}

"""The extraction step: one message -> every fact it carries, each with a confidence.

The router calls `read(text, today=..., asking=...)` once per message, whatever question is open,
and the interview decides what to store: a candidate below `SURE` is asked back, never stored.

INTERFACE (frozen: the interview codes against it). The implementation is data-driven: the word
tables live in `handlers/data/lexicon.yaml`, not in `startswith` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

SURE = 0.9  # a candidate at or above this is stored; below it, the interview asks back

# Fact names a candidate may carry: every `qingshen assess` fact name, plus these pseudo-facts.
CREDIT_CODE = "credit_code"  # a validated 统一社会信用代码 (its region digits also give a `province` candidate)
STANDARD_OR_QUOTA = "exceeds_standard_or_quota"  # 双超: over the standard and/or the quota, which not known
# Candidate.note values
OUTPUT_VALUE, PAST, ROUND_DAY = "output_value", "past", "round_day"
HW_OPERATOR, LISTED, RANGE = "hw_operator", "listed", "range"
DATE_FACTS = ("list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One fact read from a message.

    - `value` is a JSON value as the assess contract takes it (bool, "3011", 300, "2026-03-31",
      ["heavy_metal"]), or None when only `options`/`partial` are known.
    - `options`: the values it may be when the text is ambiguous (industry codes for 化工厂,
      toxic classes for 双有, provinces for a typo), best first.
    - `partial`: an incomplete date, "YYYY-MM" (去年3月): the interview asks for the day; "YYYY" (21年,
      去年上了名单, a bare 2021 at a date question): it asks for the month and the day.
    - `span`: the words it was read from, as typed (for "我理解的是…" and for tests).
    - `note`: why a reading is asked back when its words alone do not say it, "" otherwise: OUTPUT_VALUE (an
      amount said as 产值, read as the revenue), PAST (a ground said of the past: 去年被罚过，因为超标), ROUND_DAY
      (an audit's year beside an acceptance's or an evaluation's: which day completed the round), HW_OPERATOR (a
      hazardous-waste operator, 危废经营单位: whether it discharges hazardous waste is asked), LISTED (on a list of
      the province without its day, 上了省里的审核名单，十四五的: the Shanxi master list is asked), RANGE (a headcount
      said as a range, 两三百人: `value` is its lower end and `options` (low, high); sure when the whole range is in
      one size band, asked back when it straddles a bound).
    """

    fact: str
    value: Any
    confidence: float
    span: str
    options: tuple[Any, ...] = ()
    partial: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Reading:
    """What a message says.

    - `candidates`: facts found anywhere in the message, in text order.
    - `polarity`: True/False only when the whole message stands as a yes/no answer (是, 没有, 应该没有,
      没超, 不是不超 -> True, 达标 is a fact instead); None otherwise. Never from the first character of a
      longer word, never from a number.
    - `unknown`: the message says the person does not know (不知道, 不清楚, 说不准, not sure).
    - `none`: the message says "none / never / not yet" for a date or a list question (还没有, 从未审核过).
    - `rest`: True when some words carried nothing recognised (an off-topic question, chatter).
    """

    candidates: tuple[Candidate, ...] = ()
    polarity: bool | None = None
    unknown: bool = False
    none: bool = False
    rest: bool = False

    def get(self, fact: str) -> Candidate | None:
        return next((c for c in self.candidates if c.fact == fact), None)


def read(text: str, *, today: date, asking: str | None = None) -> Reading:
    """Read one message. `asking` is the fact of the open question (or None): it only decides what a
    bare value means (a bare date while a date is asked, a bare amount while revenue is asked)."""
    from handlers.extract_read import read_message  # the implementation, kept out of the frozen interface

    return read_message(text, today=today, asking=asking)

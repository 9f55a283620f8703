"""The conversation state: one typed model, serialised into one row per conversation.

Each flow keeps its own sub-state: the interview (`InterviewState`), the Henan form (its own model in
`handlers.henan_form`, kept here as the JSON it dumps), the evidence a confirmation waits for. Rows
written before the model existed (a flat dict with string stages) are read through `upgrade`, the same
conversion Alembic's 0004 applies to stored rows, so a conversation in flight keeps working.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.i18n import DEFAULT_LOCALE, LOCALES

VERSION = 2


class Stage(StrEnum):
    NEW = "new"                      # nothing said yet: the greeting and the consent question come next
    CONSENT = "consent"              # waiting for 同意 / 不同意
    CREDIT_CODE = "credit_code"      # waiting for the credit code (or 跳过)
    INTERVIEW = "interview"          # asking what the verdict needs
    FOLLOW_UP = "follow_up"          # verdict given; asking the dates deadlines count from
    DONE = "done"
    CONFIRM_FORGET = "confirm_forget"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class Undo(_Model):
    """What one message set, so that 返回 takes it back: the question it answered and the facts."""

    fact: str
    set: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # facts it left unknown (不清楚 for the grounds together)


class Pending(_Model):
    """A reading that is not certain, waiting for the contact to confirm it (您是说山西吗？)."""

    fact: str
    value: Any = None
    options: list[Any] = Field(default_factory=list)
    partial: str | None = None  # "YYYY-MM": the day is asked; "YYYY": the month and the day
    span: str = ""
    note: str = ""  # why it is asked back (handlers.extract.Candidate.note): an output value, a past, a round's day


class StepWait(_Model):
    """A step said done whose day (or link) is being asked (handlers.dispatcher, replies about steps)."""

    milestone: int
    ask: str  # "day": which day (in `month` if known); "guess": is it `guess`?; "link": the disclosure's link
    month: str | None = None
    guess: str | None = None
    day: str | None = None  # the day already said, while the link is asked
    unknown: bool = False  # the contact does not remember the day (recorded today, saying so)
    evidence: str | None = None


class InterviewState(_Model):
    facts: dict[str, Any] = Field(default_factory=dict)
    history: list[Undo] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    asking: str | None = None
    candidates: list[str] = Field(default_factory=list)  # an industry pick list, or toxic classes to pick
    asked_follow: list[str] = Field(default_factory=list)
    pending: Pending | None = None  # the unsure reading being asked back now
    unsure: list[Pending] = Field(default_factory=list)  # unsure readings waiting for their question


class ConversationState(_Model):
    version: int = VERSION
    stage: Stage = Stage.NEW
    locale: str = DEFAULT_LOCALE
    interview: InterviewState = Field(default_factory=InterviewState)
    offered: list[str] = Field(default_factory=list)  # choice ids of the last question, for numbered answers
    credit_code: str | None = None
    before_forget: Stage | None = None
    awaiting_evidence: int | None = None  # a milestone whose evidence link is asked
    step_wait: StepWait | None = None  # a step said done whose day is asked
    last_done: int | None = None  # the milestone recorded done by the last message: its day may be corrected next
    henan_form: dict[str, Any] | None = None  # handlers.henan_form's own model, as JSON
    anonymous: bool = False  # consent declined: a verdict only, held in memory, never stored
    # What this conversation last wrote to its enterprise's cycle (handlers.dispatcher `_kept`): a turn whose
    # verdict would write the same again (a follow-up answer that changes no deadline) skips the cycle.
    kept: str | None = None
    # The enterprise's province, industry and scale this conversation last wrote (`_kept_enterprise`): not
    # written again while they stay the same (an answer about something else, a follow-up, 我的期限).
    kept_enterprise: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return upgrade(data) if isinstance(data, dict) else data

    @classmethod
    def new(cls, locale: str | None = None) -> ConversationState:
        return cls(locale=locale if locale in LOCALES else DEFAULT_LOCALE)

    @property
    def facts(self) -> dict[str, Any]:
        return self.interview.facts

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)


_INTERVIEW_KEYS = ("facts", "history", "skipped", "asking", "candidates", "asked_follow")


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 row (one flat dict, written before the typed state) as a version-2 one."""
    if data.get("version", 1) >= VERSION:
        return data
    out = {k: v for k, v in data.items() if k not in _INTERVIEW_KEYS}
    out["interview"] = {k: data[k] for k in _INTERVIEW_KEYS if data.get(k) is not None}
    out["version"] = VERSION
    if out.get("stage") not in {s.value for s in Stage}:
        out["stage"] = Stage.INTERVIEW.value if out["interview"].get("facts") else Stage.NEW.value
    return out

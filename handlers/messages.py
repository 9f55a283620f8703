"""The one frozen message envelope every channel speaks (ids normalised to str at the edge)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a person: free text, or the id of a choice they picked."""

    channel: str
    user_id: str
    text: str | None = None
    choice: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to a person: text plus optional choices (buttons, or numbered text)."""

    text: str
    choices: tuple[Choice, ...] = ()

"""The one error path: every error the project raises on purpose derives from QingshenError."""

from __future__ import annotations


class QingshenError(Exception):
    """Base of every deliberate error; the message is a complete sentence."""


class RulePackError(QingshenError):
    """A rule pack or a rules data file is malformed: the message names the file and the key."""


class FactError(QingshenError):
    """A fact given to the engine is invalid; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

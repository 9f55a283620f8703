"""Storage's errors: every one derives from the project's single base, QingshenError."""

from __future__ import annotations

from rules.errors import QingshenError


class StorageError(QingshenError):
    """Base of the errors storage raises on purpose; the message is a complete sentence."""


class FieldError(StorageError):
    """A value given to storage is invalid; `field` names the column (e.g. `credit_code`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ConsentError(StorageError):
    """Personal data was to be stored for a contact who has not consented (or has withdrawn)."""


class DuplicateError(StorageError):
    """A row would break a uniqueness rule; the session must be rolled back before it is used again."""

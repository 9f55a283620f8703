"""The generic JSON channel: the HTTP API for any platform we have no adapter for, and the web page.

`POST /api/v1/messages` takes `{"user_id": "...", "text": "..."}` or `{"user_id": "...", "choice": "..."}`
(optionally `"locale": "zh_CN" | "en"`) and answers `{"replies": [{"text": "...", "choices": [...]}]}`.
Callers are the channel "api"; the web chat page says `X-Qingshen-Channel: web` and is the channel "web".
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from handlers.messages import Inbound, Outbound
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, LOCALES, N_, gettext_for

CHANNEL_HEADER = "x-qingshen-channel"
CHANNELS = ("api", "web")
MAX_USER_ID = 128
MAX_CHOICE = 128
MAX_TEXT = 2000
EITHER = "text|choice"

FIELD_RULES = {
    "user_id": N_("user_id must be a string of 1 to {max} printable characters."),
    "choice": N_("choice must be a string of 1 to {max} printable characters."),
    "text": N_("text must be a non-blank string of at most {max} characters without control characters."),
    "locale": N_("locale must be one of {locales}."),
    EITHER: N_("Send exactly one of text and choice."),
}
UNKNOWN_FIELD = N_("{field} is not a known field; send user_id and one of text or choice.")
NOT_OBJECT = N_("The request body must be a JSON object.")
BAD_CHANNEL = N_("X-Qingshen-Channel must be one of: {channels}.")


class ApiError(QingshenError):
    """A request the API refuses; rendered as {"error": {"error": kind, "field": ..., "message": ...}}."""

    def __init__(self, status: int, kind: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.field, self.message = status, kind, field, message

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"error": self.kind, "field": self.field, "message": self.message}}


def _printable(value: str, limit: int) -> bool:
    return 0 < len(value) <= limit and value.isprintable() and bool(value.strip())


def _clean_text(value: str) -> bool:
    """Line breaks and tabs are fine; other control characters and lone surrogates are not."""
    return all(ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in value)


def valid_user_id(value: str) -> bool:
    return _printable(value, MAX_USER_ID)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    user_id: str
    text: str | None = None
    choice: str | None = None
    locale: str | None = None

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, v: str) -> str:
        if not valid_user_id(v):
            raise ValueError("user_id")
        return v

    @field_validator("choice")
    @classmethod
    def _choice(cls, v: str | None) -> str | None:
        if v is not None and not _printable(v, MAX_CHOICE):
            raise ValueError("choice")
        return v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        if v is not None and not (len(v) <= MAX_TEXT and v.strip() and _clean_text(v)):
            raise ValueError("text")
        return v

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str | None) -> str | None:
        if v is not None and v not in LOCALES:
            raise ValueError("locale")
        return v

    @model_validator(mode="after")
    def _exactly_one(self) -> MessageIn:
        if (self.text is None) == (self.choice is None):
            raise ValueError(EITHER)
        return self


def channel_of(header: str | None) -> str:
    """The channel named by X-Qingshen-Channel ("api" when absent)."""
    name = (header or "api").strip().lower()
    if name not in CHANNELS:
        tr = gettext_for(DEFAULT_LOCALE)
        raise ApiError(400, "invalid_header", "X-Qingshen-Channel",
                       tr(BAD_CHANNEL).format(channels=", ".join(CHANNELS)))
    return name


def parse_message(payload: object, channel: str) -> Inbound:
    """A decoded JSON body -> Inbound; ApiError(400) naming the first bad field."""
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_request", None, gettext_for(DEFAULT_LOCALE)(NOT_OBJECT))
    try:
        msg = MessageIn.model_validate(payload)
    except ValidationError as e:
        raise field_error(e) from None
    return Inbound(channel=channel, user_id=msg.user_id, text=msg.text, choice=msg.choice, locale=msg.locale)


def field_error(err: ValidationError) -> ApiError:
    tr = gettext_for(DEFAULT_LOCALE)
    first = err.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else EITHER
    if first["type"] == "extra_forbidden":
        return ApiError(400, "unknown_field", field, tr(UNKNOWN_FIELD).format(field=field))
    return ApiError(400, "invalid_field", field, rule_message(field))


def rule_message(field: str) -> str:
    tr = gettext_for(DEFAULT_LOCALE)
    limits = {"user_id": MAX_USER_ID, "choice": MAX_CHOICE, "text": MAX_TEXT}
    return tr(FIELD_RULES[field]).format(max=limits.get(field, 0), locales=", ".join(LOCALES))


def render(outbound: Outbound) -> dict[str, Any]:
    return {"text": outbound.text, "choices": [{"id": c.id, "label": c.label} for c in outbound.choices]}


def render_all(outbounds: list[Outbound]) -> list[dict[str, Any]]:
    return [render(o) for o in outbounds]

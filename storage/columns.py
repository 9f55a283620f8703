"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

# JSON documents: JSONB on PostgreSQL, JSON (text) elsewhere.
JSONDocument: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


def json_text(value: Any) -> str:
    """A JSON document's text as stored (the engine's `json_serializer`): orjson, a tenth of the standard
    library's time on a conversation state; what orjson refuses (integers beyond 64 bits, keys that are
    not strings) goes through json. Both read back to the same value."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value)


def json_value(text: str | bytes) -> Any:
    """A stored JSON document's value (the engine's `json_deserializer`): orjson, json for what it refuses
    (e.g. NaN, which older rows written by json may hold)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that only accepts aware datetimes and always returns them in UTC.

    PostgreSQL keeps the instant (`timestamptz`); SQLite keeps text without an offset, so values are
    converted to UTC before they are written, which also keeps SQLite's text ordering chronological.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where a timezone-aware one is needed")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

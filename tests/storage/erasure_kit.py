"""Helpers of the erasure tests: every table of the database as text, and a person's traces in it."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from sqlalchemy import Engine, inspect, text


def _texts(value: Any) -> list[str]:
    """A column value as the text it holds (JSON also decoded, so escaped characters are seen too)."""
    if value is None:
        return []
    if isinstance(value, dict | list):
        return [json.dumps(value, ensure_ascii=False, default=str)]
    if isinstance(value, bytes | memoryview):
        return [bytes(value).decode("utf-8", "replace")]
    out = [str(value)]
    if isinstance(value, str) and value[:1] in "[{\"":
        with contextlib.suppress(ValueError):
            out.append(json.dumps(json.loads(value), ensure_ascii=False))
    return out


def dump(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table the database has (not only the models'), each row as one line of text."""
    tables = inspect(engine).get_table_names()
    assert {"contacts", "kv", "outbox", "enterprises"} <= set(tables)
    out: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in tables:
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings()
            out[table] = [" | ".join(f"{k}={t}" for k, v in row.items() for t in _texts(v)) for row in rows]
    return out


def traces(engine: Engine, needles: dict[str, str]) -> list[str]:
    """`what: table: row` for every row holding one of the needles (what -> the text looked for)."""
    found = []
    for table, rows in dump(engine).items():
        for row in rows:
            found += [f"{what}: {table}: {row}" for what, needle in needles.items() if needle in row]
    return found

"""Dialect-specific statements that both SQLite and PostgreSQL support with the same meaning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session | str, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with `on_conflict_do_nothing` / `on_conflict_do_update` for the session's database (or the
    dialect named)."""
    name = session if isinstance(session, str) else session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"storage supports SQLite and PostgreSQL, not {name}")


def ids_in(column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """`column IN (1, 2, ...)` with the integers written into the statement when it runs (a cached
    statement all the same). Thousands of bound parameters cost more in the driver (psycopg parses the
    query for each placeholder) than the query itself; integers are safe to inline."""
    values = [int(i) for i in ids]
    return column.in_(bindparam("ids", values, expanding=True, literal_execute=True))

"""Engines and sessions: SQLite (the default, one file) or PostgreSQL (several processes)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "QINGSHEN_DATABASE_URL"
DEFAULT_URL = "sqlite:///var/qingshen.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 5000


def default_url() -> str:
    """$QINGSHEN_DATABASE_URL, else an SQLite file var/qingshen.sqlite3 under the current directory."""
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_URL


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL. SQLite gets WAL, foreign keys and a busy timeout on every connection,
    and the directory of its file is created; PostgreSQL connections are checked before use."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
    return engine


def _sqlite_pragmas(*, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return on_connect


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (`expire_on_commit=False`).

    Use `with factory.begin() as session:` for one unit of work; repositories flush, never commit.
    """
    return sessionmaker(engine, expire_on_commit=False)

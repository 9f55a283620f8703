"""Engines and sessions: SQLite (the default, one file) or PostgreSQL (several processes)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.columns import json_text, json_value

DATABASE_URL_ENV = "QINGSHEN_DATABASE_URL"
DEFAULT_URL = "sqlite:///var/qingshen.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 5000
PING_AFTER_IDLE_S = 1.0  # a pooled PostgreSQL connection idle longer than this is pinged before use


def default_url() -> str:
    """$QINGSHEN_DATABASE_URL, else an SQLite file var/qingshen.sqlite3 under the current directory."""
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_URL


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL. PostgreSQL connections idle for more than a second are checked before use.

    SQLite gets WAL, foreign keys and a busy timeout on every connection, the directory of its file is
    created, and every transaction begins with `BEGIN IMMEDIATE` (SQLAlchemy's documented pysqlite recipe:
    the driver's own transaction handling is turned off and the engine's "begin" event issues it). A
    deferred transaction that reads and then writes cannot wait for another writer: when the database
    changed since it read, SQLite answers "database is locked" at once, whatever the busy timeout (this
    was the 500 under 16 concurrent chat users). Taking the write lock at the start makes a transaction
    wait its turn (up to the busy timeout) instead; transactions are one chat turn or one batch, short.
    """
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_text)  # orjson: the conversation state is written every message
    kwargs.setdefault("json_deserializer", json_value)
    if parsed.get_backend_name() != "sqlite":
        ping_after = kwargs.pop("ping_after_idle_s", PING_AFTER_IDLE_S)
        engine = create_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _PingWhenIdle(ping_after).install(engine)
        return engine
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)  # pysqlite's busy handler, same limit
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
    _OneWriter(SQLITE_BUSY_TIMEOUT_MS / 1000).install(engine)
    return engine


class _PingWhenIdle:
    """SQLAlchemy's pessimistic disconnect handling (`pool_pre_ping`), for connections that sat idle.

    `pool_pre_ping` costs a round trip on every checkout (a `SELECT 1`, and the transaction it opens):
    one more statement than the chat turn itself needs. A connection given back to the pool a moment ago
    was alive then, so it is only pinged when it has been idle longer than `after` seconds: that is any
    connection left over from before a server restart, a dropped link or an idle-session timeout, all of
    which take longer than that. A failed ping raises `DisconnectionError`, the pool's documented signal
    from a "checkout" listener to drop the connection and check out a fresh one. A connection that dies
    within the window is the optimistic case SQLAlchemy handles anyway: the error invalidates the pool.
    """

    KEY = "qingshen_checked_in_at"

    def __init__(self, after: float) -> None:
        self.after = after

    def install(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        event.listen(engine.pool, "connect", self._stamp)
        event.listen(engine.pool, "checkin", self._stamp)
        event.listen(engine.pool, "checkout", self._checkout)

    def _stamp(self, dbapi_connection: Any, connection_record: Any) -> None:
        if connection_record is not None:
            connection_record.info[self.KEY] = time.monotonic()

    def _checkout(self, dbapi_connection: Any, connection_record: Any, proxy: Any) -> None:
        stamp = connection_record.info.get(self.KEY)
        if stamp is not None and time.monotonic() - stamp <= self.after:
            return
        try:
            self.dialect.do_ping(dbapi_connection)  # as pool_pre_ping does: the turn goes on in its transaction
        except self.dialect.loaded_dbapi.Error as e:
            raise exc.DisconnectionError(f"connection idle {self.after} s failed its ping: {e}") from e
        connection_record.info[self.KEY] = time.monotonic()


def _sqlite_pragmas(*, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN of its own; _begin_immediate does
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return on_connect


class _OneWriter:
    """One transaction at a time per engine (this process), in turn, then `BEGIN IMMEDIATE` for the others.

    SQLite's busy handler polls: sixteen threads waiting for the write lock poll it at once and one of them
    can lose every round until its busy timeout runs out ("database is locked" after 5 s under load).
    Waiting on a lock of this process instead, a thread sleeps until the transaction before it ends; the
    busy timeout is left for other processes on the same file. The gate is taken when SQLAlchemy begins
    a transaction and given back on commit or rollback (or when the connection goes back to the pool or
    is dropped, whatever happened). A thread that waited `timeout` goes on without it, and SQLite's busy
    timeout decides.
    """

    KEY = "qingshen_one_writer"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.lock = threading.Lock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "begin", self.begin)
        event.listen(engine, "commit", self.end)
        event.listen(engine, "rollback", self.end)
        event.listen(engine.pool, "checkin", self._end_record)
        event.listen(engine.pool, "close", self._end_record)
        event.listen(engine.pool, "detach", self._end_record)
        event.listen(engine.pool, "reset", lambda dbapi, record, reset_state: self._end_record(dbapi, record))
        event.listen(engine.pool, "invalidate", lambda dbapi, record, exception: self._end_record(dbapi, record))

    def begin(self, connection: Connection) -> None:
        if self.lock.acquire(timeout=self.timeout):
            connection.info[self.KEY] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: Connection) -> None:
        self._release(connection.info)

    def _end_record(self, dbapi_connection: Any, connection_record: Any) -> None:
        self._release(getattr(connection_record, "info", None) or {})

    def _release(self, info: dict[Any, Any]) -> None:
        if info.pop(self.KEY, False):
            self.lock.release()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (`expire_on_commit=False`).

    Use `with factory.begin() as session:` for one unit of work; repositories flush, never commit.
    """
    return sessionmaker(engine, expire_on_commit=False)

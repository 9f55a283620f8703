"""Shared fixtures.

Storage (every test that uses them runs once on SQLite and once on PostgreSQL):

- `db_backend`: "sqlite" or "postgres"; PostgreSQL tests skip unless $QINGSHEN_TEST_PG_URL is set
  (`bash scripts/with-postgres .venv/bin/python -m pytest` sets it).
- `db_url`: the URL of a fresh, empty database of that backend, dropped after the test.
- `migrated_url`: a fresh database already at the newest migration (copied from a template that is
  migrated once per test session, so it costs a file copy or a CREATE DATABASE ... TEMPLATE).
- `engine`, `sessions` (a session factory) and `session` on `migrated_url`.
- `pg_migrated_url`: like `migrated_url`, PostgreSQL only (not parametrized).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import make_engine, session_factory, upgrade

PG_URL_ENV = "QINGSHEN_TEST_PG_URL"

# The rule packs' cache (rules.pack_cache) of this session, subprocesses included: a fresh temporary directory,
# never the user's ~/.cache, so that no test depends on a cache left by an earlier run.
_PACK_CACHE = tempfile.mkdtemp(prefix="qingshen-test-cache-")
os.environ["QINGSHEN_CACHE_DIR"] = _PACK_CACHE
atexit.register(shutil.rmtree, _PACK_CACHE, True)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _pg_admin() -> Iterator[Engine]:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} is not set; run the tests under scripts/with-postgres to test PostgreSQL")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@contextmanager
def _pg_database(admin: Engine, template: str | None = None) -> Iterator[str]:
    """A uniquely named database (a copy of `template` if given), dropped on exit."""
    name = f"qs_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        suffix = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    try:
        yield make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    upgrade(_sqlite_url(path))
    return path


@pytest.fixture(scope="session")
def _pg_template(_pg_admin: Engine) -> Iterator[str]:
    with _pg_database(_pg_admin) as url:
        upgrade(url)
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    if backend == "postgres" and not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} is not set; run the tests under scripts/with-postgres to test PostgreSQL")
    return backend


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database."""
    if db_backend == "sqlite":
        yield _sqlite_url(tmp_path / "empty.sqlite3")
        return
    with _pg_database(request.getfixturevalue("_pg_admin")) as url:
        yield url


@pytest.fixture
def migrated_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database at the newest migration."""
    if db_backend == "sqlite":
        path = tmp_path / "migrated.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield _sqlite_url(path)
        return
    template = request.getfixturevalue("_pg_template")
    with _pg_database(request.getfixturevalue("_pg_admin"), template) as url:
        yield url


@pytest.fixture
def pg_migrated_url(_pg_admin: Engine, _pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest migration, for tests of PostgreSQL-only behaviour."""
    with _pg_database(_pg_admin, _pg_template) as url:
        yield url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session on a migrated database; uncommitted work is rolled back after the test."""
    with sessions() as session:
        yield session

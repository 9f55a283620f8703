"""Fixtures for the bot tests (helpers that are not fixtures live in bot_testkit.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.bot.bot_testkit import migrated_sqlite


@pytest.fixture(scope="module")
def real_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh SQLite file, migrated with storage.migrate.upgrade, shared by one test module."""
    return migrated_sqlite(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="module")
def real_sessions(real_url: str) -> Iterator[sessionmaker[Session]]:
    from storage import make_engine, session_factory

    engine = make_engine(real_url)
    yield session_factory(engine)
    engine.dispose()

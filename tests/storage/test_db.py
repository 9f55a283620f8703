"""Engine setup: the default URL, SQLite's pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage import DATABASE_URL_ENV, default_url, make_engine


def test_default_url_is_an_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert default_url() == "sqlite:///var/qingshen.sqlite3"


def test_default_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+psycopg://bot@db/qingshen")
    assert default_url() == "postgresql+psycopg://bot@db/qingshen"


def test_sqlite_gets_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "db.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    finally:
        engine.dispose()
    assert path.exists()


def test_relative_sqlite_paths_are_under_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///var/qingshen.sqlite3")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
    assert (tmp_path / "var" / "qingshen.sqlite3").exists()


def test_in_memory_sqlite_works() -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()

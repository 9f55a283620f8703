"""PostgreSQL connections are pinged before use only when they sat idle in the pool (storage.db._PingWhenIdle):
a connection whose server process went away while idle is replaced before a turn uses it, and one given back
a moment ago is used as it is (no `SELECT 1` round trip on every chat message, as `pool_pre_ping` made)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, exc, text

from storage import make_engine

pytestmark = pytest.mark.postgres


def _backend(engine: Engine) -> int:
    with engine.begin() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        # the process is gone once pg_stat_activity no longer lists it
        for _ in range(200):
            if not connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                      {"pid": pid}).scalar_one():
                return
            connection.execute(text("SELECT pg_sleep(0.01)"))
    raise AssertionError(f"backend {pid} still listed")


def test_an_idle_connection_whose_server_process_died_is_replaced_before_use(
    pg_migrated_url: str, _pg_admin: Engine
) -> None:
    engine = make_engine(pg_migrated_url, ping_after_idle_s=0.0, pool_size=1)  # every checkout counts as idle
    try:
        first = _backend(engine)
        _terminate(_pg_admin, first)
        second = _backend(engine)  # no error: the ping failed, the pool connected anew
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_migrated_url: str, _pg_admin: Engine) -> None:
    """Within the window nothing checks the connection first: a server process killed in between shows as
    the turn's own error (SQLAlchemy then invalidates the pool), which a ping on checkout would have hidden."""
    engine = make_engine(pg_migrated_url, ping_after_idle_s=3600.0, pool_size=1)
    try:
        first = _backend(engine)
        _terminate(_pg_admin, first)
        with pytest.raises(exc.DBAPIError) as raised:
            _backend(engine)
        assert raised.value.connection_invalidated
        assert _backend(engine) != first  # and the next turn has a fresh connection
    finally:
        engine.dispose()

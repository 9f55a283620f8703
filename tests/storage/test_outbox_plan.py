"""The inbox queries find one address's pushes through ix_outbox_address, not by scanning the channel
(issue 14, item 4): SQLite's EXPLAIN QUERY PLAN of the statements the repository runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from storage import OutboxRepository

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def plans(sessions: sessionmaker[Session], action: object) -> list[str]:
    """The query plan of every SELECT the action runs, one string each."""
    seen: list[tuple[str, object]] = []
    with sessions() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
        for n in range(300):  # many pending rows of one channel, a few of the address
            OutboxRepository(session).add_if_absent(f"k{n}", channel="web", address=f"u{n % 100}",
                                                    payload={"n": n}, not_before=NOW)
        session.flush()
        connection = session.connection()

        def record(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append((statement, parameters))

        event.listen(connection, "before_cursor_execute", record)
        try:
            action(OutboxRepository(session))  # type: ignore[operator]
        finally:
            event.remove(connection, "before_cursor_execute", record)
        out = []
        for statement, parameters in seen:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()  # type: ignore[arg-type]
            out.append(" | ".join(str(row[-1]) for row in rows))
        session.rollback()
    return out


@pytest.mark.parametrize("query", ["list_due_for_address", "list_by_address"])
def test_an_inbox_is_read_through_the_address_index(sessions: sessionmaker[Session], query: str) -> None:
    def action(outbox: OutboxRepository) -> None:
        if query == "list_due_for_address":
            outbox.list_due_for_address("web", "u7", now=NOW, after_id=3)
        else:
            outbox.list_by_address("web", "u7")

    [plan] = plans(sessions, action)
    assert "USING INDEX ix_outbox_address (channel=? AND address=? AND status=?" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # rows come in id order from the index, no sort


def test_the_open_inboxes_are_looked_up_through_the_address_index(sessions: sessionmaker[Session]) -> None:
    [plan] = plans(sessions, lambda outbox: outbox.list_due_ids_by_address("web", ["u1", "u2", "u3"], now=NOW))
    assert "ix_outbox_address" in plan, plan

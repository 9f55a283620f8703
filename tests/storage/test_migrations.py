"""Migrations: they build exactly the models' schema, and go down and up again cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from storage import Base, current_revision, downgrade, head_revision, make_engine, upgrade

TABLES = {
    "enterprises",
    "contacts",
    "conversations",
    "assessments",
    "audit_cycles",
    "milestones",
    "outbox",
    "kv",
    "reminders",
    "officers",
    "officer_invitations",
    "list_imports",
    "list_entries",
    "enterprise_invitations",
    "broadcasts",
    "broadcast_targets",
    "officer_sessions",
    "login_throttles",
    "officer_actions",
}


def schema_diffs(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


class TestMigrations:
    def test_an_empty_database_is_at_no_revision(self, db_url: str) -> None:
        assert current_revision(db_url) is None

    def test_upgrade_builds_exactly_the_models_schema(self, db_url: str) -> None:
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()
        assert table_names(db_url) == TABLES | {"alembic_version"}
        assert schema_diffs(db_url) == []

    def test_the_models_cover_every_table(self) -> None:
        assert set(Base.metadata.tables) == TABLES

    def test_downgrade_to_base_and_upgrade_again(self, db_url: str) -> None:
        upgrade(db_url)
        downgrade(db_url, "base")
        assert table_names(db_url) <= {"alembic_version"}
        assert current_revision(db_url) is None
        upgrade(db_url)
        assert schema_diffs(db_url) == []

    def test_each_revision_goes_down_and_up_again(self, db_url: str) -> None:
        upgrade(db_url)
        downgrade(db_url, "0001")
        assert current_revision(db_url) == "0001"
        assert "reminders" not in table_names(db_url)
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()
        assert schema_diffs(db_url) == []

    def test_upgrading_to_0002_keeps_existing_rows(self, db_url: str) -> None:
        """0002 only adds columns and indexes: no table rebuild, so no cascade on SQLite."""
        upgrade(db_url, "0001")
        engine = make_engine(db_url)
        try:
            with engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO enterprises (id, name, created_at, updated_at)"
                    " VALUES (1, 'e', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                connection.execute(text(
                    "INSERT INTO audit_cycles (id, enterprise_id, source, grounds, created_at)"
                    " VALUES (1, 1, 'chat', '[]', CURRENT_TIMESTAMP)"))
            upgrade(db_url)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM audit_cycles")).scalar_one() == 1
                assert connection.execute(text("SELECT calendar_token FROM enterprises")).scalar_one() is None
        finally:
            engine.dispose()

    def test_upgrade_twice_changes_nothing(self, db_url: str) -> None:
        upgrade(db_url)
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()

    def test_constraint_names_follow_the_naming_convention(self, db_url: str) -> None:
        upgrade(db_url)
        engine = make_engine(db_url)
        try:
            inspector = inspect(engine)
            uniques = {u["name"] for u in inspector.get_unique_constraints("milestones")}
            indexes = {i["name"] for i in inspector.get_indexes("outbox")}
            foreign_keys = {f["name"] for f in inspector.get_foreign_keys("contacts")}
            reminder_indexes = {i["name"] for i in inspector.get_indexes("reminders")}
            reminder_uniques = {u["name"] for u in inspector.get_unique_constraints("reminders")}
        finally:
            engine.dispose()
        assert "ix_reminders_pending" in reminder_indexes and "ix_reminders_due" not in reminder_indexes
        assert "uq_reminders_milestone_id_kind" in reminder_uniques
        assert "uq_milestones_cycle_id_kind" in uniques
        assert "ix_outbox_due" in indexes
        assert foreign_keys == {"fk_contacts_enterprise_id_enterprises"}

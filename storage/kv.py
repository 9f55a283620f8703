"""KeyValueRepository: small shared values with an expiry (e.g. a platform's API access token)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage._dialect import insert_for
from storage.models import KeyValue


class KeyValueRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_key(self, key: str, *, now: datetime) -> str | None:
        """The value, or None if absent or expired at `now`."""
        stmt = select(KeyValue).where(KeyValue.key == key).execution_options(populate_existing=True)
        row = self.session.scalars(stmt).one_or_none()
        if row is None or (row.expires_at is not None and row.expires_at <= now):
            return None
        return row.value

    def list_by_prefix(self, prefix: str, *, now: datetime) -> list[tuple[str, str]]:
        """(key, value) of every unexpired entry whose key starts with `prefix`, by key."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = select(KeyValue).where(KeyValue.key.like(escaped + "%", escape="\\")).order_by(KeyValue.key)
        return [(r.key, r.value) for r in self.session.scalars(stmt) if r.expires_at is None or r.expires_at > now]

    def put(self, key: str, value: str, *, expires_at: datetime | None = None) -> None:
        """Set (or replace) the value; it is gone once `expires_at` is reached."""
        stmt = insert_for(self.session, KeyValue).values(key=key, value=value, expires_at=expires_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at},
        )
        self.session.execute(stmt)

    def add_if_absent(self, key: str, value: str, *, expires_at: datetime | None, now: datetime) -> bool:
        """Set the value unless a live one exists; True if this call set it. Atomic across processes:
        an expired row is taken over by a conditional upsert, a live one is left alone."""
        stmt = insert_for(self.session, KeyValue).values(key=key, value=value, expires_at=expires_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at},
            where=(KeyValue.expires_at.is_not(None) & (KeyValue.expires_at <= now)),
        )
        return self.session.execute(stmt.returning(KeyValue.key)).scalar_one_or_none() is not None

    def delete(self, key: str) -> None:
        self.session.execute(delete(KeyValue).where(KeyValue.key == key))

    def delete_expired(self, now: datetime) -> int:
        """Remove expired entries; returns how many."""
        result = self.session.execute(delete(KeyValue).where(KeyValue.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

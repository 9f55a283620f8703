"""KeyValueRepository: small shared values with an expiry (e.g. a platform's API access token).

Keys are `<area>:<kind>:<id>`. The ones that hold a person, or lead to one, are named here so that
erasure (storage.erasure) finds them:

- `colleague:<code>` -> `<enterprise_id>:<contact_id>`, a one-time invitation code and who made it
  (older rows hold the enterprise id alone);
- `henan:apply:<enterprise_id>` -> the Henan application form's answers (JSON, with the submitting
  `contact_id` and the link's `token`); `henan:form:<token>` -> the enterprise id;
- `<channel>:...:<user_id>[:...]`: what a channel adapter keeps per chat id (WeChat's 48-hour window
  `wechat:seen:<openid>`, event dedupe `wecom:evt:<user>:...`, pushed choices `<channel>:pushed:<user>`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from storage._dialect import insert_for
from storage.models import KeyValue

COLLEAGUE_PREFIX = "colleague:"
HENAN_APPLY_PREFIX = "henan:apply:"
HENAN_FORM_PREFIX = "henan:form:"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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

    def list_by_prefix(
        self, prefix: str, *, now: datetime, include_expired: bool = False
    ) -> list[tuple[str, str]]:
        """(key, value) of every unexpired (or, with `include_expired`, every) entry whose key starts
        with `prefix`, by key."""
        stmt = select(KeyValue).where(KeyValue.key.like(_like_escape(prefix) + "%", escape="\\"))
        stmt = stmt.order_by(KeyValue.key)
        return [(r.key, r.value) for r in self.session.scalars(stmt)
                if include_expired or r.expires_at is None or r.expires_at > now]

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

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove these keys (absent ones are ignored); returns how many were removed."""
        wanted = sorted(set(keys))
        if not wanted:
            return 0
        result = self.session.execute(delete(KeyValue).where(KeyValue.key.in_(wanted)))
        return int(getattr(result, "rowcount", 0) or 0)

    def delete_naming(self, prefix: str, segment: str) -> int:
        """Remove every key under `prefix` that has `segment` as one of its `:`-separated parts
        (`wechat:seen:<openid>`, `wecom:evt:<user>:<time>:...`); returns how many."""
        if not segment:
            return 0
        p, s = _like_escape(prefix), _like_escape(segment)
        stmt = delete(KeyValue).where(or_(
            KeyValue.key == prefix + segment,
            KeyValue.key.like(f"{p}{s}:%", escape="\\"),
            KeyValue.key.like(f"{p}%:{s}", escape="\\"),
            KeyValue.key.like(f"{p}%:{s}:%", escape="\\"),
        ))
        result = self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    def delete_expired(self, now: datetime) -> int:
        """Remove expired entries; returns how many."""
        result = self.session.execute(delete(KeyValue).where(KeyValue.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

"""Conversation state, version 2: the interview's keys move under "interview" (the typed state).

Version-1 rows are one flat dict ({"stage", "locale", "facts", "history", "skipped", "asking", ...});
version 2 nests the interview's own keys and carries "version": 2. Only the JSON of existing rows
changes; no table is altered. Downgrading flattens them back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies at this revision (migrations never import the models or the handlers).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
INTERVIEW_KEYS = ("facts", "history", "skipped", "asking", "candidates", "asked_follow")
STAGES = ("new", "consent", "credit_code", "interview", "follow_up", "done", "confirm_forget")
conversations = sa.table("conversations", sa.column("contact_id", sa.Integer()), sa.column("state", JSON))


def to_v2(state: dict[str, Any]) -> dict[str, Any]:
    if state.get("version", 1) >= 2:
        return state
    out = {k: v for k, v in state.items() if k not in INTERVIEW_KEYS}
    out["interview"] = {k: state[k] for k in INTERVIEW_KEYS if state.get(k) is not None}
    out["version"] = 2
    if out.get("stage") not in STAGES:
        out["stage"] = "interview" if out["interview"].get("facts") else "new"
    return out


def to_v1(state: dict[str, Any]) -> dict[str, Any]:
    if state.get("version", 1) < 2:
        return state
    out = {k: v for k, v in state.items() if k not in ("interview", "version")}
    inner = state.get("interview") or {}
    out.update({k: inner.get(k, [] if k != "asking" and k != "facts" else None) for k in INTERVIEW_KEYS})
    out["facts"] = inner.get("facts") or {}
    return out


def _rewrite(convert: Any) -> None:
    bind = op.get_bind()
    for contact_id, state in bind.execute(sa.select(conversations.c.contact_id, conversations.c.state)).all():
        if isinstance(state, dict):
            new = convert(state)
            if new is not state:
                bind.execute(conversations.update().where(conversations.c.contact_id == contact_id)
                             .values(state=new))


def upgrade() -> None:
    _rewrite(to_v2)


def downgrade() -> None:
    _rewrite(to_v1)

"""ConversationRepository: one interview state per contact.

Storage keeps whatever JSON state the handler gives it (facts, the history stack for "back", the
current question). Before a contact has consented, the handlers decide what that state may hold:
only what the interview needs and nothing that identifies a person or an enterprise. Storage does
not inspect it.

`save` is on every chat message's path: one upsert, built once per dialect (building it anew creates
the `excluded` columns on every call), with no re-read of the row it wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Executable, delete
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage._dialect import insert_for
from storage.columns import utcnow
from storage.models import Conversation

_UPSERTS: dict[str, Executable] = {}


def _upsert(bind: Session | Connection) -> Executable:
    """INSERT ... ON CONFLICT (contact_id) DO UPDATE, for the dialect of a session or connection, built once."""
    name = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    stmt = _UPSERTS.get(name)
    if stmt is None:
        insert = insert_for(name, Conversation.__table__)
        stmt = _UPSERTS[name] = insert.on_conflict_do_update(
            index_elements=["contact_id"],
            set_={"state": insert.excluded.state, "updated_at": insert.excluded.updated_at},
        )
    return stmt


def save_state(connection: Connection, contact_id: int, state: Mapping[str, Any]) -> None:
    """`ConversationRepository.save` on a Core connection (a chat turn without an ORM Session)."""
    connection.execute(_upsert(connection), {"contact_id": contact_id, "state": dict(state), "updated_at": utcnow()})


class ConversationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_contact_id(self, contact_id: int) -> Conversation | None:
        return self.session.get(Conversation, contact_id)

    def save(self, contact_id: int, state: Mapping[str, Any]) -> None:
        """Replace the contact's state (a JSON-able mapping), creating the row if needed.

        The state is serialised when the statement runs, so later changes to the caller's dict are not
        stored by accident; call `save` again to store them. A `Conversation` of this contact already
        loaded in the session is expired, so reading it again shows the new state.
        """
        self.session.connection().execute(_upsert(self.session),
                                          {"contact_id": contact_id, "state": dict(state), "updated_at": utcnow()})
        loaded = self.session.identity_map.get(identity_key(Conversation, contact_id))
        if loaded is not None:
            self.session.expire(loaded)

    def delete(self, contact_id: int) -> None:
        """Forget the contact's state (a new interview starts from scratch)."""
        self.session.execute(
            delete(Conversation).where(Conversation.contact_id == contact_id),
            execution_options={"synchronize_session": "fetch"},
        )

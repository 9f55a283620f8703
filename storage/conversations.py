"""ConversationRepository: one interview state per contact.

Storage keeps whatever JSON state the handler gives it (facts, the history stack for "back", the
current question). Before a contact has consented, the handlers decide what that state may hold:
only what the interview needs and nothing that identifies a person or an enterprise. Storage does
not inspect it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage._dialect import insert_for
from storage.columns import utcnow
from storage.models import Conversation


class ConversationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_contact_id(self, contact_id: int) -> Conversation | None:
        return self.session.get(Conversation, contact_id)

    def save(self, contact_id: int, state: Mapping[str, Any]) -> Conversation:
        """Replace the contact's state (a JSON-able mapping), creating the row if needed.

        The state is copied, so later changes to the caller's dict are not stored by accident;
        call `save` again to store them.
        """
        document = copy.deepcopy(dict(state))
        stmt = insert_for(self.session, Conversation).values(
            contact_id=contact_id, state=document, updated_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["contact_id"],
            set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
        )
        self.session.execute(stmt)
        conversation = self.session.get(Conversation, contact_id, populate_existing=True)
        assert conversation is not None, "the row was just written"
        return conversation

    def delete(self, contact_id: int) -> None:
        """Forget the contact's state (a new interview starts from scratch)."""
        self.session.execute(
            delete(Conversation).where(Conversation.contact_id == contact_id),
            execution_options={"synchronize_session": "fetch"},
        )

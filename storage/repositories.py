"""All repositories over one session, for code that needs several in one unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from storage.assessments import AssessmentRepository
from storage.broadcasts import BroadcastRepository
from storage.contacts import ContactRepository, attach
from storage.conversations import ConversationRepository
from storage.cycles import AuditCycleRepository, MilestoneRepository
from storage.enterprises import EnterpriseRepository
from storage.imports import ListImportRepository
from storage.kv import KeyValueRepository
from storage.models import Contact
from storage.officers import (
    InvitationRepository,
    LoginThrottleRepository,
    OfficerRepository,
    OfficerSessionRepository,
)
from storage.outbox import OutboxRepository
from storage.oversight import OversightRepository
from storage.reminders import ReminderRepository


class Repositories:
    """`repos = Repositories(session)`; then `repos.contacts.get_by_address(...)` and so on."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.enterprises = EnterpriseRepository(session)
        self.contacts = ContactRepository(session)
        self.conversations = ConversationRepository(session)
        self.assessments = AssessmentRepository(session)
        self.cycles = AuditCycleRepository(session)
        self.milestones = MilestoneRepository(session)
        self.outbox = OutboxRepository(session)
        self.kv = KeyValueRepository(session)
        self.reminders = ReminderRepository(session)
        # officers, list imports, invitations and broadcasts (migration 0003)
        self.officers = OfficerRepository(session)
        self.invitations = InvitationRepository(session)
        self.imports = ListImportRepository(session)
        self.broadcasts = BroadcastRepository(session)
        # dashboard sessions and login throttling (migration 0005_officer_sessions)
        self.officer_sessions = OfficerSessionRepository(session)
        self.login_throttles = LoginThrottleRepository(session)
        # the officers' overview and enterprise pages, officer actions (migration 0007)
        self.oversight = OversightRepository(session)

    def connection(self) -> Connection:
        """The unit of work's connection, for Core statements (storage.assessments.record_assessment, ...)."""
        return self.session.connection()

    @property
    def opened(self) -> bool:
        """Whether the ORM Session is in use (always, here; TurnRepositories makes it only when asked)."""
        return True


class TurnRepositories(Repositories):
    """The repositories of one chat turn on a Core connection already in its transaction (`engine.begin()`),
    with the ORM Session made only when a handler first uses a repository (or `session`).

    An ordinary turn reads the contact and its state and writes the state with Core statements on the
    connection (storage.contacts.load_with_state, storage.conversations.save_state) and never needs a
    Session: creating one, its transaction bookkeeping, flush and commit were a third of the storage CPU
    of such a turn. When one is made it is bound to the same connection (`join_transaction_mode=
    "rollback_only"`: it never commits that transaction), the turn's contact is attached to it, and
    `finish` flushes it before the connection commits."""

    _LAZY = frozenset(("session", "enterprises", "contacts", "conversations", "assessments", "cycles", "milestones",
                       "outbox", "kv", "reminders", "officers", "invitations", "imports", "broadcasts",
                       "officer_sessions", "login_throttles", "oversight"))

    def __init__(self, connection: Connection, contact: Contact | None = None) -> None:
        # no super().__init__: it runs when the first repository is asked for (`__getattr__`)
        self._connection = connection
        self._contact = contact
        self._session: Session | None = None

    def __getattr__(self, name: str) -> Any:
        if name not in TurnRepositories._LAZY:
            raise AttributeError(name)
        self.open_session()
        return self.__dict__[name]

    def connection(self) -> Connection:
        """The turn's connection, without making a Session."""
        return self._connection

    @property
    def opened(self) -> bool:
        """Whether a handler needed the ORM Session on this turn."""
        return self._session is not None

    def open_session(self) -> Session:
        if self._session is None:
            session = Session(bind=self._connection, expire_on_commit=False, join_transaction_mode="rollback_only")
            self._session = session
            Repositories.__init__(self, session)
            if self._contact is not None:
                attach(session, self._contact)
        return self._session

    def attach_contact(self, contact: Contact) -> None:
        """The turn's contact, once known (a contact added by this turn is already in the session)."""
        self._contact = contact

    def finish(self) -> None:
        """Write what the ORM still holds (before the connection commits), and let the Session go."""
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

"""All repositories over one session, for code that needs several in one unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.assessments import AssessmentRepository
from storage.broadcasts import BroadcastRepository
from storage.contacts import ContactRepository
from storage.conversations import ConversationRepository
from storage.cycles import AuditCycleRepository, MilestoneRepository
from storage.enterprises import EnterpriseRepository
from storage.imports import ListImportRepository
from storage.kv import KeyValueRepository
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

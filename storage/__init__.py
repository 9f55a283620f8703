"""Storage: SQLAlchemy 2 models, repositories and Alembic migrations (SQLite or PostgreSQL).

Typical use:

    engine = make_engine(default_url())
    upgrade(default_url())
    factory = session_factory(engine)
    with factory.begin() as session:
        repos = Repositories(session)
        contact = repos.contacts.add_if_absent("telegram", "12345")

Repositories flush but never commit: the caller's `begin()` block is the unit of work, so a push
message (outbox row) commits together with whatever caused it.
"""

from storage.assessments import OBLIGATIONS, AssessmentRepository
from storage.columns import utcnow
from storage.contacts import ContactRepository
from storage.conversations import ConversationRepository
from storage.cycles import AuditCycleRepository, MilestoneRepository
from storage.db import DATABASE_URL_ENV, default_url, make_engine, session_factory
from storage.enterprises import ENTERPRISE_FIELDS, EnterpriseRepository
from storage.errors import ConsentError, DuplicateError, FieldError, StorageError
from storage.kv import KeyValueRepository
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import (
    CYCLE_SOURCES,
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    MILESTONE_KINDS,
    OUTBOX_STATUSES,
    REMINDER_STATUSES,
    SCALES,
    Assessment,
    AuditCycle,
    Base,
    Contact,
    Conversation,
    Enterprise,
    KeyValue,
    Milestone,
    OutboxMessage,
    Reminder,
    normalize_credit_code,
)
from storage.outbox import DEFAULT_LEASE, OutboxRepository
from storage.reminders import (
    DueMilestone,
    DueReminder,
    Message,
    MilestoneFacts,
    Recipient,
    ReminderRepository,
    reminder_key,
)
from storage.repositories import Repositories, TurnRepositories

__all__ = [
    "CYCLE_SOURCES",
    "DATABASE_URL_ENV",
    "DEFAULT_LEASE",
    "DEFAULT_LOCALE",
    "DEFAULT_TIMEZONE",
    "ENTERPRISE_FIELDS",
    "MILESTONE_KINDS",
    "OBLIGATIONS",
    "OUTBOX_STATUSES",
    "REMINDER_STATUSES",
    "SCALES",
    "Assessment",
    "AssessmentRepository",
    "AuditCycle",
    "AuditCycleRepository",
    "Base",
    "ConsentError",
    "Contact",
    "ContactRepository",
    "Conversation",
    "ConversationRepository",
    "DueMilestone",
    "DueReminder",
    "DuplicateError",
    "Enterprise",
    "EnterpriseRepository",
    "FieldError",
    "KeyValue",
    "KeyValueRepository",
    "Message",
    "Milestone",
    "MilestoneFacts",
    "MilestoneRepository",
    "OutboxMessage",
    "OutboxRepository",
    "Recipient",
    "Reminder",
    "ReminderRepository",
    "Repositories",
    "StorageError",
    "TurnRepositories",
    "current_revision",
    "default_url",
    "downgrade",
    "head_revision",
    "make_engine",
    "normalize_credit_code",
    "reminder_key",
    "session_factory",
    "upgrade",
    "utcnow",
]

# -- Officers, list imports, invitations and broadcasts (migration 0003) -------------------------------
from storage.broadcasts import (
    BroadcastRepository,
    QueuedMessage,
    TargetRow,
    broadcast_key,
    broadcast_key_prefix,
)
from storage.imports import EntryPlan, ImportOutcome, ListImportRepository, MilestonePlan
from storage.models import (
    BROADCAST_KINDS,
    BROADCAST_STATUSES,
    OFFICER_ROLES,
    Broadcast,
    BroadcastTarget,
    EnterpriseInvitation,
    ListEntry,
    ListImport,
    Officer,
    OfficerInvitation,
)
from storage.officers import (
    CODE_ALPHABET,
    CODE_LENGTH,
    InvitationRepository,
    OfficerRepository,
    new_code,
    normalize_code,
)

__all__ += [
    "BROADCAST_KINDS",
    "BROADCAST_STATUSES",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "OFFICER_ROLES",
    "Broadcast",
    "BroadcastRepository",
    "BroadcastTarget",
    "EnterpriseInvitation",
    "EntryPlan",
    "ImportOutcome",
    "InvitationRepository",
    "ListEntry",
    "ListImport",
    "ListImportRepository",
    "MilestonePlan",
    "Officer",
    "OfficerInvitation",
    "OfficerRepository",
    "QueuedMessage",
    "TargetRow",
    "broadcast_key",
    "broadcast_key_prefix",
    "new_code",
    "normalize_code",
]

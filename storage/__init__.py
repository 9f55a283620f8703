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
    normalize_credit_code,
)
from storage.outbox import DEFAULT_LEASE, OutboxRepository
from storage.repositories import Repositories

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
    "DuplicateError",
    "Enterprise",
    "EnterpriseRepository",
    "FieldError",
    "KeyValue",
    "KeyValueRepository",
    "Milestone",
    "MilestoneRepository",
    "OutboxMessage",
    "OutboxRepository",
    "Repositories",
    "StorageError",
    "current_revision",
    "default_url",
    "downgrade",
    "head_revision",
    "make_engine",
    "normalize_credit_code",
    "session_factory",
    "upgrade",
    "utcnow",
]

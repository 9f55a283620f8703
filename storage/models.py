"""SQLAlchemy 2 models. Queries live in the repositories, never here.

Every timestamp is timezone-aware (UTC on the way out); every relationship is `lazy="raise"`, so a
repository that needs related rows loads them explicitly. The schema is created by the Alembic
migrations in storage/migrations/versions, which must match these models exactly (a test checks).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship, validates
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

from storage.columns import JSONDocument, UTCDateTime, utcnow
from storage.errors import ConsentError, FieldError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SCALES = ("large", "medium", "small", "micro")
CYCLE_SOURCES = ("chat", "import")
MILESTONE_KINDS = ("disclosure", "start", "report", "reaudit", "acceptance", "review", "evaluation", "env_disclosure")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead")
REMINDER_STATUSES = ("pending", "queued", "superseded", "cancelled")
DEFAULT_LOCALE = "zh_CN"
DEFAULT_TIMEZONE = "Asia/Shanghai"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's documented class attribute
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSONDocument,
        list[Any]: JSONDocument,
    }


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Enterprise(Base):
    """An enterprise, known by its 统一社会信用代码 once the user or an imported list gives it."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    province: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(64))
    county: Mapped[str | None] = mapped_column(String(64))
    industry_code: Mapped[str | None] = mapped_column(String(8))
    scale: Mapped[str | None] = mapped_column(String(8))
    # The secret in the enterprise's .ics link (EnterpriseRepository.ensure_calendar_token); None until asked.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # Set only by the INSERT that adds the enterprise for a chat contact: on SQLite a trigger binds that contact
    # and clears it (migration 0011); NULL in every row otherwise.
    bind_contact_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[Contact]] = relationship(back_populates="enterprise", lazy="raise")
    cycles: Mapped[list[AuditCycle]] = relationship(back_populates="enterprise", lazy="raise")

    @validates("credit_code")
    def _validate_credit_code(self, key: str, value: str | None) -> str | None:
        return normalize_credit_code(value)

    @validates("scale")
    def _validate_scale(self, key: str, value: str | None) -> str | None:
        if value is not None and value not in SCALES:
            raise FieldError("scale", f"{value!r} is not one of {', '.join(SCALES)}")
        return value


def normalize_credit_code(value: str | None) -> str | None:
    """The compact, upper-case 统一社会信用代码, or FieldError("credit_code") if it is not valid."""
    if value is None:
        return None
    try:
        return str(uscc.validate(value))
    except StdnumValidationError as e:
        raise FieldError("credit_code", f"{value!r} is not a valid unified social credit code: {e}") from e


class Contact(Base):
    """One user on one channel. Personal fields are stored only while `consented_at` is set."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16), default=DEFAULT_LOCALE, server_default=DEFAULT_LOCALE)
    timezone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    consented_at: Mapped[datetime | None]
    preferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    display_name: Mapped[str | None] = mapped_column(String(200))
    unsubscribed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise | None] = relationship(back_populates="contacts", lazy="raise")

    PERSONAL_FIELDS = ("enterprise_id", "display_name")

    def personal_fields_set(self) -> list[str]:
        return [name for name in self.PERSONAL_FIELDS if getattr(self, name) is not None]


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _refuse_personal_data_without_consent(
    mapper: Mapper[Contact], connection: Connection, target: Contact
) -> None:
    """The last line of the consent rule, for writes that bypass ContactRepository."""
    if target.consented_at is None and (fields := target.personal_fields_set()):
        raise ConsentError(
            f"Contact {target.channel}:{target.user_id} has not consented;"
            f" refusing to store {', '.join(fields)}."
        )


class Conversation(Base):
    """The interview state of one contact, as the handler gives it (see ConversationRepository)."""

    __tablename__ = "conversations"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Assessment(Base):
    """One assessment as it was given: the facts, the as-of date, the verdict and the packs used."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    facts: Mapped[dict[str, Any]]
    as_of: Mapped[date]
    obligation: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]]
    pack_versions: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditCycle(Base):
    """One round of mandatory audit, opened by a published list (or by what the user told us)."""

    __tablename__ = "audit_cycles"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "list_published_on"),
        CheckConstraint(_in("source", CYCLE_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    list_published_on: Mapped[date | None]
    source: Mapped[str] = mapped_column(String(8))
    list_document_number: Mapped[str | None] = mapped_column(String(100))
    grounds: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]

    enterprise: Mapped[Enterprise] = relationship(back_populates="cycles", lazy="raise")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="cycle", lazy="raise", order_by="Milestone.nominal"
    )


class Milestone(Base):
    """One deadline of a cycle: its nominal day, its legal last day, and whether it was met."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("cycle_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("audit_cycles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    nominal: Mapped[date] = mapped_column(index=True)
    due: Mapped[date]
    citation: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    done_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    evidence: Mapped[str | None] = mapped_column(Text)
    # "Remind me later": reminders due on or before this day are not sent.
    snoozed_until: Mapped[date | None]
    # Set only by the INSERT that adds the milestone with its planned reminders: on SQLite a trigger inserts them
    # and clears it (migration 0011); NULL in every row otherwise.
    reminder_plan: Mapped[str | None] = mapped_column(Text)  # JSON text

    cycle: Mapped[AuditCycle] = relationship(back_populates="milestones", lazy="raise")


class Reminder(Base):
    """One planned reminder of a milestone: its kind (e.g. `before_30`, `overdue_w3`) and the day it is due.

    Life cycle: `pending` -> (the sweep) `queued` (outbox rows written for the reachable contacts), or
    `superseded` (a later reminder of the same milestone was due too, so only that one is sent), or
    `cancelled` (not sent: the milestone was done, snoozed past the day, its cycle superseded, or nobody
    was reachable). See ReminderRepository and bot.sweep.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("milestone_id", "kind"),
        CheckConstraint(_in("status", REMINDER_STATUSES), name="status"),
        # What the sweep claims from: the pending ones only, in claim order (migration 0009).
        Index("ix_reminders_pending", "send_on", "id", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        # A locked milestone's due pending reminders, which the claim changes (migration 0010, which also sets
        # the table's fillfactor to 50 on PostgreSQL, so that a claimed reminder's new version stays on its page).
        Index("ix_reminders_pending_milestone", "milestone_id", "send_on", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    send_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default=text("'pending'"))
    queued_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A push message waiting for (or done with) delivery; see OutboxRepository for the life cycle."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_due", "channel", "status", "next_attempt_at"),
        Index("ix_outbox_address", "channel", "address", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(256))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(8), default="pending", server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))  # new with each claim; guards what follows
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KeyValue(Base):
    """A small shared cache entry (e.g. a platform API access token) with an optional expiry."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None]


# ---------------------------------------------------------------------------------------------------
# Officers, list imports, invitations and broadcasts (migration 0003). Appended as one block.
# ---------------------------------------------------------------------------------------------------

OFFICER_ROLES = ("ecology", "industry", "development", "admin")  # 生态环境, 工信, 发改, administrator
BROADCAST_KINDS = ("notice", "general")
BROADCAST_STATUSES = ("planned", "sending", "done")
TARGET_OUTCOMES = ("queued", "unreachable")


class Officer(Base):
    """A regulator's account: a role and a jurisdiction (a province, optionally a city and a county).

    `contact_id` is the chat identity that redeemed one of the officer's invitation codes; a contact
    is never both an officer and bound to an enterprise (handlers.officers keeps the two apart).
    """

    __tablename__ = "officers"
    __table_args__ = (
        UniqueConstraint("contact_id"),
        CheckConstraint(_in("role", OFFICER_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(64))
    county: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfficerInvitation(Base):
    """A one-time code that links the chat contact who sends it to an officer account."""

    __tablename__ = "officer_invitations"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))


class OfficerSession(Base):
    """A dashboard login: the cookie holds a random token, this row its SHA-256 (a copy of the table
    opens no session). Revoked on logout, refused after `expires_at`; shared by every process."""

    __tablename__ = "officer_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed dashboard logins of one account (`officer:<id>` or `name:<typed>`) from one address (an IPv4
    address or an IPv6 /64): after a few, each failure doubles how long that pair must wait."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("account", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class ListImport(Base):
    """One imported file of a published mandatory-audit list, in an officer's jurisdiction.

    Unique by (province, file hash): importing the same file twice changes nothing. `published_on`
    and `document_number` are set when every imported row shares them.
    """

    __tablename__ = "list_imports"
    __table_args__ = (UniqueConstraint("province", "file_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), index=True)
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(64))
    county: Mapped[str | None] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    document_number: Mapped[str | None] = mapped_column(String(100))
    published_on: Mapped[date | None]
    row_count: Mapped[int] = mapped_column(Integer)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ListEntry(Base):
    """One enterprise named by an imported list, and the audit cycle the list opened for it.

    Unique by (enterprise, list date) across all imports, so the same rows in another file add
    nothing; `cycle_id` lets a dashboard join a list to its milestones with two indexed lookups.
    """

    __tablename__ = "list_entries"
    __table_args__ = (
        UniqueConstraint("import_id", "enterprise_id"),
        UniqueConstraint("enterprise_id", "published_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("list_imports.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("audit_cycles.id", ondelete="SET NULL"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    grounds: Mapped[list[Any]]
    published_on: Mapped[date]
    document_number: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(64))
    county: Mapped[str | None] = mapped_column(String(64))
    # the list's 联系人 / 联系电话 columns (optional): for the officer, never shown to another enterprise
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(32))


class EnterpriseInvitation(Base):
    """A one-time code printed in a list's written notice: sending it in chat binds the contact."""

    __tablename__ = "enterprise_invitations"
    __table_args__ = (UniqueConstraint("code"), UniqueConstraint("enterprise_id", "list_import_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    list_import_id: Mapped[int | None] = mapped_column(
        ForeignKey("list_imports.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
    used_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))


class Broadcast(Base):
    """A list notice or a general message to the enterprises of a jurisdiction, fanned out to the outbox.

    The fan-out walks enterprises by id; `resume_after` is the last enterprise id done, committed
    with each batch, so a resumed fan-out starts after it (and the outbox keys `bc:<id>:<contact>`
    make a repeated batch a no-op). Progress is counted from those outbox rows.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint(_in("kind", BROADCAST_KINDS), name="kind"),
        CheckConstraint(_in("status", BROADCAST_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(64))
    county: Mapped[str | None] = mapped_column(String(64))
    list_import_id: Mapped[int | None] = mapped_column(ForeignKey("list_imports.id", ondelete="SET NULL"))
    filters: Mapped[dict[str, Any]]
    message: Mapped[str | None] = mapped_column(Text)  # a general broadcast's text
    status: Mapped[str] = mapped_column(String(8), default="planned", server_default=text("'planned'"))
    resume_after: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class BroadcastTarget(Base):
    """One enterprise a broadcast reached (`queued`: outbox rows for `contacts` contacts) or could not."""

    __tablename__ = "broadcast_targets"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "enterprise_id"),
        CheckConstraint(_in("outcome", TARGET_OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(12))
    contacts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise_invitations.id", ondelete="SET NULL")
    )


# ---------------------------------------------------------------------------------------------------
# What officers recorded about an enterprise (migration 0007_officer_actions). Appended as one block.
# ---------------------------------------------------------------------------------------------------

OFFICER_ACTION_KINDS = ("report_received", "evaluation_passed", "acceptance_passed", "evidence_rejected")


class OfficerAction(Base):
    """One thing an officer recorded on the dashboard: who (kept by name too), when, what, about which
    enterprise (and milestone); `on_date` is the day the officer states (report received on …),
    `reason` and `evidence` belong to a rejected disclosure link."""

    __tablename__ = "officer_actions"
    __table_args__ = (CheckConstraint(_in("kind", OFFICER_ACTION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), index=True)
    officer_name: Mapped[str] = mapped_column(String(100))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(24))
    on_date: Mapped[date | None]
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

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
MILESTONE_KINDS = ("disclosure", "start", "report", "reaudit", "acceptance", "review", "evaluation")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead")
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

    cycle: Mapped[AuditCycle] = relationship(back_populates="milestones", lazy="raise")


class OutboxMessage(Base):
    """A push message waiting for (or done with) delivery; see OutboxRepository for the life cycle."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_due", "channel", "status", "next_attempt_at"),
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
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KeyValue(Base):
    """A small shared cache entry (e.g. a platform API access token) with an optional expiry."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None]

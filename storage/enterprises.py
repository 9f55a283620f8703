"""EnterpriseRepository: enterprises, found by id or by 统一社会信用代码."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import cast

from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage._dialect import insert_for
from storage.columns import utcnow
from storage.errors import DuplicateError, FieldError
from storage.models import SCALES, Contact, Enterprise, normalize_credit_code

CALENDAR_TOKEN_BYTES = 24  # 32 URL-safe characters
ENTERPRISE_FIELDS = ("credit_code", "name", "province", "city", "county", "industry_code", "scale")
KNOWN_FIELDS = ("province", "industry_code", "scale")  # what a chat verdict knows of its enterprise

_TABLE = cast(Table, Enterprise.__table__)
# The chat's facts written where they differ: no read first, no row written when they are the same.
_UPDATE_KNOWN = (update(_TABLE).where(_TABLE.c.id == bindparam("enterprise_id"),
                                      or_(*(_TABLE.c[f].is_distinct_from(bindparam(f"new_{f}")) for f in KNOWN_FIELDS)))
                 .values({**{f: bindparam(f"new_{f}") for f in KNOWN_FIELDS}, "updated_at": bindparam("now")}))
_CALENDAR_TOKEN = select(_TABLE.c.calendar_token).where(_TABLE.c.id == bindparam("enterprise_id"))
_SET_CALENDAR_TOKEN = (update(_TABLE)
                       .where(_TABLE.c.id == bindparam("enterprise_id"), _TABLE.c.calendar_token.is_(None))
                       .values(calendar_token=bindparam("token")))


def update_known(connection: Connection, enterprise_id: int, known: Mapping[str, str | None]) -> bool:
    """Set the enterprise's province, industry and scale (KNOWN_FIELDS, a chat verdict's facts) to `known`:
    one Core UPDATE whose WHERE leaves the row alone when they are already so. True if the row changed."""
    scale = known.get("scale")
    if scale is not None and scale not in SCALES:
        raise FieldError("scale", f"{scale!r} is not one of {', '.join(SCALES)}")
    params = {f"new_{f}": known.get(f) for f in KNOWN_FIELDS}
    result = connection.execute(_UPDATE_KNOWN, {**params, "enterprise_id": enterprise_id, "now": utcnow()})
    return bool(result.rowcount)


def calendar_token(connection: Connection, enterprise_id: int) -> str | None:
    """The enterprise's calendar token, made now if it has none (None for no such enterprise): one Core SELECT
    when it has one. Two turns making one at once keep the first (the UPDATE's WHERE), and both read it."""
    token = connection.execute(_CALENDAR_TOKEN, {"enterprise_id": enterprise_id}).scalar_one_or_none()
    if token is None:
        connection.execute(_SET_CALENDAR_TOKEN, {"enterprise_id": enterprise_id,
                                                 "token": secrets.token_urlsafe(CALENDAR_TOKEN_BYTES)})
        token = connection.execute(_CALENDAR_TOKEN, {"enterprise_id": enterprise_id}).scalar_one_or_none()
    return token


class EnterpriseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.created: set[int] = set()  # added by add_if_absent in this unit of work
        self._held: dict[int, Enterprise] = {}

    def get_by_id(self, enterprise_id: int) -> Enterprise | None:
        """The enterprise; kept for the unit of work, so asking again (a message's verdict, then its calendar
        line) is not another SELECT once the caller dropped it (the session's identity map is weak)."""
        enterprise = self._held.get(enterprise_id) or self.session.get(Enterprise, enterprise_id)
        if enterprise is not None:
            self._held[enterprise_id] = enterprise
        return enterprise

    def forget(self, enterprise_id: int) -> None:
        """Drop the unit of work's copy of the enterprise (a Core statement changed its row): read anew next."""
        enterprise = self._held.pop(enterprise_id, None)
        if enterprise is not None and enterprise in self.session:
            self.session.expire(enterprise)

    def get_by_credit_code(self, credit_code: str) -> Enterprise | None:
        """Find by credit code, given in any spacing or case; FieldError("credit_code") if invalid."""
        code = normalize_credit_code(credit_code)
        return self.session.scalars(select(Enterprise).where(Enterprise.credit_code == code)).one_or_none()

    def get_by_calendar_token(self, token: str) -> Enterprise | None:
        """The enterprise whose .ics link carries this token; None for an unknown (or empty) token."""
        if not token:
            return None
        return self.session.scalars(select(Enterprise).where(Enterprise.calendar_token == token)).one_or_none()

    def ensure_calendar_token(self, enterprise: Enterprise) -> str:
        """The enterprise's calendar token, made now (random, URL-safe) if it has none."""
        if enterprise.calendar_token is None:
            enterprise.calendar_token = secrets.token_urlsafe(CALENDAR_TOKEN_BYTES)
            self.session.flush()
        return enterprise.calendar_token

    def list_by_credit_codes(self, credit_codes: Iterable[str]) -> list[Enterprise]:
        codes = {normalize_credit_code(code) for code in credit_codes}
        if not codes:
            return []
        stmt = select(Enterprise).where(Enterprise.credit_code.in_(codes)).order_by(Enterprise.id)
        return list(self.session.scalars(stmt))

    def count_all(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Enterprise)) or 0

    def add(
        self,
        *,
        credit_code: str | None = None,
        name: str | None = None,
        province: str | None = None,
        city: str | None = None,
        county: str | None = None,
        industry_code: str | None = None,
        scale: str | None = None,
    ) -> Enterprise:
        """Add an enterprise; FieldError for a bad credit code or scale, DuplicateError for a known code."""
        enterprise = Enterprise(
            credit_code=credit_code,
            name=name,
            province=province,
            city=city,
            county=county,
            industry_code=industry_code,
            scale=scale,
        )
        if enterprise.credit_code is not None and self.get_by_credit_code(enterprise.credit_code):
            raise DuplicateError(f"An enterprise with credit code {enterprise.credit_code} already exists.")
        self.session.add(enterprise)
        self._flush(enterprise)
        return enterprise

    def add_if_absent(
        self,
        credit_code: str,
        *,
        province: str | None = None,
        industry_code: str | None = None,
        scale: str | None = None,
        calendar_token: bool = False,
    ) -> tuple[Enterprise, bool]:
        """The enterprise with this credit code, added now if there is none; True if this call added it.

        Safe when two contacts give the same new code at the same moment (colleagues after a list notice):
        INSERT ... ON CONFLICT DO NOTHING RETURNING, and a read only when the code was known. On PostgreSQL
        the insert waits for a concurrent one of the same code and then does nothing; the read sees the
        committed row. FieldError("credit_code") for an invalid code. The other fields are those of a new
        enterprise only; `calendar_token` gives it its .ics secret at once (a chat contact sees the link next).
        """
        return self._add(credit_code, province=province, industry_code=industry_code, scale=scale,
                         calendar_token=calendar_token)

    def add_and_bind(
        self,
        credit_code: str,
        contact: Contact,
        *,
        province: str | None = None,
        industry_code: str | None = None,
        scale: str | None = None,
        calendar_token: bool = False,
    ) -> tuple[Enterprise, bool]:
        """`add_if_absent`, and the contact bound to the enterprise when this call added it (a known one is
        joined by invitation only). ConsentError before consent. One statement: on PostgreSQL the INSERT is a
        data-modifying CTE and an UPDATE of the contact reads its RETURNING; on SQLite the INSERT carries
        `bind_contact_id` and a trigger binds the contact (migration 0011)."""
        from storage.contacts import ContactRepository

        ContactRepository.require_consent(contact, "enterprise binding")
        self.session.flush()  # the contact's pending changes first: the statement writes its row
        enterprise, added = self._add(credit_code, province=province, industry_code=industry_code, scale=scale,
                                      calendar_token=calendar_token, bind=contact)
        if added:
            set_committed_value(contact, "enterprise_id", enterprise.id)  # written by the statement
        return enterprise, added

    def _add(self, credit_code: str, *, province: str | None, industry_code: str | None, scale: str | None,
             calendar_token: bool, bind: Contact | None = None) -> tuple[Enterprise, bool]:
        code = normalize_credit_code(credit_code)
        if code is None:
            raise FieldError("credit_code", "is required")
        if scale is not None and scale not in SCALES:
            raise FieldError("scale", f"{scale!r} is not one of {', '.join(SCALES)}")
        now = utcnow()
        postgres = self.session.get_bind().dialect.name == "postgresql"
        stmt = insert_for(self.session, Enterprise).values(
            credit_code=code, province=province, industry_code=industry_code, scale=scale,
            created_at=now, updated_at=now,
            calendar_token=secrets.token_urlsafe(CALENDAR_TOKEN_BYTES) if calendar_token else None,
            bind_contact_id=None if postgres or bind is None else bind.id,  # SQLite: the trigger binds it
        )
        returning = stmt.on_conflict_do_nothing(index_elements=["credit_code"]).returning(Enterprise)
        if bind is None or not postgres:
            added = self.session.scalars(returning).one_or_none()
            if added is not None and bind is not None:
                set_committed_value(added, "bind_contact_id", None)  # cleared by the trigger, after RETURNING
        else:
            table = Enterprise.__table__
            assert isinstance(stmt, postgresql.Insert)
            inserted = stmt.on_conflict_do_nothing(index_elements=["credit_code"]).returning(*table.c).cte("added")
            new_id = select(inserted.c.id)  # no row when the code was known: then the contact is left as it is
            bound = (update(Contact).values(enterprise_id=new_id.scalar_subquery())
                     .where(Contact.id == bind.id, new_id.exists()).cte("bound"))
            found = select(Enterprise).from_statement(select(*inserted.c).add_cte(bound))
            added = self.session.scalars(found).one_or_none()
        if added is not None:
            self.created.add(added.id)
            self._held[added.id] = added
            return added, True
        enterprise = self.get_by_credit_code(code)
        assert enterprise is not None, "the row was not inserted because it existed"
        return enterprise, False

    def created_here(self, enterprise_id: int) -> bool:
        """True if `add_if_absent` created this enterprise in this unit of work (it has no cycles yet)."""
        return enterprise_id in self.created

    def update(self, enterprise: Enterprise, **changes: str | None) -> Enterprise:
        """Set the given fields (any of ENTERPRISE_FIELDS); a field set to None becomes unknown."""
        for field in changes:
            if field not in ENTERPRISE_FIELDS:
                raise FieldError(field, f"is not an enterprise field ({', '.join(ENTERPRISE_FIELDS)})")
        code = changes.get("credit_code")
        if code is not None:
            other = self.get_by_credit_code(code)
            if other is not None and other.id != enterprise.id:
                raise DuplicateError(
                    f"Credit code {other.credit_code} already belongs to enterprise {other.id}."
                )
        for field, value in changes.items():
            setattr(enterprise, field, value)
        self._flush(enterprise)
        return enterprise

    def _flush(self, enterprise: Enterprise) -> None:
        try:
            self.session.flush()
        except IntegrityError as e:
            raise DuplicateError(f"Credit code {enterprise.credit_code} is already taken: {e.orig}") from e

"""EnterpriseRepository: enterprises, found by id or by 统一社会信用代码."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
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


def _checked(credit_code: str, scale: str | None) -> str:
    """The compact credit code; FieldError for a missing or invalid one, or an unknown scale."""
    code = normalize_credit_code(credit_code)
    if code is None:
        raise FieldError("credit_code", "is required")
    if scale is not None and scale not in SCALES:
        raise FieldError("scale", f"{scale!r} is not one of {', '.join(SCALES)}")
    return code


_BIND_NEW: dict[str, Any] = {}


def _bind_new_statement(dialect: str) -> Any:
    """The INSERT of a new enterprise that binds a contact, built once per database: on PostgreSQL a
    data-modifying CTE whose RETURNING feeds an UPDATE of the contact; on SQLite the INSERT carries
    `bind_contact_id` and a trigger binds the contact (migration 0011). No row when the code is known."""
    if dialect not in _BIND_NEW:
        names = ("credit_code", "province", "industry_code", "scale", "calendar_token", "created_at", "updated_at")
        # named apart from the columns: the parameters of an UPDATE (the CTE's) that name a column would set it
        values: dict[str, Any] = {name: bindparam(f"e_{name}") for name in names}
        insert = insert_for(dialect, _TABLE)
        if dialect == "postgresql":
            added = insert.values(values).on_conflict_do_nothing(index_elements=["credit_code"]) \
                .returning(_TABLE.c.id).cte("added")
            new_id = select(added.c.id)
            contacts = cast(Table, Contact.__table__)
            bound = (update(contacts).values(enterprise_id=new_id.scalar_subquery())
                     .where(contacts.c.id == bindparam("contact_id"), new_id.exists()).cte("bound"))
            _BIND_NEW[dialect] = select(added.c.id).add_cte(bound)
        else:
            _BIND_NEW[dialect] = insert.values({**values, "bind_contact_id": bindparam("contact_id")}) \
                .on_conflict_do_nothing(index_elements=["credit_code"]).returning(_TABLE.c.id)
    return _BIND_NEW[dialect]


def bind_new_enterprise(
    connection: Connection,
    credit_code: str,
    contact: Contact,
    *,
    province: str | None = None,
    industry_code: str | None = None,
    scale: str | None = None,
    calendar_token: bool = False,
) -> tuple[int | None, bool]:
    """The enterprise with this credit code added, and the contact bound to it, in one Core statement; a known
    code adds and binds nothing (it is joined by invitation only). (the new enterprise's id, True), or
    (None, False) when the code was known. Safe when two contacts give the same new code at once (ON CONFLICT
    DO NOTHING: one adds it). ConsentError before consent; FieldError for a bad code or scale. `calendar_token`
    gives the enterprise its .ics secret at once (a chat contact sees the link next)."""
    from storage.contacts import ContactRepository

    ContactRepository.require_consent(contact, "enterprise binding")
    code = _checked(credit_code, scale)
    now = utcnow()
    params = {"e_credit_code": code, "e_province": province, "e_industry_code": industry_code, "e_scale": scale,
              "e_calendar_token": secrets.token_urlsafe(CALENDAR_TOKEN_BYTES) if calendar_token else None,
              "e_created_at": now, "e_updated_at": now, "contact_id": contact.id}
    new_id = connection.execute(_bind_new_statement(connection.dialect.name), params).scalar_one_or_none()
    if new_id is None:
        return None, False
    set_committed_value(contact, "enterprise_id", new_id)  # written by the statement
    return new_id, True


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
        """`bind_new_enterprise` in this unit of work, with the enterprise as an ORM object (read back)."""
        self.session.flush()  # the contact's pending changes first: the statement writes its row
        enterprise_id, added = bind_new_enterprise(
            self.session.connection(), credit_code, contact, province=province, industry_code=industry_code,
            scale=scale, calendar_token=calendar_token)
        if enterprise_id is not None:
            enterprise = self.get_by_id(enterprise_id)
        else:
            enterprise = self.get_by_credit_code(credit_code)
        assert enterprise is not None, "added now, or not added because it existed"
        return enterprise, added

    def _add(self, credit_code: str, *, province: str | None, industry_code: str | None, scale: str | None,
             calendar_token: bool) -> tuple[Enterprise, bool]:
        code = _checked(credit_code, scale)
        now = utcnow()
        stmt = insert_for(self.session, Enterprise).values(
            credit_code=code, province=province, industry_code=industry_code, scale=scale,
            created_at=now, updated_at=now,
            calendar_token=secrets.token_urlsafe(CALENDAR_TOKEN_BYTES) if calendar_token else None,
        )
        returning = stmt.on_conflict_do_nothing(index_elements=["credit_code"]).returning(Enterprise)
        added = self.session.scalars(returning).one_or_none()
        if added is not None:
            self._held[added.id] = added
            return added, True
        enterprise = self.get_by_credit_code(code)
        assert enterprise is not None, "the row was not inserted because it existed"
        return enterprise, False

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

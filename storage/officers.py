"""Officer accounts and the two kinds of one-time invitation codes (officer and enterprise).

Codes are 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L); they are unique across
both tables only by chance (31^8 ≈ 8.5e11 codes), so a lookup tries the enterprise table, then the
officer table. Repositories flush, never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage._dialect import insert_for
from storage.columns import utcnow
from storage.errors import DuplicateError, FieldError
from storage.models import (
    OFFICER_ROLES,
    EnterpriseInvitation,
    LoginThrottle,
    Officer,
    OfficerInvitation,
    OfficerSession,
)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
OFFICER_CODE_TTL = timedelta(days=7)
_CODE_ATTEMPTS = 5


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The code in canonical form (upper case, no spaces or dashes), or None if it cannot be one."""
    compact = "".join(ch for ch in text.upper() if ch not in " -_\u3000")
    if len(compact) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in compact):
        return None
    return compact


class OfficerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_id(self, officer_id: int) -> Officer | None:
        return self.session.get(Officer, officer_id)

    def get_by_contact(self, contact_id: int) -> Officer | None:
        return self.session.scalars(select(Officer).where(Officer.contact_id == contact_id)).one_or_none()

    def list_all(self, *, province: str | None = None) -> list[Officer]:
        stmt = select(Officer)
        if province is not None:
            stmt = stmt.where(Officer.province == province)
        return list(self.session.scalars(stmt.order_by(Officer.id)))

    def list_by_name(self, name: str) -> list[Officer]:
        return list(self.session.scalars(select(Officer).where(Officer.name == name.strip()).order_by(Officer.id)))

    def add(
        self,
        *,
        name: str,
        role: str,
        province: str,
        city: str | None = None,
        county: str | None = None,
        password_hash: str | None = None,
    ) -> Officer:
        """Add an officer; FieldError for an unknown role, an empty name or a county without a city."""
        if role not in OFFICER_ROLES:
            raise FieldError("role", f"{role!r} is not one of {', '.join(OFFICER_ROLES)}")
        if not name.strip():
            raise FieldError("name", "an officer needs a name")
        if county and not city:
            raise FieldError("county", "a county jurisdiction needs its city too")
        officer = Officer(
            name=name.strip(), role=role, province=province, city=city or None, county=county or None,
            password_hash=password_hash,
        )
        self.session.add(officer)
        self.session.flush()
        return officer

    def set_password_hash(self, officer: Officer, password_hash: str | None) -> Officer:
        officer.password_hash = password_hash
        self.session.flush()
        return officer

    def link_contact(self, officer: Officer, contact_id: int | None) -> Officer:
        """Make `contact_id` the officer's chat identity (None unlinks); DuplicateError if another officer has it."""
        officer.contact_id = contact_id
        try:
            self.session.flush()
        except IntegrityError as e:
            raise DuplicateError(f"Contact {contact_id} is already linked to another officer.") from e
        return officer


class InvitationRepository:
    """Officer invitations (expire, link a contact to an officer) and enterprise invitations (bind a contact)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- officer invitations ---------------------------------------------------------------------

    def add_officer_invitation(
        self, officer_id: int, *, now: datetime | None = None, ttl: timedelta = OFFICER_CODE_TTL
    ) -> OfficerInvitation:
        now = now or utcnow()
        for _ in range(_CODE_ATTEMPTS):
            stmt = insert_for(self.session, OfficerInvitation).values(
                code=new_code(), officer_id=officer_id, created_at=now, expires_at=now + ttl
            )
            new_id = self.session.execute(
                stmt.on_conflict_do_nothing(index_elements=["code"]).returning(OfficerInvitation.id)
            ).scalar_one_or_none()
            if new_id is not None:
                invitation = self.session.get(OfficerInvitation, new_id)
                assert invitation is not None, "just inserted"
                return invitation
        raise DuplicateError("Could not draw an unused invitation code; try again.")

    def get_officer_invitation(self, code: str) -> OfficerInvitation | None:
        stmt = select(OfficerInvitation).where(OfficerInvitation.code == code)
        return self.session.scalars(stmt).one_or_none()

    def mark_officer_invitation_used(self, invitation: OfficerInvitation, contact_id: int, at: datetime) -> None:
        invitation.used_at = at
        invitation.used_by_contact_id = contact_id
        self.session.flush()

    # -- enterprise invitations ------------------------------------------------------------------

    def get_enterprise_invitation(self, code: str) -> EnterpriseInvitation | None:
        stmt = select(EnterpriseInvitation).where(EnterpriseInvitation.code == code)
        return self.session.scalars(stmt).one_or_none()

    def list_enterprise_invitations(self, list_import_id: int) -> list[EnterpriseInvitation]:
        stmt = select(EnterpriseInvitation).where(EnterpriseInvitation.list_import_id == list_import_id)
        return list(self.session.scalars(stmt.order_by(EnterpriseInvitation.enterprise_id)))

    def count_enterprise_invitations(self, list_import_id: int) -> dict[str, int]:
        """{"issued": n, "used": m} for one list import."""
        stmt = select(func.count(), func.count(EnterpriseInvitation.used_at)).where(
            EnterpriseInvitation.list_import_id == list_import_id
        )
        issued, used = self.session.execute(stmt).one()
        return {"issued": int(issued), "used": int(used)}

    def ensure_enterprise_invitations(
        self, list_import_id: int, enterprise_ids: Iterable[int], *, now: datetime | None = None
    ) -> dict[int, EnterpriseInvitation]:
        """The invitation of each enterprise for this list, created if missing (ON CONFLICT DO NOTHING).

        Safe to repeat and when two writers race: (enterprise, list import) is unique. A code that
        collides with an existing one is drawn again.
        """
        wanted = sorted(set(enterprise_ids))
        now = now or utcnow()
        have = self._invitations_for(list_import_id, wanted)
        for _ in range(_CODE_ATTEMPTS):
            missing = [e for e in wanted if e not in have]
            if not missing:
                return have
            rows = [
                {"code": new_code(), "enterprise_id": e, "list_import_id": list_import_id, "created_at": now}
                for e in missing
            ]
            self.session.execute(insert_for(self.session, EnterpriseInvitation).on_conflict_do_nothing(), rows)
            have.update(self._invitations_for(list_import_id, missing))
        raise DuplicateError("Could not draw unused invitation codes; try again.")

    def mark_enterprise_invitation_used(
        self, invitation: EnterpriseInvitation, contact_id: int, at: datetime
    ) -> bool:
        """Claim the code for the contact; False if someone else used it first (checked in the UPDATE)."""
        stmt = (
            update(EnterpriseInvitation)
            .where(EnterpriseInvitation.id == invitation.id, EnterpriseInvitation.used_at.is_(None))
            .values(used_at=at, used_by_contact_id=contact_id)
            .returning(EnterpriseInvitation.id)
            .execution_options(synchronize_session="fetch")
        )
        claimed = self.session.execute(stmt).scalar_one_or_none() is not None
        self.session.refresh(invitation)
        return claimed

    def _invitations_for(self, list_import_id: int, enterprise_ids: Sequence[int]) -> dict[int, EnterpriseInvitation]:
        out: dict[int, EnterpriseInvitation] = {}
        for start in range(0, len(enterprise_ids), 1000):
            chunk = enterprise_ids[start:start + 1000]
            stmt = select(EnterpriseInvitation).where(
                EnterpriseInvitation.list_import_id == list_import_id,
                EnterpriseInvitation.enterprise_id.in_(chunk),
            )
            out.update({inv.enterprise_id: inv for inv in self.session.scalars(stmt)})
        return out


class OfficerSessionRepository:
    """Dashboard sessions by the SHA-256 of their cookie token (see OfficerSession)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, session_id: str, officer_id: int, expires_at: datetime) -> OfficerSession:
        row = OfficerSession(id=session_id, officer_id=officer_id, expires_at=expires_at)
        self.session.add(row)
        self.session.flush()
        return row

    def get_live(self, session_id: str, now: datetime) -> OfficerSession | None:
        """The session if it exists, is not revoked and has not expired."""
        return self.session.scalars(select(OfficerSession).where(
            OfficerSession.id == session_id, OfficerSession.revoked_at.is_(None),
            OfficerSession.expires_at > now)).one_or_none()

    def revoke(self, session_id: str, now: datetime) -> bool:
        done = self.session.execute(update(OfficerSession).where(
            OfficerSession.id == session_id, OfficerSession.revoked_at.is_(None)).values(revoked_at=now))
        return bool(getattr(done, "rowcount", 0))

    def purge_expired(self, now: datetime) -> int:
        """Delete sessions past their expiry (revoked ones too, once expired: the expiry bounds them)."""
        done = self.session.execute(delete(OfficerSession).where(OfficerSession.expires_at <= now))
        return int(getattr(done, "rowcount", 0) or 0)


class LoginThrottleRepository:
    """Failed logins per (account, address); see LoginThrottle."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_key(self, account: str, address: str) -> LoginThrottle | None:
        return self.session.scalars(select(LoginThrottle).where(
            LoginThrottle.account == account, LoginThrottle.address == address)).one_or_none()

    def record_failure(self, account: str, address: str, now: datetime, lock_for: Callable[[int], timedelta],
                       forget_after: timedelta) -> LoginThrottle:
        """Count one more failure (a count older than `forget_after` starts again at 1) and lock the pair
        until now + lock_for(failures). Concurrent first failures meet on the unique key and are both counted."""
        insert = insert_for(self.session, LoginThrottle).values(
            account=account, address=address, failures=0, last_failure_at=now)
        self.session.execute(insert.on_conflict_do_nothing(index_elements=["account", "address"]))
        row = self.session.scalars(select(LoginThrottle).where(
            LoginThrottle.account == account, LoginThrottle.address == address).with_for_update()).one()
        self.session.refresh(row)
        failures = 1 if row.last_failure_at <= now - forget_after else row.failures + 1
        wait = lock_for(failures)
        row.failures, row.last_failure_at = failures, now
        row.locked_until = now + wait if wait > timedelta(0) else None
        self.session.flush()
        return row

    def clear(self, account: str, address: str) -> None:
        self.session.execute(delete(LoginThrottle).where(
            LoginThrottle.account == account, LoginThrottle.address == address))

    def purge_older_than(self, cutoff: datetime) -> int:
        done = self.session.execute(delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < cutoff,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < cutoff)))
        return int(getattr(done, "rowcount", 0) or 0)

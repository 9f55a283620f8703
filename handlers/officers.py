"""Officers: jurisdictions, the one authorization check, passwords, and redeeming invitation codes in chat.

Every officer action (CLI now, dashboard later) goes through `authorize(officer, province, city,
county)`; every chat function meant for officers starts with `require_officer(repos, contact)`. A
contact is either an officer's chat identity or an enterprise's contact, never both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.messages import Outbound
from handlers.reminders import ReminderPolicy, reply_word
from handlers.status import StatusItem, render_status
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, gettext_for
from rules.provinces import get_province, normalize_province
from storage import (
    Contact,
    EnterpriseInvitation,
    Officer,
    OfficerInvitation,
    Repositories,
    normalize_code,
    utcnow,
)

ROLE_LABELS = {
    "ecology": N_("ecology and environment (生态环境)"),
    "industry": N_("industry and information technology (工信)"),
    "development": N_("development and reform (发改)"),
    "admin": N_("administrator"),
}
# Suffixes dropped when two place names are compared ("太原" and "太原市" are the same city).
PLACE_SUFFIXES = ("自治州", "自治县", "地区", "新区", "市", "州", "盟", "县", "区", "旗")
REDEEM = re.compile(r"^(?:绑定|邀请码|邀请|bind|code|invite)\s*[:：]?\s*(?P<code>[A-Za-z0-9\- ]{8,12})$", re.I)
CHINA = ZoneInfo("Asia/Shanghai")
MIN_PASSWORD = 8
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class ForbiddenError(QingshenError):
    """An officer (or a contact) tried to act outside what they may do; the message says why."""


def place_key(name: str | None) -> str | None:
    """A place name reduced for comparison: NFKC, no spaces, one administrative suffix dropped."""
    if not name:
        return None
    s = "".join(unicodedata.normalize("NFKC", name).split())
    for suffix in PLACE_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return s[: -len(suffix)]
    return s or None


def same_place(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and place_key(a) == place_key(b)


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """A province id, optionally narrowed to a city and then a county."""

    province: str
    city: str | None = None
    county: str | None = None

    @classmethod
    def of(cls, officer: Officer) -> Jurisdiction:
        return cls(officer.province, officer.city, officer.county)

    def covers(self, province: str, city: str | None = None, county: str | None = None) -> bool:
        if province != self.province:
            return False
        if self.city is not None and not same_place(self.city, city):
            return False
        return self.county is None or same_place(self.county, county)

    def describe(self) -> str:
        return "".join(p for p in (province_name(self.province), self.city, self.county) if p)


def province_name(pid: str) -> str:
    try:
        return get_province(pid).name
    except QingshenError:
        return pid


def authorize(
    officer: Officer | Jurisdiction,
    province: str,
    city: str | None = None,
    county: str | None = None,
    *,
    locale: str = DEFAULT_LOCALE,
) -> None:
    """ForbiddenError unless the officer's jurisdiction covers the place (a city officer cannot act
    province-wide: `city=None` is the whole province)."""
    scope = officer if isinstance(officer, Jurisdiction) else Jurisdiction.of(officer)
    if scope.covers(province, city, county):
        return
    tr = gettext_for(locale)
    target = Jurisdiction(province, city, county).describe()
    raise ForbiddenError(tr(N_("Forbidden: your jurisdiction is {yours}; {target} is outside it.")).format(
        yours=scope.describe(), target=target))


def require_officer(repos: Repositories, contact: Contact, *, locale: str | None = None) -> Officer:
    """The officer this chat contact is, or ForbiddenError: the gate of every officer chat function."""
    officer = repos.officers.get_by_contact(contact.id)
    if officer is None:
        tr = gettext_for(locale or contact.locale)
        raise ForbiddenError(tr(N_("Only officers can do this; this chat account is not an officer's.")))
    return officer


# -- passwords (for the dashboard) ---------------------------------------------------------------------


def hash_password(password: str) -> str:
    """scrypt with a per-user random salt: "scrypt$n$r$p$salt$hash" (base64)."""
    if len(password) < MIN_PASSWORD:
        raise QingshenError(gettext_for(DEFAULT_LOCALE)(N_("A password needs at least {n} characters.")).format(
            n=MIN_PASSWORD))
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(base64.b64decode(digest)))
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


# -- accounts ------------------------------------------------------------------------------------------


def create_officer(
    repos: Repositories,
    *,
    name: str,
    role: str,
    province: str,
    city: str | None = None,
    county: str | None = None,
    password: str | None = None,
    now: datetime | None = None,
) -> tuple[Officer, OfficerInvitation]:
    """Add an officer (province given as pinyin, code or Chinese name) and a first invitation code."""
    officer = repos.officers.add(
        name=name, role=role, province=normalize_province(province), city=_clean(city), county=_clean(county),
        password_hash=hash_password(password) if password is not None else None,
    )
    return officer, repos.invitations.add_officer_invitation(officer.id, now=now)


def _clean(place: str | None) -> str | None:
    if place is None:
        return None
    return "".join(unicodedata.normalize("NFKC", place).split()) or None


def role_label(role: str, tr: Gettext) -> str:
    return tr(ROLE_LABELS.get(role, role))


# -- redeeming a code in chat --------------------------------------------------------------------------


def read_code(text: str | None) -> tuple[str | None, bool]:
    """(code, explicit): the code in "绑定 ABCD2345", "邀请码：ABCD-2345" or a bare code; explicit when prefixed."""
    if not text:
        return None, False
    s = unicodedata.normalize("NFKC", text).strip()
    m = REDEEM.match(s)
    if m:
        return normalize_code(m.group("code")), True
    return normalize_code(s), False


def redeem(
    repos: Repositories,
    contact: Contact,
    text: str | None,
    *,
    now: datetime | None = None,
    today: date | None = None,
    policy: ReminderPolicy | None = None,
) -> list[Outbound] | None:
    """Replies if the text redeems an invitation code; None when it is not a code (the interview goes on).

    An enterprise code binds the consented contact to the enterprise (its reminders already exist,
    from the list import) and shows its deadlines as of `today` (default: `now`'s day in China) with the
    reminders `policy` (default: `ReminderPolicy.from_env()`) still plans; an officer code makes the
    contact that officer's chat identity.
    """
    code, explicit = read_code(text)
    tr = gettext_for(contact.locale)
    if code is None:
        if explicit:
            return [Outbound(tr(N_("That is not an invitation code: a code has 8 letters and digits, "
                                   "e.g. 绑定 ABCD2345.")))]
        return None
    now = now or utcnow()
    invitation = repos.invitations.get_enterprise_invitation(code)
    if invitation is not None:
        today = today or now.astimezone(CHINA).date()
        policy = policy or ReminderPolicy.from_env()
        return [Outbound(_bind_enterprise(repos, contact, invitation, now, tr, today=today, policy=policy))]
    officer_invitation = repos.invitations.get_officer_invitation(code)
    if officer_invitation is not None:
        return [Outbound(_link_officer(repos, contact, officer_invitation, now, tr))]
    if explicit:
        return [Outbound(tr(N_("I do not know the invitation code {code}. Check it against the written notice "
                               "(letters and digits, no 0, 1, I, L or O).")).format(code=code))]
    return None


def _bind_enterprise(
    repos: Repositories, contact: Contact, invitation: EnterpriseInvitation, now: datetime, tr: Gettext, *,
    today: date, policy: ReminderPolicy,
) -> str:
    if repos.officers.get_by_contact(contact.id) is not None:
        return tr(N_("This chat account belongs to an officer; an enterprise must use an account of its own."))
    if contact.consented_at is None:
        return tr(N_("To bind your enterprise I must store which enterprise you work for. Send 开始, agree to the "
                     "privacy notice, then send the code again."))
    enterprise = repos.enterprises.get_by_id(invitation.enterprise_id)
    assert enterprise is not None, "invitations cascade with their enterprise"
    if invitation.used_at is not None and invitation.used_by_contact_id != contact.id:
        return tr(N_("This invitation code has already been used. Ask a colleague who bound the enterprise, or "
                     "send 开始 and give your enterprise's unified social credit code."))
    if invitation.used_at is None and not repos.invitations.mark_enterprise_invitation_used(invitation, contact.id,
                                                                                              now):
        return tr(N_("This invitation code has already been used."))
    repos.contacts.bind_enterprise(contact, enterprise.id)
    parts = [tr(N_("You are now bound to {name} ({code}).")).format(
        name=enterprise.name or "", code=enterprise.credit_code or "")]
    reminded = contact.unsubscribed_at is None
    cycle = repos.cycles.get_by_enterprise(enterprise.id)
    items = [StatusItem.from_milestone(m) for m in repos.milestones.list_by_cycle(cycle.id)] if cycle else []
    if items:
        parts.append(render_status(items, today, tr, province=enterprise.province,
                                   policy=policy if reminded else None))
    if not reminded:
        parts.append(tr(N_("Your reminders are switched off; reply {resume} to receive them.")).format(
            resume=reply_word("resubscribe", tr)))
    else:
        parts.append(tr(N_("Reply 我的期限 to see your deadlines again, or {stop} to stop the reminders.")).format(
            stop=reply_word("unsubscribe", tr)))
    return "\n\n".join(parts)


def _link_officer(
    repos: Repositories, contact: Contact, invitation: OfficerInvitation, now: datetime, tr: Gettext
) -> str:
    officer = repos.officers.get_by_id(invitation.officer_id)
    assert officer is not None, "invitations cascade with their officer"
    if invitation.used_at is not None:
        if invitation.used_by_contact_id == contact.id and officer.contact_id == contact.id:
            return _officer_welcome(officer, tr)
        return tr(N_("This officer invitation code has already been used. Ask your administrator for a new one."))
    if invitation.expires_at <= now:
        return tr(N_("This officer invitation code has expired. Ask your administrator for a new one."))
    if contact.enterprise_id is not None:
        return tr(N_("This chat account is bound to an enterprise; an officer must use an account of their own."))
    other = repos.officers.get_by_contact(contact.id)
    if other is not None and other.id != officer.id:
        return tr(N_("This chat account already belongs to another officer."))
    repos.officers.link_contact(officer, contact.id)
    repos.invitations.mark_officer_invitation_used(invitation, contact.id, now)
    return _officer_welcome(officer, tr)


def _officer_welcome(officer: Officer, tr: Gettext) -> str:
    return tr(N_("You are signed in as officer {name} ({role}), jurisdiction {where}.")).format(
        name=officer.name, role=role_label(officer.role, tr), where=Jurisdiction.of(officer).describe())

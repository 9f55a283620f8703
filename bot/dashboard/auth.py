"""Officers' sessions, CSRF tokens and the login throttle, all kept in the database so that a logout, an
expiry or a lock holds across restarts and between processes.

- A session cookie is a random token (256 bits); the `officer_sessions` row is keyed by its SHA-256, lives
  8 hours and is revoked on logout.
- A CSRF token is an HMAC (the session secret) of the session's id, or of a signed pre-session cookie
  for the login form.
- Failed logins are counted per account *and* address (an IPv4 address, an IPv6 /64): the first
  FREE_FAILURES cost nothing, then each failure doubles that pair's wait (1 min, 2, 4 … at most 1 h).
  Wrong passwords from one address never lock the officer out from another. A pair's count is
  forgotten a day after its last failure, and on a successful login.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from handlers.officers import hash_password, verify_password
from storage import Repositories
from storage.models import Officer

COOKIE, PRE_COOKIE = "qs_officer", "qs_officer_pre"
SESSION_TTL = timedelta(hours=8)
FREE_FAILURES = 4
FIRST_WAIT, MAX_WAIT = timedelta(minutes=1), timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class OfficerSession:
    officer_id: int
    nonce: str  # the session's id (the SHA-256 of its token): what CSRF tokens derive from
    expires: datetime


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Signer:
    """Sessions in the database, and the HMACs (CSRF tokens, the login form's pre-session cookie)."""

    def __init__(self, key: bytes, sessions: sessionmaker[Session]) -> None:
        self.key = key
        self.sessions = sessions

    def _mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, officer_id: int, now: float) -> str:
        """A new session for the officer; returns the cookie's token. Expired sessions are purged."""
        token = secrets.token_urlsafe(32)
        with self.sessions.begin() as session:
            repo = Repositories(session).officer_sessions
            repo.purge_expired(_at(now))
            repo.add(session_id(token), officer_id, _at(now) + SESSION_TTL)
        return token

    def read(self, cookie: str | None, now: float) -> OfficerSession | None:
        if not cookie or not TOKEN.match(cookie):
            return None
        with self.sessions() as session:
            row = Repositories(session).officer_sessions.get_live(session_id(cookie), _at(now))
            return OfficerSession(row.officer_id, row.id, row.expires_at) if row is not None else None

    def revoke(self, found: OfficerSession, now: float) -> None:
        with self.sessions.begin() as session:
            Repositories(session).officer_sessions.revoke(found.nonce, _at(now))

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf:" + nonce)

    def pre_session(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._mac('pre:' + nonce)}"

    def pre_nonce(self, cookie: str | None) -> str | None:
        nonce, _, mac = (cookie or "").partition(".")
        return nonce if nonce and same(self._mac("pre:" + nonce), mac) else None

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        return nonce is not None and token is not None and same(self.csrf(nonce), token)


def same(expected: str, given: str) -> bool:
    """Constant-time comparison that accepts any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def address_key(host: str | None) -> str:
    """An IPv4 address as is, an IPv6 address as its /64 (one host owns the whole prefix)."""
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return (host or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def wait_after(failures: int) -> timedelta:
    """How long an (account, address) pair waits after its n-th failure in a row."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** min(failures - FREE_FAILURES - 1, 20), MAX_WAIT)


class Throttle:
    """Failed logins per (account, address) in the database (see the module docstring)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def wait(self, account: str, address: str, now: float) -> timedelta:
        """How long this pair must still wait before a password is checked (zero: not locked)."""
        with self.sessions() as session:
            row = Repositories(session).login_throttles.get_by_key(account, address)
            if row is None or row.locked_until is None:
                return timedelta(0)
            return max(row.locked_until - _at(now), timedelta(0))

    def is_locked(self, account: str, address: str, now: float) -> bool:
        return self.wait(account, address, now) > timedelta(0)

    def fail(self, account: str, address: str, now: float) -> None:
        with self.sessions.begin() as session:
            repo = Repositories(session).login_throttles
            repo.record_failure(account, address, _at(now), wait_after, FORGET_AFTER)
            repo.purge_older_than(_at(now) - FORGET_AFTER)

    def succeed(self, account: str, address: str) -> None:
        with self.sessions.begin() as session:
            Repositories(session).login_throttles.clear(account, address)


_DUMMY_HASH: list[str] = []


def find_officer(sessions: sessionmaker[Session], login: str) -> Officer | None:
    """The officer a login names: an ASCII number (their id) or a unique name."""
    with sessions() as session:
        repos = Repositories(session)
        if login.isascii() and login.isdecimal() and len(login) < 12:
            found = repos.officers.get_by_id(int(login))
        else:
            named = repos.officers.list_by_name(login) if login else []
            found = named[0] if len(named) == 1 else None
        if found is not None:
            session.expunge(found)
        return found


def check_login(sessions: sessionmaker[Session], login: str, password: str, throttle: Throttle, address: str,
                now: float) -> int | None:
    """The officer id if `login` (a number or a unique name) and the password match and this account is
    not waiting from this address; the password is hashed even when no officer matches or the pair
    waits, so the time taken tells nothing."""
    login = login.strip()
    printable = login.isprintable()  # a NUL or another control character names nobody (PostgreSQL refuses NUL)
    login = login if printable else "".join(c for c in login if c.isprintable())
    found = find_officer(sessions, login) if printable else None
    stored = found.password_hash if found is not None else None
    account = f"officer:{found.id}" if found is not None else f"name:{login.casefold()}"[:128]
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
    ok = verify_password(password, stored or _DUMMY_HASH[0]) and stored is not None
    if throttle.is_locked(account, address, now):
        return None
    if not ok or found is None:
        throttle.fail(account, address, now)
        return None
    throttle.succeed(account, address)
    return found.id

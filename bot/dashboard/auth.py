"""Officers' sessions, CSRF tokens and the login throttle.

Cookies are `officer_id.expiry.nonce.hmac` (HMAC-SHA256, 8 h); a CSRF token is an HMAC of the session's
nonce (of a pre-session cookie for the login form). 5 failures in 15 min lock the key for 15 min.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from handlers.officers import hash_password, verify_password
from storage import Repositories
from storage.models import Officer

COOKIE, PRE_COOKIE = "qs_officer", "qs_officer_pre"
SESSION_TTL = timedelta(hours=8)
MAX_FAILURES, FAILURE_WINDOW = 5, 15 * 60


@dataclass(frozen=True, slots=True)
class OfficerSession:
    officer_id: int
    nonce: str
    expires: int


class Signer:
    """Cookies `officer_id.expiry.nonce.hmac` (HMAC-SHA256) and the CSRF tokens derived from a nonce."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.revoked: dict[str, int] = {}
        self.lock = threading.Lock()

    def _mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, officer_id: int, now: float) -> str:
        body = f"{officer_id}.{int(now + SESSION_TTL.total_seconds())}.{secrets.token_hex(16)}"
        return f"{body}.{self._mac('session:' + body)}"

    def read(self, cookie: str | None, now: float) -> OfficerSession | None:
        parts = (cookie or "").split(".")
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        body = ".".join(parts[:3])
        if not same(self._mac("session:" + body), parts[3]) or int(parts[1]) <= now:
            return None
        with self.lock:
            if parts[2] in self.revoked:
                return None
        return OfficerSession(int(parts[0]), parts[2], int(parts[1]))

    def revoke(self, session: OfficerSession, now: float) -> None:
        with self.lock:
            self.revoked = {n: exp for n, exp in self.revoked.items() if exp > now}
            self.revoked[session.nonce] = session.expires

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


@dataclass
class Throttle:
    """Failed logins per key (an officer, or the name typed when it matches none): after MAX_FAILURES
    within FAILURE_WINDOW seconds the key is refused for FAILURE_WINDOW seconds."""

    failures: dict[str, list[float]] = field(default_factory=dict)
    locked: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def is_locked(self, key: str, now: float) -> bool:
        with self.lock:
            return self.locked.get(key, 0.0) > now

    def fail(self, key: str, now: float) -> None:
        with self.lock:
            recent = [t for t in self.failures.get(key, []) if t > now - FAILURE_WINDOW] + [now]
            self.failures[key] = recent
            if len(recent) >= MAX_FAILURES:
                self.locked[key] = now + FAILURE_WINDOW
                self.failures[key] = []
            if len(self.failures) > 4096:
                self.failures = {k: v for k, v in self.failures.items() if v and v[-1] > now - FAILURE_WINDOW}

    def succeed(self, key: str) -> None:
        with self.lock:
            self.failures.pop(key, None)


_DUMMY_HASH: list[str] = []


def check_login(sessions: sessionmaker[Session], login: str, password: str, throttle: Throttle,
                now: float) -> int | None:
    """The officer id if `login` (a number or a unique name) and the password match and the key is not
    locked; the password is hashed even when no officer matches, so the time taken tells nothing."""
    login = login.strip()
    with sessions() as session:
        repos = Repositories(session)
        found: Officer | None = None
        if login.isdigit() and len(login) < 12:
            found = repos.officers.get_by_id(int(login))
        elif login:
            named = repos.officers.list_by_name(login)
            found = named[0] if len(named) == 1 else None
        stored = found.password_hash if found is not None else None
    key = f"officer:{found.id}" if found is not None else f"name:{login.casefold()}"
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
    ok = verify_password(password, stored or _DUMMY_HASH[0]) and stored is not None
    if throttle.is_locked(key, now):
        return None
    if not ok or found is None:
        throttle.fail(key, now)
        return None
    throttle.succeed(key)
    return found.id

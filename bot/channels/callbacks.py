"""Freshness and once-only handling of the platforms' callbacks (WeChat, WeCom, Telegram).

A signature proves who made a callback, not when: a request copied from a log, or retried by the platform,
carries a valid signature forever. So every callback is also checked for time and for repetition, before
anything is read from its body:

- **Freshness.** Its signed timestamp (WeChat's and WeCom's `timestamp` query parameter, covered by the
  signature; Telegram's `message.date`) must be within `window` seconds of our clock, either way
  (QINGSHEN_CALLBACK_WINDOW_SECONDS, 300 by default). Otherwise `StaleCallback` (a `SignatureError`: 403).
- **Once only.** A callback that passes is handled once per message id, remembered in the kv table (one
  atomic insert-if-absent, so it holds across processes and restarts) for `dedupe_for(window)`: at least
  an hour and at least twice the window plus a minute. A message is accepted only while our clock is within
  the window of its timestamp, an interval of twice the window, and its row outlives that interval: a
  replay is always caught, by the row while it lasts and by the timestamp after.

Keys may name a person (an openid in an event key): they are stored as a digest.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.registry import SignatureError
from bot.config import DEFAULT_CALLBACK_WINDOW
from storage import Repositories, utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEDUPE_AT_LEAST = timedelta(hours=1)
DEDUPE_MARGIN = timedelta(minutes=1)
MAX_TIMESTAMP_DIGITS = 12

__all__ = ["DEFAULT_CALLBACK_WINDOW", "Clock", "StaleCallback", "check_fresh", "dedupe_for", "digest",
           "first_time"]


class StaleCallback(SignatureError):
    """A signed callback whose time is outside the window (a replay, or a clock far off): answered 403."""


def dedupe_for(window: int) -> timedelta:
    """How long a message id is remembered: it must outlive every moment the message is still fresh."""
    return max(DEDUPE_AT_LEAST, 2 * timedelta(seconds=window) + DEDUPE_MARGIN)


def timestamp_of(value: object) -> int | None:
    """A Unix timestamp given as digits (a query parameter) or an int (JSON); None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= MAX_TIMESTAMP_DIGITS:
        return int(value)
    return None


def check_fresh(value: object, *, window: int, now: datetime, what: str) -> int:
    """The timestamp, when it is within `window` seconds of `now`; else StaleCallback saying which."""
    stamp = timestamp_of(value)
    if stamp is None:
        raise StaleCallback(f"{what}: the timestamp is missing or not a whole number of seconds")
    skew = stamp - now.timestamp()
    if abs(skew) > window:
        when = "old" if skew < 0 else "ahead"
        raise StaleCallback(f"{what}: the timestamp is {abs(int(skew))} s {when}, outside the {window} s window "
                            f"(QINGSHEN_CALLBACK_WINDOW_SECONDS)")
    return stamp


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def first_time(sessions: sessionmaker[Session], key: str, keep_for: timedelta = DEDUPE_AT_LEAST,
               now: datetime | None = None) -> bool:
    """True the first time `key` is seen within `keep_for` (remembered in the kv table; one atomic
    insert-if-absent, so two processes receiving the same retried callback handle it once)."""
    now = now or utcnow()
    with sessions.begin() as session:
        return Repositories(session).kv.add_if_absent(key, "1", expires_at=now + keep_for, now=now)

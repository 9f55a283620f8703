"""Settings for the running program, read once from the environment (`Settings.from_env()`).

| variable | meaning | default |
|---|---|---|
| QINGSHEN_DATABASE_URL | SQLAlchemy URL | storage's default (an SQLite file under var/) |
| QINGSHEN_HOST, QINGSHEN_PORT | where `qingshen run` listens | 127.0.0.1, 8080 |
| QINGSHEN_DEMO | local demo mode: the API needs no key | false |
| QINGSHEN_API_KEYS | comma-separated keys accepted as `Authorization: Bearer <key>` | none |
| QINGSHEN_MAX_BODY_BYTES | the largest request body accepted | 65536 |
| QINGSHEN_PUBLIC_URL | the public base URL, for links in messages | none |
| QINGSHEN_WEBHOOK_URL | where pushes for generic-API users are posted | none |
| QINGSHEN_CALLBACK_WINDOW_SECONDS | how far a platform callback's signed time may be from ours, either way | 300 |
| QINGSHEN_ACCESS_LOG | uvicorn's access log, one line per request (`qingshen run --access-log`) | false |
| QINGSHEN_PUBLIC_NAME | the WeChat public account / WeCom app contacts look for, printed on invitation sheets | none |
| QINGSHEN_WEB_URL | the web chat page's address, printed on invitation sheets and in their QR codes | PUBLIC_URL/ |

A bad value raises `ConfigError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from rules.errors import QingshenError
from rules.i18n import gettext_for

FALLBACK_DATABASE_URL = "sqlite:///var/qingshen.sqlite3"
DEFAULT_MAX_BODY_BYTES = 64 * 1024
MIN_API_KEY_LENGTH = 16
DEFAULT_CALLBACK_WINDOW = 300  # seconds: WeChat, WeCom and Telegram callbacks older or newer are refused
MIN_CALLBACK_WINDOW, MAX_CALLBACK_WINDOW = 30, 24 * 3600
MAX_PUBLIC_NAME = 40  # characters: a public account's or WeCom app's name is at most 30
PREFIX = "QINGSHEN_"

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _(msgid: str) -> str:
    return gettext_for()(msgid)


class ConfigError(QingshenError):
    """An environment variable holds a value the program cannot use; the message names it."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    demo: bool = False
    api_keys: tuple[str, ...] = ()
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024, le=16 * 1024 * 1024)
    public_url: str | None = None
    webhook_url: str | None = None
    session_secret: str | None = None  # the officers' dashboard sessions; None: a random key per process
    callback_window_seconds: int = Field(default=DEFAULT_CALLBACK_WINDOW, ge=MIN_CALLBACK_WINDOW,
                                         le=MAX_CALLBACK_WINDOW)
    access_log: bool = False  # off by default: it costs CPU per request and records full query strings
    public_name: str | None = None  # the WeChat public account / WeCom app, named on invitation sheets
    web_url: str | None = None  # the web chat page (invitation sheets, their QR codes); None: public_url + "/"
    turn_threads: int | None = Field(default=None, ge=1, le=64)  # None: bot.turns.threads_for the database

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get(PREFIX + "DATABASE_URL", "").strip() or default_database_url(),
            host=env.get(PREFIX + "HOST", "").strip() or "127.0.0.1",
            port=_int(env, "PORT", 8080, 1, 65535),
            demo=_bool(env, "DEMO"),
            api_keys=_keys(env),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024, 16 * 1024 * 1024),
            public_url=_url(env, "PUBLIC_URL"),
            webhook_url=_url(env, "WEBHOOK_URL"),
            session_secret=_secret(env, "SESSION_SECRET"),
            callback_window_seconds=callback_window(env),
            access_log=_bool(env, "ACCESS_LOG"),
            public_name=public_name(env),
            web_url=web_url(env),
            turn_threads=_int(env, "TURN_THREADS", 0, 1, 64) or None,
        )

    @property
    def auth_required(self) -> bool:
        return not self.demo

    @property
    def chat_page_url(self) -> str | None:
        """The web chat page invitation sheets send contacts to: QINGSHEN_WEB_URL, else QINGSHEN_PUBLIC_URL's root."""
        return self.web_url or (self.public_url + "/" if self.public_url else None)


def default_database_url() -> str:
    """storage's default URL when storage offers one, else an SQLite file under var/."""
    try:
        from storage import default_url
    except ImportError:
        return FALLBACK_DATABASE_URL
    return str(default_url())


def callback_window(environ: Mapping[str, str] | None = None) -> int:
    """QINGSHEN_CALLBACK_WINDOW_SECONDS: the callback timestamp window, 30 s to a day (ConfigError otherwise)."""
    env = os.environ if environ is None else environ
    return _int(env, "CALLBACK_WINDOW_SECONDS", DEFAULT_CALLBACK_WINDOW, MIN_CALLBACK_WINDOW, MAX_CALLBACK_WINDOW)


def public_name(environ: Mapping[str, str] | None = None) -> str | None:
    """QINGSHEN_PUBLIC_NAME: the account name printed on invitation sheets (one line, at most 40 characters)."""
    env = os.environ if environ is None else environ
    raw = " ".join(env.get(PREFIX + "PUBLIC_NAME", "").split())
    if not raw:
        return None
    if len(raw) > MAX_PUBLIC_NAME or not raw.isprintable():
        raise ConfigError(_("{name}: expected the account's name on one line, at most {length} printable "
                            "characters.").format(name=PREFIX + "PUBLIC_NAME", length=MAX_PUBLIC_NAME))
    return raw


def web_url(environ: Mapping[str, str] | None = None) -> str | None:
    """QINGSHEN_WEB_URL: the web chat page's address, an http(s) URL without query or fragment (the sheets'
    QR codes add `?bind=<code>`); None when unset."""
    env = os.environ if environ is None else environ
    if _url(env, "WEB_URL") is None:
        return None
    url = env[PREFIX + "WEB_URL"].strip()  # as given: /chat/ and /chat are different pages
    parts = urlsplit(url)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigError(_("{name}: the address must not have a query (?) or a fragment (#): the invitation "
                            "codes are added to it, got {value}.").format(name=PREFIX + "WEB_URL", value=repr(url)))
    return url if parts.path else url + "/"


def _secret(env: Mapping[str, str], name: str, minimum: int = 32) -> str | None:
    raw = env.get(PREFIX + name, "")
    if not raw:
        return None
    if len(raw) < minimum:
        raise ConfigError(_("{name}: use at least {length} random characters (the value is not shown).").format(
            name=PREFIX + name, length=minimum))
    return raw


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(_("{name}: expected a whole number, got {value}.").format(
            name=PREFIX + name, value=repr(raw))) from None
    if not low <= value <= high:
        raise ConfigError(_("{name}: expected a number from {low} to {high}, got {value}.").format(
            name=PREFIX + name, low=low, high=high, value=value))
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(PREFIX + name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(_("{name}: expected one of 1/0, true/false, yes/no, on/off, got {value}.").format(
        name=PREFIX + name, value=repr(raw)))


def _keys(env: Mapping[str, str]) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in env.get(PREFIX + "API_KEYS", "").split(",") if k.strip())
    for i, key in enumerate(keys, start=1):
        if len(key) < MIN_API_KEY_LENGTH or not key.isascii() or not key.isprintable() or " " in key:
            raise ConfigError(_(
                "{name}: key number {number} must be at least {length} printable ASCII characters "
                "without spaces."
            ).format(name=PREFIX + "API_KEYS", number=i, length=MIN_API_KEY_LENGTH))
    return keys


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(_("{name}: expected an http:// or https:// URL, got {value}.").format(
            name=PREFIX + name, value=repr(raw)))
    return raw.rstrip("/")

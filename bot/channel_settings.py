"""Credentials and options of the platform channels, read once from the environment.

| variable | meaning |
|---|---|
| QINGSHEN_TELEGRAM_TOKEN | the bot token from @BotFather (credential) |
| QINGSHEN_TELEGRAM_SECRET | the webhook secret token, 1-256 of A-Z a-z 0-9 _ - (credential; webhook mode only) |
| QINGSHEN_TELEGRAM_MODE | `webhook` (default) or `polling` |
| QINGSHEN_TELEGRAM_BASE_URL | the Bot API base URL (default https://api.telegram.org/bot) |
| QINGSHEN_WECOM_CORP_ID, _AGENT_ID, _SECRET, _TOKEN, _AES_KEY | the WeCom self-built app (all credentials) |
| QINGSHEN_WECOM_API_BASE | the qyapi base URL (default https://qyapi.weixin.qq.com/cgi-bin/) |
| QINGSHEN_WECHAT_APP_ID, _APP_SECRET, _TOKEN | the WeChat official account (credentials) |
| QINGSHEN_WECHAT_AES_KEY | EncodingAESKey, for the safe (encrypted) message mode |
| QINGSHEN_WECHAT_TEMPLATE_ID | the template message used for reminders outside the 48-hour window |
| QINGSHEN_WECHAT_API_BASE | the API base URL (default https://api.weixin.qq.com/cgi-bin/) |
| QINGSHEN_CALLBACK_WINDOW_SECONDS | callbacks signed further than this from our clock are refused (default 300) |

A channel none of whose credentials is set is off. A channel with some but not all of them set refuses to
start: `ChannelConfigError` names the missing variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config import DEFAULT_CALLBACK_WINDOW, callback_window
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for

PREFIX = "QINGSHEN_"
TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
WECOM_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
WECHAT_API_BASE = "https://api.weixin.qq.com/cgi-bin/"
TELEGRAM_MODES = ("webhook", "polling")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")

MISSING = N_("The {channel} channel is only partly configured: {name} is not set. Set it, or unset {given} to "
             "turn the channel off.")
BAD_URL = N_("{name}: expected an http:// or https:// URL, got {value}.")
BAD_MODE = N_("{name}: expected webhook or polling, got {value}.")
BAD_NUMBER = N_("{name}: expected a whole number, got {value}.")
BAD_SECRET = N_("{name}: expected 1 to 256 of the characters A-Z, a-z, 0-9, _ and - (the value is not shown).")
BAD_AES_KEY = N_("{name}: expected the 43-character EncodingAESKey, got {length} characters (the value is not "
                 "shown).")

class ChannelConfigError(QingshenError):
    """A channel's settings are incomplete or malformed; the message names the variable."""


def _tr(msgid: str) -> str:
    return gettext_for(DEFAULT_LOCALE)(msgid)


class _Env:
    """The variables of one channel (`QINGSHEN_<CHANNEL>_<KEY>`), blank ones counted as unset."""

    def __init__(self, env: Mapping[str, str], channel: str) -> None:
        self.env, self.channel = env, channel

    def name(self, key: str) -> str:
        return f"{PREFIX}{self.channel.upper()}_{key}"

    def get(self, key: str) -> str | None:
        return self.env.get(self.name(key), "").strip() or None

    def credentials(self, keys: tuple[str, ...], *, also: tuple[str, ...] = ()) -> dict[str, str] | None:
        """All of `keys`: None when none of them (nor of `also`) is set, else ChannelConfigError naming the
        first missing one."""
        found = {key: value for key in keys + also if (value := self.get(key)) is not None}
        if not found:
            return None
        for key in keys:
            if key not in found:
                given = ", ".join(self.name(k) for k in found)
                raise ChannelConfigError(_tr(MISSING).format(channel=self.channel, name=self.name(key), given=given))
        return found

    def bad(self, key: str, msgid: str) -> ChannelConfigError:
        value = self.get(key) or ""
        return ChannelConfigError(_tr(msgid).format(name=self.name(key), value=repr(value), length=len(value)))

    def url(self, key: str, default: str) -> str:
        raw = self.get(key)
        if raw is None:
            return default
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.bad(key, BAD_URL)
        return raw

    def matching(self, key: str, pattern: re.Pattern[str], msgid: str) -> str:
        value = self.get(key) or ""
        if not pattern.fullmatch(value):
            raise self.bad(key, msgid)
        return value


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    secret: str | None = None
    mode: str = "webhook"
    base_url: str = TELEGRAM_BASE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramConfig | None:
        e = _Env(env, "telegram")
        mode = (e.get("MODE") or "webhook").lower()
        if mode not in TELEGRAM_MODES:
            raise e.bad("MODE", BAD_MODE)
        webhook = mode == "webhook"
        found = e.credentials(("TOKEN", "SECRET") if webhook else ("TOKEN",), also=() if webhook else ("SECRET",))
        if found is None:
            return None
        secret = e.matching("SECRET", _SECRET_TOKEN, BAD_SECRET) if webhook else None
        return cls(token=found["TOKEN"], secret=secret, mode=mode, base_url=e.url("BASE_URL", TELEGRAM_BASE_URL))


@dataclass(frozen=True)
class WeComConfig:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    api_base: str = WECOM_API_BASE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WeComConfig | None:
        e = _Env(env, "wecom")
        found = e.credentials(("CORP_ID", "AGENT_ID", "SECRET", "TOKEN", "AES_KEY"))
        if found is None:
            return None
        if not found["AGENT_ID"].isdigit():
            raise e.bad("AGENT_ID", BAD_NUMBER)
        return cls(corp_id=found["CORP_ID"], agent_id=int(found["AGENT_ID"]), secret=found["SECRET"],
                   token=found["TOKEN"], aes_key=e.matching("AES_KEY", _AES_KEY, BAD_AES_KEY),
                   api_base=_slash(e.url("API_BASE", WECOM_API_BASE)))


@dataclass(frozen=True)
class WeChatConfig:
    app_id: str
    app_secret: str
    token: str
    aes_key: str | None = None
    template_id: str | None = None
    api_base: str = WECHAT_API_BASE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WeChatConfig | None:
        e = _Env(env, "wechat")
        found = e.credentials(("APP_ID", "APP_SECRET", "TOKEN"), also=("AES_KEY", "TEMPLATE_ID"))
        if found is None:
            return None
        aes_key = e.matching("AES_KEY", _AES_KEY, BAD_AES_KEY) if e.get("AES_KEY") else None
        return cls(app_id=found["APP_ID"], app_secret=found["APP_SECRET"], token=found["TOKEN"], aes_key=aes_key,
                   template_id=e.get("TEMPLATE_ID"), api_base=_slash(e.url("API_BASE", WECHAT_API_BASE)))


@dataclass(frozen=True)
class ChannelSettings:
    """Every platform channel's configuration; None for a channel that is off. `callback_window` (seconds)
    is how far a callback's signed time may be from ours (bot.channels.callbacks)."""

    telegram: TelegramConfig | None = None
    wecom: WeComConfig | None = None
    wechat: WeChatConfig | None = None
    callback_window: int = DEFAULT_CALLBACK_WINDOW

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChannelSettings:
        env = os.environ if environ is None else environ
        return cls(telegram=TelegramConfig.from_env(env), wecom=WeComConfig.from_env(env),
                   wechat=WeChatConfig.from_env(env), callback_window=callback_window(env))

"""Settings of the reminder sweep and the outbox sender, read from the environment.

| variable | meaning | default |
|---|---|---|
| QINGSHEN_WEBHOOK_URL | pushes for generic-API users ("api") are POSTed here (bot.config) | none (inbox) |
| QINGSHEN_WEBHOOK_TIMEOUT | seconds a webhook POST may take | 10 |
| QINGSHEN_SEND_RATE | messages a second per channel: `20`, or `20,telegram=30,wecom=10` | 20 |
| QINGSHEN_SWEEP_SECONDS | seconds between reminder sweeps | 60 |
| QINGSHEN_SEND_SECONDS | seconds between checks of the outbox | 1 |
| QINGSHEN_SEND_LEASE_SECONDS | how long a claimed message is reserved for one sender | 300 |
| QINGSHEN_WORKER_ID | this process's name in the outbox's claimed_by | hostname:pid |

The lease must be more than twice the longest send (the webhook timeout): a sender never starts a
send later than half the lease after it claimed.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.channels.base import PushChannel
from bot.channels.webhook import DEFAULT_TIMEOUT, WebhookChannel
from bot.config import ConfigError, Settings
from rules.i18n import gettext_for

PREFIX = "QINGSHEN_"
DEFAULT_RATE = 20.0
WEBHOOK_CHANNEL = "api"  # the generic-API users' channel (bot.channels.web)


def _(msgid: str) -> str:
    return gettext_for()(msgid)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class PushSettings:
    webhook_url: str | None = None
    webhook_timeout: float = DEFAULT_TIMEOUT
    default_rate: float = DEFAULT_RATE
    rates: Mapping[str, float] = field(default_factory=dict)
    sweep_seconds: float = 60.0
    send_seconds: float = 1.0
    lease_seconds: float = 300.0
    worker_id: str = field(default_factory=default_worker_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PushSettings:
        env = os.environ if environ is None else environ
        default_rate, rates = _rates(env.get(PREFIX + "SEND_RATE", ""))
        timeout = _seconds(env, "WEBHOOK_TIMEOUT", DEFAULT_TIMEOUT, 0.1, 300)
        lease = _seconds(env, "SEND_LEASE_SECONDS", 300, 1, 86400)
        if lease <= 2 * timeout:
            raise ConfigError(_("{name} ({lease}) must be more than twice {timeout_name} ({timeout}).").format(
                name=PREFIX + "SEND_LEASE_SECONDS", lease=lease, timeout_name=PREFIX + "WEBHOOK_TIMEOUT",
                timeout=timeout))
        return cls(
            webhook_url=Settings.from_env(env).webhook_url,
            webhook_timeout=timeout,
            default_rate=default_rate,
            rates=rates,
            sweep_seconds=_seconds(env, "SWEEP_SECONDS", 60, 0.1, 86400),
            send_seconds=_seconds(env, "SEND_SECONDS", 1, 0.05, 3600),
            lease_seconds=lease,
            worker_id=env.get(PREFIX + "WORKER_ID", "").strip()[:100] or default_worker_id(),
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def rate_of(self, channel: str) -> float:
        return self.rates.get(channel, self.default_rate)

    def channels(self) -> dict[str, PushChannel]:
        """The push channels these settings configure (the webhook, when its URL is set)."""
        out: dict[str, PushChannel] = {}
        if self.webhook_url:
            out[WEBHOOK_CHANNEL] = WebhookChannel(self.webhook_url, self.webhook_timeout, name=WEBHOOK_CHANNEL)
        return out


def _number(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(_("{name}: expected a number from {low} to {high}, got {value}.").format(
            name=PREFIX + name, low=low, high=high, value=repr(raw)))
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(PREFIX + name, "").strip()
    return _number(name, raw, low, high) if raw else float(default)


def _rates(raw: str) -> tuple[float, dict[str, float]]:
    """`20` or `20,telegram=30` or `telegram=30` -> (default rate, {channel: rate})."""
    default, rates = DEFAULT_RATE, {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        channel, sep, value = part.partition("=")
        if sep:
            rates[channel.strip()] = _number("SEND_RATE", value.strip(), 0.01, 10000)
        else:
            default = _number("SEND_RATE", part, 0.01, 10000)
    return default, rates


"""The platform channels that are switched on, their webhook routes, and one person's several contacts.

    channels = build_channels(ChannelSettings.from_env(), sessions)   # [] when no credentials are set
    app = create_app(settings, dispatcher, routes=channel_routes(channels, dispatcher.dispatch))
    start_channels(channels, dispatcher.dispatch, settings.public_url)  # setWebhook, or Telegram polling
    ...                                                                  # serve
    close_channels(channels)

Each adapter (`TelegramChannel`, `WeComChannel`, `WeChatChannel`) is a small class: `name`,
`from_settings(settings, sessions) -> adapter | None`, `parse(RawRequest) -> Inbound | None` (raising
`SignatureError` for a request that fails verification), `send(address, payload, *, key)` (the sender's
PushChannel) and `routes(dispatch)` (its webhook). The adapters are imported only when switched on.

One person, many channels: contacts of one enterprise with the same display name are one person.
`one_per_person` keeps the preferred contact of each person (pushes go once); when a push fails for good,
`requeue_fallback` queues it again for the same person's other contact under `<key>:fallback`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.routing import BaseRoute

from bot import turns
from bot.channel_settings import ChannelSettings
from handlers.messages import Choice, Inbound, Outbound
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for
from storage import Contact, Repositories, utcnow

if TYPE_CHECKING:
    from storage import OutboxMessage

log = logging.getLogger(__name__)

Dispatch = Callable[[Inbound], list[Outbound]]
MAX_WEBHOOK_BODY = 256 * 1024
FALLBACK_SUFFIX = ":fallback"
REPLY_NUMBER = N_("Reply with the number of your choice.")
SORRY = N_("Sorry, something went wrong on our side. Please try again later.")
PUSHED_CHOICES_FOR = timedelta(days=7)


class SignatureError(QingshenError):
    """A webhook request failed verification (signature, secret token, decryption): answered 403."""


@dataclass(frozen=True)
class RawRequest:
    """One webhook request as it arrived: query parameters, lower-case header names, the body."""

    method: str = "POST"
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class ChannelAdapter(Protocol):
    name: str

    def parse(self, raw: RawRequest) -> Inbound | None: ...

    def send(self, address: str, payload: Mapping[str, Any], *, key: str) -> None: ...

    def routes(self, dispatch: Dispatch) -> list[BaseRoute]: ...

    def close(self) -> None: ...


async def read_request(request: Request, limit: int = MAX_WEBHOOK_BODY) -> RawRequest | None:
    """The request with its body, or None when the body is larger than `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    headers = {k.lower(): v for k, v in request.headers.items()}
    return RawRequest(request.method, dict(request.query_params), headers, b"".join(chunks))


def outbound_of(payload: Mapping[str, Any]) -> Outbound:
    """An outbox payload ({"text", "choices": [{"id", "label"}]}) as the message envelope."""
    choices = tuple(Choice(str(c["id"]), str(c["label"])) for c in payload.get("choices") or ())
    return Outbound(str(payload.get("text") or ""), choices)


def numbered(outbound: Outbound, locale: str = DEFAULT_LOCALE) -> str:
    """The text with its choices listed as `1. label` and a hint (the dispatcher reads a bare number)."""
    if not outbound.choices:
        return outbound.text
    lines = [outbound.text, *(f"{i}. {c.label}" for i, c in enumerate(outbound.choices, start=1))]
    lines.append(gettext_for(locale)(REPLY_NUMBER))
    return "\n".join(line for line in lines if line)


def answer(dispatch: Dispatch, inbound: Inbound) -> list[Outbound]:
    """The conversation's replies; when it fails, the traceback is logged and the person gets a sentence
    (a platform that retried the failed update would only hold the chat up behind it)."""
    try:
        return turns.call(dispatch, inbound)  # on the turn threads (bot.turns), as the generic API's turns
    except Exception:
        log.exception("%s: the message of %s could not be answered", inbound.channel, inbound.user_id)
        return [Outbound(gettext_for(inbound.locale or DEFAULT_LOCALE)(SORRY))]


class PushedChoices:
    """The choices of the last push shown as numbered text, so that a bare number answers them (the
    conversation numbers only its own questions). Replies with choices of their own make them void."""

    def __init__(self, sessions: sessionmaker[Session], channel: str) -> None:
        self.sessions, self.channel = sessions, channel

    def _key(self, user: str) -> str:
        return f"{self.channel}:pushed:{user}"

    def remember(self, user: str, choices: Sequence[Choice]) -> None:
        with self.sessions.begin() as session:
            Repositories(session).kv.put(self._key(user), json.dumps([c.id for c in choices]),
                                         expires_at=utcnow() + PUSHED_CHOICES_FOR)

    def forget(self, user: str) -> None:
        with self.sessions.begin() as session:
            Repositories(session).kv.delete(self._key(user))

    def pick(self, user: str, text: str) -> str | None:
        """The pushed choice a bare number names (then forgotten), or None."""
        number = text.strip()
        if not number.isdigit():
            return None
        with self.sessions.begin() as session:
            kv = Repositories(session).kv
            stored = kv.get_by_key(self._key(user), now=utcnow())
            ids = json.loads(stored) if stored else []
            if not 1 <= int(number) <= len(ids):
                return None
            kv.delete(self._key(user))
        return str(ids[int(number) - 1])


def build_channels(settings: ChannelSettings, sessions: sessionmaker[Session]) -> list[ChannelAdapter]:
    """The adapters whose credentials are configured (ChannelConfigError for half a configuration)."""
    found: list[ChannelAdapter | None] = []
    if settings.telegram is not None:
        from bot.channels.telegram import TelegramChannel

        found.append(TelegramChannel.from_settings(settings, sessions))
    if settings.wecom is not None:
        from bot.channels.wecom import WeComChannel

        found.append(WeComChannel.from_settings(settings, sessions))
    if settings.wechat is not None:
        from bot.channels.wechat import WeChatChannel

        found.append(WeChatChannel.from_settings(settings, sessions))
    return [channel for channel in found if channel is not None]


def channel_routes(channels: Sequence[ChannelAdapter], dispatch: Dispatch) -> list[BaseRoute]:
    return [route for channel in channels for route in channel.routes(dispatch)]


@runtime_checkable
class _Starts(Protocol):
    def start(self, dispatch: Dispatch, public_url: str | None) -> None: ...


def start_channels(channels: Sequence[ChannelAdapter], dispatch: Dispatch, public_url: str | None) -> None:
    """What runs beside the webhooks: Telegram registers its webhook, or starts polling."""
    for channel in channels:
        if isinstance(channel, _Starts):
            channel.start(dispatch, public_url)


def close_channels(channels: Sequence[ChannelAdapter]) -> None:
    """Stop polling, close the clients."""
    for channel in channels:
        channel.close()


# -- one person, many channels ------------------------------------------------------------------


class _Reachable(Protocol):
    """What one_per_person reads of a contact: a storage Contact, or the sweep's plain row of one."""

    @property
    def id(self) -> int: ...
    @property
    def preferred(self) -> bool: ...
    @property
    def enterprise_id(self) -> int | None: ...
    @property
    def display_name(self) -> str | None: ...


_C = TypeVar("_C", bound=_Reachable)


def _person(contact: _Reachable) -> tuple[int, str] | None:
    if contact.enterprise_id is None or not contact.display_name:
        return None
    return contact.enterprise_id, contact.display_name


def one_per_person(contacts: Sequence[_C]) -> list[_C]:
    """One contact per person (same enterprise and display name), the preferred one where marked."""
    ranked = sorted(contacts, key=lambda c: (not c.preferred, c.id))
    seen: set[tuple[int, str]] = set()
    kept: list[_C] = []
    for contact in ranked:
        person = _person(contact)
        if person is not None and person in seen:
            continue
        if person is not None:
            seen.add(person)
        kept.append(contact)
    return sorted(kept, key=lambda c: c.id)


def fallback_contact(repos: Repositories, contact: Contact) -> Contact | None:
    """The same person's reachable contact on another channel (the preferred one first), or None."""
    person = _person(contact)
    if person is None:
        return None
    for other in repos.contacts.list_by_enterprise(person[0]):  # preferred first, reachable only
        if other.id != contact.id and other.channel != contact.channel and _person(other) == person:
            return other
    return None


def requeue_fallback(repos: Repositories, message: OutboxMessage) -> bool:
    """Queue a push that failed for good again for the same person's other contact, under `<key>:fallback`.

    False when there is no other contact, or the message already was a fallback (no ping-pong)."""
    if message.idempotency_key.endswith(FALLBACK_SUFFIX):
        return False
    contact = repos.contacts.get_by_address(message.channel, message.address)
    other = fallback_contact(repos, contact) if contact is not None else None
    if other is None:
        return False
    return repos.outbox.add_if_absent(message.idempotency_key + FALLBACK_SUFFIX, channel=other.channel,
                                      address=other.user_id, payload=message.payload)

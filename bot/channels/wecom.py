"""WeCom (企业微信) self-built app through wechatpy: encrypted callbacks in, the message API out.

Callback URL `/webhooks/wecom`: `GET` answers WeCom's URL verification (the decrypted `echostr`); `POST`
carries an encrypted message (`msg_signature`, `timestamp`, `nonce`; AES by wechatpy's WeChatCrypto). A bad
signature is answered 403 and nothing is processed. A good one is answered at once with an empty body
(success, well within WeCom's 5 seconds) and handled after the response: a MsgId WeCom sends again (it
retries slow callbacks) is handled once. Text messages and button events (template cards, menu clicks)
become `Inbound`s.

Replies and pushes go through `message/send`: text (split at 2048 bytes), markdown when the payload carries
it, choices as a `button_interaction` template card (up to 6 short buttons), else as numbered text.

The access token lives in the kv table (`KvSessionStorage`, wechatpy's session interface), so every process
shares one; it is fetched when absent or expired and refreshed once when WeCom answers 40001/40014/42001.
The Tencent pieces here (`KvSessionStorage`, `TokenGuard`, `delivery_error`) serve the WeChat official account
too.

A callback whose signed `timestamp` is outside the window (QINGSHEN_CALLBACK_WINDOW_SECONDS, ±300 s) is refused
with 403 before it is decrypted, and MsgIds are remembered for longer than the window (bot.channels.callbacks):
a captured callback posted again is refused either way.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import struct
import threading
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar
from xml.parsers.expat import ExpatError

import requests
import xmltodict
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from wechatpy.enterprise import WeChatClient, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException, WeChatException

from bot.channel_settings import ChannelSettings, WeComConfig
from bot.channels.base import DeliveryError
from bot.channels.callbacks import DEFAULT_CALLBACK_WINDOW, Clock, check_fresh, dedupe_for, digest, first_time
from bot.channels.registry import (
    Dispatch,
    PushedChoices,
    RawRequest,
    SignatureError,
    answer,
    numbered,
    outbound_of,
    read_request,
)
from handlers.messages import Choice, Inbound, Outbound
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for
from storage import Repositories, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")
WEBHOOK_PATH = "/webhooks/wecom"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, token expired
RATE_LIMITED = 45009
RETRYABLE = TOKEN_ERRORS | {-1, RATE_LIMITED, 45033}  # system busy, freq limit, too many concurrent calls
RATE_LIMIT_PAUSE = 60.0
TOKEN_MARGIN = 300  # a cached token counts as expired this many seconds early
MAX_TEXT_BYTES = 2048
MAX_BUTTONS = 6
MAX_BUTTON_WIDTH = 20  # WeCom advises at most 10 Chinese characters: a wide character counts 2
MAX_CARD_TITLE = 36
MAX_CARD_SUBTITLE = 112
CHOOSE = N_("Please choose:")
DECRYPT_ERRORS = (WeChatException, ValueError, KeyError, TypeError, struct.error, ExpatError)


# -- shared with the WeChat official account ----------------------------------------------------------


class KvSessionStorage:
    """wechatpy's session interface (`get`, `set`, `delete`) on the kv table: shared between processes."""

    def __init__(self, sessions: sessionmaker[Session], prefix: str) -> None:
        self.sessions, self.prefix = sessions, prefix

    def _key(self, key: str) -> str:  # wechatpy's keys hold a prefix of the app secret: store a digest
        return f"{self.prefix}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    def get(self, key: str, default: Any = None) -> Any:
        with self.sessions() as session:
            value = Repositories(session).kv.get_by_key(self._key(key), now=utcnow())
        return json.loads(value) if value is not None else default

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if value is None:
            return
        expires_at = utcnow() + timedelta(seconds=max(ttl - TOKEN_MARGIN, 60)) if ttl else None
        with self.sessions.begin() as session:
            Repositories(session).kv.put(self._key(key), json.dumps(value), expires_at=expires_at)

    def delete(self, key: str) -> None:
        with self.sessions.begin() as session:
            Repositories(session).kv.delete(self._key(key))


class TokenGuard:
    """Points a wechatpy client at `api_base` and runs its calls, refreshing the access token once when the
    platform says it expired (unless another process already did: then the stored token is simply used)."""

    def __init__(self, client: Any, api_base: str, token_path: str, token_params: Mapping[str, str]) -> None:
        self.client = client
        self.token_url, self.token_params = api_base + token_path, dict(token_params)
        client.API_BASE_URL = api_base
        client.fetch_access_token = self.fetch  # wechatpy's own fetch, from our base URL (its is hard-coded)
        self._lock = threading.Lock()

    def fetch(self) -> Any:
        return self.client._fetch_access_token(url=self.token_url, params=self.token_params)

    def call(self, fn: Callable[[], T]) -> T:
        with self._lock:
            used = self.client.access_token  # fetched here when absent or expired: one caller fetches
        try:
            return fn()
        except WeChatClientException as e:
            if e.errcode not in TOKEN_ERRORS:
                raise
            log.info("%s: the access token was refused (%s); refreshing it once", self.token_url, e.errcode)
        with self._lock:
            if self.client.session.get(self.client.access_token_key) in (None, used):
                self.fetch()
        return fn()




def delivery_error(channel: str, error: Exception) -> DeliveryError:
    """A Tencent API failure as DeliveryError: busy, rate-limited, token trouble and network are retried."""
    if isinstance(error, requests.RequestException):
        return DeliveryError(f"{channel}: {type(error).__name__}: {error}", retry=True)
    code = getattr(error, "errcode", None)
    retry = code is None or code in RETRYABLE
    pause = RATE_LIMIT_PAUSE if code == RATE_LIMITED else None
    return DeliveryError(f"{channel}: {error}", retry=retry, retry_after=pause)


def split_bytes(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, cut between characters (preferably at a line)."""
    pieces: list[str] = []
    rest = text
    while len(rest.encode()) > limit:
        cut = len(rest.encode()[:limit].decode("utf-8", "ignore"))
        line = rest.rfind("\n", 0, cut)
        cut = line + 1 if line > 0 else cut
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [*pieces, rest] if rest or not pieces else pieces


def xml_fields(xml: str) -> dict[str, Any]:
    data = xmltodict.parse(xml).get("xml")
    return dict(data) if isinstance(data, dict) else {}


# -- rendering ------------------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fits_buttons(choices: tuple[Choice, ...]) -> bool:
    return 0 < len(choices) <= MAX_BUTTONS and all(
        _width(c.label) <= MAX_BUTTON_WIDTH and 0 < len(c.id.encode()) <= 1024 for c in choices)


def _card(title: str, subtitle: str, choices: tuple[Choice, ...]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "task_id": uuid.uuid4().hex,
        "button_list": [{"text": c.label, "style": 1, "key": c.id} for c in choices],
    }
    if subtitle:
        card["sub_title_text"] = subtitle
    return {"msgtype": "template_card", "template_card": card}


def _texts(text: str) -> list[dict[str, Any]]:
    return [{"msgtype": "text", "text": {"content": piece}} for piece in split_bytes(text)]


def render(outbound: Outbound, *, markdown: str | None = None, locale: str = DEFAULT_LOCALE) -> list[dict[str, Any]]:
    """The `msg` parts of message/send for one message."""
    if outbound.choices and _fits_buttons(outbound.choices):
        title, _, subtitle = outbound.text.strip().partition("\n")
        if 0 < len(title) <= MAX_CARD_TITLE and len(subtitle) <= MAX_CARD_SUBTITLE:
            return [_card(title, subtitle, outbound.choices)]
        before, _, question = outbound.text.strip().rpartition("\n")  # the question is usually the last line
        if before and 0 < len(question) <= MAX_CARD_TITLE:
            return [*_texts(before), _card(question, "", outbound.choices)]
        return [*_texts(outbound.text), _card(gettext_for(locale)(CHOOSE), "", outbound.choices)]
    if outbound.choices:
        return _texts(numbered(outbound, locale))
    if markdown and len(markdown.encode()) <= MAX_TEXT_BYTES:
        return [{"msgtype": "markdown", "markdown": {"content": markdown}}]
    return _texts(outbound.text)


# -- the adapter ------------------------------------------------------------------------------------------


class WeComChannel:
    name = "wecom"

    def __init__(self, config: WeComConfig, sessions: sessionmaker[Session], *, timeout: float = 10.0,
                 window: int = DEFAULT_CALLBACK_WINDOW, clock: Clock = utcnow) -> None:
        self.config = config
        self.sessions = sessions
        self.window, self.clock = window, clock
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.corp_id)
        self.client = WeChatClient(config.corp_id, config.secret, session=KvSessionStorage(sessions, "wecom:token"),
                                   timeout=timeout, auto_retry=False)
        self.api = TokenGuard(self.client, config.api_base, "gettoken",
                              {"corpid": config.corp_id, "corpsecret": config.secret})
        self.pushed = PushedChoices(sessions, self.name)

    @classmethod
    def from_settings(cls, settings: ChannelSettings, sessions: sessionmaker[Session]) -> WeComChannel | None:
        if settings.wecom is None:
            return None
        return cls(settings.wecom, sessions, window=settings.callback_window)

    # -- callbacks ---------------------------------------------------------------------------------

    def verify_url(self, raw: RawRequest) -> str:
        """WeCom's URL check: the decrypted echostr, or SignatureError."""
        q = raw.query
        try:
            echo = self.crypto.check_signature(q.get("msg_signature", ""), q.get("timestamp", ""),
                                               q.get("nonce", ""), q.get("echostr", ""))
        except DECRYPT_ERRORS as e:
            raise SignatureError("The WeCom URL verification failed.") from e
        return str(echo)

    def decrypt(self, raw: RawRequest) -> str:
        """The verified, decrypted XML: StaleCallback when the signed timestamp is outside the window (checked
        first, from the query alone), SignatureError when the signature or the decryption fails."""
        q = raw.query
        check_fresh(q.get("timestamp"), window=self.window, now=self.clock(), what="wecom")
        try:
            return str(self.crypto.decrypt_message(raw.body, q.get("msg_signature", ""), q.get("timestamp", ""),
                                                   q.get("nonce", "")))
        except DECRYPT_ERRORS as e:
            raise SignatureError("The WeCom callback failed its signature check or could not be decrypted.") from e

    def read(self, raw: RawRequest) -> tuple[Inbound, str] | None:
        """The verified message and the key it is deduplicated by; None for anything we do not answer."""
        xml = self.decrypt(raw)
        try:
            message = parse_message(xml)
            fields = xml_fields(xml)
        except DECRYPT_ERRORS:
            log.warning("wecom: a callback that is not a message was ignored")
            return None
        if str(fields.get("AgentID", "")) not in ("", str(self.config.agent_id)):
            return None
        user = str(fields.get("FromUserName") or "")
        if not user:
            return None
        if message.type == "text" and message.content:
            seen = f"wecom:msg:{message.id}"
            pushed = self.pushed.pick(user, message.content)
            if pushed is not None:
                return Inbound(self.name, user, choice=pushed), seen
            return Inbound(self.name, user, text=message.content), seen
        event = str(fields.get("Event") or "").lower()
        key = str(fields.get("EventKey") or "")
        if event in ("template_card_event", "click") and key:
            seen = "wecom:evt:" + digest(f"{user}:{fields.get('CreateTime')}:{fields.get('TaskId') or ''}:{key}")
            return Inbound(self.name, user, choice=key), seen
        return None

    def parse(self, raw: RawRequest) -> Inbound | None:
        read = self.read(raw)
        return read[0] if read is not None else None

    def routes(self, dispatch: Dispatch) -> list[BaseRoute]:
        async def verify(request: Request) -> Response:
            try:
                echo = self.verify_url(RawRequest("GET", dict(request.query_params)))
            except SignatureError:
                return Response(status_code=403)
            return PlainTextResponse(echo)

        async def callback(request: Request) -> Response:
            raw = await read_request(request)
            if raw is None:
                return Response(status_code=413)
            try:
                read = await run_in_threadpool(self.read, raw)  # it may look up a pushed choice
            except SignatureError as e:
                log.warning("wecom: a callback was refused (403): %s", e)
                return Response(status_code=403)
            if read is None:
                return PlainTextResponse("")
            inbound, seen = read
            return PlainTextResponse("", background=BackgroundTask(self._handle, inbound, seen, dispatch))

        return [Route(WEBHOOK_PATH, verify, methods=["GET"]), Route(WEBHOOK_PATH, callback, methods=["POST"])]

    def _handle(self, inbound: Inbound, seen: str, dispatch: Dispatch) -> None:
        """After the callback is answered: once per MsgId, dispatch and send the replies."""
        if not first_time(self.sessions, seen, dedupe_for(self.window), now=self.clock()):
            log.info("wecom: %s was already handled", seen)
            return
        replies = answer(dispatch, inbound)
        if any(reply.choices for reply in replies):
            self.pushed.forget(inbound.user_id)
        try:
            for reply in replies:
                self.deliver(inbound.user_id, reply)
        except (WeChatClientException, requests.RequestException, DeliveryError) as e:
            log.warning("wecom: the replies to %s were not sent: %s", seen, e)

    # -- sending -------------------------------------------------------------------------------------

    def deliver(self, user: str, outbound: Outbound, *, markdown: str | None = None, locale: str = DEFAULT_LOCALE,
                push: bool = False) -> None:
        if push and outbound.choices and not _fits_buttons(outbound.choices):
            self.pushed.remember(user, outbound.choices)  # shown numbered: a bare number answers them
        for msg in render(outbound, markdown=markdown, locale=locale):
            if push:  # WeCom drops the same content sent again within half an hour (a re-sent push)
                msg = {**msg, "enable_duplicate_check": 1, "duplicate_check_interval": 1800}
            result = self.api.call(functools.partial(self.client.message.send, self.config.agent_id, user, msg=msg))
            if user in str(result.get("invaliduser") or "").split("|"):
                raise DeliveryError(f"wecom: {user} is not a member who can see the app", retry=False)

    def send(self, address: str, payload: Mapping[str, Any], *, key: str) -> None:
        markdown = payload.get("markdown")
        try:
            self.deliver(address, outbound_of(payload), markdown=markdown if isinstance(markdown, str) else None,
                         locale=str(payload.get("locale") or DEFAULT_LOCALE), push=True)
        except (WeChatClientException, requests.RequestException) as e:
            raise delivery_error(self.name, e) from e

    def close(self) -> None:
        self.client._http.close()

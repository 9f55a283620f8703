"""WeChat official account (公众号) through wechatpy: passive replies in, customer-service and template
messages out.

Callback URL `/webhooks/wechat`: `GET` answers the server check (`echostr`); `POST` carries a message, signed
(`signature`, `timestamp`, `nonce`, checked by wechatpy). That signature covers the token, the timestamp and the
nonce, not the body, so:

- In safe mode (QINGSHEN_WECHAT_AES_KEY set) only `encrypt_type=aes` bodies are accepted, whose `msg_signature`
  covers the encrypted body; a plaintext or `encrypt_type=raw` callback is refused (403, logged) before its body
  is read.
- In plaintext mode (no AES key) a signature is used once: a second request under the same signature (a
  retry, or someone else's body under a signature copied from a log) is not processed (answered "success",
  logged).
- Everywhere the signed `timestamp` must be within the window (QINGSHEN_CALLBACK_WINDOW_SECONDS, ±300 s), and a
  MsgId is handled once, remembered longer than the window (bot.channels.callbacks).

A refused callback is answered 403 and nothing is processed.

The first answer is a passive reply, within WeChat's 5 seconds: if the conversation has not answered after
`reply_within` seconds (4), the callback answers "success" and the replies follow as customer-service
messages. Choices are numbered text (a bare number picks one). Pushes are customer-service messages while
the person's last message is less than 48 hours old (remembered per openid in the kv table), template
messages (QINGSHEN_WECHAT_TEMPLATE_ID) after that; without a template a push outside the window fails for
good, saying so.

The template gets `first` (the first line), `content` (the rest) and `remark` (how to answer), unless the
payload brings its own `template_data`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from wechatpy import WeChatClient, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException
from wechatpy.replies import create_reply
from wechatpy.utils import check_signature

from bot.channel_settings import ChannelSettings, WeChatConfig
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
from bot.channels.wecom import DECRYPT_ERRORS, KvSessionStorage, TokenGuard, delivery_error, split_bytes
from handlers.messages import Inbound, Outbound
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for
from storage import Repositories, utcnow

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/wechat"
REPLY_WITHIN = 4.0
WINDOW = timedelta(hours=48) - timedelta(minutes=10)  # the customer-service window, with a margin
OUT_OF_WINDOW = frozenset({45015, 45047})  # reply time limit passed; too many messages without an answer
SUCCESS = "success"
TEMPLATE_HINT = N_("Reply to this official account to answer.")


def seen_key(openid: str) -> str:
    return f"wechat:seen:{openid}"


def _once_key(message: Any) -> str:
    """The key a message is handled once by: its MsgId, or for an event (a digest of) its sender, time and kind."""
    if message.id:
        return f"wechat:msg:{message.id}"
    return "wechat:evt:" + digest(f"{message.source}:{message.time}:{getattr(message, 'event', message.type)}")


def _signature_key(raw: RawRequest) -> str:
    q = raw.query
    return "wechat:sig:" + digest(f"{q.get('signature', '')}:{q.get('timestamp', '')}:{q.get('nonce', '')}")


class WeChatChannel:
    name = "wechat"

    def __init__(self, config: WeChatConfig, sessions: sessionmaker[Session], *, reply_within: float = REPLY_WITHIN,
                 timeout: float = 10.0, window: int = DEFAULT_CALLBACK_WINDOW, clock: Clock = utcnow) -> None:
        self.config = config
        self.sessions = sessions
        self.window, self.clock = window, clock
        self.reply_within = reply_within
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.app_id) if config.aes_key else None
        self.client = WeChatClient(config.app_id, config.app_secret,
                                   session=KvSessionStorage(sessions, "wechat:token"), timeout=timeout,
                                   auto_retry=False)
        self.api = TokenGuard(self.client, config.api_base, "token",
                              {"grant_type": "client_credential", "appid": config.app_id,
                               "secret": config.app_secret})
        self.pushed = PushedChoices(sessions, self.name)

    @classmethod
    def from_settings(cls, settings: ChannelSettings, sessions: sessionmaker[Session]) -> WeChatChannel | None:
        if settings.wechat is None:
            return None
        return cls(settings.wechat, sessions, window=settings.callback_window)

    # -- callbacks ---------------------------------------------------------------------------------

    def check(self, raw: RawRequest) -> None:
        q = raw.query
        try:
            check_signature(self.config.token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", ""))
        except DECRYPT_ERRORS as e:
            raise SignatureError("The WeChat signature is missing or wrong.") from e

    def encrypted(self, raw: RawRequest) -> bool:
        return raw.query.get("encrypt_type", "raw").lower() == "aes"

    def verify(self, raw: RawRequest) -> None:
        """Everything checked before the body is read: the signature, the timestamp window, and in safe mode
        that the body is encrypted (a plaintext body there is a forgery: its signature does not cover it)."""
        self.check(raw)
        check_fresh(raw.query.get("timestamp"), window=self.window, now=self.clock(), what="wechat")
        if self.crypto is not None and not self.encrypted(raw):
            kind = raw.query.get("encrypt_type", "")[:20]
            raise SignatureError(f"wechat: a plaintext callback (encrypt_type={kind!r}) was refused: safe mode "
                                 f"(QINGSHEN_WECHAT_AES_KEY) accepts only encrypt_type=aes")
        if self.crypto is None and self.encrypted(raw):
            raise SignatureError("wechat: an encrypted message came, but QINGSHEN_WECHAT_AES_KEY is not set")

    def decrypt(self, raw: RawRequest) -> str:
        self.verify(raw)
        if self.crypto is None:
            return raw.body.decode("utf-8", "replace")
        q = raw.query
        try:
            return str(self.crypto.decrypt_message(raw.body, q.get("msg_signature", ""), q.get("timestamp", ""),
                                                   q.get("nonce", "")))
        except DECRYPT_ERRORS as e:
            raise SignatureError("The WeChat message could not be decrypted.") from e

    def message_of(self, raw: RawRequest) -> Any:
        """The verified wechatpy message (None if the XML is not one); SignatureError if unverified."""
        xml = self.decrypt(raw)
        try:
            return parse_message(xml)
        except DECRYPT_ERRORS:
            log.warning("wechat: a callback that is not a message was ignored")
            return None

    def inbound_of(self, message: Any) -> Inbound | None:
        if message is None or message.type != "text" or not message.content or not message.source:
            return None
        openid = str(message.source)
        pushed = self.pushed.pick(openid, message.content)
        if pushed is not None:
            return Inbound(self.name, openid, choice=pushed)
        return Inbound(self.name, openid, text=message.content)

    def parse(self, raw: RawRequest) -> Inbound | None:
        return self.inbound_of(self.message_of(raw))

    def routes(self, dispatch: Dispatch) -> list[BaseRoute]:
        async def verify(request: Request) -> Response:
            raw = RawRequest("GET", dict(request.query_params))
            try:
                self.check(raw)
            except SignatureError:
                return Response(status_code=403)
            return PlainTextResponse(raw.query.get("echostr", ""))

        async def callback(request: Request) -> Response:
            raw = await read_request(request)
            if raw is None:
                return Response(status_code=413)
            try:
                self.verify(raw)
            except SignatureError as e:
                log.warning("wechat: a callback was refused (403): %s", e)
                return Response(status_code=403)
            if self.crypto is None and not await run_in_threadpool(
                    first_time, self.sessions, _signature_key(raw), dedupe_for(self.window), self.clock()):
                log.warning("wechat: a signature already used came again (a retry or a replay); not processed again")
                return PlainTextResponse(SUCCESS)
            try:
                message = self.message_of(raw)
            except SignatureError as e:
                log.warning("wechat: a callback was refused (403): %s", e)
                return Response(status_code=403)
            if message is not None and message.source:  # any message or event opens the 48-hour window
                await run_in_threadpool(self.mark_seen, str(message.source))
            if message is None or not await run_in_threadpool(first_time, self.sessions, _once_key(message),
                                                              dedupe_for(self.window), self.clock()):
                return PlainTextResponse(SUCCESS)
            inbound = await run_in_threadpool(self.inbound_of, message)
            if inbound is None:
                return PlainTextResponse(SUCCESS)
            return await self._answer(raw, message, inbound, dispatch)

        return [Route(WEBHOOK_PATH, verify, methods=["GET"]), Route(WEBHOOK_PATH, callback, methods=["POST"])]

    async def _answer(self, raw: RawRequest, message: Any, inbound: Inbound, dispatch: Dispatch) -> Response:
        """The passive reply if the conversation answers in time; else "success" now, the replies later."""
        work = asyncio.ensure_future(run_in_threadpool(self._replies, dispatch, inbound))
        done, _ = await asyncio.wait({work}, timeout=self.reply_within)
        if not done:
            return PlainTextResponse(SUCCESS, background=BackgroundTask(self._late, work, inbound.user_id))
        pieces = self.pieces(work.result())
        if not pieces:
            return PlainTextResponse(SUCCESS)
        xml = create_reply(pieces[0], message=message, render=True)
        if self.encrypted(raw) and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, raw.query.get("nonce", ""), raw.query.get("timestamp"))
        rest = BackgroundTask(self._send_replies, inbound.user_id, pieces[1:]) if len(pieces) > 1 else None
        return Response(xml, media_type="application/xml", background=rest)

    def _replies(self, dispatch: Dispatch, inbound: Inbound) -> list[Outbound]:
        replies = answer(dispatch, inbound)
        if any(reply.choices for reply in replies):
            self.pushed.forget(inbound.user_id)  # the conversation numbers its own question now
        return replies

    async def _late(self, work: asyncio.Future[list[Outbound]], openid: str) -> None:
        replies = await work
        await run_in_threadpool(self._send_replies, openid, self.pieces(replies))

    def _send_replies(self, openid: str, pieces: list[str]) -> None:
        try:
            self.send_texts(openid, pieces)
        except (WeChatClientException, requests.RequestException) as e:
            log.warning("wechat: replies to %s were not sent: %s", openid, e)

    @staticmethod
    def pieces(replies: list[Outbound], locale: str = DEFAULT_LOCALE) -> list[str]:
        """The replies as text (choices numbered), in pieces WeChat accepts."""
        text = "\n\n".join(numbered(reply, locale) for reply in replies if reply.text or reply.choices)
        return split_bytes(text) if text else []

    # -- the 48-hour window ----------------------------------------------------------------------------

    def mark_seen(self, openid: str) -> None:
        with self.sessions.begin() as session:
            Repositories(session).kv.put(seen_key(openid), utcnow().isoformat(), expires_at=utcnow() + WINDOW)

    def in_window(self, openid: str) -> bool:
        with self.sessions() as session:
            return Repositories(session).kv.get_by_key(seen_key(openid), now=utcnow()) is not None

    # -- sending -------------------------------------------------------------------------------------

    def send_texts(self, openid: str, pieces: list[str]) -> None:
        for piece in pieces:
            self.api.call(functools.partial(self.client.message.send_text, openid, piece))

    def send(self, address: str, payload: Mapping[str, Any], *, key: str) -> None:
        """A customer-service message inside the 48-hour window, a template message outside it."""
        locale = str(payload.get("locale") or DEFAULT_LOCALE)
        try:
            if self.in_window(address):
                try:
                    outbound = outbound_of(payload)
                    self.send_texts(address, self.pieces([outbound], locale))
                    if outbound.choices:
                        self.pushed.remember(address, outbound.choices)
                    return
                except WeChatClientException as e:
                    if e.errcode not in OUT_OF_WINDOW:
                        raise
            self.send_template(address, payload, locale)
        except (WeChatClientException, requests.RequestException) as e:
            raise delivery_error(self.name, e) from e

    def send_template(self, openid: str, payload: Mapping[str, Any], locale: str) -> None:
        if not self.config.template_id:
            raise DeliveryError(f"wechat: {openid} last wrote more than 48 hours ago, and only a template message "
                                f"can reach them: set QINGSHEN_WECHAT_TEMPLATE_ID", retry=False)
        data = template_data(payload, locale)
        self.api.call(lambda: self.client.message.send_template(openid, self.config.template_id, data))

    def close(self) -> None:
        self.client._http.close()


def template_data(payload: Mapping[str, Any], locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    given = payload.get("template_data")
    if isinstance(given, Mapping):
        return dict(given)
    first, _, rest = str(payload.get("text") or "").strip().partition("\n")
    hint = gettext_for(locale)(TEMPLATE_HINT)
    return {"first": {"value": first}, "content": {"value": rest.strip() or first}, "remark": {"value": hint}}

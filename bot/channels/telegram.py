"""Telegram through python-telegram-bot: a webhook inside `qingshen run`, or long polling.

The webhook (`POST /webhooks/telegram`) checks the `X-Telegram-Bot-Api-Secret-Token` header before it reads
anything (403 otherwise). The body must be an update in the Bot API's shape (the fields read here with their
types, at most `MAX_DEPTH` levels deep): anything else is answered 400 naming the field, never 500. An update
is handled once per `update_id`, remembered in the kv table (so across processes and restarts) for
`UPDATE_IDS_FOR`, longer than Telegram keeps retrying an undelivered update; a message whose `date` is outside
the window (QINGSHEN_CALLBACK_WINDOW_SECONDS, bot.channels.callbacks) is not handled either. Both are
answered 200 and logged, so that Telegram does not retry them. Polling goes through the same checks.

Choices are inline keyboards; a pressed button arrives as a callback query, which is answered and its keyboard
removed. Pushes go through the outbox (`send`), paced by python-telegram-bot's AIORateLimiter, or by
`PacedLimiter` where aiolimiter is not installed; a `RetryAfter` pauses every request and becomes
`DeliveryError(retry=True, retry_after=...)`.

python-telegram-bot is asyncio and the sender is not: the adapter's `ExtBot` lives on an event loop of its
own, on a daemon thread, and every call is handed to that loop.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.channel_settings import ChannelSettings, TelegramConfig
from bot.channels.base import DeliveryError
from bot.channels.callbacks import DEFAULT_CALLBACK_WINDOW, Clock, check_fresh, dedupe_for, first_time
from bot.channels.registry import (
    Dispatch,
    RawRequest,
    SignatureError,
    answer,
    numbered,
    outbound_of,
    read_request,
)
from handlers.messages import Inbound, Outbound
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for
from storage import utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
ALLOWED_UPDATES = ("message", "callback_query")
CALL_TIMEOUT = 60.0
REPLY_RETRIES = 1  # a reply waits out one RetryAfter; a push gives it back to the outbox at once
MAX_DEPTH = 32  # a real update nests about 10 levels (a pressed button's message, its keyboard)
UPDATE_IDS_FOR = timedelta(hours=25)  # Telegram keeps an undelivered update for 24 hours
NOT_JSON = N_("The body is not a JSON object.")
TOO_DEEP = N_("The update is nested more than {limit} levels deep.")
BAD_FIELD = N_("{field} is missing or not of the type the Bot API gives it.")
NOT_AN_UPDATE = N_("The body is not a Telegram update.")


class BadUpdate(QingshenError):
    """A webhook body that is not a Telegram update (answered 400, naming the field where one is wrong)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _UserIn(_Strict):
    id: int
    is_bot: bool
    first_name: str
    language_code: str | None = None


class _ChatIn(_Strict):
    id: int
    type: str


class _MessageIn(_Strict):
    message_id: int
    date: int
    chat: _ChatIn
    from_: _UserIn | None = Field(default=None, alias="from")
    text: str | None = None


class _CallbackQueryIn(_Strict):
    id: str
    from_: _UserIn = Field(alias="from")
    chat_instance: str
    data: str | None = None
    message: dict[str, Any] | None = None  # the message under the keyboard: an old one, or "inaccessible"


class _UpdateIn(_Strict):
    """The fields of an update this adapter reads, with their types (python-telegram-bot trusts them)."""

    update_id: int
    message: _MessageIn | None = None
    callback_query: _CallbackQueryIn | None = None


def _tr(msgid: str) -> str:
    return gettext_for(DEFAULT_LOCALE)(msgid)


def depth(value: object) -> int:
    """How deeply JSON containers nest in `value` (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after is becoming a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class _Window:
    """At most `limit` requests in any `period` seconds (a sliding window, on one event loop)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.times: deque[float] = deque()

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            while self.times and self.times[0] <= now - self.period:
                self.times.popleft()
            if len(self.times) < self.limit:
                self.times.append(now)
                return
            await asyncio.sleep(self.times[0] + self.period - now)


class PacedLimiter(BaseRateLimiter[int]):
    """Telegram's limits: 30 messages a second overall, 20 a minute per group chat; after a RetryAfter every
    request waits it out. `rate_limit_args` is how many RetryAfters to wait out and retry (default 0: raise).

    Used when python-telegram-bot's AIORateLimiter cannot be (it needs aiolimiter); same `rate_limit_args`."""

    def __init__(self, per_second: int = 30, group_per_minute: int = 20) -> None:
        self.overall = _Window(per_second, 1.0)
        self.group_per_minute = group_per_minute
        self.groups: dict[str, _Window] = {}
        self.paused_until = 0.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retries = rate_limit_args or 0
        for attempt in range(retries + 1):
            await self._wait(data.get("chat_id"))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as e:
                self.paused_until = max(self.paused_until, time.monotonic() + retry_seconds(e))
                if attempt == retries:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _wait(self, chat_id: object) -> None:
        pause = self.paused_until - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        if _is_group(chat_id):
            window = self.groups.setdefault(str(chat_id), _Window(self.group_per_minute, 60.0))
            await window.acquire()
        await self.overall.acquire()


def default_limiter() -> BaseRateLimiter[int]:
    """python-telegram-bot's AIORateLimiter where aiolimiter is installed (the [rate-limiter] extra), else ours."""
    try:
        return AIORateLimiter()
    except RuntimeError:
        return PacedLimiter()


def _is_group(chat_id: object) -> bool:
    return (isinstance(chat_id, int) and chat_id < 0) or (isinstance(chat_id, str) and chat_id.startswith(("-", "@")))


class _LoopThread:
    """An asyncio event loop on a daemon thread; coroutines are handed to it from any thread or loop."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


def _locale(language_code: str | None) -> str | None:
    code = (language_code or "").lower()
    if code.startswith("zh"):
        return "zh_CN"
    return "en" if code.startswith("en") else None


def render(outbound: Outbound) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """Messages of at most 4096 characters; the choices as an inline keyboard under the last one (as numbered
    text where an id is too long for callback data)."""
    keyboard = None
    text = outbound.text
    if outbound.choices and all(len(c.id.encode()) <= MAX_CALLBACK_DATA for c in outbound.choices):
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.id)]
                                         for c in outbound.choices])
    elif outbound.choices:
        text = numbered(outbound)
    chunks = [text[i:i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
    return [(chunk, keyboard if i == len(chunks) - 1 else None) for i, chunk in enumerate(chunks)]


class TelegramChannel:
    name = "telegram"

    def __init__(self, config: TelegramConfig, sessions: sessionmaker[Session], *, poll_timeout: int = 25,
                 limiter: BaseRateLimiter[int] | None = None, window: int = DEFAULT_CALLBACK_WINDOW,
                 clock: Clock = utcnow) -> None:
        self.config = config
        self.sessions = sessions
        self.window, self.clock = window, clock
        self.bot_id = config.token.partition(":")[0]
        self.poll_timeout = poll_timeout
        self._thread = _LoopThread("telegram-bot")
        self.bot: ExtBot[int] = ExtBot(
            config.token, base_url=config.base_url, request=HTTPXRequest(connection_pool_size=16),
            get_updates_request=HTTPXRequest(read_timeout=10.0), rate_limiter=limiter or default_limiter(),
        )
        self._init_lock: asyncio.Lock | None = None
        self._started = False
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: ChannelSettings, sessions: sessionmaker[Session]) -> TelegramChannel | None:
        if settings.telegram is None:
            return None
        return cls(settings.telegram, sessions, window=settings.callback_window)

    # -- reading updates ---------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str]) -> None:
        expected = (self.config.secret or "").encode()
        given = headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            raise SignatureError("The Telegram secret token is missing or wrong.")

    def parse(self, raw: RawRequest) -> Inbound | None:
        """The verified update's message: SignatureError (the secret token, a stale date), BadUpdate."""
        self.verify(raw.headers)
        update = self.update_of(raw.body)
        self.check_fresh(update)
        return self.inbound_of(update)

    def update_of(self, body: bytes) -> Update:
        """The body as an Update, once its shape and types are checked; BadUpdate otherwise."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, absurd numbers, nested beyond the parser
            raise BadUpdate(_tr(NOT_JSON)) from None
        if not isinstance(data, dict):
            raise BadUpdate(_tr(NOT_JSON))
        if depth(data) > MAX_DEPTH:
            raise BadUpdate(_tr(TOO_DEEP).format(limit=MAX_DEPTH))
        try:
            _UpdateIn.model_validate(data)
        except ValidationError as e:
            first = e.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            log.info("telegram: update field %s: %s", field, first["msg"])
            raise BadUpdate(_tr(BAD_FIELD).format(field=field), field) from None
        try:
            update = Update.de_json(data, self.bot)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError, OSError, RecursionError):
            raise BadUpdate(_tr(NOT_AN_UPDATE)) from None
        if update is None:
            raise BadUpdate(_tr(NOT_AN_UPDATE))
        return update

    def check_fresh(self, update: Update) -> None:
        """StaleCallback when the update's message is dated outside the window (a pressed button has no date
        of its own: its update_id alone says whether it came before)."""
        if update.message is not None:
            check_fresh(int(update.message.date.timestamp()), window=self.window, now=self.clock(),
                        what=f"telegram update {update.update_id}")

    def accept(self, update: Update) -> bool:
        """Whether to handle the update: fresh, and its update_id not handled before (by any process)."""
        try:
            self.check_fresh(update)
        except SignatureError as e:
            log.warning("telegram: an update was not handled: %s", e)
            return False
        keep_for = max(UPDATE_IDS_FOR, dedupe_for(self.window))
        if not first_time(self.sessions, f"telegram:update:{self.bot_id}:{update.update_id}", keep_for, self.clock()):
            log.info("telegram: update %s was already handled", update.update_id)
            return False
        return True

    def inbound_of(self, update: Update) -> Inbound | None:
        query = update.callback_query
        if query is not None and query.data:
            return Inbound(self.name, str(query.from_user.id), choice=query.data,
                           locale=_locale(query.from_user.language_code))
        message = update.message
        if message is not None and message.text and message.from_user is not None:
            return Inbound(self.name, str(message.from_user.id), text=message.text,
                           locale=_locale(message.from_user.language_code))
        return None

    # -- answering and pushing ---------------------------------------------------------------------

    async def _ready(self) -> None:
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            if not self._started:
                await self.bot.initialize()
                self._started = True

    async def _send(self, chat_id: int | str, outbound: Outbound, retries: int) -> None:
        await self._ready()
        for text, keyboard in render(outbound):
            await self.bot.send_message(chat_id, text, reply_markup=keyboard, rate_limit_args=retries)

    async def _answer(self, update: Update, replies: list[Outbound]) -> None:
        await self._ready()
        query = update.callback_query
        if query is not None:
            await self.bot.answer_callback_query(query.id, rate_limit_args=REPLY_RETRIES)
            if query.message is not None:  # one answer per question: the pressed keyboard goes away
                await self.bot.edit_message_reply_markup(chat_id=query.message.chat.id,
                                                         message_id=query.message.message_id, reply_markup=None,
                                                         rate_limit_args=REPLY_RETRIES)
        chat = update.effective_chat
        if chat is None:
            return
        for reply in replies:
            await self._send(chat.id, reply, REPLY_RETRIES)

    def send(self, address: str, payload: Mapping[str, Any], *, key: str) -> None:
        """Push one outbox message; DeliveryError says whether to try again (and when)."""
        chat_id: int | str = int(address) if address.lstrip("-").isdigit() else address
        try:
            self._thread.run(self._send(chat_id, outbound_of(payload), 0))
        except RetryAfter as e:
            raise DeliveryError(f"telegram: flood control ({e})", retry=True, retry_after=retry_seconds(e)) from e
        except (Forbidden, BadRequest) as e:  # blocked by the user, chat not found, ...: trying again won't help
            raise DeliveryError(f"telegram: {e.message}", retry=False) from e
        except (TelegramError, TimeoutError) as e:
            raise DeliveryError(f"telegram: {e}", retry=True) from e

    # -- webhook and polling -----------------------------------------------------------------------

    def routes(self, dispatch: Dispatch) -> list[BaseRoute]:
        if self.config.mode != "webhook":
            return []

        async def webhook(request: Request) -> Response:
            try:
                self.verify({SECRET_HEADER: request.headers.get(SECRET_HEADER, "")})
            except SignatureError:
                return Response(status_code=403)
            raw = await read_request(request)
            if raw is None:
                return Response(status_code=413)
            try:
                update = self.update_of(raw.body)
            except BadUpdate as e:
                log.warning("telegram: a webhook body was refused (400): %s", e)
                return JSONResponse({"error": {"error": "invalid_update", "field": e.field, "message": e.message}},
                                    status_code=400)
            if not await run_in_threadpool(self.accept, update):
                return Response()
            inbound = self.inbound_of(update)
            if inbound is not None:
                replies = await run_in_threadpool(answer, dispatch, inbound)
                try:
                    await self._thread.run_async(self._answer(update, replies))
                except (TelegramError, TimeoutError) as e:  # answered 200 all the same: a retry would redo it
                    log.warning("telegram: the replies to update %s were not sent: %s", update.update_id, e)
            return Response()

        return [Route(WEBHOOK_PATH, webhook, methods=["POST"])]

    def start(self, dispatch: Dispatch, public_url: str | None) -> None:
        """At start-up: register the webhook (when the public URL is known), or start polling in a thread."""
        if self.config.mode == "polling":
            self._poller = threading.Thread(target=self.run_polling, args=(self._stop, dispatch),
                                            name="telegram-polling", daemon=True)
            self._poller.start()
        elif public_url is None:
            log.warning("telegram: QINGSHEN_PUBLIC_URL is not set, so the webhook was not registered with "
                        "Telegram (setWebhook with the secret token, or set the URL and restart)")
        else:
            try:
                self.set_webhook(public_url)
            except (TelegramError, TimeoutError) as e:
                log.warning("telegram: setWebhook failed (%s); the webhook stays as Telegram has it", e)

    def set_webhook(self, public_url: str) -> None:
        """Tell Telegram where the webhook is (`<public_url>/webhooks/telegram`) and its secret token."""
        async def call() -> None:
            await self._ready()
            await self.bot.set_webhook(public_url.rstrip("/") + WEBHOOK_PATH, secret_token=self.config.secret,
                                       allowed_updates=list(ALLOWED_UPDATES))

        self._thread.run(call())

    def run_polling(self, stop: threading.Event, dispatch: Dispatch) -> None:
        """Long-poll getUpdates until `stop` is set (checked between polls), answering every update; on the
        way out the last updates are confirmed."""
        self._thread.run(self._drop_webhook())
        offset: int | None = None
        while not stop.is_set():
            try:
                updates = self._thread.run(self._poll(offset), timeout=self.poll_timeout + CALL_TIMEOUT)
            except RetryAfter as e:
                stop.wait(retry_seconds(e))
                continue
            except (NetworkError, Conflict, TimeoutError) as e:
                log.warning("telegram: getUpdates failed (%s); polling again in 5 seconds", e)
                stop.wait(5)
                continue
            for update in updates:
                offset = update.update_id + 1
                self._handle(update, dispatch)
        if offset is not None:  # confirm the last batch, or a restart would answer it again
            try:
                self._thread.run(self.bot.get_updates(offset=offset, timeout=0, limit=1))
            except (TelegramError, TimeoutError) as e:
                log.warning("telegram: the last updates could not be confirmed (%s)", e)

    async def _drop_webhook(self) -> None:
        await self._ready()
        await self.bot.delete_webhook()  # getUpdates is refused while a webhook is set

    async def _poll(self, offset: int | None) -> tuple[Update, ...]:
        await self._ready()
        return await self.bot.get_updates(offset=offset, timeout=self.poll_timeout,
                                          allowed_updates=list(ALLOWED_UPDATES))

    def _handle(self, update: Update, dispatch: Dispatch) -> None:
        inbound = self.inbound_of(update) if self.accept(update) else None
        if inbound is None:
            return
        replies = answer(dispatch, inbound)
        try:
            self._thread.run(self._answer(update, replies))
        except (TelegramError, TimeoutError) as e:
            log.warning("telegram: the replies to update %s were not sent: %s", update.update_id, e)

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=self.poll_timeout + 15)
        try:
            if self._started:
                self._thread.run(self.bot.shutdown(), timeout=10)
        finally:
            self._thread.close()

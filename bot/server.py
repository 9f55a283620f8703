"""One HTTP process: the web chat page, the generic JSON API and the health check.

| route | auth | answer |
|---|---|---|
| `GET /` | none | the web chat page (bot/static) |
| `POST /api/v1/messages` | key | `{"replies": [{"text", "choices": [{"id", "label"}]}]}` |
| `POST /api/v1/assess` | key | the `qingshen assess` contract: object -> object, array -> array |
| `GET /api/v1/users/{user_id}/inbox` | key | `{"messages": [...]}` (pending pushes, marked delivered) |
| `GET /api/v1/users/{user_id}/inbox/events` | key | `text/event-stream`: one `push` event per pending push (below) |
| `POST /api/v1/users/{user_id}/inbox/ack` | key | `{"ids": [n, ...]}` -> `{"acknowledged": [n, ...]}` (now delivered) |
| `GET /api/v1/ping` | key | `{"pong": true}` (the benchmark's baseline) |
| `GET /healthz` | none | `{"status": "ok"}`, or 503 `{"status": "unavailable"}` when the database is not |

The live inbox (the web chat page's; any client may use it). The stream starts with `retry: 3000` and an
`event: locale` (`{"locale": "zh_CN" | "en" | null}`, the contact's language), then sends each due push
not yet acknowledged as `id: <n>` / `event: push` / `data: {"id": n, "text", "choices": [...]}`, with a
`: keepalive` comment every 15 s; it ends after a minute and the client reconnects. New pushes are
looked for every few seconds by one query for all the process's open streams (InboxHub). A push counts
as delivered only when acknowledged: by `POST .../inbox/ack`, or by reconnecting with `Last-Event-ID: <n>`
(acknowledges push n). Until then it stays pending and is sent again on the next connection, so a
receiver drops ids it has already shown. The channel is X-Qingshen-Channel (or `?channel=` for
EventSource, which cannot set headers). `POST /api/v1/messages` answers with `Content-Language: zh-CN |
en`, the contact's language after the message.

Every error is JSON, `{"error": {"error": kind, "field": name | null, "message": sentence}}`, the object
`qingshen assess` prints. `/api/*` needs `Authorization: Bearer <key>` unless the server runs in demo mode.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels import web
from bot.channels.web import ApiError
from bot.cli import InputError, assess_payload, decode_input, encode_json, load_json, parse_as_of
from bot.config import Settings
from bot.turns import run_turn
from handlers import inbox as inbox_mod
from handlers.messages import Inbound, Outbound
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_ASSESS_ITEMS = 200
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)

INTERNAL = N_("Sorry, something went wrong on our side. Please try again later.")
NO_KEY_CONFIGURED = N_("No API key is configured on this server: set QINGSHEN_API_KEYS, or run it in "
                       "demo mode.")
BAD_KEY = N_("A valid API key is needed: send the header Authorization: Bearer <key>.")
TOO_LARGE = N_("The request body is larger than {limit} bytes.")
NOT_JSON_TYPE = N_("The request body must be JSON, sent with Content-Type: application/json.")
BAD_LENGTH = N_("The Content-Length header is not a number.")
TOO_MANY = N_("At most {limit} fact objects can be assessed in one request.")
NOT_FOUND = N_("There is nothing at this address.")
NOT_ALLOWED = N_("This address does not accept the method {method}.")
HTTP_ERROR = N_("The request failed with HTTP status {status}.")
BAD_ACK = N_("ids must be a list of 1 to {limit} message ids (positive whole numbers).")

INBOX_POLL_SECONDS = 2.0  # how often a live inbox looks for new pushes (they may come from another process)
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 60.0  # a live inbox connection ends after this long; the client reconnects (and a server
# shutting down waits at most this long for open streams, unless uvicorn has timeout_graceful_shutdown)
RETRY_MS = 3000
MAX_ACK = inbox_mod.MAX_BATCH
LOCALE_TAGS = {"zh_CN": "zh-CN", "en": "en"}


class Conversation(Protocol):
    """What the server needs of handlers.dispatcher.Dispatcher."""

    def dispatch(self, inbound: Inbound) -> list[Outbound]: ...


def _tr(msgid: str) -> str:
    return gettext_for(DEFAULT_LOCALE)(msgid)


def error_response(status: int, kind: str, field: str | None, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ApiError(status, kind, field, message).to_dict(), status_code=status, headers=headers)


class GuardMiddleware:
    """Security headers on every response, `Cache-Control: no-store` on the API, and the one place an
    unexpected exception is logged (with its traceback) and turned into a 500 JSON sentence."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, "internal_error", None, _tr(INTERNAL))
            await response(scope, receive, send_with_headers)


class AuthMiddleware:
    """`Authorization: Bearer <key>` on /api/*, compared in constant time, unless in demo mode."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.open = settings.demo
        self.keys = tuple(k.encode() for k in settings.api_keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.open or scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        challenge = {"WWW-Authenticate": "Bearer"}
        if not self.keys:
            response = error_response(401, "no_api_key_configured", "Authorization", _tr(NO_KEY_CONFIGURED),
                                      challenge)
        elif not self.authorized(_header(scope, b"authorization")):
            response = error_response(401, "unauthorized", "Authorization", _tr(BAD_KEY), challenge)
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def authorized(self, header: bytes | None) -> bool:
        scheme, _, given = (header or b"").partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        given = given.strip()
        ok = False
        for key in self.keys:  # no early exit: the time taken does not tell which key nearly matched
            ok |= hmac.compare_digest(given, key)
        return ok and bool(given)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


async def read_json(request: Request, limit: int) -> Any:
    """The JSON body, refused before it is all read when it is larger than `limit` bytes."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(400, "unsupported_content_type", "Content-Type", _tr(NOT_JSON_TYPE))
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ApiError(400, "invalid_header", "Content-Length", _tr(BAD_LENGTH))
        if int(length) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return load_json(decode_input(b"".join(chunks)))


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", None, _tr(TOO_LARGE).format(limit=limit))


def _json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status)


def _user_id(request: Request) -> str:
    user_id = str(request.path_params["user_id"])
    if not web.valid_user_id(user_id):
        raise ApiError(400, "invalid_field", "user_id", web.rule_message("user_id"))
    return user_id


def _ack_ids(payload: object) -> list[int]:
    """The ids of `{"ids": [n, ...]}`; ApiError(400) for anything else."""
    ids = payload.get("ids") if isinstance(payload, dict) and set(payload) == {"ids"} else None
    if not (isinstance(ids, list) and 1 <= len(ids) <= MAX_ACK
            and all(type(i) is int and 0 < i < 2**63 for i in ids)):
        raise ApiError(400, "invalid_field", "ids", _tr(BAD_ACK).format(limit=MAX_ACK))
    return sorted(set(ids))


def _event_id(header: str | None) -> int | None:
    """The push a reconnecting client says it got last (SSE Last-Event-ID), if it is one of ours."""
    value = (header or "").strip()
    return int(value) if value.isdigit() and len(value) <= 18 and int(value) > 0 else None


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    """One server-sent event; the JSON is on one line, so it is one `data:` field."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@dataclass(eq=False)
class Listener:
    """One open live inbox: woken when its user has due pushes it has not sent yet."""

    channel: str
    user_id: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    shown: set[int] = field(default_factory=set)  # sent on this connection, pending until acknowledged


class InboxHub:
    """Looks for new pushes for every open live inbox of this process with one query per interval (not
    one per connection), and wakes the connections that have some. Pushes may be queued by another
    process (the sweep, an officer's broadcast), so this polls the outbox rather than waiting on a signal."""

    def __init__(self, sessions: sessionmaker[Session], interval: float) -> None:
        self.sessions = sessions
        self.interval = interval
        self.listeners: set[Listener] = set()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, channel: str, user_id: str) -> Listener:
        listener = Listener(channel, user_id)
        self.listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def _run(self) -> None:
        while self.listeners:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except Exception:
                log.exception("live inbox: looking for new pushes failed; trying again")

    async def poll(self) -> None:
        by_channel: dict[str, set[str]] = {}
        for listener in self.listeners:
            by_channel.setdefault(listener.channel, set()).add(listener.user_id)
        for channel, users in by_channel.items():
            before = {id(lst): set(lst.shown) for lst in self.listeners if lst.channel == channel}
            due = await run_in_threadpool(inbox_mod.waiting, self.sessions, channel, users)
            for listener in list(self.listeners):
                if listener.channel != channel or id(listener) not in before:
                    continue
                ids = due.get(listener.user_id, set())
                listener.shown -= before[id(listener)] - ids  # acknowledged meanwhile: no need to exclude them
                if ids - listener.shown:
                    listener.wake.set()


def create_app(settings: Settings, dispatcher: Conversation, *, db_check: Callable[[], object] | None = None,
               routes: Sequence[BaseRoute] = (), sessions: sessionmaker[Session] | None = None,
               inbox_poll_seconds: float = INBOX_POLL_SECONDS, stream_seconds: float = STREAM_SECONDS) -> Starlette:
    """The whole HTTP surface; `routes` adds channel webhooks, `db_check` backs /healthz.

    `sessions` backs the inboxes (handlers.inbox); by default the dispatcher's own. Without any (a
    stand-in conversation in tests), `GET .../inbox` asks the stand-in's `inbox(channel, user_id)` and the
    live inbox answers 204 No Content (which tells an SSE client not to reconnect)."""
    store: sessionmaker[Session] | None = sessions if sessions is not None else getattr(dispatcher, "sessions", None)
    hub = InboxHub(store, inbox_poll_seconds) if store is not None else None
    # the dispatcher knows the language of a contact not stored yet (before consent: in its memory)
    known_locale: Callable[[str, str], str | None] | None = getattr(dispatcher, "locale_of", None)

    def locale_of(channel: str, user_id: str) -> str | None:
        if known_locale is not None:
            return known_locale(channel, user_id)
        return inbox_mod.locale_of(store, channel, user_id) if store is not None else None

    with_locale: Callable[[Inbound], tuple[list[Outbound], str | None]] | None = getattr(
        dispatcher, "dispatch_with_locale", None)

    def answer(inbound: Inbound) -> tuple[list[Outbound], str | None]:
        if with_locale is not None:  # the dispatcher knows the contact's language: no second query
            return with_locale(inbound)
        replies = dispatcher.dispatch(inbound)
        return replies, locale_of(inbound.channel, inbound.user_id)

    async def messages(request: Request) -> Response:
        channel = web.channel_of(request.headers.get(web.CHANNEL_HEADER))
        inbound = web.parse_message(await read_json(request, settings.max_body_bytes), channel)
        replies, locale = await run_turn(answer, inbound)  # bot.turns: a pool of its own, not anyio's
        headers = {"Content-Language": LOCALE_TAGS[locale]} if locale in LOCALE_TAGS else None
        # orjson: the bytes JSONResponse wrote (compact, UTF-8), a tenth of the encoding time
        return Response(encode_json({"replies": web.render_all(replies)}), media_type="application/json",
                        headers=headers)

    async def assess(request: Request) -> Response:
        as_of = parse_as_of(request.query_params.get("as_of"), "as_of")
        payload = await read_json(request, settings.max_body_bytes)
        if isinstance(payload, list) and len(payload) > MAX_ASSESS_ITEMS:
            raise ApiError(400, "too_many_items", None, _tr(TOO_MANY).format(limit=MAX_ASSESS_ITEMS))
        result = await run_in_threadpool(assess_payload, payload, as_of, shared=True)
        return Response(encode_json(result), media_type="application/json")

    async def inbox(request: Request) -> Response:
        channel = web.channel_of(request.headers.get(web.CHANNEL_HEADER))
        user_id = _user_id(request)
        if store is not None:
            pending = await run_in_threadpool(inbox_mod.fetch, store, channel, user_id)
        else:
            legacy: Callable[[str, str], list[Outbound]] | None = getattr(dispatcher, "inbox", None)
            pending = await run_in_threadpool(legacy, channel, user_id) if legacy is not None else []
        return _json({"messages": web.render_all(pending)})

    async def inbox_events(request: Request) -> Response:
        channel = web.channel_of(request.headers.get(web.CHANNEL_HEADER) or request.query_params.get("channel"))
        user_id = _user_id(request)
        if store is None:
            return Response(status_code=204)
        last = _event_id(request.headers.get("last-event-id"))
        if last is not None:  # a reconnecting client got this one
            await run_in_threadpool(inbox_mod.acknowledge, store, channel, user_id, [last])
        locale = await run_in_threadpool(locale_of, channel, user_id)

        async def stream() -> AsyncIterator[str]:
            assert hub is not None, "there is a store"
            listener = hub.subscribe(channel, user_id)
            try:
                yield f"retry: {RETRY_MS}\n\n" + sse("locale", {"locale": locale})
                started = time.monotonic()
                while True:
                    pushes = await run_in_threadpool(inbox_mod.pending, store, channel, user_id,
                                                     exclude=set(listener.shown))
                    for push in pushes:
                        listener.shown.add(push.id)
                        yield sse("push", {"id": push.id, **web.render(push.message)}, push.id)
                    left = stream_seconds - (time.monotonic() - started)
                    if left <= 0:
                        return
                    try:
                        await asyncio.wait_for(listener.wake.wait(), timeout=min(KEEPALIVE_SECONDS, left))
                    except TimeoutError:
                        if left > KEEPALIVE_SECONDS:
                            yield ": keepalive\n\n"
                    listener.wake.clear()
            finally:
                hub.unsubscribe(listener)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})

    async def inbox_ack(request: Request) -> Response:
        channel = web.channel_of(request.headers.get(web.CHANNEL_HEADER))
        user_id = _user_id(request)
        ids = _ack_ids(await read_json(request, settings.max_body_bytes))
        done = await run_in_threadpool(inbox_mod.acknowledge, store, channel, user_id, ids) if store else []
        return _json({"acknowledged": done})

    async def ping(request: Request) -> Response:
        return _json({"pong": True})

    async def healthz(request: Request) -> Response:
        if db_check is not None:
            try:
                await run_in_threadpool(db_check)
            except Exception:
                log.exception("health check: the database did not answer")
                return _json({"status": "unavailable"}, 503)
        return _json({"status": "ok"})

    async def page(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app_routes: list[BaseRoute] = [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/api/v1/ping", ping, methods=["GET"]),
        Route("/api/v1/messages", messages, methods=["POST"]),
        Route("/api/v1/assess", assess, methods=["POST"]),
        Route("/api/v1/users/{user_id}/inbox", inbox, methods=["GET"]),
        Route("/api/v1/users/{user_id}/inbox/events", inbox_events, methods=["GET"]),
        Route("/api/v1/users/{user_id}/inbox/ack", inbox_ack, methods=["POST"]),
        *routes,
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(
        routes=app_routes,
        middleware=[Middleware(GuardMiddleware), Middleware(AuthMiddleware, settings=settings)],
        exception_handlers={ApiError: _api_error, InputError: _input_error, HTTPException: _http_error},
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def _input_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InputError)
    return JSONResponse(exc.to_dict(), status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, "not_found", None, _tr(NOT_FOUND))
    if exc.status_code == 405:
        return error_response(405, "method_not_allowed", None, _tr(NOT_ALLOWED).format(method=request.method),
                              dict(exc.headers or {}))
    return error_response(exc.status_code, "http_error", None, _tr(HTTP_ERROR).format(status=exc.status_code))

"""One HTTP process: the web chat page, the generic JSON API and the health check.

| route | auth | answer |
|---|---|---|
| `GET /` | none | the web chat page (bot/static) |
| `POST /api/v1/messages` | key | `{"replies": [{"text", "choices": [{"id", "label"}]}]}` |
| `POST /api/v1/assess` | key | the `qingshen assess` contract: object -> object, array -> array |
| `GET /api/v1/users/{user_id}/inbox` | key | `{"messages": [...]}` (pending pushes, marked delivered) |
| `GET /api/v1/ping` | key | `{"pong": true}` (the benchmark's baseline) |
| `GET /healthz` | none | `{"status": "ok"}`, or 503 `{"status": "unavailable"}` when the database is not |

Every error is JSON, `{"error": {"error": kind, "field": name | null, "message": sentence}}`, the object
`qingshen assess` prints. `/api/*` needs `Authorization: Bearer <key>` unless the server runs in demo mode.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels import web
from bot.channels.web import ApiError
from bot.cli import InputError, assess_payload, load_json, parse_as_of
from bot.config import Settings
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
NOT_UTF8 = N_("The request body is not UTF-8 text.")
TOO_MANY = N_("At most {limit} fact objects can be assessed in one request.")
NOT_FOUND = N_("There is nothing at this address.")
NOT_ALLOWED = N_("This address does not accept the method {method}.")
HTTP_ERROR = N_("The request failed with HTTP status {status}.")


class Conversation(Protocol):
    """What the server needs of handlers.dispatcher.Dispatcher."""

    def dispatch(self, inbound: Inbound) -> list[Outbound]: ...

    def inbox(self, channel: str, user_id: str) -> list[Outbound]: ...


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
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", None, _tr(NOT_UTF8)) from None
    return load_json(text)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", None, _tr(TOO_LARGE).format(limit=limit))


def _json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status)


def create_app(settings: Settings, dispatcher: Conversation, *, db_check: Callable[[], object] | None = None,
               routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The whole HTTP surface; `routes` adds channel webhooks, `db_check` backs /healthz."""

    async def messages(request: Request) -> Response:
        channel = web.channel_of(request.headers.get(web.CHANNEL_HEADER))
        inbound = web.parse_message(await read_json(request, settings.max_body_bytes), channel)
        replies = await run_in_threadpool(dispatcher.dispatch, inbound)
        return _json({"replies": web.render_all(replies)})

    async def assess(request: Request) -> Response:
        as_of = parse_as_of(request.query_params.get("as_of"), "as_of")
        payload = await read_json(request, settings.max_body_bytes)
        if isinstance(payload, list) and len(payload) > MAX_ASSESS_ITEMS:
            raise ApiError(400, "too_many_items", None, _tr(TOO_MANY).format(limit=MAX_ASSESS_ITEMS))
        return _json(await run_in_threadpool(assess_payload, payload, as_of))

    async def inbox(request: Request) -> Response:
        channel = web.channel_of(request.headers.get(web.CHANNEL_HEADER))
        user_id = request.path_params["user_id"]
        if not web.valid_user_id(user_id):
            raise ApiError(400, "invalid_field", "user_id", web.rule_message("user_id"))
        pending = await run_in_threadpool(dispatcher.inbox, channel, user_id)
        return _json({"messages": web.render_all(pending)})

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

"""The Telegram Bot API, as much of it as python-telegram-bot uses here, over real HTTP.

`POST /bot<token>/<method>` with form fields (python-telegram-bot JSON-encodes the non-string ones) answers
`{"ok": true, "result": ...}` in the Bot API's shapes, or `{"ok": false, "error_code", "description",
"parameters"}`. Methods: getMe, sendMessage, answerCallbackQuery, editMessageReplyMarkup, getUpdates (long
polling over the queued updates), setWebhook, deleteWebhook. `fail` scripts error answers (429 with
`parameters.retry_after`, 403 "bot was blocked by the user", ...). The helpers build the updates a user's
actions produce.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_USER = {"id": 777000, "is_bot": True, "first_name": "清审", "username": "qingshen_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
JSON_FIELDS = {"chat_id", "message_id", "reply_markup", "offset", "limit", "timeout", "allowed_updates",
               "drop_pending_updates", "show_alert", "cache_time", "max_connections"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "zh-hans"}


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.failures: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self.webhook: dict[str, Any] | None = None
        self._update_id = 100
        self._message_id = 1000

    # -- scripting -------------------------------------------------------------------------------

    def fail(self, method: str, status: int, description: str, **parameters: Any) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        with self.lock:
            self.failures[method].append((status, body))

    def too_many(self, method: str = "sendMessage", retry_after: int = 1) -> None:
        self.fail(method, 429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def block(self, method: str = "sendMessage") -> None:
        self.fail(method, 403, "Forbidden: bot was blocked by the user")

    # -- what users do ---------------------------------------------------------------------------

    def _next_update(self) -> int:
        with self.lock:
            self._update_id += 1
            return self._update_id

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        message = {"message_id": self._new_message_id(), "date": int(time.time()), "text": text,
                   "chat": {"id": user_id, "type": "private", "first_name": f"User{user_id}"}, "from": _user(user_id)}
        return {"update_id": self._next_update(), "message": message}

    def press_update(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        query = {"id": f"cq{self._next_update()}", "from": _user(user_id), "chat_instance": "ci-1",
                 "message": message, "data": data}
        return {"update_id": self._next_update(), "callback_query": query}

    def queue(self, update: dict[str, Any]) -> None:
        with self.lock:
            self.updates.append(update)

    # -- reading what the bot did ----------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m["chat"]["id"] == chat_id]

    def count(self, method: str) -> int:
        with self.lock:
            return sum(1 for name, _ in self.calls if name == method)

    def params(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for name, p in self.calls if name == method]

    # -- the server ------------------------------------------------------------------------------

    def _new_message_id(self) -> int:
        with self.lock:
            self._message_id += 1
            return self._message_id

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        form = parse_qsl((await request.body()).decode(), keep_blank_values=True)  # urlencoded, no files here
        params = {k: json.loads(v) if k in JSON_FIELDS else v for k, v in form}
        with self.lock:
            self.calls.append((method, params))
            scripted = self.failures[method].popleft() if self.failures[method] else None
        if scripted is not None:
            return JSONResponse(scripted[1], status_code=scripted[0])
        handler = getattr(self, "_" + method, None)
        if handler is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                                status_code=404)
        return JSONResponse({"ok": True, "result": await handler(params)})

    async def _getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = params["chat_id"]
        message = {"message_id": self._new_message_id(), "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "group"},
                   "text": params["text"]}
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        with self.lock:
            self.sent.append(message)
        return message

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        with self.lock:
            for message in self.sent:
                if message["message_id"] == params.get("message_id"):
                    message.pop("reply_markup", None)
                    return message
        return True

    async def _setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self.lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed ones go
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

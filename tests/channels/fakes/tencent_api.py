"""Tencent's APIs, as much as the adapters use, over real HTTP: WeCom's qyapi and the official account's.

- `FakeQyapi`: `GET /cgi-bin/gettoken?corpid=&corpsecret=`, `POST /cgi-bin/message/send?access_token=`.
- `FakeMp`: `GET /cgi-bin/token?grant_type=client_credential&appid=&secret=`,
  `POST /cgi-bin/message/custom/send`, `POST /cgi-bin/message/template/send`.

Both count token fetches, check the access token on every call (42001 once `expire_token()` was called,
40014 for a token they never issued), record what was sent, and answer scripted errcodes (`fail(45009)`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ERRMSG = {
    40001: "invalid credential, access_token is invalid or not latest",
    40014: "invalid access_token",
    42001: "access_token expired",
    45009: "api freq out of limit",
    45015: "response out of time limit or subscription is canceled",
    43004: "require subscribe",
    -1: "system busy",
}


class _TencentFake:
    token_path = ""
    send_paths: tuple[str, ...] = ()

    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id, self.secret = app_id, secret
        self.lock = threading.Lock()
        self.token_fetches = 0
        self.valid: str | None = None
        self.issued: set[str] = set()
        self.sent: list[tuple[str, dict[str, Any], float]] = []  # path, body, time.monotonic()
        self.rejected: list[tuple[str, int]] = []
        self.failures: deque[int] = deque()
        self.stuck_expired = False

    # -- scripting ---------------------------------------------------------------------------------

    def fail(self, *errcodes: int) -> None:
        """The next sends answer these errcodes, in order."""
        with self.lock:
            self.failures.extend(errcodes)

    def expire_token(self, *, for_good: bool = False) -> None:
        """The current token stops working (42001); with `for_good`, every new one too."""
        with self.lock:
            self.valid = None
            self.stuck_expired = for_good

    # -- reading -----------------------------------------------------------------------------------

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [body for p, body, _ in self.sent if path is None or p == path]

    def timed(self, path: str) -> list[tuple[float, dict[str, Any]]]:
        with self.lock:
            return [(at, body) for p, body, at in self.sent if p == path]

    # -- the server --------------------------------------------------------------------------------

    def app(self) -> Starlette:
        routes = [Route(self.token_path, self._token, methods=["GET"])]
        routes += [Route(path, self._send, methods=["POST"]) for path in self.send_paths]
        return Starlette(routes=routes)

    def _credentials_ok(self, request: Request) -> bool:
        raise NotImplementedError

    async def _token(self, request: Request) -> JSONResponse:
        with self.lock:
            self.token_fetches += 1
            if not self._credentials_ok(request):
                return _error(40001)
            token = f"token-{self.token_fetches}"
            self.issued.add(token)
            self.valid = None if self.stuck_expired else token
        return JSONResponse({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    async def _send(self, request: Request) -> JSONResponse:
        token = request.query_params.get("access_token", "")
        body = json.loads(await request.body())
        path = request.url.path
        with self.lock:
            if token not in self.issued:
                code = 40014
            elif token != self.valid:
                code = 42001
            else:
                code = self.failures.popleft() if self.failures else 0
            if code:
                self.rejected.append((path, code))
                return _error(code)
            self.sent.append((path, body, time.monotonic()))
        return JSONResponse(self._ok(body))

    def _ok(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"errcode": 0, "errmsg": "ok"}


def _error(code: int) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": ERRMSG.get(code, "error")})


class FakeQyapi(_TencentFake):
    token_path = "/cgi-bin/gettoken"
    send_paths = ("/cgi-bin/message/send",)

    def _credentials_ok(self, request: Request) -> bool:
        q = request.query_params
        return q.get("corpid") == self.app_id and q.get("corpsecret") == self.secret

    def _ok(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": f"m{len(self.sent)}"}
        if body.get("msgtype") == "template_card":
            result["response_code"] = f"rc{len(self.sent)}"
        return result

    def messages(self) -> list[dict[str, Any]]:
        return self.bodies("/cgi-bin/message/send")


class FakeMp(_TencentFake):
    token_path = "/cgi-bin/token"
    send_paths = ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send")

    def _credentials_ok(self, request: Request) -> bool:
        q = request.query_params
        return (q.get("grant_type") == "client_credential" and q.get("appid") == self.app_id
                and q.get("secret") == self.secret)

    def _ok(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if "template_id" in body:
            result["msgid"] = 200228332 + len(self.sent)
        return result

    def custom(self) -> list[dict[str, Any]]:
        return self.bodies("/cgi-bin/message/custom/send")

    def templates(self) -> list[dict[str, Any]]:
        return self.bodies("/cgi-bin/message/template/send")

"""A webhook receiver that remembers every delivery, for tests and the bench (loopback only).

It behaves the way a real idempotent receiver does: each POST is one *attempt*; the first attempt with
a given `Idempotency-Key` that is answered 2xx is *accepted*, later ones with that key are answered 200
and dropped. `respond` scripts the answers (e.g. a 429 with Retry-After, then 200) per key and attempt.

    with WebhookSink() as sink:
        channel = WebhookChannel(sink.url)
        ...
        assert sink.accepted_keys() == expected
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# (key, number of this attempt for the key, starting at 1) -> (status, headers)
Responder = Callable[[str, int], tuple[int, Mapping[str, str]]]


def always_ok(key: str, attempt: int) -> tuple[int, Mapping[str, str]]:
    return 200, {}


@dataclass
class Attempt:
    key: str
    address: str
    message: dict[str, Any]
    status: int
    at: float  # time.monotonic() when it arrived


@dataclass
class _State:
    respond: Responder
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: list[Attempt] = field(default_factory=list)
    accepted: dict[str, Attempt] = field(default_factory=dict)
    per_key: Counter[str] = field(default_factory=Counter)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like a real receiver behind a proxy

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        key = self.headers.get("Idempotency-Key") or str(body.get("key", ""))
        state = self.server.state
        with state.lock:
            state.per_key[key] += 1
            status, headers = state.respond(key, state.per_key[key])
            message = dict(body.get("message") or {})
            attempt = Attempt(key, str(body.get("address", "")), message, status, time.monotonic())
            state.attempts.append(attempt)
            if 200 <= status < 300 and key not in state.accepted:
                state.accepted[key] = attempt
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the sink is read through its methods


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.dropped = 0  # connections a client abandoned mid-request (e.g. a sender killed with -9)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            self.dropped += 1
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class WebhookSink:
    """An HTTP receiver on 127.0.0.1 at a free port, serving from a background thread."""

    def __init__(self, respond: Responder = always_ok) -> None:
        self._state = _State(respond)
        self._server = _Server(self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/push"

    def start(self) -> WebhookSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookSink:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def set_responder(self, respond: Responder) -> None:
        with self._state.lock:
            self._state.respond = respond

    def attempts(self) -> list[Attempt]:
        with self._state.lock:
            return list(self._state.attempts)

    def accepted(self) -> list[Attempt]:
        """The first accepted attempt of each key, in the order they were accepted."""
        with self._state.lock:
            return list(self._state.accepted.values())

    def accepted_keys(self) -> set[str]:
        with self._state.lock:
            return set(self._state.accepted)

    def attempts_by_key(self) -> Counter[str]:
        with self._state.lock:
            return Counter(self._state.per_key)

    def count_dropped(self) -> int:
        """Connections a client abandoned in the middle of a request."""
        return self._server.dropped

    def count_accepted(self) -> int:
        with self._state.lock:
            return len(self._state.accepted)

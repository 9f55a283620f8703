"""5,000 random and hostile requests against a real server (loopback only): never a 5xx, still healthy.

The conversation is the real dispatcher on a migrated SQLite file, so hostile text goes all the way
through the interview and into storage. The loop is bounded in count; each request in time (30 s), the run is
not (its speed is printed, not asserted).
"""

from __future__ import annotations

import json
import os
import random
import string
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.server import create_app
from tests.bot.bot_testkit import API_KEY, real_conversation, serve, settings

REQUESTS = 5000
SEED = int(os.environ.get("QINGSHEN_FUZZ_SEED", "20261122"))  # set it to explore other inputs
AUTH = {"Authorization": f"Bearer {API_KEY}"}
JSON = {"Content-Type": "application/json"}

HOSTILE_TEXT = [
    "'; DROP TABLE contacts; --", "1 OR 1=1", "\" OR \"\"=\"", "%00", "../../etc/passwd", "${jndi:ldap://x}",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)", "{{7*7}}", "{0.__class__}",
    "\u202e\u0645\u0631\u062d\u0628\u0627", "🏭" * 300, "\ufeff\u200b\u200d", "\uffff\ufffe", "A\u0300" * 500,
    "重新开始", "同意", "山东", "水泥", "3011", "是", "否", "不知道", "返回", "帮助", "我的期限", "删除我的数据",
    "1", "2", "99", "-1", "1e400", "2026-02-30", "2026年13月1日", "中文" * 1000, "\t\n\r", "语言", "english",
]
FACT_NAMES = [
    "province", "industry_code", "scale", "employees", "revenue_10k_yuan", "exceeds_emission_standard",
    "exceeds_total_quota", "exceeds_energy_limit", "missed_energy_target", "toxic_classes", "has_extraction",
    "has_industrial_coating", "above_designated_size", "on_master_list", "list_published_on",
    "last_audit_completed_on", "evaluated_on", "accepted_on", "central_enterprise", "no_such_fact", "",
]


def random_scalar(rng: random.Random) -> Any:
    return rng.choice([
        None, True, False, 0, -1, 2**63, -(2**70), 1e308, -1e-308, 0.5, "", "shandong", "37", "3011", "30111",
        "large", "micro", "2026-03-01", "2026-02-30", "hazardous_waste", rng.choice(HOSTILE_TEXT),
        "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40))),
    ])


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.6:
        return random_scalar(rng)
    if roll < 0.8:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(FACT_NAMES): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def control_text(rng: random.Random) -> str:
    return "".join(chr(rng.randint(0, 0x1F)) if rng.random() < 0.3 else rng.choice("abc中文") for _ in range(20))


def nested(rng: random.Random) -> bytes:
    depth = rng.randint(50, 30000)
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def message_body(rng: random.Random, users: list[str]) -> bytes:
    roll = rng.random()
    user = rng.choice(users)
    if roll < 0.45:
        text = rng.choice(HOSTILE_TEXT) if rng.random() < 0.8 else control_text(rng)
        return json.dumps({"user_id": user, "text": text}, ensure_ascii=rng.random() < 0.5).encode()
    if roll < 0.6:
        return json.dumps({"user_id": user, "choice": rng.choice(
            ["consent:yes", "yes", "no", "unknown", "shandong", "ind:3011", "ind:none", "cmd:restart", "x" * 200,
             "large", "<script>", "' OR 1=1"])}).encode()
    if roll < 0.8:
        return json.dumps({rng.choice(["user_id", "text", "choice", "locale", "x"]): random_value(rng)
                           for _ in range(rng.randint(0, 4))}).encode()
    if roll < 0.9:
        return json.dumps(random_value(rng)).encode()
    return json.dumps({"user_id": random_value(rng), "text": random_value(rng)}).encode()


def assess_body(rng: random.Random) -> bytes:
    def facts() -> dict[str, Any]:
        return {rng.choice(FACT_NAMES): random_value(rng) for _ in range(rng.randint(0, 6))}

    def plausible() -> dict[str, Any]:
        base: dict[str, Any] = {"province": rng.choice(["shandong", "shanxi", "xinjiang", "henan", "37", "14"]),
                                "industry_code": rng.choice(["3011", "0610", "2614", "3311", "4411", "9999"])}
        for name in rng.sample(FACT_NAMES[2:19], rng.randint(0, 6)):
            base[name] = random_scalar(rng)
        return base

    roll = rng.random()
    if roll < 0.4:
        return json.dumps(plausible()).encode()
    if roll < 0.7:
        return json.dumps(facts()).encode()
    if roll < 0.85:
        return json.dumps([plausible() if rng.random() < 0.5 else facts() for _ in range(rng.randint(0, 8))]).encode()
    return json.dumps(random_value(rng)).encode()


def hostile_bytes(rng: random.Random) -> bytes:
    return rng.choice([
        b"", b" ", b"null", b"{", b'{"user_id": "u", "text": "\xff\xfe\xfd"}', "{\"text\": \"é\"}".encode("latin-1"),
        '{"user_id": "u", "text": "中"}'.encode("utf-16"), b"\xef\xbb\xbf{}", b'{"user_id": "u", "text": NaN}',
        b'{"user_id": "u", "text": Infinity}', b"9" * 6000, b'{"a": 1, "a": 2}', b"\x00" * 100,
        b'{"user_id": "u\\u0000", "text": "x"}', b'{"user_id": "u", "text": "\\ud800"}',
        bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 3000))),
    ])


Request = tuple[str, str, bytes, dict[str, str]]


def make_request(rng: random.Random, users: list[str]) -> Request:
    path = rng.choice(["/api/v1/messages", "/api/v1/messages", "/api/v1/assess"])
    headers: dict[str, str] = {**AUTH, **JSON}
    roll = rng.random()
    if roll < 0.02:
        body = b'{"user_id": "u", "text": "' + b"x" * rng.randint(70_000, 1_000_000) + b'"}'
    elif roll < 0.07:
        body = nested(rng)
    elif roll < 0.17:
        body = hostile_bytes(rng)
    elif path.endswith("assess"):
        body = assess_body(rng)
    else:
        body = message_body(rng, users)
    if rng.random() < 0.03:
        headers["Content-Type"] = rng.choice(["text/plain", "application/xml", "", "application/json; charset=latin-1",
                                              "multipart/form-data; boundary=x"])
    if rng.random() < 0.03:
        headers["X-Qingshen-Channel"] = rng.choice(["web", "api", "WEB", "telegram", "../", "x y"])
    if rng.random() < 0.02:
        headers["Authorization"] = rng.choice(["Bearer", "Bearer x", f"Bearer {API_KEY[:-1]}", "Basic Zm9vOmJhcg=="])
    method = "POST" if rng.random() < 0.98 else rng.choice(["GET", "PUT", "DELETE", "PATCH"])
    return method, path, body, headers


@pytest.fixture(scope="module")
def base_url(real_sessions: sessionmaker[Session]) -> Iterator[str]:
    with serve(create_app(settings(), real_conversation(real_sessions))) as url:
        yield url


def send_all(base_url: str, requests: list[Request], on_answer: Callable[[Request, httpx.Response], None]) -> int:
    refused = 0
    client = httpx.Client(base_url=base_url, timeout=30)  # a request that hangs fails; the run's speed is not asserted
    try:
        for request in requests:
            method, path, body, headers = request
            try:
                response = client.request(method, path, content=body, headers=headers)
            except httpx.TransportError:
                # The server may close the socket on a body far over the limit before it is all sent.
                assert len(body) > settings().max_body_bytes, f"connection failed for {request!r:.300}"
                refused += 1
                client.close()
                client = httpx.Client(base_url=base_url, timeout=30)
                continue
            on_answer(request, response)
    finally:
        client.close()
    return refused


def test_hostile_requests_never_get_a_5xx(base_url: str) -> None:
    rng = random.Random(SEED)
    users = [f"fuzz-{i}" for i in range(40)] + ["'; DROP TABLE contacts; --", "<script>", "用户", "x" * 128]
    requests = [make_request(rng, users) for _ in range(REQUESTS)]
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    def check(request: Request, response: httpx.Response) -> None:
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} for {request!r:.300}: {response.text:.300}")
            return
        assert response.headers["content-type"].startswith("application/json"), request
        body = response.json()
        if response.status_code >= 400:
            assert set(body) == {"error"} and body["error"]["message"], body

    started = time.monotonic()
    refused = send_all(base_url, requests, check)
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {REQUESTS} requests in {elapsed:.1f}s; statuses {dict(sorted(statuses.items()))}; "
          f"{refused} oversized bodies cut off")
    assert not failures, "\n".join(failures[:20])
    assert statuses[200] > 500 and statuses[400] > 500 and statuses[413] + refused > 20

    with httpx.Client(base_url=base_url, timeout=30) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        r = client.post("/api/v1/messages", json={"user_id": "after-fuzz", "text": "你好"}, headers=AUTH)
        assert r.status_code == 200 and r.json()["replies"]

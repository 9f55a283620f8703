"""The HTTP surface against a real uvicorn server on loopback: auth, validation, limits, errors, contracts."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.cli import run_assess
from bot.server import INTERNAL, create_app
from rules.i18n import gettext_for
from tests.bot.bot_testkit import API_KEY, OTHER_KEY, FakeConversation, serve, settings

AUTH = {"Authorization": f"Bearer {API_KEY}"}
SHANDONG_CEMENT = {"province": "shandong", "industry_code": "3011"}


@pytest.fixture(scope="module")
def fake() -> FakeConversation:
    return FakeConversation()


@pytest.fixture(scope="module")
def client(fake: FakeConversation) -> Iterator[httpx.Client]:
    with serve(create_app(settings(), fake)) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def demo(fake: FakeConversation) -> Iterator[httpx.Client]:
    with serve(create_app(settings(demo=True, api_keys=()), fake)) as url, \
            httpx.Client(base_url=url, timeout=30) as c:
        yield c


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert {"error", "field", "message"} <= set(body["error"])
    assert body["error"]["message"]
    return dict(body["error"])


def post(client: httpx.Client, path: str, payload: object, **kw: Any) -> httpx.Response:
    headers = {**AUTH, **kw.pop("headers", {})}
    return client.post(path, content=json.dumps(payload).encode(),
                       headers={"Content-Type": "application/json", **headers}, **kw)


# -- auth -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": f"Bearer {OTHER_KEY}"}, {"Authorization": API_KEY}, {"Authorization": "Bearer"},
    {"Authorization": f"Basic {API_KEY}"}, {"Authorization": f"Bearer {API_KEY}x"},
])
def test_a_missing_or_wrong_key_is_refused(client: httpx.Client, headers: dict[str, str]) -> None:
    for r in (client.get("/api/v1/ping", headers=headers),
              client.post("/api/v1/messages", json={"user_id": "u", "text": "hi"}, headers=headers),
              client.post("/api/v1/assess", json={}, headers=headers),
              client.get("/api/v1/users/u/inbox", headers=headers)):
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        err = error_of(r)
        assert (err["error"], err["field"]) == ("unauthorized", "Authorization")


def test_the_right_key_is_accepted_whatever_the_case_of_bearer(client: httpx.Client) -> None:
    assert client.get("/api/v1/ping", headers=AUTH).json() == {"pong": True}
    assert client.get("/api/v1/ping", headers={"Authorization": f"bearer {API_KEY}"}).status_code == 200


def test_with_no_key_configured_every_api_request_is_refused(fake: FakeConversation) -> None:
    with serve(create_app(settings(api_keys=()), fake)) as url:
        for headers in ({}, AUTH):
            r = httpx.get(f"{url}/api/v1/ping", headers=headers)
            assert r.status_code == 401
            err = error_of(r)
            assert err["error"] == "no_api_key_configured"
            assert "QINGSHEN_API_KEYS" in err["message"]
        assert httpx.get(f"{url}/").status_code == 200  # the page is still served
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def test_demo_mode_needs_no_key(demo: httpx.Client, fake: FakeConversation) -> None:
    r = demo.post("/api/v1/messages", json={"user_id": "demo-user", "text": "你好"})
    assert r.status_code == 200
    assert r.json()["replies"][0]["text"] == "收到：你好"
    assert demo.get("/api/v1/ping").json() == {"pong": True}


def test_several_keys_each_work() -> None:
    with serve(create_app(settings(api_keys=(API_KEY, OTHER_KEY)), FakeConversation())) as url:
        for key in (API_KEY, OTHER_KEY):
            assert httpx.get(f"{url}/api/v1/ping", headers={"Authorization": f"Bearer {key}"}).status_code == 200


# -- the page -----------------------------------------------------------------------------------------


def test_the_page_is_served_with_a_strict_policy_and_no_inline_script(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "清审 · 清洁生产审核助手" in r.text
    assert 'name="viewport"' in r.text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", r.text, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", r.text), "no inline event handlers"
    assert not re.search(r"https?://", r.text), "no external resources"


@pytest.mark.parametrize(("path", "kind"), [("/static/app.js", "javascript"), ("/static/style.css", "text/css")])
def test_static_files_are_served(client: httpx.Client, path: str, kind: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert kind in r.headers["content-type"]
    assert "innerHTML" not in r.text and "http://" not in r.text and "https://" not in r.text


# -- messages -------------------------------------------------------------------------------------


def test_a_text_message_gets_replies_with_choices(client: httpx.Client, fake: FakeConversation) -> None:
    r = post(client, "/api/v1/messages", {"user_id": "api-user-1", "text": "山东"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.json() == {"replies": [
        {"text": "收到：山东", "choices": [{"id": "yes", "label": "是"}, {"id": "no", "label": "否"}]},
        {"text": "第二条", "choices": []},
    ]}
    last = fake.received[-1]
    assert (last.channel, last.user_id, last.text, last.choice) == ("api", "api-user-1", "山东", None)


def test_a_choice_and_the_web_channel_header(client: httpx.Client, fake: FakeConversation) -> None:
    r = post(client, "/api/v1/messages", {"user_id": "web-1", "choice": "yes", "locale": "en"},
             headers={"X-Qingshen-Channel": "web"})
    assert r.status_code == 200
    assert r.json()["replies"][0]["text"] == "收到：choice:yes"
    last = fake.received[-1]
    assert (last.channel, last.choice, last.text, last.locale) == ("web", "yes", None, "en")


def test_an_unknown_channel_header_is_refused(client: httpx.Client) -> None:
    r = post(client, "/api/v1/messages", {"user_id": "u", "text": "x"}, headers={"X-Qingshen-Channel": "wecom"})
    assert r.status_code == 400
    assert error_of(r)["field"] == "X-Qingshen-Channel"


@pytest.mark.parametrize(("payload", "field"), [
    ({"user_id": 5, "text": "hi"}, "user_id"),
    ({"user_id": None, "text": "hi"}, "user_id"),
    ({"text": "hi"}, "user_id"),
    ({"user_id": "", "text": "hi"}, "user_id"),
    ({"user_id": "   ", "text": "hi"}, "user_id"),
    ({"user_id": "x" * 129, "text": "hi"}, "user_id"),
    ({"user_id": "a\x00b", "text": "hi"}, "user_id"),
    ({"user_id": "a\nb", "text": "hi"}, "user_id"),
    ({"user_id": "u", "text": ["hi"]}, "text"),
    ({"user_id": "u", "text": 1}, "text"),
    ({"user_id": "u", "text": {"a": 1}}, "text"),
    ({"user_id": "u", "text": "x" * 2001}, "text"),
    ({"user_id": "u", "text": "   "}, "text"),
    ({"user_id": "u", "text": "a\x00b"}, "text"),
    ({"user_id": "u", "text": "a\x1bb"}, "text"),
    ({"user_id": "u", "text": "\ud800"}, "text"),
    ({"user_id": "u", "choice": True}, "choice"),
    ({"user_id": "u", "choice": ""}, "choice"),
    ({"user_id": "u", "text": "hi", "locale": "fr"}, "locale"),
    ({"user_id": "u"}, "text|choice"),
    ({"user_id": "u", "text": "hi", "choice": "yes"}, "text|choice"),
    ({"user_id": "u", "text": None, "choice": None}, "text|choice"),
    ({"user_id": "u", "text": "hi", "admin": True}, "admin"),
])
def test_wrong_fields_are_named(client: httpx.Client, payload: dict[str, Any], field: str) -> None:
    r = post(client, "/api/v1/messages", payload)
    assert r.status_code == 400, r.text
    assert error_of(r)["field"] == field


def test_line_breaks_tabs_and_2000_characters_are_fine(client: httpx.Client) -> None:
    assert post(client, "/api/v1/messages", {"user_id": "u", "text": "第一行\n\t第二行"}).status_code == 200
    assert post(client, "/api/v1/messages", {"user_id": "u" * 128, "text": "字" * 2000}).status_code == 200


@pytest.mark.parametrize("body", [[], "text", 1, None, [{"user_id": "u", "text": "x"}]])
def test_a_body_that_is_not_an_object_is_refused(client: httpx.Client, body: object) -> None:
    r = post(client, "/api/v1/messages", body)
    assert r.status_code == 400
    assert error_of(r)["error"] == "invalid_request"


@pytest.mark.parametrize(("content", "ctype", "field"), [
    (b'{"user_id": "u", "text": "x"}', "text/plain", "Content-Type"),
    (b'{"user_id": "u", "text": "x"}', None, "Content-Type"),
    (b'user_id=u&text=x', "application/x-www-form-urlencoded", "Content-Type"),
    (b'{"user_id": "u", "text": ', "application/json", None),
    (b"", "application/json", None),
    (b'{"user_id": "u", "text": "\xff\xfe"}', "application/json", None),
    (b'{"user_id": "u", "text": NaN}', "application/json", None),
    (b"[" * 20000, "application/json", None),
])
def test_wrong_content_is_a_400(client: httpx.Client, content: bytes, ctype: str | None,
                                field: str | None) -> None:
    headers = dict(AUTH)
    if ctype:
        headers["Content-Type"] = ctype
    r = client.post("/api/v1/messages", content=content, headers=headers)
    assert r.status_code == 400
    assert error_of(r)["field"] == field


def test_a_json_content_type_with_charset_is_fine(client: httpx.Client) -> None:
    r = client.post("/api/v1/messages", content=b'{"user_id": "u", "text": "x"}',
                    headers={**AUTH, "Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200


# -- size limit -----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_by_its_length(client: httpx.Client) -> None:
    big = json.dumps({"user_id": "u", "text": "x" * 70_000}).encode()
    r = client.post("/api/v1/messages", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert error_of(r)["error"] == "payload_too_large"


def test_a_streamed_body_over_the_limit_is_refused_while_streaming(client: httpx.Client) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"user_id": "u", "text": "'
        for _ in range(40):  # 40 x 4 KiB = 160 KiB, without a Content-Length
            sent += 1
            yield b"x" * 4096
        yield b'"}'

    r = client.post("/api/v1/messages", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert error_of(r)["error"] == "payload_too_large"


def raw_request(base_url: str, head: str, body: bytes = b"") -> bytes:
    """Send bytes no well-behaved client would send; returns the raw response."""
    url = httpx.URL(base_url)
    with socket.create_connection((url.host, url.port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_bad_content_length_is_a_400(client: httpx.Client) -> None:
    head = (f"POST /api/v1/messages HTTP/1.1\nHost: x\nAuthorization: Bearer {API_KEY}\n"
            "Content-Type: application/json\nContent-Length: -5\nConnection: close\n")
    answer = raw_request(str(client.base_url), head, b"{}")
    assert answer.startswith(b"HTTP/1.1 400")


# -- assess ---------------------------------------------------------------------------------------


def cli_answer(text: str, as_of: str = "2026-03-01") -> tuple[int, Any]:
    """What `qingshen assess` prints for this input (run in-process through run_assess)."""
    import sys

    out = io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        code = run_assess("-", as_of, out)
    finally:
        sys.stdin = stdin
    return code, json.loads(out.getvalue())


def assess(client: httpx.Client, content: str | bytes, as_of: str = "2026-03-01") -> httpx.Response:
    raw = content.encode() if isinstance(content, str) else content
    return client.post("/api/v1/assess", params={"as_of": as_of}, content=raw,
                       headers={**AUTH, "Content-Type": "application/json"})


def test_assess_an_object_gives_the_cli_object(client: httpx.Client) -> None:
    text = json.dumps(SHANDONG_CEMENT)
    r = assess(client, text)
    assert r.status_code == 200
    body = r.json()
    assert body == cli_answer(text)[1]
    assert {"as_of", "obligation", "grounds", "documents", "deadlines", "disclosure_fields", "report_to",
            "voluntary", "missing"} <= set(body)
    assert body["as_of"] == "2026-03-01"


def test_assess_an_array_gives_an_array(client: httpx.Client) -> None:
    text = json.dumps([SHANDONG_CEMENT, {"province": "shanxi"}, {}])
    r = assess(client, text)
    assert r.status_code == 200
    assert isinstance(r.json(), list) and len(r.json()) == 3
    assert r.json() == cli_answer(text)[1]


def test_assess_without_as_of_uses_today(client: httpx.Client) -> None:
    r = client.post("/api/v1/assess", json={}, headers=AUTH)
    assert r.status_code == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", r.json()["as_of"])


@pytest.mark.parametrize(("text", "field"), [
    ('{"province": "zz"}', "province"),
    ('{"province": "shandong", "industry_code": "30x1"}', "industry_code"),
    ('{"industry_code": "30111"}', "industry_code"),
    ('{"no_such_fact": 1}', "no_such_fact"),
    ('{"employees": "many"}', "employees"),
    ('[{"province": "shandong"}, {"province": "atlantis"}]', "province"),
    ("{not json", None),
    ("", None),
    ("NaN", None),
    ("1" * 5000, None),
    ("[" * 5000 + "]" * 5000, None),
])
def test_bad_facts_give_the_cli_error_object(client: httpx.Client, text: str, field: str | None) -> None:
    r = assess(client, text)
    assert r.status_code == 400
    code, printed = cli_answer(text)
    assert code == 2
    assert r.json() == printed
    assert error_of(r)["field"] == field


def test_the_index_of_a_bad_fact_object_is_given(client: httpx.Client) -> None:
    r = assess(client, '[{"province": "shandong"}, {"province": "atlantis"}]')
    assert error_of(r)["index"] == 1


def test_a_bad_as_of_is_named(client: httpx.Client) -> None:
    r = assess(client, "{}", as_of="2026-13-01")
    assert r.status_code == 400
    assert error_of(r)["field"] == "as_of"


def test_too_many_fact_objects_are_refused(client: httpx.Client) -> None:
    r = assess(client, json.dumps([{}] * 201))
    assert r.status_code == 400
    assert error_of(r)["error"] == "too_many_items"


# -- inbox, health, ping, 404, 500 ----------------------------------------------------------------


def test_the_inbox_gives_pending_pushes_once(client: httpx.Client, fake: FakeConversation) -> None:
    from handlers.messages import Choice, Outbound

    fake.pending[("api", "inbox-user")] = [Outbound("提醒：期限将至", (Choice("ok", "知道了"),))]
    r = client.get("/api/v1/users/inbox-user/inbox", headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {"messages": [{"text": "提醒：期限将至", "choices": [{"id": "ok", "label": "知道了"}]}]}
    assert client.get("/api/v1/users/inbox-user/inbox", headers=AUTH).json() == {"messages": []}


@pytest.mark.parametrize("user_id", ["a%00b", "%20%20", "x" * 129])
def test_the_inbox_checks_the_user_id(client: httpx.Client, user_id: str) -> None:
    r = client.get(f"/api/v1/users/{user_id}/inbox", headers=AUTH)
    assert r.status_code == 400
    assert error_of(r)["field"] == "user_id"


def test_healthz(client: httpx.Client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_healthz_says_when_the_database_does_not_answer() -> None:
    def broken() -> None:
        raise OSError("no database")

    with serve(create_app(settings(), FakeConversation(), db_check=broken)) as url:
        r = httpx.get(f"{url}/healthz")
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/static/nope.js", "/static/../bot/server.py"])
def test_unknown_routes_are_a_json_404(client: httpx.Client, path: str) -> None:
    r = client.get(path, headers=AUTH)
    assert r.status_code == 404
    assert error_of(r)["error"] == "not_found"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_wrong_method_is_a_json_405(client: httpx.Client) -> None:
    r = client.get("/api/v1/messages", headers=AUTH)
    assert r.status_code == 405
    assert error_of(r)["error"] == "method_not_allowed"


def test_an_unexpected_error_is_logged_and_a_500_sentence(client: httpx.Client,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.server"):
        r = post(client, "/api/v1/messages", {"user_id": "u", "text": "boom"})
    assert r.status_code == 500
    err = error_of(r)
    assert err["error"] == "internal_error"
    assert err["message"] == gettext_for("zh_CN")(INTERNAL)
    assert "blew up on purpose" not in r.text
    assert any(rec.exc_info and "blew up on purpose" in str(rec.exc_info[1]) for rec in caplog.records)
    assert client.get("/healthz").json() == {"status": "ok"}

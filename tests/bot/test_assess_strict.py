"""Strict assess input (issue 12): the encoding, JSON types and dates, through the real `qingshen assess`
process and the real HTTP API; both give the same JSON error object, naming the field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.server import create_app
from tests.bot.bot_testkit import API_KEY, FakeConversation, serve, settings

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

NOT_UTF8 = [
    "山西".encode("gbk"),  # what a Windows tool in China writes
    '{"province": "山西"}'.encode("gbk"),
    '{"province": "shanxi", "employees": "é"}'.encode("latin-1"),
    '{"province": "shanxi"}'.encode("utf-16"),
    b'{"province": "shanxi"}\xff',
]

WRONG = [
    ({"province": "shanxi", "employees": "300"}, "employees"),
    ({"province": "shanxi", "revenue_10k_yuan": "2000"}, "revenue_10k_yuan"),
    ({"province": "shanxi", "employees": True}, "employees"),
    ({"province": "shanxi", "on_master_list": "yes"}, "on_master_list"),
    ({"province": "shanxi", "toxic_classes": "pop"}, "toxic_classes"),
    ({"province": "shanxi", "industry_code": 3011}, "industry_code"),
    ({"list_published_on": "2026-W10-2"}, "list_published_on"),
    ({"list_published_on": "20260305  "}, "list_published_on"),
    ({"list_published_on": "20260305"}, "list_published_on"),
    ({"list_published_on": "2026-03-05 "}, "list_published_on"),
    ({"evaluated_on": "2026-065"}, "evaluated_on"),
    ({"accepted_on": 20260305}, "accepted_on"),
]


def cli(data: bytes) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "bot.cli", "assess", "-", "--as-of", "2026-06-01"], input=data,
                       capture_output=True, env=env, cwd=ROOT, timeout=120)
    return p.returncode, json.loads(p.stdout), p.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with serve(create_app(settings(), FakeConversation())) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def api(client: httpx.Client, data: bytes) -> httpx.Response:
    return client.post("/api/v1/assess", params={"as_of": "2026-06-01"}, content=data, headers=AUTH)


@pytest.mark.parametrize("data", NOT_UTF8, ids=["gbk-text", "gbk-json", "latin-1", "utf-16", "stray-byte"])
def test_input_that_is_not_utf8_gets_its_own_error(client: httpx.Client, data: bytes) -> None:
    code, printed, stderr = cli(data)
    assert code == 2, stderr
    err = printed["error"]
    assert err["error"] == "invalid_encoding"
    assert err["field"] is None
    assert err["message"].startswith("the input is not UTF-8 JSON")
    assert "Traceback" not in stderr
    r = api(client, data)
    assert r.status_code == 400
    assert r.json() == printed


def test_a_utf8_byte_order_mark_is_accepted(client: httpx.Client) -> None:
    data = b"\xef\xbb\xbf" + json.dumps({"province": "shanxi"}).encode()
    code, printed, _ = cli(data)
    assert code == 0 and printed["as_of"] == "2026-06-01"
    assert api(client, data).json() == printed


@pytest.mark.parametrize(("facts", "field"), WRONG, ids=[f"{f}={v!r}" for facts, f in WRONG for v in [facts[f]]])
def test_a_wrong_json_type_or_date_form_is_named(client: httpx.Client, facts: dict[str, Any], field: str) -> None:
    data = json.dumps(facts, ensure_ascii=False).encode()
    code, printed, stderr = cli(data)
    assert code == 2, stderr
    assert printed["error"]["error"] == "invalid_fact"
    assert printed["error"]["field"] == field
    assert repr(facts[field]) in printed["error"]["message"] or field == "toxic_classes"
    r = api(client, data)
    assert r.status_code == 400
    assert r.json() == printed


def test_an_array_names_the_index_of_the_wrong_object(client: httpx.Client) -> None:
    data = json.dumps([{"province": "shanxi"}, {"province": "shanxi", "employees": "300"}]).encode()
    code, printed, _ = cli(data)
    assert code == 2
    assert printed["error"]["field"] == "employees" and printed["error"]["index"] == 1
    assert api(client, data).json() == printed

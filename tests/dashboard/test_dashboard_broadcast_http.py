"""Broadcasts from the browser's routes over real HTTP: the preview names the recipients (reachable, or
needing an invitation) and the message, and writes nothing; send plans the broadcast with the CLI's code
and fans it out; the status JSON follows the real outbox sender delivering to the fake Telegram Bot API
(sent, failed, unreachable). City officers act only inside their city: 403 and nothing queued."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import Broadcast, OutboxMessage
from storage.models import BroadcastTarget
from tests.dashboard.broadcastkit import (
    DATONG,
    ON_TIME_CODE,
    SCRIPT_CODE,
    TAIYUAN,
    Cities,
    add_cities,
    bind_telegram,
    form_csrf,
    officer_client,
    telegram_sender,
)
from tests.dashboard.dashkit import SCRIPT_NAME, SHANXI, Fixture, app_for, seed, serve


@pytest.fixture
def fixture(sessions: sessionmaker[Session]) -> tuple[Fixture, Cities]:
    fx = seed(sessions)
    cities = add_cities(sessions, fx.shanxi_officer)
    bind_telegram(sessions, ON_TIME_CODE, [4101, 4102])
    bind_telegram(sessions, SCRIPT_CODE, [4201])
    bind_telegram(sessions, TAIYUAN[0][1], [4301])
    return fx, cities


@pytest.fixture
def base_url(sessions: sessionmaker[Session], fixture: tuple[Fixture, Cities]) -> Iterator[str]:
    with serve(app_for(sessions)) as url:
        yield url


def written(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """(broadcasts, their targets, outbox rows)."""
    with sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                     for m in (Broadcast, BroadcastTarget, OutboxMessage))


def post(client: httpx.Client, step: str, csrf: str | None = None, **fields: str) -> httpx.Response:
    token = csrf if csrf is not None else form_csrf(client)
    return client.post(f"/officer/broadcast/{step}", data={"csrf": token, "kind": "notice", **fields})


def wait_report(client: httpx.Client, broadcast_id: int, done: object) -> dict[str, object]:
    """The status JSON, polled until `done(report)` (the fan-out runs after send answers)."""
    deadline = time.monotonic() + 20
    while True:
        report = client.get(f"/officer/broadcasts/{broadcast_id}/status").json()
        if done(report) or time.monotonic() > deadline:  # type: ignore[operator]
            return dict(report)
        time.sleep(0.05)


def test_login_and_csrf_are_required(base_url: str, fixture: tuple[Fixture, Cities],
                                     sessions: sessionmaker[Session]) -> None:
    fx, _ = fixture
    with httpx.Client(base_url=base_url, follow_redirects=False) as anonymous:
        assert anonymous.get("/officer/broadcast").status_code == 303
        assert anonymous.post("/officer/broadcast/preview", data={"list": str(fx.shanxi_list)}).status_code == 401
        assert anonymous.get("/officer/broadcasts/1/status").status_code == 401
    with officer_client(base_url, "晋官员") as client:
        r = post(client, "send", csrf="0" * 64, list=str(fx.shanxi_list))
        assert r.status_code == 403 and r.json()["error"]["error"] == "csrf"
    assert written(sessions) == (0, 0, 0)


def test_preview_names_recipients_and_the_message_and_writes_nothing(
    base_url: str, fixture: tuple[Fixture, Cities], sessions: sessionmaker[Session]
) -> None:
    fx, _ = fixture
    with officer_client(base_url, "晋官员") as client:
        page = client.get("/officer/broadcast", params={"list": fx.shanxi_list}).text
        assert f'<option value="{fx.shanxi_list}" selected>' in page
        r = post(client, "preview", list=str(fx.shanxi_list))
        assert r.status_code == 200
        html = r.text
        assert "3 家企业：2 家可在对话中送达（3 条消息），1 家需要邀请码" in html
        assert "按时企业有限公司" in html and "2 位联系人" in html
        assert SCRIPT_NAME not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # escaped
        need = html.split('class="need-invitation"')[1]
        assert "远期企业有限公司" in need and "按时企业有限公司" not in need
        assert "名单公布于 2026-01-15" in html or "2026-01-15" in html  # the notice text itself

        overdue = post(client, "preview", list=str(fx.shanxi_list), milestone="start", status="overdue").text
        assert "1 家企业：1 家可在对话中送达（1 条消息），0 家需要邀请码" in overdue
        assert "&lt;script&gt;" in overdue and "按时企业有限公司" not in overdue

        general = post(client, "preview", list=str(fx.shanxi_list), kind="general", text="请于月底前报送进展。")
        assert "请于月底前报送进展。" in general.text
    assert written(sessions) == (0, 0, 0)


def test_bad_filters_are_refused_naming_the_field(base_url: str, fixture: tuple[Fixture, Cities],
                                                  sessions: sessionmaker[Session]) -> None:
    fx, _ = fixture
    with officer_client(base_url, "晋官员") as client:
        cases = [({"basis": "noise"}, "审核依据"), ({"milestone": "lunch", "status": "overdue"}, "节点"),
                 ({"status": "late"}, "状态"), ({"milestone": "start"}, "状态"),
                 ({"industry": "水泥"}, "3011 水泥制造"), ({"industry": "A30"}, "A30"),
                 ({"kind": "general", "text": "  "}, "1 到 2000"), ({"list": "x"}, "名单")]
        for fields, named in cases:
            r = post(client, "preview", **{"list": str(fx.shanxi_list), **fields})
            assert r.status_code == 400, fields
            assert named in r.json()["error"]["message"], (fields, r.json())
            assert post(client, "send", **{"list": str(fx.shanxi_list), **fields}).status_code == 400
        ok = post(client, "preview", list=str(fx.shanxi_list), industry="炼焦")  # a word for one class: 2521
        assert ok.status_code == 200 and "0 家企业" in ok.text
        taiyuan = post(client, "preview", list=str(add_list_id(sessions, "太原市")), industry="炼焦")
        assert "太原乙焦化有限公司" in taiyuan.text and "太原甲化工有限公司" not in taiyuan.text
        assert client.get("/officer/broadcast", params={"list": 999}).status_code == 404
    assert written(sessions) == (0, 0, 0)


def add_list_id(sessions: sessionmaker[Session], city: str) -> int:
    from storage.models import ListImport

    with sessions() as s:
        found = s.scalar(select(ListImport.id).where(ListImport.city == city))
        assert found is not None
        return found


def test_send_the_overdue_and_follow_delivery(base_url: str, fixture: tuple[Fixture, Cities],
                                              sessions: sessionmaker[Session]) -> None:
    fx, _ = fixture
    with officer_client(base_url, "晋官员") as client:
        r = post(client, "send", list=str(fx.shanxi_list), milestone="start", status="overdue")
        assert r.status_code == 200 and 'data-status="/officer/broadcasts/' in r.text
        bid = int(r.text.split('data-status="/officer/broadcasts/')[1].split("/")[0])
        report = wait_report(client, bid, lambda x: x["status"] == "done")
        assert report == {"broadcast_id": bid, "status": "done", "planned": 1, "sent": 0, "failed": 0,
                          "pending": 1, "unreachable": 0, "invited": 0, "reached": 1, "status_label": "消息已全部排队"}
        with telegram_sender(sessions) as (fake, sender):
            assert sender.drain() == 1
            [message] = fake.messages_to(4201)
            assert SCRIPT_NAME in message["text"] and "开展清洁生产审核已过期限" in message["text"]
            assert not fake.messages_to(4101)  # its start is not overdue
        report = client.get(f"/officer/broadcasts/{bid}/status").json()
        assert (report["sent"], report["pending"]) == (1, 0)

        # the whole list: 3 messages to 2 reachable enterprises, one of whose contacts blocked the bot
        r = post(client, "send", list=str(fx.shanxi_list))
        bid = int(r.text.split('data-status="/officer/broadcasts/')[1].split("/")[0])
        wait_report(client, bid, lambda x: x["status"] == "done")
        with telegram_sender(sessions) as (fake, sender):
            fake.block()
            sender.drain()
        report = client.get(f"/officer/broadcasts/{bid}/status").json()
        assert {k: report[k] for k in ("planned", "sent", "failed", "pending", "unreachable", "invited")} == \
            {"planned": 3, "sent": 2, "failed": 1, "pending": 0, "unreachable": 1, "invited": 1}
        page = client.get(f"/officer/broadcasts/{bid}").text
        assert '<td data-key="failed">1</td>' in page and '<td data-key="unreachable">1</td>' in page


def test_a_city_officer_cannot_broadcast_to_another_city(base_url: str, fixture: tuple[Fixture, Cities],
                                                         sessions: sessionmaker[Session]) -> None:
    fx, cities = fixture
    with officer_client(base_url, "并州官员") as client:
        page = client.get("/officer/broadcast").text
        assert f'value="{cities.taiyuan_list}"' in page and f'value="{cities.datong_list}"' not in page
        assert client.get("/officer/broadcast", params={"list": cities.datong_list}).status_code == 403
        for step in ("preview", "send"):
            for list_id in (cities.datong_list, fx.shanxi_list, fx.shandong_list):  # another city, the province
                r = post(client, step, list=str(list_id))
                assert r.status_code == 403, (step, list_id, r.text)
                assert DATONG[0][0] not in r.text
            r = post(client, step, list=str(cities.taiyuan_list), district="大同市")  # own list, other district
            assert r.status_code == 403
        assert written(sessions) == (0, 0, 0)

        r = post(client, "send", list=str(cities.taiyuan_list), milestone="start", status="overdue")
        assert r.status_code == 200
        own = int(r.text.split('data-status="/officer/broadcasts/')[1].split("/")[0])
        assert wait_report(client, own, lambda x: x["status"] == "done")["planned"] == 1
    with officer_client(base_url, "晋官员") as province:
        r = post(province, "send", list=str(cities.datong_list))
        theirs = int(r.text.split('data-status="/officer/broadcasts/')[1].split("/")[0])
        assert province.get(f"/officer/broadcasts/{own}/status").status_code == 200  # the province sees the city's
    with officer_client(base_url, "并州官员") as client:
        assert client.get(f"/officer/broadcasts/{theirs}/status").status_code == 403
        assert client.get(f"/officer/broadcasts/{theirs}").status_code == 403
        assert client.get("/officer/broadcasts/9999/status").status_code == 404
    with officer_client(base_url, "鲁官员") as shandong:
        assert shandong.get(f"/officer/broadcasts/{own}/status").status_code == 403
        r = post(shandong, "send", list=str(cities.taiyuan_list))
        assert r.status_code == 403
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Broadcast)) == 2


def test_districts_of_the_list_are_offered(base_url: str, fixture: tuple[Fixture, Cities]) -> None:
    _, cities = fixture
    with officer_client(base_url, "晋官员") as client:
        page = client.get("/officer/broadcast", params={"list": cities.taiyuan_list}).text
        assert '<option value="太原市">太原市</option>' in page
        r = post(client, "preview", list=str(cities.taiyuan_list), district="太原市")
        assert "2 家企业" in r.text
        assert SHANXI[0][0] not in r.text


def test_the_list_filter_maps_industry_words_or_says_why_not(base_url: str, fixture: tuple[Fixture, Cities]) -> None:
    _, cities = fixture
    with officer_client(base_url, "晋官员") as client:
        coke = client.get(f"/officer/lists/{cities.taiyuan_list}", params={"industry": "炼焦"}).text
        assert "太原乙焦化有限公司" in coke and "太原甲化工有限公司" not in coke and "industry-error" not in coke
        cement = client.get(f"/officer/lists/{cities.taiyuan_list}", params={"industry": "水泥"}).text
        assert 'class="form-error industry-error"' in cement and "3011 水泥制造" in cement  # refused, with candidates
        assert 'value="水泥"' in cement

"""A city or county officer and the province's list: every list holding at least one enterprise of their
jurisdiction is shown to them, restricted to those enterprises (rows, counts, on-time rates, exports), and a
broadcast from it reaches only them; a list with none of their enterprises stays 403 and is not offered.
Nothing of the rest of the list leaks (names, credit codes, districts). Real uvicorn over HTTP, SQLite (and
PostgreSQL under scripts/with-postgres)."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handlers.broadcast import Filters, fan_out, plan_notice, preview_audience
from handlers.officers import ForbiddenError
from storage import AuditCycle, Broadcast, Enterprise, OutboxMessage, Repositories
from storage.models import BroadcastTarget, ListEntry, ListImport
from tests.dashboard.dashkit import LISTED, TODAY, app_for, code, csrf_of, logged_in, serve
from tests.dashboard.oversightkit import ROWS, Jurisdictions, seed_jurisdictions

TAIYUAN = {name for name, _, city, *_ in ROWS if city == "太原市"}
DATONG = {name for name, _, city, *_ in ROWS if city == "大同市"}
DATONG_CODES = {code(body) for name, body, city, *_ in ROWS if city == "大同市"}
OUTSIDE = [*DATONG, *DATONG_CODES, "大同", "平城"]


def datong_list(sessions: sessionmaker[Session]) -> int:
    """A province-wide list holding only an enterprise of 大同市 (none of 太原's)."""
    with sessions.begin() as session:
        imp = ListImport(officer_id=None, province="shanxi", file_sha256="e" * 64, filename="datong-only.xlsx",
                         published_on=LISTED, row_count=1)
        session.add(imp)
        e = Enterprise(credit_code=code("91140200MA0000199"), name="大同独家厂", province="shanxi", city="大同市",
                       county="平城区")
        session.add(e)
        session.flush()
        cycle = AuditCycle(enterprise_id=e.id, list_published_on=LISTED, source="import", grounds=[])
        session.add(cycle)
        session.flush()
        session.add(ListEntry(import_id=imp.id, enterprise_id=e.id, cycle_id=cycle.id, line=2, grounds=[],
                              published_on=LISTED, city="大同市", county="平城区"))
        return imp.id


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> tuple[Jurisdictions, int, int]:
    seeded = seed_jurisdictions(sessions)
    with sessions() as s:
        province_list = s.scalar(select(ListImport.id).where(ListImport.filename == "shanxi-2026.xlsx"))
    assert province_list is not None
    return seeded, province_list, datong_list(sessions)


@pytest.fixture
def base_url(sessions: sessionmaker[Session], world: tuple[Jurisdictions, int, int]) -> Iterator[str]:
    with serve(app_for(sessions)) as url:
        yield url


def no_leak(text: str) -> None:
    for secret in OUTSIDE:
        assert secret not in text, secret


def index_row(page: str, list_id: int) -> str | None:
    found = re.search(rf'<tr><td><a href="/officer/lists/{list_id}">.*?</tr>', page, re.S)
    return found.group(0) if found else None


def test_a_city_officer_sees_their_part_of_the_provinces_list(base_url: str,
                                                              world: tuple[Jurisdictions, int, int]) -> None:
    _, province_list, datong = world
    with logged_in(base_url, "太原官员") as city:
        index = city.get("/officer/").text
        row = index_row(index, province_list)
        assert row is not None, index
        assert "本辖区 2 家 / 名单共 4 家" in row
        # 太原's part: 小店 start and report overdue, 迎泽 disclosure overdue (平城丙's report is not counted)
        assert re.findall(r'data-label="已逾期节点">(\d+)<', row) == ["3"]
        assert "25% (1/4)" in row  # disclosure 1/2 on time, start 0/1, report 0/1
        assert index_row(index, datong) is None
        no_leak(index)

        page = city.get(f"/officer/lists/{province_list}")
        assert page.status_code == 200
        assert "本辖区 2 家 / 名单共 4 家" in page.text and "山西省太原市" in page.text
        assert set(re.findall(r'<td class="name">(.*?)</td>', page.text)) == TAIYUAN
        assert "invitations-link" not in page.text  # the sheet is of the whole list: not offered
        no_leak(page.text)

        exported = city.get(f"/officer/lists/{province_list}/export.csv")
        lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert {r[1] for r in lines[1:]} == TAIYUAN
        no_leak(exported.content.decode("utf-8-sig"))
        book = openpyxl.load_workbook(io.BytesIO(city.get(f"/officer/lists/{province_list}/export.xlsx").content))
        names = {r[1] for r in book.active.iter_rows(min_row=2, values_only=True)}  # type: ignore[union-attr]
        assert names == TAIYUAN

        overdue = city.get(f"/officer/lists/{province_list}", params={"status": "overdue"}).text
        assert set(re.findall(r'<td class="name">(.*?)</td>', overdue)) == TAIYUAN

        for path in (f"/officer/lists/{datong}", f"/officer/lists/{datong}/export.csv"):
            refused = city.get(path)
            assert refused.status_code == 403, path
            assert "大同独家厂" not in refused.text
    with logged_in(base_url, "小店官员") as county:
        row = index_row(county.get("/officer/").text, province_list)
        assert row is not None and "本辖区 1 家 / 名单共 4 家" in row
        page = county.get(f"/officer/lists/{province_list}").text
        assert set(re.findall(r'<td class="name">(.*?)</td>', page)) == {"小店甲厂"}
    with logged_in(base_url, "省官员") as province:  # the whole list, as before
        row = index_row(province.get("/officer/").text, province_list)
        assert row is not None and "本辖区" not in row and 'data-label="企业数">4<' in row
        assert "本辖区" not in province.get(f"/officer/lists/{province_list}").text
    with logged_in(base_url, "鲁官员") as shandong:
        assert shandong.get(f"/officer/lists/{province_list}").status_code == 403
        assert index_row(shandong.get("/officer/").text, province_list) is None


def written(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    with sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                     for m in (Broadcast, BroadcastTarget, OutboxMessage))


def test_a_city_officer_broadcasts_to_their_part_only(base_url: str, world: tuple[Jurisdictions, int, int],
                                                      sessions: sessionmaker[Session]) -> None:
    seeded, province_list, datong = world
    with logged_in(base_url, "太原官员") as city:
        form = city.get("/officer/broadcast", params={"list": province_list})
        assert form.status_code == 200
        assert f'value="{province_list}"' in form.text and f'value="{datong}"' not in form.text
        assert '<option value="太原市/小店区">' in form.text
        no_leak(form.text)
        assert city.get("/officer/broadcast", params={"list": datong}).status_code == 403
        token = csrf_of(form.text)

        preview = city.post("/officer/broadcast/preview", data={"csrf": token, "kind": "notice",
                                                                "list": str(province_list)})
        assert preview.status_code == 200, preview.text
        assert "只包括此名单中本辖区（山西省太原市）的企业；名单共 4 家。" in preview.text
        assert "2 家企业" in preview.text and all(name in preview.text for name in TAIYUAN)
        no_leak(preview.text)
        for fields in ({"list": str(datong)}, {"list": str(province_list), "district": "大同市"}):
            refused = city.post("/officer/broadcast/send", data={"csrf": token, "kind": "notice", **fields})
            assert refused.status_code == 403, fields
            assert "大同独家厂" not in refused.text
        assert written(sessions) == (0, 0, 0)

        sent = city.post("/officer/broadcast/send", data={"csrf": token, "kind": "notice",
                                                          "list": str(province_list)})
        assert sent.status_code == 200, sent.text
        bid = int(sent.text.split('data-status="/officer/broadcasts/')[1].split("/")[0])
        deadline = time.monotonic() + 20
        while city.get(f"/officer/broadcasts/{bid}/status").json()["status"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with sessions() as s:
        targets = set(s.scalars(select(BroadcastTarget.enterprise_id).where(BroadcastTarget.broadcast_id == bid)))
        assert targets == {seeded.enterprises[n] for n in TAIYUAN}
        b = s.get(Broadcast, bid)
        assert b is not None and (b.city, b.county) == ("太原市", None)
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # 小店甲厂's one contact
    with logged_in(base_url, "省官员") as province:  # the province sees the city's broadcast
        assert province.get(f"/officer/broadcasts/{bid}/status").status_code == 200


def test_the_cli_code_narrows_a_notice_to_the_officers_part(sessions: sessionmaker[Session],
                                                            world: tuple[Jurisdictions, int, int]) -> None:
    seeded, province_list, datong = world
    with sessions.begin() as s:
        repos = Repositories(s)
        county = next(o for o in repos.officers.list_by_name("小店官员"))
        s.expunge(county)
        preview = preview_audience(repos, county, kind="notice", import_id=province_list,
                                   filters=Filters(), today=TODAY)
        assert [r.name for r in preview.reachable + preview.need_invitation] == ["小店甲厂"]
        assert preview.within == "山西省太原小店区" and preview.listed == 4
        bid = plan_notice(repos, county, province_list).id
        with pytest.raises(ForbiddenError):
            plan_notice(repos, county, datong)
    fan_out(sessions, county, bid, today=TODAY)
    with sessions() as s:
        targets = set(s.scalars(select(BroadcastTarget.enterprise_id).where(BroadcastTarget.broadcast_id == bid)))
        assert targets == {seeded.enterprises["小店甲厂"]}

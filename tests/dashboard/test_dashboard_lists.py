"""Lists uploaded in the browser's way (raw body, CSRF header) over real HTTP: the preview says what an
import would do and writes nothing; row errors import nothing unless the valid rows are accepted; the
same file twice changes nothing; city and county officers see and import only inside their place."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handlers.officers import hash_password
from storage import Repositories
from storage.models import ListEntry, ListImport
from tests.dashboard.dashkit import (
    UPLOAD_ROWS,
    Fixture,
    code,
    csrf_of,
    list_csv,
    logged_in,
)

client_for = logged_in


def send(client: httpx.Client, step: str, data: bytes, *, accept: bool = False, csrf: str | None = None,
         name: str = "名单.csv") -> httpx.Response:
    token = csrf if csrf is not None else csrf_of(client.get("/officer/upload").text)
    params = {"name": name, **({"accept_partial": "1"} if accept else {})}
    return client.post(f"/officer/upload/{step}", params=params, content=data, headers={"X-CSRF-Token": token})


def counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(ListImport)) or 0,
                s.scalar(select(func.count()).select_from(ListEntry)) or 0)


def add_officer(sessions: sessionmaker[Session], name: str, city: str | None, county: str | None = None) -> None:
    with sessions.begin() as session:
        Repositories(session).officers.add(name=name, role="ecology", province="shanxi", city=city, county=county,
                                           password_hash=hash_password("correct horse 42"))


def test_preview_then_import_with_errors_partial_and_twice(base_url: str, sessions: sessionmaker[Session]) -> None:
    before = counts(sessions)
    data = list_csv(UPLOAD_ROWS)
    with client_for(base_url, "晋官员") as c:
        preview = send(c, "preview", data)
        assert preview.status_code == 200, preview.text
        page = preview.text
        assert "名单.csv：共 5 行，有效 3 行，有错误 2 行。" in page, page
        assert page.count('<tr class="row-error ') == 2
        assert 'class="row-error checksum"' in page and 'class="row-error duplicate"' in page
        assert "<td>5</td><td>统一社会信用代码</td>" in page and "<td>6</td><td>统一社会信用代码</td>" in page
        assert "2 家尚未登记的企业，1 家已登记" in page
        assert counts(sessions) == before  # a preview writes nothing
        refused = send(c, "import", data)
        assert refused.status_code == 400 and refused.json()["error"]["error"] == "refused"
        assert counts(sessions) == before
        done = send(c, "import", data, accept=True)
        assert done.status_code == 200 and 'class="done"' in done.text, done.text
        after = counts(sessions)
        assert after == (before[0] + 1, before[1] + 3)  # the known enterprise is listed again (a new list date)
        again = send(c, "import", data, accept=True)
        assert again.status_code == 200 and 'class="nothing-new"' in again.text
        assert counts(sessions) == after
        assert "此文件已作为名单" in send(c, "preview", data).text


@pytest.mark.parametrize("token", ["", "0" * 64, "not-a-token"])
def test_without_the_sessions_token_nothing_is_read_or_written(base_url: str, sessions: sessionmaker[Session],
                                                               token: str) -> None:
    before = counts(sessions)
    with client_for(base_url, "晋官员") as c:
        for step in ("preview", "import"):
            response = send(c, step, list_csv(UPLOAD_ROWS[:2]), accept=True, csrf=token)
            assert response.status_code == 403 and response.json()["error"]["error"] == "csrf"
    assert counts(sessions) == before
    with httpx.Client(base_url=base_url) as anonymous:
        response = anonymous.post("/officer/upload/preview", content=b"x", headers={"X-CSRF-Token": "0" * 64})
        assert response.status_code == 401


@pytest.mark.parametrize(("data", "kind"), [(b"", "no_file"), (b"PK\x03\x04garbage", "unreadable"),
                                            ("企业名称\n甲".encode(), "no_header")])
def test_a_refused_file_is_a_clear_error(base_url: str, data: bytes, kind: str) -> None:
    with client_for(base_url, "晋官员") as c:
        response = send(c, "preview", data, name="list.xlsx" if data.startswith(b"PK") else "list.csv")
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["error"] in (kind, "not_zip", "bad_zip") and error["message"]


def test_city_and_county_officers_import_and_see_only_their_place(base_url: str, sessions: sessionmaker[Session],
                                                                  fixture: Fixture) -> None:
    add_officer(sessions, "太原官员", "太原市")
    add_officer(sessions, "清徐官员", "太原市", "清徐县")
    add_officer(sessions, "大同官员", "大同市")
    rows = [("太原清徐有限公司", code("91140100MA0000201"), "太原市/清徐县"),
            ("太原小店有限公司", code("91140100MA0000202"), "太原市/小店区"),
            ("大同有限公司", code("91140200MA0000203"), "大同市/平城区")]
    with client_for(base_url, "清徐官员") as county:
        page = send(county, "preview", list_csv(rows)).text
        assert page.count('<tr class="row-error outside_jurisdiction"') == 2  # 小店区 and 大同市 are not theirs
        assert send(county, "import", list_csv(rows), accept=True).status_code == 200
        county_list = county.get("/officer/").text
    with sessions() as s:
        imp = s.scalars(select(ListImport).order_by(ListImport.id.desc())).first()
        assert imp is not None and (imp.city, imp.county) == ("太原市", "清徐县")
        names = [e.name for _, e in Repositories(s).imports.list_entries(imp.id)]
    assert names == ["太原清徐有限公司"]
    assert f'href="/officer/lists/{imp.id}"' in county_list
    assert f'href="/officer/lists/{fixture.shanxi_list}"' not in county_list  # the province's list is above them
    with client_for(base_url, "太原官员") as city:
        assert f'href="/officer/lists/{imp.id}"' in city.get("/officer/").text  # a county in their city
        assert city.get(f"/officer/lists/{fixture.shanxi_list}").status_code == 403
    with client_for(base_url, "大同官员") as other:
        assert f'href="/officer/lists/{imp.id}"' not in other.get("/officer/").text
        for path in (f"/officer/lists/{imp.id}", f"/officer/lists/{imp.id}/export.csv"):
            response = other.get(path)
            assert response.status_code == 403 and "太原清徐" not in response.text
    with client_for(base_url, "晋官员") as province:
        assert f'href="/officer/lists/{imp.id}"' in province.get("/officer/").text  # every city of the province
        assert province.get(f"/officer/lists/{imp.id}").status_code == 200

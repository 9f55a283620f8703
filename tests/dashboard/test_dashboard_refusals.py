"""What a refusal looks like: a browser's GET of a page it may not see (403) or that is not there (404) gets a
page in the dashboard's layout saying so, with the way back to /officer/; API-like requests keep the JSON.
An expired session on a form answers 401 with the login page's address, and the login goes back to `next=`
(a dashboard path only). Real uvicorn over HTTP."""

from __future__ import annotations

import httpx
import pytest

from bot.dashboard.core import safe_next
from tests.dashboard.dashkit import Fixture, csrf_of, logged_in

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # as Chromium asks


def test_a_browser_gets_a_page_for_a_403_and_a_404(base_url: str, fixture: Fixture) -> None:
    with logged_in(base_url, "晋官员") as client:
        for path, status in ((f"/officer/lists/{fixture.shandong_list}", 403), ("/officer/lists/9999", 404),
                             (f"/officer/broadcast?list={fixture.shandong_list}", 403),
                             ("/officer/broadcasts/9999", 404), (f"/officer/lists/{fixture.shandong_list}/invitations",
                                                                 403)):
            page = client.get(path, headers=HTML)
            assert page.status_code == status, path
            assert page.headers["content-type"].startswith("text/html"), path
            assert '<a href="/officer/" class="back-home">返回我的名单</a>' in page.text, path
            assert ("无权查看" if status == 403 else "未找到") in page.text, path
            assert 'class="logout"' in page.text  # the dashboard's layout, logged in
            assert "山东秘密企业有限公司" not in page.text
        forbidden = client.get(f"/officer/lists/{fixture.shandong_list}", headers=HTML).text
        assert "您的辖区为山西省" in forbidden  # what is not allowed, and why

        for path, status in ((f"/officer/lists/{fixture.shandong_list}", 403), ("/officer/lists/9999", 404),
                             ("/officer/broadcasts/9999/status", 404)):
            api = client.get(path, headers={"Accept": "application/json"})
            assert api.status_code == status and api.json()["error"]["error"] in ("forbidden", "not_found")
            assert client.get(path).headers["content-type"].startswith("application/json")  # Accept: */*


def test_an_expired_session_on_a_form_names_the_login_page(base_url: str, fixture: Fixture) -> None:
    with logged_in(base_url, "晋官员") as client:
        token = csrf_of(client.get(f"/officer/lists/{fixture.shanxi_list}").text)
        client.cookies.clear()
        r = client.post("/officer/broadcast/preview", data={"csrf": token, "kind": "notice",
                                                            "list": str(fixture.shanxi_list)})
        assert r.status_code == 401
        assert r.json()["error"]["login"] == {"href": "/officer/login", "label": "重新登录"}


def test_the_login_goes_back_to_next(base_url: str) -> None:
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/officer/login", params={"next": "/officer/enterprises/1"}).text
        assert '<input type="hidden" name="next" value="/officer/enterprises/1">' in form
        wrong = client.post("/officer/login", data={"login": "晋官员", "password": "nope", "csrf": csrf_of(form),
                                                    "next": "/officer/enterprises/1"})
        assert wrong.headers["location"] == "/officer/login?failed=1&next=%2Fofficer%2Fenterprises%2F1"
        ok = client.post("/officer/login", data={"login": "晋官员", "password": "correct horse 42",
                                                 "csrf": csrf_of(form), "next": "/officer/enterprises/1"})
        assert ok.status_code == 303 and ok.headers["location"] == "/officer/enterprises/1"
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/officer/login", params={"next": "https://evil.example/officer/"}).text
        assert 'name="next"' not in form
        ok = client.post("/officer/login", data={"login": "晋官员", "password": "correct horse 42",
                                                 "csrf": csrf_of(form), "next": "//evil.example/officer/"})
        assert ok.headers["location"] == "/officer/"


@pytest.mark.parametrize("text", ["https://evil.example/", "//evil.example/officer/", "/officer//evil.example",
                                  "/officer/\\evil", "/officer/login?next=/x", "/officer/logout", "/elsewhere",
                                  "/officer/a\nb", "", None])
def test_next_is_a_dashboard_path_only(text: str | None) -> None:
    assert safe_next(text) is None
    assert safe_next("/officer/enterprises?city=太原市&page=2") == "/officer/enterprises?city=太原市&page=2"

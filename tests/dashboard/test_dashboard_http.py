"""The officer dashboard over HTTP against a real uvicorn server (SQLite, and PostgreSQL under
scripts/with-postgres): login, lockout, sessions, CSRF, jurisdiction, statuses, exports, escaping."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.dashboard import COOKIE, Signer, Throttle, load_list, milestone_status, on_time_rates
from bot.dashboard.auth import FREE_FAILURES, address_key, check_login, wait_after
from storage import Repositories
from storage.models import OfficerSession
from tests.dashboard.dashkit import (
    PASSWORD,
    SCRIPT_NAME,
    SECRET,
    TODAY,
    Fixture,
    app_for,
    csrf_of,
    from_address,
    login,
    serve,
)


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=20) as c:
        yield c


@pytest.fixture
def shanxi(client: httpx.Client, fixture: Fixture) -> httpx.Client:
    response = login(client, "晋官员")
    assert response.status_code == 303 and response.headers["location"] == "/officer/"
    return client


class TestLogin:
    def test_by_name_or_number_opens_the_index_with_only_the_jurisdictions_lists(
            self, client: httpx.Client, fixture: Fixture) -> None:
        response = login(client, str(fixture.shanxi_officer))
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
        page = client.get("/officer/")
        assert page.status_code == 200
        assert f'href="/officer/lists/{fixture.shanxi_list}"' in page.text
        assert f"/officer/lists/{fixture.shandong_list}" not in page.text
        assert "50% (2/4)" in page.text  # 2 on time of 4 done or past due
        assert "content-security-policy" in page.headers and page.headers["cache-control"] == "no-store"

    def test_the_index_says_its_counts_are_milestones_beside_the_count_of_enterprises(
            self, shanxi: httpx.Client) -> None:
        """"已逾期 24" beside "企业数 6" read as 24 overdue enterprises; the overview counts enterprises."""
        page = shanxi.get("/officer/").text
        head = page[page.index('<table class="imports">'):page.index("</thead>")]
        assert re.findall(r"<th>([^<]+)</th>", head)[2:6] == ["企业数", "已逾期节点", "30 日内到期节点", "已完成节点"]

    def test_a_wrong_password_gives_the_generic_error_and_no_session(self, client: httpx.Client) -> None:
        response = login(client, "晋官员", "wrong password")
        assert response.status_code == 303 and response.headers["location"] == "/officer/login?failed=1"
        assert COOKIE not in client.cookies
        assert 'role="alert"' in client.get("/officer/login?failed=1").text
        assert client.get("/officer/").status_code == 303
        unknown = login(client, "无此人", "wrong password")
        assert unknown.headers["location"] == "/officer/login?failed=1"  # the same answer

    def test_five_failures_lock_the_officer_from_that_address_only(self, client: httpx.Client, base_url: str,
                                                                   fixture: Fixture) -> None:
        for _ in range(5):
            assert login(client, "晋官员", "wrong password").headers["location"].endswith("failed=1")
        assert login(client, "晋官员").headers["location"].endswith("failed=1")  # waits, even with the password
        assert COOKIE not in client.cookies
        assert login(client, "鲁官员").headers["location"] == "/officer/"  # other officers are not locked
        with from_address(base_url, "127.0.0.2") as elsewhere:  # the real officer, at their own desk
            assert login(elsewhere, "晋官员").headers["location"] == "/officer/"
            assert elsewhere.get("/officer/").status_code == 200

    def test_the_wait_doubles_with_each_failure_and_a_success_clears_it(self, sessions: sessionmaker[Session],
                                                                         fixture: Fixture) -> None:
        throttle = Throttle(sessions)
        key, here = f"officer:{fixture.shanxi_officer}", "10.0.0.1"
        now = 1_000_000.0
        for _ in range(FREE_FAILURES):
            throttle.fail(key, here, now)
        assert not throttle.is_locked(key, here, now)
        waits = []
        for _ in range(4):
            throttle.fail(key, here, now)
            waits.append(throttle.wait(key, here, now))
        assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
        assert throttle.is_locked(key, here, now + 8 * 60 - 1) and not throttle.is_locked(key, here, now + 8 * 60)
        assert not throttle.is_locked(key, "10.0.0.2", now)
        for _ in range(20):
            throttle.fail(key, here, now)
        assert throttle.wait(key, here, now) == timedelta(hours=1)  # capped
        throttle.succeed(key, here)
        assert not throttle.is_locked(key, here, now)
        assert check_login(sessions, "晋官员", PASSWORD, throttle, here, now) == fixture.shanxi_officer

    def test_a_lock_is_shared_by_two_app_instances(self, sessions: sessionmaker[Session], fixture: Fixture) -> None:
        with serve(app_for(sessions)) as first, serve(app_for(sessions)) as second:
            with httpx.Client(base_url=first, follow_redirects=False, timeout=20) as a:
                for _ in range(5):
                    login(a, "晋官员", "wrong password")
            with httpx.Client(base_url=second, follow_redirects=False, timeout=20) as b:
                assert login(b, "晋官员").headers["location"].endswith("failed=1")  # the other process knows
                assert COOKIE not in b.cookies

    @pytest.mark.parametrize("typed", ["¹", "١٢", "１", "9" * 40, "1" + "\u0000"])
    def test_a_login_of_non_ascii_digits_is_a_plain_failed_login(self, client: httpx.Client, typed: str) -> None:
        response = login(client, typed)
        assert response.status_code == 303 and response.headers["location"] == "/officer/login?failed=1"
        assert COOKIE not in client.cookies

    def test_logout_ends_the_session(self, shanxi: httpx.Client) -> None:
        cookie = shanxi.cookies[COOKIE]
        token = csrf_of(shanxi.get("/officer/").text)
        response = shanxi.post("/officer/logout", data={"csrf": token})
        assert response.status_code == 303 and response.headers["location"] == "/officer/login"
        shanxi.cookies.set(COOKIE, cookie, path="/officer")
        assert shanxi.get("/officer/").status_code == 303  # the old cookie is revoked

    def test_a_logged_out_cookie_stays_refused_after_a_restart(self, sessions: sessionmaker[Session],
                                                              fixture: Fixture) -> None:
        with serve(app_for(sessions)) as before, httpx.Client(base_url=before, follow_redirects=False) as c:
            login(c, "晋官员")
            cookie = c.cookies[COOKIE]
            assert c.post("/officer/logout", data={"csrf": csrf_of(c.get("/officer/").text)}).status_code == 303
        with serve(app_for(sessions)) as after, httpx.Client(base_url=after, follow_redirects=False) as c:
            c.cookies.set(COOKIE, cookie, path="/officer")
            assert c.get("/officer/").status_code == 303
        with serve(app_for(sessions)) as after, httpx.Client(base_url=after, follow_redirects=False) as c:
            login(c, "晋官员")
            live = c.cookies[COOKIE]
        with serve(app_for(sessions)) as again, httpx.Client(base_url=again, follow_redirects=False) as c:
            c.cookies.set(COOKIE, live, path="/officer")
            assert c.get("/officer/").status_code == 200  # a session that was not ended survives the restart


def test_addresses_and_waits() -> None:
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:10.1.2.3") == "10.1.2.3" and address_key("10.1.2.3") == "10.1.2.3"
    assert address_key(None) == "unknown"
    assert [wait_after(n).total_seconds() for n in range(1, 8)] == [0, 0, 0, 0, 60, 120, 240]


class TestSessionsAndCsrf:
    def test_forged_tampered_and_expired_cookies_are_refused(self, shanxi: httpx.Client, fixture: Fixture,
                                                            sessions: sessionmaker[Session]) -> None:
        real = shanxi.cookies[COOKIE]
        now = datetime.now(UTC).timestamp()
        signer = Signer(SECRET, sessions)
        expired = signer.issue(fixture.shanxi_officer, now - 9 * 3600)  # expired an hour ago
        with sessions() as session:  # the table holds no token: its ids do not open a session
            stored = [r.id for r in session.scalars(select(OfficerSession))]
        assert real not in stored
        forged = [real[:-1] + ("A" if real[-1] != "A" else "B"), real + "A", stored[0], expired, "garbage", "",
                  f"{fixture.shanxi_officer}.9999999999.{'0' * 32}.{'0' * 64}"]
        for cookie in forged:
            shanxi.cookies.set(COOKIE, cookie, path="/officer")
            assert shanxi.get("/officer/").status_code == 303, cookie
            assert shanxi.get(f"/officer/lists/{fixture.shanxi_list}/export.csv").status_code == 401, cookie
        assert signer.read(real, now + 8 * 3600 + 1) is None  # eight hours after issue
        shanxi.cookies.set(COOKIE, signer.issue(fixture.shanxi_officer, now), path="/officer")
        assert shanxi.get("/officer/").status_code == 200  # a session the database knows

    @pytest.mark.parametrize("data", [{}, {"csrf": "0" * 64}, {"csrf": "不是令牌"}])
    def test_logout_without_a_valid_token_is_refused_and_does_nothing(self, shanxi: httpx.Client,
                                                                      data: dict[str, str]) -> None:
        response = shanxi.post("/officer/logout", data=data)
        assert response.status_code == 403 and response.json()["error"]["error"] == "csrf"
        assert shanxi.get("/officer/").status_code == 200

    def test_a_token_of_another_session_is_refused(self, base_url: str, shanxi: httpx.Client) -> None:
        with httpx.Client(base_url=base_url, follow_redirects=False) as other:
            login(other, "鲁官员")
            their_token = csrf_of(other.get("/officer/").text)
        assert shanxi.post("/officer/logout", data={"csrf": their_token}).status_code == 403
        assert shanxi.get("/officer/").status_code == 200

    def test_login_without_the_forms_token_is_refused(self, client: httpx.Client) -> None:
        response = client.post("/officer/login", data={"login": "晋官员", "password": "correct horse 42"})
        assert response.status_code == 403
        client.get("/officer/login")
        response = client.post("/officer/login", data={"login": "晋官员", "password": "correct horse 42",
                                                       "csrf": "0" * 64})
        assert response.status_code == 403 and COOKIE not in client.cookies


class TestAccess:
    def test_without_a_session_only_the_login_is_reachable(self, client: httpx.Client, fixture: Fixture) -> None:
        assert client.get("/officer/login").status_code == 200
        for path in ("/officer/", f"/officer/lists/{fixture.shanxi_list}", "/officer/lists/999"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/officer/login", path
        for fmt in ("csv", "xlsx"):
            response = client.get(f"/officer/lists/{fixture.shanxi_list}/export.{fmt}")
            assert response.status_code == 401 and response.json()["error"]["error"] == "unauthorized"
        assert client.post("/officer/logout").status_code == 303
        assert client.get("/api/v1/ping").status_code == 401  # a chat API key is not an officer session

    def test_a_shanxi_officer_cannot_see_or_export_a_shandong_list(self, shanxi: httpx.Client,
                                                                  fixture: Fixture) -> None:
        for path in (f"/officer/lists/{fixture.shandong_list}", f"/officer/lists/{fixture.shandong_list}/export.csv",
                     f"/officer/lists/{fixture.shandong_list}/export.xlsx"):
            response = shanxi.get(path)
            assert response.status_code == 403, path
            assert response.json()["error"]["error"] == "forbidden"
            assert "山东秘密企业" not in response.text
        assert shanxi.get("/officer/lists/999999").status_code == 404


class TestListPage:
    def test_statuses_escaping_evidence_and_chart(self, shanxi: httpx.Client, fixture: Fixture) -> None:
        page = shanxi.get(f"/officer/lists/{fixture.shanxi_list}").text
        assert SCRIPT_NAME not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        for status in ("done_on_time", "done_late", "overdue", "due_soon", "pending"):
            assert f'class="ms {status}"' in page, status
        assert 'href="https://example.org/evidence/a"' in page and "盖章公示截图" in page
        assert '<svg role="img"' in page and page.count('class="bar"') == 3
        assert "2026-03-09" in page  # the day it was done

    @pytest.mark.parametrize(("query", "shown"), [
        ("status=overdue", [SCRIPT_NAME]),
        ("status=due_soon", ["按时企业有限公司"]),
        ("status=done", []),
        ("status=all&industry=C", ["按时企业有限公司", SCRIPT_NAME]),
        ("industry=d44", ["远期企业有限公司"]),
        ("status=bogus&industry=<x>", ["按时企业有限公司", SCRIPT_NAME, "远期企业有限公司"]),
    ])
    def test_filters(self, shanxi: httpx.Client, fixture: Fixture, query: str, shown: list[str]) -> None:
        rows = read_csv(shanxi.get(f"/officer/lists/{fixture.shanxi_list}/export.csv?{query}").content)
        assert sorted({r[1] for r in rows[1:]}) == sorted(shown)
        page = shanxi.get(f"/officer/lists/{fixture.shanxi_list}?{query}").text
        assert page.count('<tr class="enterprise">') == len(shown)


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


class TestExports:
    def test_csv_has_a_row_per_milestone(self, shanxi: httpx.Client, fixture: Fixture) -> None:
        response = shanxi.get(f"/officer/lists/{fixture.shanxi_list}/export.csv")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = read_csv(response.content)
        assert len(rows) == 1 + 6
        late = next(r for r in rows if r[1] == SCRIPT_NAME and r[5] == "2026-03-10")
        assert late[0] == "3" and late[3] == "C3011" and late[8] == "2026-03-15" and late[9] == "盖章公示截图"

    def test_xlsx_has_the_same_rows(self, shanxi: httpx.Client, fixture: Fixture) -> None:
        csv_rows = read_csv(shanxi.get(f"/officer/lists/{fixture.shanxi_list}/export.csv").content)
        response = shanxi.get(f"/officer/lists/{fixture.shanxi_list}/export.xlsx?status=overdue")
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        got = [["" if v is None else (v.date().isoformat() if isinstance(v, datetime) else str(v)) for v in r]
               for r in sheet.iter_rows(values_only=True)]
        assert got[0] == csv_rows[0]
        assert got[1:] == [r for r in csv_rows[1:] if r[1] == SCRIPT_NAME]

    def test_a_formula_in_a_name_is_exported_as_text(self, shanxi: httpx.Client, fixture: Fixture,
                                                     sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            entry = Repositories(session).imports.list_entries(fixture.shanxi_list)[0]
            entry[1].name = '=HYPERLINK("http://evil","x")'
        rows = read_csv(shanxi.get(f"/officer/lists/{fixture.shanxi_list}/export.csv").content)
        assert rows[1][1].startswith("'=")


class TestStatuses:
    def test_each_status_on_its_boundary(self) -> None:
        due = date(2026, 4, 1)
        beijing_late_evening = datetime(2026, 4, 1, 15, 59, tzinfo=UTC)
        beijing_next_morning = datetime(2026, 4, 1, 16, 1, tzinfo=UTC)
        assert milestone_status(due, beijing_late_evening, TODAY) == "done_on_time"
        assert milestone_status(due, beijing_next_morning, TODAY) == "done_late"
        assert milestone_status(due, None, TODAY) == "due_soon"  # the last day itself is not overdue
        assert milestone_status(due, None, date(2026, 4, 2)) == "overdue"
        assert milestone_status(date(2026, 5, 1), None, TODAY) == "due_soon"  # 30 days ahead
        assert milestone_status(date(2026, 5, 2), None, TODAY) == "pending"

    def test_rates_of_the_fixture_list(self, sessions: sessionmaker[Session], fixture: Fixture) -> None:
        with sessions() as session:
            officer = Repositories(session).officers.get_by_id(fixture.shanxi_officer)
            assert officer is not None
        view = load_list(sessions, officer, fixture.shanxi_list, TODAY, "all", "")
        assert view is not None
        assert view.rates == {"disclosure": (1, 2), "start": (0, 1), "report": (1, 1)}
        statuses = {(r.enterprise.name, m.kind): s for r in view.rows for m, s in r.milestones}
        assert statuses == {
            ("按时企业有限公司", "disclosure"): "done_on_time", ("按时企业有限公司", "start"): "due_soon",
            (SCRIPT_NAME, "disclosure"): "done_late", (SCRIPT_NAME, "start"): "overdue",
            ("远期企业有限公司", "report"): "done_on_time", ("远期企业有限公司", "disclosure"): "pending",
        }
        assert on_time_rates([], TODAY) == {}


def test_the_list_template_is_downloadable_without_logging_in(client: httpx.Client) -> None:
    import openpyxl

    xlsx = client.get("/officer/template.xlsx")
    assert xlsx.status_code == 200
    header = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows())]
    assert "统一社会信用代码" in " ".join(str(v) for v in header)
    csv_file = client.get("/officer/template.csv")
    assert csv_file.status_code == 200 and "统一社会信用代码" in csv_file.content.decode("utf-8-sig")
    assert client.get("/officer/template.pdf").status_code == 404

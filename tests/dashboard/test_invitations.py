"""Invitation sheets say where to send the code (the account's name, the web chat page) and carry a QR code of
the web chat address with the code: the dashboard's printable page over real HTTP, the CLI's XLSX, and the
settings they come from. QR codes are decoded with zbarimg (Debian's zbar-tools, installed by
scripts/system-deps) when it is there; otherwise the image must be exactly segno's code of the address."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import officer_cli
from bot.config import ConfigError, Settings
from bot.dashboard import dashboard_routes
from bot.server import create_app
from handlers.invitations import Place, qr_png
from storage import Repositories
from storage.models import EnterpriseInvitation
from tests.dashboard.dashkit import (
    SCRIPT_NAME,
    SECRET,
    SHANXI,
    TODAY,
    Fixture,
    NoConversation,
    login,
    serve,
)

NAME = "清审服务号"
WEB = "https://qs.example.gov.cn/chat/"
PNG_URI = re.compile(r'<img class="qr" src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"')


def decoded(png: bytes, url: str, tmp_path: Path) -> str:
    """What the QR code in `png` says (zbarimg), or `url` if the PNG is segno's code of it (no decoder here)."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        assert png == qr_png(url), "not the QR code of the address"
        return url
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    done = subprocess.run([zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def codes(sessions: sessionmaker[Session], import_id: int) -> dict[str, str]:
    """Enterprise name -> its invitation code for the list."""
    with sessions() as s:
        repos = Repositories(s)
        return {repos.enterprises.get_by_id(i.enterprise_id).name: i.code  # type: ignore[union-attr]
                for i in repos.invitations.list_enterprise_invitations(import_id)}


@pytest.fixture
def client(sessions: sessionmaker[Session], fixture: Fixture) -> Iterator[httpx.Client]:
    settings = Settings.model_validate({"database_url": "sqlite://", "api_keys": ("k" * 24,)})
    routes = dashboard_routes(sessions, session_secret=SECRET, today=lambda: TODAY, place=Place(NAME, WEB))
    with serve(create_app(settings, NoConversation(), routes=routes)) as url, \
            httpx.Client(base_url=url, follow_redirects=False, timeout=30) as c:
        assert login(c, "晋官员").status_code == 303
        yield c


class TestPage:
    def test_each_card_names_the_place_and_its_qr_code_opens_the_web_chat_with_the_code(
        self, client: httpx.Client, sessions: sessionmaker[Session], fixture: Fixture, tmp_path: Path
    ) -> None:
        r = client.get(f"/officer/lists/{fixture.shanxi_list}/invitations")
        assert r.status_code == 200, r.text
        page = r.text
        given = codes(sessions, fixture.shanxi_list)
        assert set(given) == {name for name, *_ in SHANXI}          # nobody can be reached at: every enterprise
        assert SCRIPT_NAME not in page and html.escape(SCRIPT_NAME) in page  # autoescaped
        for code in given.values():
            assert f"<strong>{code}</strong>" in page
            assert f"向“{NAME}”发送：绑定 {code}" in page            # where to send it, in words
        assert WEB in page
        images = PNG_URI.findall(page)
        assert len(images) == len(given)
        for data, alt in images:
            url = html.unescape(alt)
            assert decoded(base64.b64decode(data), url, tmp_path) == url
        assert sorted(html.unescape(alt) for _, alt in images) == sorted(f"{WEB}?bind={c}" for c in given.values())

    def test_the_codes_stay_the_same_when_the_page_is_opened_again(
        self, client: httpx.Client, sessions: sessionmaker[Session], fixture: Fixture
    ) -> None:
        client.get(f"/officer/lists/{fixture.shanxi_list}/invitations")
        first = codes(sessions, fixture.shanxi_list)
        assert client.get(f"/officer/lists/{fixture.shanxi_list}/invitations").status_code == 200
        assert codes(sessions, fixture.shanxi_list) == first

    def test_the_list_page_links_to_it(self, client: httpx.Client, fixture: Fixture) -> None:
        page = client.get(f"/officer/lists/{fixture.shanxi_list}").text
        assert f'href="/officer/lists/{fixture.shanxi_list}/invitations"' in page

    def test_outside_the_jurisdiction_nothing_is_shown_or_made(
        self, client: httpx.Client, sessions: sessionmaker[Session], fixture: Fixture
    ) -> None:
        r = client.get(f"/officer/lists/{fixture.shandong_list}/invitations")
        assert r.status_code == 403 and "山东秘密企业" not in r.text
        assert codes(sessions, fixture.shandong_list) == {}
        assert client.get("/officer/lists/999/invitations").status_code == 404
        bad = client.get(f"/officer/lists/{fixture.shanxi_list}/invitations?page=x")
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "page"
        with sessions() as s:
            assert s.scalars(select(EnterpriseInvitation)).all() == []  # nothing was made by refused requests

    def test_without_a_session_it_asks_to_log_in(self, sessions: sessionmaker[Session], fixture: Fixture) -> None:
        settings = Settings.model_validate({"database_url": "sqlite://", "api_keys": ("k" * 24,)})
        app = create_app(settings, NoConversation(), routes=dashboard_routes(sessions, session_secret=SECRET))
        with serve(app) as url, httpx.Client(base_url=url, follow_redirects=False) as c:
            r = c.get(f"/officer/lists/{fixture.shanxi_list}/invitations")
        assert r.status_code == 303 and r.headers["location"] == "/officer/login"


class TestSheet:
    def run(self, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, *argv: str,
            **env: str) -> tuple[int, str]:
        for key in ("QINGSHEN_PUBLIC_NAME", "QINGSHEN_WEB_URL", "QINGSHEN_PUBLIC_URL"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        out, err = io.StringIO(), io.StringIO()
        code = officer_cli.main(list(argv), sessions=sessions, out=out, err=err, stdin=io.StringIO(""), today=TODAY)
        return code, err.getvalue()

    def test_the_xlsx_says_where_and_carries_a_qr_code_per_enterprise(
        self, sessions: sessionmaker[Session], fixture: Fixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "codes.xlsx"
        status, _err = self.run(sessions, monkeypatch, "sheet", str(fixture.shanxi_officer), str(fixture.shanxi_list),
                                str(path), QINGSHEN_PUBLIC_NAME=NAME, QINGSHEN_WEB_URL=WEB)
        assert status == 0
        sheet = openpyxl.load_workbook(path).worksheets[0]
        header = [c.value for c in sheet[1]]
        assert header == ["企业名称", "统一社会信用代码", "邀请码", "使用方法", "带邀请码的网页对话地址", "二维码"]
        rows = {r[2]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
        assert set(rows) == set(codes(sessions, fixture.shanxi_list).values())
        for code, r in rows.items():
            assert NAME in str(r[3]) and f"绑定 {code}" in str(r[3])
            assert r[4] == f"{WEB}?bind={code}"
        with zipfile.ZipFile(path) as z:
            media = sorted(n for n in z.namelist() if n.startswith("xl/media/") and n.endswith(".png"))
            assert len(media) == len(rows)
            seen = {decoded(z.read(n), url, tmp_path) for n, url in zip(media, [r[4] for r in rows.values()],
                                                                            strict=True)}
        assert seen == {r[4] for r in rows.values()}

    def test_without_settings_the_sheet_says_so(
        self, sessions: sessionmaker[Session], fixture: Fixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "codes.xlsx"
        status, err = self.run(sessions, monkeypatch, "sheet", str(fixture.shanxi_officer), str(fixture.shanxi_list),
                               str(path))
        assert status == 0 and "QINGSHEN_PUBLIC_NAME" in err and "QINGSHEN_WEB_URL" in err
        header = [c.value for c in openpyxl.load_workbook(path).worksheets[0][1]]
        assert "二维码" not in header

    def test_the_public_url_is_the_web_chat_by_default(
        self, sessions: sessionmaker[Session], fixture: Fixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "codes.xlsx"
        status, _err = self.run(sessions, monkeypatch, "sheet", str(fixture.shanxi_officer), str(fixture.shanxi_list),
                                str(path), QINGSHEN_PUBLIC_URL="https://bot.example.cn")
        assert status == 0
        links = [r[4] for r in openpyxl.load_workbook(path).worksheets[0].iter_rows(min_row=2, values_only=True)]
        assert links and all(str(u).startswith("https://bot.example.cn/?bind=") for u in links)


class TestSettings:
    @pytest.mark.parametrize(("name", "value"), [
        ("QINGSHEN_PUBLIC_NAME", "清审" * 30),
        ("QINGSHEN_PUBLIC_NAME", "清审\x07服务号"),
        ("QINGSHEN_WEB_URL", "ftp://qs.example/"),
        ("QINGSHEN_WEB_URL", "https://qs.example/?from=sheet"),
        ("QINGSHEN_WEB_URL", "https://qs.example/#chat"),
        ("QINGSHEN_WEB_URL", "qs.example"),
    ])
    def test_a_bad_value_names_the_variable(self, name: str, value: str) -> None:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})

    def test_good_values(self) -> None:
        s = Settings.from_env({"QINGSHEN_PUBLIC_NAME": "  清审 服务号 ", "QINGSHEN_WEB_URL": "https://qs.example"})
        assert (s.public_name, s.web_url, s.chat_page_url) == ("清审 服务号", "https://qs.example/",
                                                               "https://qs.example/")
        assert Settings.from_env({}).chat_page_url is None
        assert Place("x", "https://qs.example/").bind_url("ABCD2345") == "https://qs.example/?bind=ABCD2345"

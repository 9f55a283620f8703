"""`qingshen officer ...` end to end on SQLite and PostgreSQL, plus migration 0003 going down and up."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from bot import officer_cli
from handlers.officers import verify_password
from storage import ListImport, OfficerInvitation, Repositories, current_revision, downgrade, make_engine, upgrade
from tests.officers.officerkit import TODAY, add_contact, csv_bytes, row, shandong_code, shanxi_code, wrong_check

OFFICER_TABLES = {"officers", "officer_invitations", "list_imports", "list_entries", "enterprise_invitations",
                  "broadcasts", "broadcast_targets"}


class Cli:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.out = ""
        self.err = ""

    def __call__(self, *argv: str, stdin: str = "") -> int:
        out, err = io.StringIO(), io.StringIO()
        code = officer_cli.main(list(argv), sessions=self.sessions, out=out, err=err, stdin=io.StringIO(stdin),
                                today=TODAY)
        self.out, self.err = out.getvalue(), err.getvalue()
        return code


@pytest.fixture
def cli(sessions: sessionmaker[Session]) -> Cli:
    return Cli(sessions)


def add(cli: Cli, province: str = "shanxi", *extra: str) -> int:
    assert cli("add", "--name", "王五", "--role", "ecology", "--province", province, *extra) == 0, cli.err
    with cli.sessions() as s:
        newest = max(o.id for o in Repositories(s).officers.list_all())
    assert str(newest) in cli.out
    return newest


def test_add_prints_the_id_and_a_code_and_keeps_a_password_hash(cli: Cli, sessions: sessionmaker[Session]) -> None:
    assert cli("add", "--name", "王五", "--role", "industry", "--province", "山西", "--city", "太原市",
               "--password-stdin", stdin="s3cret-pass\n") == 0
    with sessions() as s:
        officer = Repositories(s).officers.get_by_id(1)
        assert officer is not None
        assert (officer.province, officer.city, officer.role) == ("shanxi", "太原市", "industry")
        assert verify_password("s3cret-pass", officer.password_hash)
        first = s.scalars(select(OfficerInvitation.code)).one()
    assert first in cli.out
    assert cli("invite", "1") == 0
    with sessions() as s:
        codes = set(s.scalars(select(OfficerInvitation.code)))
    assert len(codes) == 2 and (codes - {first}).pop() in cli.out
    assert cli("list") == 0 and "王五" in cli.out
    assert cli("add", "--name", "x", "--role", "ecology", "--province", "atlantis") == 1


def imports(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(ListImport)) or 0


def test_import_preview_errors_partial_and_idempotence(
    cli: Cli, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    officer = add(cli)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row(1), row(2, code=wrong_check(shanxi_code(2)))], encoding="gbk"))
    assert cli("import", str(officer), str(bad)) == 2
    assert cli.out.count("\n") == 2  # the summary and the one row error
    assert imports(sessions) == 0
    assert cli("import", str(officer), str(bad), "--json") == 2
    assert json.loads(cli.out)["errors"][0]["code"] == "checksum"
    assert cli("import", str(officer), str(bad), "--accept-partial", "--dry-run") == 0
    assert imports(sessions) == 0
    assert cli("import", str(officer), str(bad), "--accept-partial") == 0
    assert imports(sessions) == 1
    assert cli("import", str(officer), str(bad), "--accept-partial") == 0
    assert imports(sessions) == 1


def test_a_city_officer_is_not_told_of_the_provinces_import_of_the_same_file(
    cli: Cli, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    province = add(cli)
    city = add(cli, "shanxi", "--city", "太原市")
    listed = tmp_path / "list.csv"
    listed.write_bytes(csv_bytes([row(1), row(2)]))
    assert cli("import", str(province), str(listed)) == 0
    with sessions() as s:
        province_list = s.scalars(select(ListImport.id)).one()
    assert cli("import", str(province), str(listed), "--dry-run") == 0
    assert f"已作为名单 {province_list} 导入" in cli.out  # the province may know its own list
    for extra in (("--dry-run",), ()):
        assert cli("import", str(city), str(listed), *extra) == 0, cli.err
        assert "已作为名单" not in cli.out and f"名单 {province_list}" not in cli.out, cli.out
    assert imports(sessions) == 1


def test_a_refused_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    officer = add(cli)
    fake = tmp_path / "list.xlsx"
    fake.write_text("not a workbook")
    assert cli("import", str(officer), str(fake)) == 2 and cli.err
    assert cli("import", str(officer), str(tmp_path / "missing.csv")) == 1


def test_template_import_broadcast_report_sheet(cli: Cli, tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    officer = add(cli)
    for name in ("t.xlsx", "t.csv"):
        assert cli("template", str(tmp_path / name)) == 0 and (tmp_path / name).stat().st_size > 0
    data = tmp_path / "list.csv"
    data.write_bytes(csv_bytes([row(1), row(2)]))
    assert cli("import", str(officer), str(data)) == 0
    with sessions.begin() as s:
        repos = Repositories(s)
        e = repos.enterprises.get_by_credit_code(shanxi_code(1))
        assert e is not None
        add_contact(repos, "m1", enterprise_id=e.id)
    assert cli("broadcast", str(officer), "--import", "1") == 0
    assert cli.out and cli.err.count("\n") == 2  # the report; progress on stderr: one batch, then done
    assert cli("report", str(officer), "1", "--json") == 0
    assert json.loads(cli.out) == {"broadcast_id": 1, "status": "done", "planned": 1, "sent": 0, "failed": 0,
                                       "pending": 1, "unreachable": 1, "invited": 1, "reached": 1}
    assert cli("resume", str(officer), "1") == 0
    sheet = tmp_path / "codes.xlsx"
    assert cli("sheet", str(officer), "1", str(sheet)) == 0
    rows = list(openpyxl.load_workbook(sheet).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == [shanxi_code(2)]
    assert cli("broadcast", str(officer), "--general", "--text", "请按时公布信息", "--status", "due_soon") == 0
    assert cli("broadcast", str(officer), "--general") == 1


def test_a_shanxi_officer_cannot_act_for_shandong_from_the_cli(cli: Cli, tmp_path: Path) -> None:
    shanxi, shandong = add(cli, "shanxi"), add(cli, "shandong")
    data = tmp_path / "sd.csv"
    data.write_bytes(csv_bytes([row(1, code=shandong_code(1), place="济南市")]))
    assert cli("import", str(shanxi), str(data)) == 2 and "山东省" in cli.out  # the row is outside Shanxi
    assert cli("import", str(shandong), str(data)) == 0
    assert cli("broadcast", str(shanxi), "--import", "1") == 3
    assert cli("sheet", str(shanxi), "1", str(tmp_path / "x.xlsx")) == 3
    assert cli("broadcast", str(shandong), "--import", "1") == 0
    assert cli("report", str(shanxi), "1") == 3 and "山东省" in cli.err
    assert cli("resume", str(shanxi), "1") == 3
    assert cli("report", str(shandong), "1") == 0
    assert cli("report", "99", "1") == 1


def test_migration_0003_goes_down_and_up(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= OFFICER_TABLES
        downgrade(db_url, "0002")
        assert current_revision(db_url) == "0002"
        assert not OFFICER_TABLES & set(inspect(engine).get_table_names())
        upgrade(db_url)
        assert set(inspect(engine).get_table_names()) >= OFFICER_TABLES
        uniques = {u["name"] for u in inspect(engine).get_unique_constraints("list_entries")}
        assert {"uq_list_entries_import_id_enterprise_id", "uq_list_entries_enterprise_id_published_on"} <= uniques
    finally:
        engine.dispose()

"""A list's 地市 and 区县 checked against the administrative divisions (handlers/data/divisions.tsv): an unknown
or misplaced district is a row error naming the column, with the likely meant name; short forms, 县级市 and
development zones stay importable. Real XLSX files (openpyxl), the real import path (handlers.listupload)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handlers import divisions
from handlers.listimport import read_list
from handlers.listupload import apply_upload, check_upload
from handlers.officers import Jurisdiction
from rules.i18n import gettext_for
from storage.models import ListEntry
from tests.officers.officerkit import LISTED, TODAY, add_officer, shanxi_code, xlsx_bytes
from tests.officers.test_officer_cli import Cli, add

HEADER = ("序号", "企业名称", "统一社会信用代码", "地市", "县（市、区）", "审核依据", "名单公布日期")
SHANXI = Jurisdiction("shanxi")


def listed(*places: tuple[str | None, str | None], division: str = "0105", first: int = 1) -> bytes:
    rows = [[i, f"企业{i}有限公司", shanxi_code(i, division), city, county, "超标", LISTED]
            for i, (city, county) in enumerate(places, start=first)]
    return xlsx_bytes(rows, header=HEADER)


def errors(data: bytes, scope: Jurisdiction = SHANXI, locale: str = "zh_CN") -> list[tuple[int, str, str, str]]:
    p = read_list(data, "list.xlsx", scope, today=TODAY)
    tr = gettext_for(locale)
    return [(e.line, e.column, e.code, e.message(tr)) for e in p.errors]


def test_the_data_has_shanxis_districts_with_the_same_names_in_several_cities() -> None:
    shanxi = divisions.province("14")
    assert shanxi is not None
    yangquan = shanxi.city("阳泉市")[0]
    assert yangquan is not None
    assert {u.name for u in yangquan.counties} == {"城区", "矿区", "郊区", "平定县", "盂县"}
    taiyuan = shanxi.city("太原市")[0]
    assert taiyuan is not None
    assert {"小店区", "迎泽区", "杏花岭区", "尖草坪区", "万柏林区", "晋源区", "清徐县", "阳曲县", "娄烦县",
            "古交市"} <= {u.name for u in taiyuan.counties}
    assert sorted(c.name for c, _ in shanxi.counties_named("城区")) == ["晋城市", "阳泉市"]


def test_an_unknown_district_is_a_row_error_naming_the_column_and_the_credit_codes_district() -> None:
    found = errors(listed(("太原市", "小店区"), ("太原市", "不存在区")))
    assert found == [(3, "县（市、区）", "unknown_county",
                      "不存在区不是太原市的县（市、区）；统一社会信用代码的登记机关在小店区，是否为该区县？")]
    assert "is not a county or district of 太原市" in errors(listed(("太原市", "不存在区")), locale="en")[0][3]


def test_a_typo_names_the_likely_meant_district_and_is_not_imported_as_a_guess() -> None:
    p = read_list(listed(("太原市", "晋原区"), ("太原市", "杏花林区")), "list.xlsx", SHANXI, today=TODAY)
    tr = gettext_for("zh_CN")
    assert [(e.line, e.code, e.message(tr)) for e in p.errors] == [
        (2, "unknown_county", "晋原区不是太原市的县（市、区），是否应为晋源区？"),
        (3, "unknown_county", "杏花林区不是太原市的县（市、区），是否应为杏花岭区？"),
    ]
    assert p.rows == ()


def test_short_forms_and_county_level_cities_are_the_counties_they_name() -> None:
    p = read_list(listed(("太原", "小店"), ("太原市", "古交市"), ("阳泉市", "矿区"), ("阳泉", "郊区"),
                         ("晋城市", "城区")), "list.xlsx", SHANXI, today=TODAY)
    assert p.errors == ()
    assert [(r.city, r.county) for r in p.rows] == [("太原市", "小店区"), ("太原市", "古交市"), ("阳泉市", "矿区"),
                                                    ("阳泉市", "郊区"), ("晋城市", "城区")]


def test_a_district_of_another_city_is_an_error_naming_both_cities() -> None:
    assert errors(listed(("大同市", "清徐县"), ("太原市", "城区"))) == [
        (2, "县（市、区）", "wrong_city", "清徐县属于太原市，不属于大同市：请核对地市和区县。"),
        (3, "县（市、区）", "wrong_city", "城区属于晋城市、阳泉市，不属于太原市：请核对地市和区县。"),
    ]
    assert "is a county of 太原市, not of 大同市" in errors(listed(("大同市", "清徐县")), locale="en")[0][3]


def test_an_unknown_city_is_a_row_error_naming_the_likely_city() -> None:
    assert errors(listed(("太源市", "小店区"), ("郑州市", None), ("古交市", None))) == [
        (2, "地市", "unknown_city", "太源市不是山西省的地市，是否应为太原市？"),
        (3, "地市", "unknown_city", "郑州市是河南省的地市，不属于山西省。"),
        (4, "地市", "unknown_city", "古交市是太原市的县（市、区），不是地市：地市请填太原市，区县填古交市。"),
    ]


def test_a_renamed_district_names_its_name_now() -> None:
    assert errors(listed(("大同市", "城区"))) == [
        (2, "县（市、区）", "unknown_county", "大同市城区已于2018-02-09更名为平城区，请填写平城区。")]


def test_development_zones_stay_importable_with_a_note() -> None:
    data = listed(("太原市", "太原高新区"), ("太原市", "综改示范区"), ("太原市", "山西转型综合改革示范区"))
    p = read_list(data, "list.xlsx", SHANXI, today=TODAY)
    assert p.errors == ()
    assert [(r.city, r.county) for r in p.rows] == [("太原市", "太原高新区"), ("太原市", "综改示范区"),
                                                    ("太原市", "山西转型综合改革示范区")]
    assert [(n.line, n.column, n.code) for n in p.notes] == [(2, "县（市、区）", "not_a_division"),
                                                              (3, "县（市、区）", "not_a_division")]
    en = p.to_dict("en")["notes"][0]["message"]
    assert en.startswith("太原高新区 is not an administrative division")
    assert "注意：第 2 行，县（市、区）：太原高新区不是行政区划" in p.render(gettext_for("zh_CN"))


def test_the_region_column_is_checked_too_and_named() -> None:
    rows = [[f"企业{i}有限公司", shanxi_code(i), "超标", LISTED, place]
            for i, place in enumerate(("太原市/小店区", "太原市/晋原区", "吕梁市孝义市"), start=1)]
    data = xlsx_bytes(rows, header=("企业名称", "统一社会信用代码", "审核依据", "名单公布日期", "市/县"))
    assert [(line, col, code) for line, col, code, _ in errors(data)] == [(3, "市/县", "unknown_county")]


def test_a_city_officer_gets_the_same_checks_inside_the_jurisdiction() -> None:
    scope = Jurisdiction("shanxi", "太原市")
    found = errors(listed(("太原市", "不存在区"), ("太原", "迎泽"), ("大同市", "平城区")), scope)
    assert [(line, code) for line, _, code, _ in found] == [(2, "unknown_county"), (4, "outside_jurisdiction")]


def test_the_upload_path_refuses_the_row_and_a_clean_list_imports_as_before(sessions: sessionmaker[Session]) -> None:
    officer = add_officer(sessions)
    bad = listed(("太原市", "小店区"), ("太原市", "不存在区"))
    check = check_upload(sessions, officer, bad, "bad.xlsx", today=TODAY)
    assert [(e.line, e.code) for e in check.preview.errors] == [(3, "unknown_county")]
    _, outcome = apply_upload(sessions, officer, bad, "bad.xlsx", today=TODAY, accept_partial=True)
    assert outcome.added == 1
    clean = listed(("太原市", "清徐县"), ("大同市", "平城区"), ("吕梁市", "孝义市"), first=10)
    _, outcome = apply_upload(sessions, officer, clean, "clean.xlsx", today=TODAY, accept_partial=False)
    assert outcome.added == 3
    with sessions() as session:
        places = session.execute(select(ListEntry.city, ListEntry.county).order_by(ListEntry.id)).all()
    assert [tuple(p) for p in places] == [("太原市", "小店区"), ("太原市", "清徐县"), ("大同市", "平城区"),
                                          ("吕梁市", "孝义市")]


def test_officer_import_on_the_command_line_names_the_row_and_column(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    cli = Cli(sessions)
    officer = str(add(cli))
    path = tmp_path / "errors.xlsx"
    path.write_bytes(listed(("太原市", "小店区"), ("太原市", "不存在区")))
    assert cli("import", officer, str(path), "--dry-run", "--json") == 2
    preview = json.loads(cli.out)
    assert [(e["line"], e["column"], e["code"]) for e in preview["errors"]] == [(3, "县（市、区）", "unknown_county")]
    assert cli("import", officer, str(path), "--accept-partial") == 0
    with sessions() as session:
        assert session.scalars(select(ListEntry.county)).all() == ["小店区"]

"""Reading a list file: every row error, and hostile files refused with one clear error. No database."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta

import openpyxl
import pytest

from handlers.listimport import (
    TEMPLATE_HEADER,
    ListFileError,
    Preview,
    parse_date,
    read_grounds,
    read_industry,
    read_list,
    split_region,
    template_csv,
    template_xlsx,
)
from handlers.officers import Jurisdiction
from rules.i18n import gettext_for
from tests.officers.officerkit import (
    HEADER,
    TODAY,
    credit_code,
    csv_bytes,
    row,
    shandong_code,
    shanxi_code,
    wrong_check,
    xlsx_bytes,
)

SHANXI = Jurisdiction("shanxi")
TAIYUAN = Jurisdiction("shanxi", "太原市")


def read(data: bytes, name: str = "list.csv", scope: Jurisdiction = SHANXI, **kw: int) -> Preview:
    return read_list(data, name, scope, today=TODAY, **kw)


def codes(p: Preview) -> list[tuple[int, str, str]]:
    return [(e.line, e.field, e.code) for e in p.errors]


def refused(data: bytes, name: str, code: str, **kw: int) -> dict[str, object]:
    """Assert the file is refused for `code`; returns the message's placeholders (translations keep them)."""
    with pytest.raises(ListFileError) as caught:
        read_list(data, name, SHANXI, today=TODAY, **kw)
    assert caught.value.code == code, str(caught.value)
    assert str(caught.value)  # a sentence in the default locale
    return dict(caught.value.msg.args)


class TestValidRows:
    def test_a_clean_csv_gives_rows_and_no_errors(self) -> None:
        p = read(csv_bytes([row(1), row(2, grounds="高耗能、有毒有害", place="吕梁市孝义市")]))
        assert p.ok and p.data_rows == 2 and p.encoding == "utf-8" and p.file_format == "csv"
        first, second = p.rows
        assert (first.line, first.credit_code, first.grounds) == (2, shanxi_code(1), ("pollution",))
        assert (first.published_on, first.document_number) == (date(2026, 3, 31), "晋环发〔2026〕1号")
        assert (first.city, first.county) == ("太原市", "清徐县")
        assert (second.grounds, second.city, second.county) == (("energy", "toxic"), "吕梁市", "孝义市")

    def test_the_same_rows_in_xlsx_read_the_same(self) -> None:
        rows = [row(1), row(2)]
        assert read(xlsx_bytes(rows), "list.xlsx").rows == read(csv_bytes(rows)).rows

    def test_a_gbk_csv_is_read(self) -> None:
        p = read(csv_bytes([row(1, name="山西焦化股份有限公司")], encoding="gbk"))
        assert p.ok and p.encoding == "gb18030" and p.rows[0].name == "山西焦化股份有限公司"

    def test_a_csv_with_a_bom_and_a_utf16_export_are_read(self) -> None:
        assert read(b"\xef\xbb\xbf" + csv_bytes([row(1)])).encoding == "utf-8-sig"
        p = read(csv_bytes([row(1)]).decode().replace(",", "\t").encode("utf-16"))
        assert p.ok and p.encoding == "utf-16" and len(p.rows) == 1

    def test_header_aliases_extra_columns_and_a_title_row(self) -> None:
        header = ("序号", "单位名称", "统一社会信用代码（18位）", "纳入原因", "公布日期", "所在市", "县（市、区）")
        rows = [[1, "甲公司", shanxi_code(1), "双超双有", "2026/3/31", "太原市", "清徐县"]]
        p = read(xlsx_bytes(rows, header=header, title="2026年山西省强制性清洁生产审核企业名单"), "l.xlsx")
        assert p.ok, codes(p)
        assert p.rows[0].grounds == ("pollution", "toxic") and p.rows[0].county == "清徐县"

    def test_date_and_number_cells_in_xlsx(self) -> None:
        rows = [row(1), row(2), row(3)]
        rows[0][3] = datetime(2026, 3, 31)  # type: ignore[call-overload]
        rows[1][3] = 46112  # type: ignore[call-overload]  # an Excel serial without a date format
        rows[2][3] = 20260331  # type: ignore[call-overload]
        p = read(xlsx_bytes(rows), "l.xlsx")
        assert p.ok and {r.published_on for r in p.rows} == {date(2026, 3, 31)}

    @pytest.mark.parametrize("text", ["2026-03-31", "2026/3/31", "2026.3.31", "2026年3月31日", "20260331",
                                      "2026-03-31 00:00:00", "２０２６年３月３１日"])
    def test_date_formats(self, text: str) -> None:
        assert parse_date(text) == date(2026, 3, 31)

    @pytest.mark.parametrize(("text", "kinds"), [
        ("超标", ("pollution",)), ("超总量", ("pollution",)), ("高耗能", ("energy",)), ("有毒有害", ("toxic",)),
        ("重点行业", ("key_industry",)), ("名录", ("master_list",)),
        ("超标、高耗能；有毒有害", ("pollution", "energy", "toxic")),
        ("双超双有高耗能", ("pollution", "energy", "toxic")), ("pollution, toxic", ("pollution", "toxic")),
    ])
    def test_ground_words(self, text: str, kinds: tuple[str, ...]) -> None:
        assert read_grounds(text) == (kinds, None)

    @pytest.mark.parametrize(("text", "parts"), [
        ("太原市/清徐县", (None, "太原市", "清徐县")), ("太原市清徐县", (None, "太原市", "清徐县")),
        ("山西省太原市", ("shanxi", "太原市", None)), ("清徐县", (None, None, "清徐县")),
        ("巴音郭楞蒙古自治州库尔勒市", (None, "巴音郭楞蒙古自治州", "库尔勒市")),
        ("太原市 小店区", (None, "太原市", "小店区")),
    ])
    def test_region_forms(self, text: str, parts: tuple[str | None, ...]) -> None:
        assert split_region(text) == parts


class TestRowErrors:
    def test_every_error_kind_is_reported_with_line_field_and_message(self) -> None:
        rows = [
            row(1),                                              # line 2: fine
            row(2, code=wrong_check(shanxi_code(2))),            # 3: checksum
            row(3, code="12345"),                                # 4: not a credit code
            row(4, grounds="飞行"),                              # 5: unknown ground
            row(5, day="2026-02-30"),                            # 6: bad date
            row(6, day="1999-01-01"),                            # 7: implausible date
            row(1, name="重复企业"),                             # 8: duplicate of line 2
            row(7, code=shandong_code(7)),                       # 9: registered in Shandong
            row(8, name=""),                                     # 10: missing name
            row(9, name="=HYPERLINK(\"http://x\")"),             # 11: a formula in CSV
        ]
        p = read(csv_bytes(rows))
        assert [r.line for r in p.rows] == [2]
        assert codes(p) == [
            (3, "credit_code", "checksum"), (4, "credit_code", "credit_code"), (5, "grounds", "unknown_ground"),
            (6, "published_on", "bad_date"), (7, "published_on", "implausible_date"),
            (8, "credit_code", "duplicate"), (9, "credit_code", "outside_jurisdiction"), (10, "name", "missing"),
            (11, "name", "formula"),
        ]
        tr = gettext_for("zh_CN")
        assert p.render(tr).count("\n") == len(p.errors)  # a summary line, then one line per error
        assert all(e.message(tr) for e in p.errors)
        assert p.errors[5].msg.args == {"code": shanxi_code(1), "first": 2}
        assert p.errors[0].column == "统一社会信用代码"
        assert p.to_dict()["error_rows"] == 9

    def test_a_publication_day_after_today_is_a_row_error(self) -> None:
        """Deadlines count from publication: a list dated next year would show every deadline as not due yet."""
        later, tomorrow = TODAY.replace(year=TODAY.year + 1), TODAY + timedelta(days=1)
        p = read(csv_bytes([row(1, day=TODAY.isoformat()), row(2, day=tomorrow.isoformat()),
                            row(3, day=later.strftime("%Y年%m月%d日"))]))
        assert [r.line for r in p.rows] == [2]
        assert codes(p) == [(3, "published_on", "future_date"), (4, "published_on", "future_date")]
        assert p.errors[0].message(gettext_for("zh_CN")) == (
            f"{tomorrow.isoformat()}晚于今天（{TODAY.isoformat()}）：名单公布后再导入，并填写实际公布日期。")
        assert "after today" in p.errors[1].message(gettext_for("en"))

    @pytest.mark.parametrize("name", ["＝1+1 全角公司", " =1+1公司", "\u3000＝SUM(A1)公司", "﹦1+1公司"])
    def test_a_formula_is_recognised_after_nfkc(self, name: str) -> None:
        for data, filename in ((csv_bytes([row(1, name=name)]), "l.csv"), (xlsx_bytes([row(1, name=name)]), "l.xlsx")):
            p = read(data, filename)
            assert codes(p) == [(2, "name", "formula")] and p.rows == (), filename

    def test_the_column_names_of_published_lists(self) -> None:
        header = ("序号", "地市", "县（市、区）", "企业名称", "统一社会信用代码", "强制审核原因", "名单公布日期",
                  "牵头部门")
        data = csv_bytes([[1, "太原市", "清徐县", "企业1有限公司", shanxi_code(1), "双超", "2026-03-31", "生态环境局"]],
                         header=header)
        p = read(data)
        assert p.ok and [(r.name, r.grounds, r.city, r.county) for r in p.rows] == [
            ("企业1有限公司", ("pollution",), "太原市", "清徐县")]

    def test_an_enterprise_name_is_kept_as_published_only_trimmed(self) -> None:
        """A registered name keeps its full-width brackets and letters (NFKC made ＡＢＣ纺织（太原）有限公司 into
        ABC纺织(太原)有限公司, so exports and invitation sheets no longer matched the published list)."""
        for data, filename in ((csv_bytes([row(1, name="  ＡＢＣ纺织（太原）有限公司\u3000 ")]), "l.csv"),
                               (xlsx_bytes([row(1, name="ＡＢＣ纺织（太原）有限公司  ")]), "l.xlsx")):
            p = read(data, filename)
            assert [r.name for r in p.rows] == ["ＡＢＣ纺织（太原）有限公司"], filename
        assert [r.name for r in read(csv_bytes([row(1, name="山西  美锦\t化工")])).rows] == ["山西 美锦 化工"]

    def test_a_credit_code_typed_as_a_number_in_xlsx_is_refused(self) -> None:
        rows = [row(1)]
        rows[0][1] = 911401001234567890  # type: ignore[call-overload]
        assert codes(read(xlsx_bytes(rows), "l.xlsx")) == [(2, "credit_code", "number")]

    def test_a_ground_the_province_rules_do_not_make_mandatory(self) -> None:
        # Henan's own notice is about voluntary audits; a "名录" ground means nothing there.
        henan = Jurisdiction("henan")
        p = read_list(csv_bytes([row(1, grounds="名录", code=credit_code("91410100MA0000001"), place="郑州市/金水区")]),
                      "h.csv", henan,
                      today=TODAY)
        assert codes(p) == [(2, "grounds", "not_mandatory")]

    def test_rows_outside_a_city_officers_jurisdiction(self) -> None:
        rows = [row(1, place="太原市/清徐县"), row(2, place="大同市/平城区"), row(3, place="清徐县"), row(4, place="")]
        p = read(csv_bytes(rows), scope=TAIYUAN)
        assert [r.line for r in p.rows] == [2]
        assert codes(p) == [(3, "region", "outside_jurisdiction"), (4, "region", "outside_jurisdiction"),
                            (5, "region", "outside_jurisdiction")]

    def test_an_explicit_province_outside_the_jurisdiction(self) -> None:
        p = read(csv_bytes([row(1, place="山东省济南市")]))
        assert codes(p) == [(2, "region", "outside_jurisdiction")]

    def test_empty_rows_are_skipped(self) -> None:
        p = read(csv_bytes([row(1), ["", "", "", "", "", ""], row(2)]))
        assert p.ok and [r.line for r in p.rows] == [2, 4]


class TestHostileFiles:
    def test_bytes_that_are_neither_utf8_nor_gbk_name_the_line(self) -> None:
        data = csv_bytes([row(1)]) + b"\xff\xfe\xfa\xfb,x\r\n"
        assert refused(data, "list.csv", "encoding") == {"line": 3}

    def test_a_text_file_renamed_xlsx(self) -> None:
        refused(csv_bytes([row(1)]), "list.xlsx", "not_zip")

    def test_an_old_xls_or_encrypted_workbook(self) -> None:
        refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "list.xlsx", "old_xls")

    def test_a_zip_that_is_not_a_workbook(self) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("word/document.xml", "<w/>")
        refused(buf.getvalue(), "list.xlsx", "not_xlsx")

    def test_a_truncated_workbook(self) -> None:
        data = xlsx_bytes([row(1)])
        refused(data[: len(data) // 2], "list.xlsx", "unreadable")

    def test_a_binary_file_named_csv(self) -> None:
        refused(b"\x00\x01\x02binary", "list.csv", "not_text")

    def test_a_zip_bomb_is_refused_before_it_is_expanded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = zip_bomb(256 * 2**20)
        assert len(data) < 2 * 2**20
        _never_opened_as_a_workbook(monkeypatch)
        assert refused(data, "bomb.xlsx", "zip_bomb") == {"size": 256, "limit": 200}

    def test_a_zip_that_lies_about_its_size_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = lying_zip_bomb(64 * 2**20)
        checked = _count_rows(monkeypatch)
        refused(data, "liar.xlsx", "unreadable")
        assert checked == []  # refused while reading the archive, before a single row

    def test_a_formula_is_refused_with_its_cell(self) -> None:
        rows = [row(1), row(2)]
        rows[1][0] = "=A2&\"x\""
        assert refused(xlsx_bytes(rows), "list.xlsx", "formula") == {"cell": "A3"}

    def test_merged_cells_in_the_table_are_refused_with_the_range(self) -> None:
        book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([row(1), row(2)])))
        sheet = book.active
        assert sheet is not None
        sheet.merge_cells("F2:F3")
        buf = io.BytesIO()
        book.save(buf)
        assert refused(buf.getvalue(), "list.xlsx", "merged_cells") == {"ranges": "F2:F3"}

    def test_a_merged_title_above_the_header_is_fine(self) -> None:
        book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([row(1)], title="名单")))
        sheet = book.active
        assert sheet is not None
        sheet.merge_cells("A1:F1")
        buf = io.BytesIO()
        book.save(buf)
        assert read(buf.getvalue(), "list.xlsx").ok

    def test_100000_rows_are_refused_before_they_are_parsed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = big_xlsx(100_000)
        _no_row_is_parsed(monkeypatch)
        assert refused(data, "big.xlsx", "too_many_rows") == {"n": 100_001, "limit": 50_000}

    def test_too_many_rows_without_a_dimension_are_counted(self) -> None:
        data = strip_dimension(xlsx_bytes([row(n) for n in range(3_000)], write_only=True))
        refused(data, "big.xlsx", "too_many_rows", max_rows=1_000)

    def test_100000_csv_rows_are_refused_before_they_are_parsed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = csv_bytes([row(n) for n in range(100_000)])
        _no_row_is_parsed(monkeypatch)
        assert refused(data, "big.csv", "too_many_rows") == {"n": 100_001, "limit": 50_000}

    def test_a_bogus_dimension_does_not_pad_millions_of_rows(self, monkeypatch: pytest.MonkeyPatch) -> None:
        data = set_dimension(xlsx_bytes([row(1)]), "A1:XFD1048576")
        checked = _count_rows(monkeypatch)
        assert read(data, "ok.xlsx").ok  # the rows are counted, the declaration ignored
        assert len(checked) == 1  # one data row checked, not a million padded ones

    def test_no_header(self) -> None:
        refused(b"a,b,c\r\n1,2,3\r\n", "x.csv", "no_header")

    def test_a_header_missing_a_required_column(self) -> None:
        header = ("企业名称", "统一社会信用代码", "审核依据")
        args = refused(csv_bytes([["甲", shanxi_code(1), "超标"]], header=header), "x.csv", "missing_columns")
        assert args["columns"] == "名单公布日期"


class TestTemplates:
    def test_the_xlsx_template_reads_as_an_empty_list(self) -> None:
        p = read(template_xlsx(), "template.xlsx")
        assert p.ok and p.data_rows == 0
        sheet = openpyxl.load_workbook(io.BytesIO(template_xlsx())).worksheets[0]
        assert tuple(c.value for c in sheet[1]) == TEMPLATE_HEADER
        assert sheet["B2"].number_format == "@" and sheet["H2"].number_format == "@"  # codes typed as text

    def test_the_csv_template_is_utf8_with_a_bom(self) -> None:
        data = template_csv()
        assert data.startswith(b"\xef\xbb\xbf") and read(data).data_rows == 0

    def test_a_filled_template_is_read(self) -> None:
        book = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
        sheet = book.worksheets[0]
        sheet.append([*row(1)[:5], "太原市", "清徐县", "2521", "王强", "13812345678"])
        buf = io.BytesIO()
        book.save(buf)
        [filled] = read(buf.getvalue(), "filled.xlsx").rows
        assert (filled.city, filled.county, filled.industry_code, filled.contact_name, filled.contact_phone) == \
            ("太原市", "清徐县", "2521", "王强", "13812345678")


# -- hostile file builders -----------------------------------------------------------------------------------


def zip_bomb(size: int) -> bytes:
    """A "workbook" whose sheet expands to `size` bytes of one repeated byte (small on disk)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * 2**20
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return buf.getvalue()


def lying_zip_bomb(size: int) -> bytes:
    """A real workbook whose sheet is replaced by `size` bytes while its headers claim a few hundred."""
    base = zipfile.ZipFile(io.BytesIO(xlsx_bytes([row(1)])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in base.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                z.writestr(info.filename, b"<worksheet>" + b" " * size)
            else:
                z.writestr(info.filename, base.read(info.filename))
    data = bytearray(buf.getvalue())
    name = b"xl/worksheets/sheet1.xml"
    real = (len(b"<worksheet>") + size).to_bytes(4, "little")
    fake = (300).to_bytes(4, "little")
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size in each header
        start = 0
        while (at := data.find(header, start)) >= 0:
            name_at = at + (30 if header == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name and data[at + offset:at + offset + 4] == real:
                data[at + offset:at + offset + 4] = fake
            start = at + 4
    return bytes(data)


def _rewrite_sheet(data: bytes, change: object) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                body = change(body)  # type: ignore[operator]
            z.writestr(info.filename, body)
    return buf.getvalue()


def big_xlsx(rows: int) -> bytes:
    """A workbook of `rows` identical data rows, its sheet written directly (openpyxl takes seconds)."""
    def cells(r: int, values: list[str] | tuple[str, ...]) -> str:
        pairs = zip("ABCDEF", values, strict=True)
        return "".join(f'<c r="{col}{r}" t="inlineStr"><is><t>{v}</t></is></c>' for col, v in pairs)

    body = "".join(f'<row r="{r}">{cells(r, row(1))}</row>' for r in range(2, rows + 2))
    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           f'<row r="1">{cells(1, HEADER)}</row>{body}</sheetData></worksheet>')
    return _rewrite_sheet(xlsx_bytes([]), lambda _: xml.encode())


def strip_dimension(data: bytes) -> bytes:
    return _rewrite_sheet(data, lambda body: re.sub(rb"<dimension [^>]*/>", b"", body))


def set_dimension(data: bytes, ref: str) -> bytes:
    def change(body: bytes) -> bytes:
        new = f'<dimension ref="{ref}"/>'.encode()
        if b"<dimension" in body:
            return re.sub(rb"<dimension [^>]*/>", new, body)
        return re.sub(rb"(<worksheet[^>]*>)", rb"\1" + new, body, count=1)
    return _rewrite_sheet(data, change)


def _no_row_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if a single row is checked: a file over the limit is refused from its size alone (no timing)."""
    import handlers.listimport as listimport

    def parsed(*args: object, **kwargs: object) -> None:
        raise AssertionError("a row was parsed before the file was refused")

    monkeypatch.setattr(listimport, "_check_row", parsed)


def _never_opened_as_a_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the file reaches openpyxl: a zip bomb is refused from the archive's declared sizes."""
    def opened(*args: object, **kwargs: object) -> None:
        raise AssertionError("the archive was opened as a workbook before it was refused")

    monkeypatch.setattr(openpyxl, "load_workbook", opened)


def _count_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The line numbers of the rows checked, as they are checked."""
    import handlers.listimport as listimport

    seen: list[int] = []
    real = listimport._check_row

    def counting(c: object, line: int, v: object) -> object:
        seen.append(line)
        return real(c, line, v)  # type: ignore[arg-type]

    monkeypatch.setattr(listimport, "_check_row", counting)
    return seen


PUBLISHED_HEADER = ("序号", "地市", "县（市、区）", "企业名称", "统一社会信用代码", "行业", "强制审核类型",
                    "名单公布日期", "联系人", "联系电话")


def published(*rows: tuple[str, str, str, str]) -> bytes:
    """A list as published lists are laid out: (industry, grounds, contact, phone) for enterprises 1, 2, ..."""
    return csv_bytes([[str(i), "太原市", "清徐县", f"企业{i}有限公司", shanxi_code(i), industry, grounds, "2026-03-31",
                       contact, phone] for i, (industry, grounds, contact, phone) in enumerate(rows, start=1)],
                     header=PUBLISHED_HEADER)


class TestTemplateColumns:
    def test_industry_in_words_or_codes_becomes_a_class(self) -> None:
        p = read(published(("炼焦", "双超", "", ""), ("2521", "超标排放", "", ""), ("C3011", "高耗能", "", ""),
                           ("4411 火力发电", "双有", "", ""), ("焦化", "使用有毒有害原料", "", "")))
        assert p.ok, p.render(gettext_for("zh_CN"))
        assert [r.industry_code for r in p.rows] == ["2521", "2521", "3011", "4411", "2521"]
        assert [r.grounds for r in p.rows] == [("pollution",), ("pollution",), ("energy",), ("toxic",), ("toxic",)]
        assert p.rows[0].county == "清徐县"

    def test_an_unclear_industry_word_is_a_row_error_naming_the_column(self) -> None:
        p = read(published(("水泥", "超标", "", ""), ("养猪场", "超标", "", ""), ("9999", "超标", "", ""),
                           ("A2521", "超标", "", ""), ("炼焦", "超标", "", "")))
        assert [(e.line, e.column, e.code) for e in p.errors] == [(2, "行业", "industry"), (3, "行业", "industry"),
                                                                  (4, "行业", "industry"), (5, "行业", "industry")]
        assert "3011 水泥制造" in p.errors[0].message(gettext_for("zh_CN"))  # the candidates, not a guess
        assert [r.industry_code for r in p.rows] == ["2521"]

    def test_an_industry_code_column_wins_and_numbers_keep_their_zero(self) -> None:
        header = (*HEADER, "行业代码")
        p = read(xlsx_bytes([[*row(1), 610], [*row(2), "2521"]], header=header), "l.xlsx")
        assert p.ok and [r.industry_code for r in p.rows] == ["0610", "2521"]
        assert read_industry("水泥") == (None, ("3011", "3021", "3023", "3029", "3515", "3732"))

    def test_contact_and_phone_are_optional_and_the_phone_is_checked(self) -> None:
        p = read(published(("炼焦", "超标", "王强", "138 1234 5678"), ("炼焦", "超标", "", ""),
                           ("炼焦", "超标", "李华", "0351-7654321"), ("炼焦", "超标", "赵六", "12345"),
                           ("炼焦", "超标", "钱七", "1381234567x")))
        assert [(r.contact_name, r.contact_phone) for r in p.rows] == [
            ("王强", "13812345678"), (None, None), ("李华", "0351-7654321")]
        assert [(e.line, e.column, e.code) for e in p.errors] == [(5, "联系电话", "phone"), (6, "联系电话", "phone")]
        assert "12345" in p.errors[0].message(gettext_for("en"))

    def test_the_words_real_lists_use_for_the_grounds(self) -> None:
        for words, kinds in (("双超", ("pollution",)), ("超总量", ("pollution",)), ("高耗能", ("energy",)),
                             ("双有", ("toxic",)), ("使用有毒有害原料或排放有毒有害物质", ("toxic",)),
                             ("超标排放、高能耗", ("pollution", "energy"))):
            assert read_grounds(words) == (kinds, None), words

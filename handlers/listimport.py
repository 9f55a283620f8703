"""A published mandatory-audit list (CSV or XLSX) -> a preview: valid rows and row errors. No database.

`read_list(data, filename, scope, today=...)` refuses a file it cannot read safely with one clear
`ListFileError` (wrong encoding, not a workbook, a zip bomb, formulas, merged cells in the table, too
many rows) and otherwise checks every row: the credit code's check character, the grounds, the
date, duplicates, the officer's jurisdiction, and the 地市 and 区县 against the administrative
divisions (`handlers.divisions`; a development zone is kept as written, with a note). Row errors carry
the line number, the column and a message rendered through gettext. Nothing here writes anything;
`handlers.cycles.import_rows` applies a preview.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import posixpath
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from defusedxml import ElementTree  # entities and external references refused (DefusedXmlException)
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from handlers.officers import Jurisdiction, province_name, same_place
from rules import assess
from rules.engine import Assessment
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, Msg, gettext_for
from rules.provinces import all_provinces

DEFAULT_MAX_ROWS = 50_000
MAX_FILE_BYTES = 30 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000
HEADER_SCAN_ROWS = 10
FIRST_LIST_YEAR = 2003  # 《清洁生产促进法》 took effect on 2003-01-01
MAX_NAME, MAX_DOCUMENT_NUMBER, MAX_PLACE = 200, 100, 64

# Column keys -> header names a file may use (compared after `_header_key`); the first is the template's.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("企业名称", "单位名称", "企业(单位)名称", "名称", "企业", "enterprise", "enterprisename", "name",
             "company"),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc", "creditcode", "unifiedsocialcreditcode"),
    "grounds": ("审核依据", "审核依据/类型", "审核类型", "强制审核原因", "强制审核类型", "强制性审核原因",
                "强制审核依据", "实施强制性清洁生产审核原因", "纳入依据", "纳入原因", "依据", "类型", "类别", "grounds",
                "ground", "reason"),
    "published_on": ("名单公布日期", "公布日期", "发布日期", "公布时间", "名单发布日期", "publishedon",
                     "publicationdate", "published", "date"),
    "document_number": ("文号", "文件号", "发文字号", "名单文号", "documentnumber", "docno", "document"),
    "region": ("市/县", "市县", "市(州)/县(区)", "所在地区", "地区", "所在地", "属地", "region", "city/county"),
    "city": ("市", "地市", "所在市", "市(州)", "city"),
    "county": ("县", "区县", "县区", "县(市、区)", "县(区)", "所在县", "county", "district"),
    "province": ("省", "省份", "所在省", "province"),
    "industry_code": ("行业代码", "国民经济行业代码", "行业分类代码", "行业类别代码", "所属行业代码", "industrycode"),
    "industry": ("行业", "所属行业", "行业类别", "行业名称", "行业类型", "国民经济行业", "industry"),
    "contact_name": ("联系人", "联系人姓名", "企业联系人", "contact", "contactname"),
    "phone": ("联系电话", "电话", "联系人电话", "手机", "联系方式", "phone", "telephone", "mobile"),
}
REQUIRED = ("name", "credit_code", "grounds", "published_on")
TEMPLATE_HEADER = ("企业名称", "统一社会信用代码", "审核依据", "名单公布日期", "文号", "地市", "区县", "行业代码",
                   "联系人", "联系电话")
MAX_CONTACT_NAME = 50

# Words of the grounds column -> ground kinds (the packs' GroundKind). Longest match wins.
GROUND_WORDS: dict[str, tuple[str, ...]] = {
    "双超双有高耗能": ("pollution", "toxic", "energy"), "双超双有": ("pollution", "toxic"),
    "双超": ("pollution",), "超标": ("pollution",), "超总量": ("pollution",), "超标排放": ("pollution",),
    "超总量排放": ("pollution",), "排放超标": ("pollution",), "污染物超标": ("pollution",),
    "污染物排放超标": ("pollution",), "超标超总量": ("pollution",), "超标或超总量": ("pollution",),
    "pollution": ("pollution",), "emission": ("pollution",), "emissions": ("pollution",),
    "高耗能": ("energy",), "超能耗": ("energy",), "能耗超标": ("energy",), "超过能耗限额": ("energy",),
    "energy": ("energy",),
    "双有": ("toxic",), "有毒有害": ("toxic",), "使用有毒有害原料": ("toxic",), "排放有毒有害物质": ("toxic",),
    "涉有毒有害": ("toxic",), "toxic": ("toxic",), "有毒有害原料": ("toxic",), "有毒有害物质": ("toxic",),
    "使用有毒有害原料进行生产": ("toxic",), "在生产中排放有毒有害物质": ("toxic",),
    "使用或排放有毒有害物质": ("toxic",),
    "高能耗": ("energy",), "能耗超限额": ("energy",), "超过单位产品能源消耗限额标准": ("energy",),
    "超过单位产品能耗限额": ("energy",), "污染物排放超过国家或者地方排放标准": ("pollution",),
    "超过重点污染物排放总量控制指标": ("pollution",),
    "重点行业": ("key_industry",), "key_industry": ("key_industry",), "keyindustry": ("key_industry",),
    "名录": ("master_list",), "名录库": ("master_list",), "名录总库": ("master_list",), "总库": ("master_list",),
    "master_list": ("master_list",), "masterlist": ("master_list",),
}
GROUND_ORDER = ("pollution", "energy", "toxic", "key_industry", "master_list")
GROUND_SEPARATORS = set(" \t、,，;；/／|+＋和及与或&")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_REGION_SPLIT = re.compile(r"[/／、,，|\s]+")
_CITY_COUNTY = re.compile(r"(.+?(?:自治州|地区|市|州|盟))(.+?(?:县|区|市|旗))")
_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")

Cell = str | int | float | date | datetime | None


class ListFileError(QingshenError):
    """The whole file is refused: `code` says why (too_large, empty, old_xls, not_zip, not_xlsx, not_text,
    encoding, csv, unreadable, zip_bomb, encrypted, too_many_rows, formula, merged_cells, no_header,
    missing_columns, duplicate_column); `msg` renders the reason in any locale (str() is zh_CN)."""

    def __init__(self, code: str, msg: Msg) -> None:
        super().__init__(msg.render(gettext_for(DEFAULT_LOCALE)))
        self.code = code
        self.msg = msg


def _refuse(code: str, msgid: str, /, **args: object) -> ListFileError:
    return ListFileError(code, Msg(msgid, args))


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # the line (CSV) or row (XLSX) number, counted from 1 as a spreadsheet shows it
    field: str  # a column key (credit_code, grounds, ...) or "row"
    code: str  # missing | checksum | credit_code | number | unknown_ground | not_mandatory | bad_date |
    #            implausible_date | future_date | duplicate | outside_jurisdiction | formula | too_long | region |
    #            unknown_city | unknown_county | wrong_city (the divisions, handlers.divisions); a note: not_a_division
    msg: Msg
    column: str = ""  # the header as written in the file

    def message(self, tr: Gettext) -> str:
        return self.msg.render(tr)


@dataclass(frozen=True, slots=True)
class ListRow:
    line: int
    name: str
    credit_code: str
    grounds: tuple[str, ...]
    published_on: date
    document_number: str | None
    city: str | None
    county: str | None
    industry_code: str | None = None  # a GB/T 4754-2017 class, from 行业代码 or 行业 in words
    contact_name: str | None = None
    contact_phone: str | None = None  # as handlers.henan_fields.read_phone writes it (13812345678, 0351-1234567)


@dataclass(frozen=True)
class Preview:
    filename: str
    sha256: str
    file_format: str  # csv | xlsx
    encoding: str  # for CSV: utf-8, utf-8-sig, gb18030, utf-16; "xlsx" otherwise
    scope: Jurisdiction
    rows: tuple[ListRow, ...]
    errors: tuple[RowError, ...]
    data_rows: int  # non-empty rows under the header
    notes: tuple[RowError, ...] = ()  # what does not stop a row but the officer should see (a zone as written)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_lines(self) -> int:
        return len({e.line for e in self.errors})

    def to_dict(self, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        tr = gettext_for(locale)
        return {
            "filename": self.filename, "sha256": self.sha256, "format": self.file_format,
            "encoding": self.encoding, "data_rows": self.data_rows, "valid_rows": len(self.rows),
            "error_rows": self.error_lines,
            "errors": [{"line": e.line, "field": e.field, "column": e.column, "code": e.code,
                        "message": e.message(tr)} for e in self.errors],
            "notes": [{"line": e.line, "field": e.field, "column": e.column, "code": e.code,
                       "message": e.message(tr)} for e in self.notes],
        }

    def render(self, tr: Gettext, *, limit: int = 50) -> str:
        head = tr(N_("{filename}: {rows} rows, {valid} valid, {bad} with errors.")).format(
            filename=self.filename, rows=self.data_rows, valid=len(self.rows), bad=self.error_lines)
        lines = [head]
        for e in self.errors[:limit]:
            lines.append(tr(N_("Line {line}, {column}: {message}")).format(
                line=e.line, column=e.column or e.field, message=e.message(tr)))
        if len(self.errors) > limit:
            lines.append(tr(N_("... and {n} more errors.")).format(n=len(self.errors) - limit))
        for e in self.notes[:limit]:
            lines.append(tr(N_("Note, line {line}, {column}: {message}")).format(
                line=e.line, column=e.column or e.field, message=e.message(tr)))
        return "\n".join(lines)


# -- entry point -----------------------------------------------------------------------------------


def read_list(
    data: bytes,
    filename: str,
    scope: Jurisdiction,
    *,
    today: date,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Preview:
    """Read and check a list file for an officer's jurisdiction; ListFileError if the file is refused."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse("too_large", N_("The file is {size} MB; the limit is {limit} MB. Split the list into several "
                                      "files."), size=len(data) // 2**20, limit=MAX_FILE_BYTES // 2**20)
    if not data.strip():
        raise _refuse("empty", N_("The file is empty."))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        fmt, encoding = "xlsx", "xlsx"
        merges, table = _xlsx_table(data, max_rows)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse("old_xls", N_("This is an old-format .xls workbook or an encrypted one: save it as .xlsx "
                                    "(Excel Workbook) without a password, or as CSV UTF-8."))
    elif filename.lower().endswith((".xlsx", ".xlsm")):
        raise _refuse("not_zip", N_("The file is named .xlsx but is not an Excel workbook (it is not a ZIP "
                                    "archive). Save it from Excel as .xlsx, or as CSV UTF-8 named .csv."))
    else:
        fmt, merges = "csv", []
        encoding, text = _decode(data)
        table = _csv_rows(text, max_rows)
    columns, labels, rest = _find_header(table, merges)
    rows, errors, count, notes = _check_rows(rest, columns, labels, scope, today, max_rows)
    return Preview(filename=filename, sha256=hashlib.sha256(data).hexdigest(), file_format=fmt, encoding=encoding,
                   scope=scope, rows=tuple(rows), errors=tuple(errors), data_rows=count, notes=tuple(notes))


# -- CSV ---------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    """(encoding, text): UTF-8 with or without a BOM, UTF-16 with a BOM, else GB18030 (a superset of GBK)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return "utf-16", data.decode("utf-16")
        except UnicodeDecodeError:
            raise _refuse("encoding", N_("The file starts like UTF-16 text but is not valid UTF-16. Save it as CSV "
                                         "UTF-8.")) from None
    if b"\x00" in data:
        raise _refuse("not_text", N_("This is not a text file (it contains NUL bytes). Upload a CSV or an XLSX "
                                     "file."))
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        return ("utf-8-sig", data[3:].decode("utf-8")) if bom else ("utf-8", data.decode("utf-8"))
    except UnicodeDecodeError as e:
        first_bad = e.start + (3 if bom else 0)
    if not bom:
        try:
            return "gb18030", data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    line = data.count(b"\n", 0, first_bad) + 1
    raise _refuse("encoding", N_("Line {line} is neither UTF-8 nor GBK/GB18030 text. Save the file as CSV UTF-8 "
                                 "(or as XLSX) and try again."), line=line)


def _csv_rows(text: str, max_rows: int) -> Iterator[tuple[int, list[Cell]]]:
    lines = text.splitlines()
    filled = sum(1 for ln in lines if ln.strip(" \t,;，"))
    if filled > max_rows + HEADER_SCAN_ROWS + 1:  # counted before parsing: a huge file is refused at once
        raise _refuse("too_many_rows", N_("The file has {n} lines; the limit is {limit} rows per file. Split the "
                                          "list."), n=filled, limit=max_rows)
    first = next((ln for ln in lines if ln.strip()), "")
    delimiter = max((",", "\t", ";", "，"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for record in reader:
            yield start, [_csv_cell(v) for v in record]
            start = reader.line_num + 1
    except csv.Error as e:
        raise _refuse("csv", N_("Line {line} is not valid CSV: {reason}."), line=reader.line_num,
                      reason=str(e)) from None


def _csv_cell(value: str) -> Cell:
    value = value.strip()
    return value or None


# -- XLSX --------------------------------------------------------------------------------------------


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise _unreadable(e) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _refuse("zip_bomb", N_("The workbook holds {n} parts, more than {limit}: refusing it."),
                      n=len(infos), limit=MAX_ZIP_MEMBERS)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse("zip_bomb", N_("The workbook would expand to {size} MB, more than {limit} MB (a zip bomb?): "
                                     "refusing it."), size=total // 2**20, limit=MAX_UNCOMPRESSED_BYTES // 2**20)
    if any(i.flag_bits & 0x1 for i in infos):
        raise _refuse("encrypted", N_("The workbook is encrypted: save it without a password."))
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _refuse("not_xlsx", N_("The file is a ZIP archive but not an Excel workbook (.xlsx)."))
    return archive


def _xlsx_table(data: bytes, max_rows: int) -> tuple[list[tuple[str, int]], Iterator[tuple[int, list[Cell]]]]:
    """(merged ranges, rows) of the first worksheet. The workbook is opened (and checked) now; the rows
    are read lazily, refusing a formula with its cell reference."""
    import openpyxl

    archive = _check_zip(data)
    try:
        rows, merges = _scan_sheet(archive, _first_sheet_path(archive))
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile, ElementTree.ParseError) as e:
        raise _unreadable(e) from None
    if rows > max_rows + HEADER_SCAN_ROWS + 1:
        raise _refuse("too_many_rows", N_("The sheet has {n} rows; the limit is {limit} rows per file. Split the "
                                          "list (and delete empty formatted rows)."), n=rows, limit=max_rows)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
        sheet = book.worksheets[0]
    except Exception as e:  # openpyxl raises many kinds (KeyError, ParseError, ValueError, ...): one message
        raise _unreadable(e) from None
    sheet.reset_dimensions()  # a bogus <dimension> must not make openpyxl pad millions of empty rows
    return merges, _sheet_rows(book, sheet)


def _unreadable(e: BaseException) -> ListFileError:
    return _refuse("unreadable", N_("The file is not a readable XLSX workbook: {reason}."),
                   reason=f"{type(e).__name__}: {e}")


def _sheet_rows(book: Any, sheet: Any) -> Iterator[tuple[int, list[Cell]]]:
    from openpyxl.utils import get_column_letter

    try:
        for number, row in enumerate(sheet.iter_rows(), start=1):
            values: list[Cell] = []
            for col, cell in enumerate(row, start=1):
                value = cell.value
                if cell.data_type == "f" or (value is not None and type(value).__name__.endswith("Formula")):
                    raise _refuse("formula", N_("Cell {cell} contains a formula; paste the values only (Paste "
                                                "Special > Values) and save again."),
                                  cell=f"{get_column_letter(col)}{number}")
                values.append(_xlsx_cell(value))
            yield number, values
    except ListFileError:
        raise
    except Exception as e:  # a damaged part found while reading: one message, nothing imported
        raise _unreadable(e) from None
    finally:
        book.close()


def _xlsx_cell(value: object) -> Cell:
    if value is None or isinstance(value, date | int | float):
        return None if isinstance(value, bool) else value
    text = str(value).strip()
    return text or None


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    """The part name of the workbook's first sheet (xl/workbook.xml -> its relationship's target)."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheet = next((el for el in book.iter() if el.tag.endswith("}sheet") or el.tag == "sheet"), None)
    if sheet is None:
        raise ValueError("the workbook has no sheet")
    rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((el.get("Target") for el in rels.iter() if el.get("Id") == rid and el.get("Target")), None)
    if target is None:
        raise ValueError(f"the first sheet's relationship {rid} is missing")
    path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    archive.getinfo(path)  # KeyError if the part is missing
    return path


def _scan_sheet(archive: zipfile.ZipFile, path: str) -> tuple[int, list[tuple[str, int]]]:
    """(row elements, [(merged range, its last row)]) of the sheet, from its raw XML read in chunks.

    Counting rows first lets a 100,000-row file be refused in a fraction of a second, whatever its
    <dimension> claims (the declared sizes were checked against the zip bomb limit already).
    """
    if not path:
        return 0, []
    found: list[tuple[str, int]] = []
    rows = 0
    tail = b""
    with archive.open(path.lstrip("/")) as raw:
        while chunk := raw.read(1 << 20):
            buf = tail + chunk
            cut = max(0, len(buf) - 300)  # matches starting in the last 300 bytes are counted next time
            rows += sum(1 for m in _ROW.finditer(buf) if m.start() < cut)
            for m in _MERGE.finditer(buf):
                ref = m.group(1).decode()
                found.append((ref, int(re.sub(r"[A-Z]", "", ref.split(":")[-1]))))
            tail = buf[cut:]
    rows += len(_ROW.findall(tail))
    return rows, list(dict.fromkeys(found))


# -- header --------------------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).lower()
    s = re.sub(r"[\s*_:：]", "", s)
    s = s.replace("（", "(").replace("）", ")")
    return s


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    return {_header_key(alias): key for key, names in COLUMNS.items() for alias in names}


def _column_of(text: str) -> str | None:
    key = _header_key(text)
    aliases = _aliases()
    if key in aliases:
        return aliases[key]
    bare = re.sub(r"\(.*?\)", "", key)  # "统一社会信用代码(18位)"
    if bare in aliases:
        return aliases[bare]
    long_first = sorted((a for a in aliases if len(a) >= 4), key=len, reverse=True)
    return next((aliases[a] for a in long_first if bare.startswith(a)), None)


def _find_header(
    table: Iterator[tuple[int, list[Cell]]], merges: Sequence[tuple[str, int]]
) -> tuple[dict[str, int], dict[str, str], Iterator[tuple[int, list[Cell]]]]:
    """({key: column index}, {key: header text}, the rows after the header). Merged cells are allowed
    only above the header (a title row)."""
    from openpyxl.utils import get_column_letter

    seen = 0
    for line, cells in table:
        if not any(c is not None for c in cells):
            continue
        seen += 1
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        for index, cell in enumerate(cells):
            key = _column_of(str(cell)) if isinstance(cell, str) else None
            if key is None:
                continue
            if key in columns:
                raise _refuse("duplicate_column", N_("The header has two columns for {column}: columns {first} and "
                                                     "{second}."), column=COLUMNS[key][0],
                              first=get_column_letter(columns[key] + 1), second=get_column_letter(index + 1))
            columns[key], labels[key] = index, str(cell)
        if sum(k in columns for k in REQUIRED) >= 2:
            missing = [COLUMNS[k][0] for k in REQUIRED if k not in columns]
            if missing:
                raise _refuse("missing_columns", N_("The header row (line {line}) lacks the column(s) {columns}. "
                                                    "Download the template to see the expected columns."),
                              line=line, columns="、".join(missing))
            bad = [ref for ref, last in merges if last >= line]
            if bad:
                raise _refuse("merged_cells", N_("The table has merged cells ({ranges}): unmerge them and fill "
                                                 "every cell, then save again."), ranges=", ".join(bad[:5]))
            return columns, labels, table
        if seen >= HEADER_SCAN_ROWS:
            break
    raise _refuse("no_header", N_("No header row found in the first {n} rows. Expected columns such as {columns}; "
                                  "download the template."), n=HEADER_SCAN_ROWS, columns="、".join(TEMPLATE_HEADER))


# -- rows ----------------------------------------------------------------------------------------------


@dataclass
class _Checker:
    scope: Jurisdiction
    today: date
    labels: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    first_line: dict[str, int] = field(default_factory=dict)
    notes: list[RowError] = field(default_factory=list)

    def error(self, line: int, key: str, code: str, msgid: str, /, **args: object) -> None:
        self.errors.append(RowError(line, key, code, Msg(msgid, args), self.labels.get(key, key)))

    def note(self, line: int, key: str, msgid: str, /, **args: object) -> None:
        """Something the officer should see that does not stop the row (a zone kept as written)."""
        self.notes.append(RowError(line, key, "not_a_division", Msg(msgid, args), self.labels.get(key, key)))


def _check_rows(
    rows: Iterator[tuple[int, list[Cell]]],
    columns: dict[str, int],
    labels: dict[str, str],
    scope: Jurisdiction,
    today: date,
    max_rows: int,
) -> tuple[list[ListRow], list[RowError], int, list[RowError]]:
    checker = _Checker(scope, today, labels)
    valid: list[ListRow] = []
    count = 0
    for line, cells in rows:
        values = {key: cells[i] if i < len(cells) else None for key, i in columns.items()}
        if all(v is None for v in values.values()):
            continue
        count += 1
        if count > max_rows:
            raise _refuse("too_many_rows", N_("The file has more than {limit} rows; the limit is {limit} rows per "
                                              "file. Split the list."), limit=max_rows)
        before = len(checker.errors)
        row = _check_row(checker, line, values)
        if row is not None and len(checker.errors) == before:
            valid.append(row)
    return valid, checker.errors, count, checker.notes


def _check_row(c: _Checker, line: int, v: dict[str, Cell]) -> ListRow | None:
    for key, value in v.items():  # after NFKC: a full-width ＝ is an = too
        if isinstance(value, str) and unicodedata.normalize("NFKC", value).lstrip().startswith("="):
            c.error(line, key, "formula", N_("The cell starts with = like a formula; write plain text."))
            return None
    name = _text(c, line, v, "name", MAX_NAME, as_written=True)
    code = _credit_code(c, line, v.get("credit_code"))
    grounds = _grounds(c, line, v.get("grounds"))
    published = _published(c, line, v.get("published_on"))
    number = _text(c, line, v, "document_number", MAX_DOCUMENT_NUMBER, required=False)
    city, county = _place(c, line, v, code)
    industry = _industry(c, line, v)
    contact = _text(c, line, v, "contact_name", MAX_CONTACT_NAME, required=False)
    phone = _phone(c, line, v.get("phone"))
    if grounds is not None and published is not None:
        _mandatory(c, line, grounds, published)
    if name is None or code is None or grounds is None or published is None:
        return None
    return ListRow(line, name, code, grounds, published, number, city, county, industry, contact, phone)


def _industry(c: _Checker, line: int, v: dict[str, Cell]) -> str | None:
    """The class from 行业代码, else from 行业 (in words or as a code); an unclear value is a row error."""
    key = "industry_code" if v.get("industry_code") is not None else "industry"
    value = v.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    code, candidates = read_industry(value)
    if code is not None:
        return code
    if candidates:
        from rules.industries import get_class

        named = "、".join(f"{i.code} {i.name}" for x in candidates[:5] if (i := get_class(x)))
        c.error(line, key, "industry", N_("{value} could be several industries ({candidates}): write the GB/T 4754 "
                                          "code (4 digits) or the class name."), value=str(value), candidates=named)
    else:
        c.error(line, key, "industry", N_("{value} is not a GB/T 4754-2017 industry: write the 4-digit class code "
                                          "(e.g. 3011) or the class name (e.g. 水泥制造)."), value=str(value))
    return None


def _phone(c: _Checker, line: int, value: Cell) -> str | None:
    from handlers.henan_fields import read_phone

    if value is None:
        return None
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    phone = read_phone(text)
    if phone is None:
        c.error(line, "phone", "phone", N_("{value} is not a phone number: a mobile (11 digits, e.g. 13812345678) or "
                                           "a landline with its area code (e.g. 0351-1234567)."), value=text)
    return phone


def _text(c: _Checker, line: int, v: dict[str, Cell], key: str, limit: int, *, required: bool = True,
          as_written: bool = False) -> str | None:
    """The cell's text, NFKC-normalised; `as_written` keeps its characters (an enterprise's registered name
    has full-width brackets: 某某（太原）有限公司) and only trims it and collapses its runs of spaces."""
    value = v.get(key)
    if value is None:
        text = None
    elif as_written:
        text = " ".join(str(value).split())
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        if required:
            c.error(line, key, "missing", N_("This cell is empty."))
        return None
    if len(text) > limit:
        c.error(line, key, "too_long", N_("Longer than {limit} characters."), limit=limit)
        return None
    return text


def _credit_code(c: _Checker, line: int, value: Cell) -> str | None:
    if value is None:
        c.error(line, "credit_code", "missing", N_("This cell is empty."))
        return None
    if isinstance(value, int | float):
        c.error(line, "credit_code", "number", N_("The code is stored as a number, so Excel may have changed its "
                                                   "digits: format the column as text and type it again."))
        return None
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        code = str(uscc.validate(raw))
    except InvalidChecksum:
        c.error(line, "credit_code", "checksum", N_("{code}: the check character (the last one) is wrong; the "
                                                    "code has a typo."), code=raw)
        return None
    except StdnumError:
        c.error(line, "credit_code", "credit_code", N_("{code} is not a unified social credit code (18 letters and "
                                                       "digits)."), code=raw)
        return None
    first = c.first_line.setdefault(code, line)
    if first != line:
        c.error(line, "credit_code", "duplicate", N_("The enterprise {code} is already listed on line {first}."),
                code=code, first=first)
        return None
    return code


@lru_cache(maxsize=1)
def _ground_words() -> tuple[str, ...]:
    return tuple(sorted(GROUND_WORDS, key=len, reverse=True))


def read_grounds(text: str) -> tuple[tuple[str, ...], str | None]:
    """(ground kinds, the first word not understood or None) for e.g. "超标、有毒有害" or "双超双有"."""
    s = unicodedata.normalize("NFKC", text).lower()
    kinds: set[str] = set()
    words = _ground_words()
    i = 0
    while i < len(s):
        if s[i] in GROUND_SEPARATORS:
            i += 1
            continue
        word = next((w for w in words if s.startswith(w, i)), None)
        if word is None:
            end = next((j for j in range(i, len(s)) if s[j] in GROUND_SEPARATORS), len(s))
            return (), s[i:end]
        kinds.update(GROUND_WORDS[word])
        i += len(word)
    return tuple(k for k in GROUND_ORDER if k in kinds), None


def _grounds(c: _Checker, line: int, value: Cell) -> tuple[str, ...] | None:
    if value is None:
        c.error(line, "grounds", "missing", N_("This cell is empty."))
        return None
    kinds, unknown = read_grounds(str(value))
    if unknown is not None or not kinds:
        c.error(line, "grounds", "unknown_ground", N_("Unknown ground {word!r}: use 超标, 超总量, 高耗能, 有毒有害, "
                                                      "重点行业 or 名录."), word=unknown or str(value))
        return None
    return kinds


def parse_date(value: Cell) -> date | None:
    """A date from a date cell, 2026-03-31, 2026/3/31, 2026.3.31, 2026年3月31日, 20260331 or an Excel serial."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            return parse_date(str(int(value)))
        if 20000 < value < 80000:
            return date(1899, 12, 30) + timedelta(days=int(value))
        return None
    if not isinstance(value, str):
        return None
    s = unicodedata.normalize("NFKC", value).strip()
    m = _DATE.fullmatch(s) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _published(c: _Checker, line: int, value: Cell) -> date | None:
    if value is None:
        c.error(line, "published_on", "missing", N_("This cell is empty."))
        return None
    day = parse_date(value)
    if day is None:
        c.error(line, "published_on", "bad_date", N_("{value} is not a date; write it as 2026-03-31."),
                value=str(value))
        return None
    if day.year < FIRST_LIST_YEAR:
        c.error(line, "published_on", "implausible_date", N_("{day} cannot be the day a list was published."),
                day=day.isoformat())
        return None
    if day > c.today:  # deadlines count from publication: a later day would show every one as not due yet
        c.error(line, "published_on", "future_date", N_("{day} is after today ({today}): import a list once it is "
                                                        "published, with the day it was published."),
                day=day.isoformat(), today=c.today.isoformat())
        return None
    return day


def _place(c: _Checker, line: int, v: dict[str, Cell], code: str | None) -> tuple[str | None, str | None]:
    province, city, county = None, None, None
    if v.get("region") is not None:
        parsed = split_region(str(v["region"]))
        if parsed is None:
            c.error(line, "region", "region", N_("Write the place as 市/县, e.g. 太原市/清徐县."))
            return None, None
        province, city, county = parsed
    if v.get("province") is not None:
        province = _province_of(str(v["province"])) or str(v["province"])
    city = _clean_place(v.get("city")) or city
    county = _clean_place(v.get("county")) or county
    key = "region" if "region" in c.labels else ("city" if "city" in c.labels else "credit_code")
    province_key = key
    if province is None and code is not None and code[2:4] != "10":  # 10: registered nationally
        province = next((p.id for p in all_provinces() if p.code == code[2:4]), None)
        province_key = "credit_code"
    if province is not None and province != c.scope.province:
        c.error(line, province_key, "outside_jurisdiction",
                N_("The enterprise is in {place}, outside your jurisdiction {scope}."),
                place=province_name(province), scope=c.scope.describe())
    elif c.scope.city is not None and not same_place(c.scope.city, city):
        _outside(c, line, key, city, "city")
    elif c.scope.county is not None and not same_place(c.scope.county, county):
        _outside(c, line, key, county, "county")
    else:
        city_key = "city" if v.get("city") is not None else ("region" if "region" in c.labels else "city")
        county_key = "county" if v.get("county") is not None else ("region" if "region" in c.labels else "county")
        return _division(c, line, (city_key, county_key), city, county, code)
    return city, county


def _division(c: _Checker, line: int, keys: tuple[str, str], city: str | None, county: str | None,
              code: str | None) -> tuple[str | None, str | None]:
    """(city, county) by their full names, checked against the administrative divisions: an unknown or
    misplaced name is a row error naming its column and the likely meant name; a short form of exactly one
    unit (小店) is that unit (小店区); a development zone or park (太原高新区) is kept as written, with a note."""
    from handlers import divisions

    province = next((p for p in all_provinces() if p.id == c.scope.province), None)
    data = divisions.province(province.code) if province is not None else None
    if data is None:
        return city, county
    city_key, county_key = keys
    where = data.name
    found: divisions.City | None = None
    if city is not None:
        if divisions.is_zone(city):
            c.note(line, city_key, N_("{place} is not an administrative division (a development zone or park?): "
                                      "imported as written."), place=city)
            return city, county
        found, cities = data.city(city)
        if found is None:
            _unknown_city(c, line, city_key, data, city, cities)
            return None, None
        city, where = found.name, found.name
    if county is None:
        return city, county
    if found is not None and not found.has_counties:  # 东莞市, 济源市: towns directly under the city
        return city, county
    unit, options = found.county(county) if found is not None else (None, ())
    if unit is not None:
        return city, unit.name
    if divisions.is_zone(county):
        c.note(line, county_key, N_("{place} is not an administrative division (a development zone or park?): "
                                    "imported as written; it is counted under this name, not under the county it "
                                    "lies in."), place=county)
        return city, county
    if options:
        c.error(line, county_key, "unknown_county", N_("{county} could be {candidates} of {city}: write the full "
                                                        "name."), county=county, city=where,
                candidates="、".join(u.name for u in options))
        return city, None
    elsewhere = data.counties_named(county)
    if found is None:  # no city given: the county must be one of the province's
        if elsewhere:  # 城区 of 阳泉市 or of 晋城市: which one is not said, so it stays as written
            return city, elsewhere[0][1].name if len(elsewhere) == 1 else county
        _unknown_county(c, line, county_key, county, where, data, None, code)
        return city, None
    renamed = data.renamed(found.name, county)
    if renamed is not None:  # 城区 of 大同市 is 平城区 since 2018 (城区 of 阳泉市 is another county)
        c.error(line, county_key, "unknown_county", N_("{county} of {city} became {new} on {day}: write {new}."),
                county=county, city=found.name, new=renamed.new_county, day=renamed.day)
        return city, None
    if elsewhere:
        c.error(line, county_key, "wrong_city", N_("{county} is a county of {other}, not of {city}: check the city "
                                                    "and the county."), county=county, city=found.name,
                other="、".join(o.name for o, _ in elsewhere))
        return city, None
    _unknown_county(c, line, county_key, county, where, data, found, code)
    return city, None


def _unknown_city(c: _Checker, line: int, key: str, data: Any, city: str, options: tuple[Any, ...]) -> None:
    from handlers import divisions

    if options:
        c.error(line, key, "unknown_city", N_("{city} could be {candidates}: write the full name."), city=city,
                candidates="、".join(o.name for o in options))
        return
    parent = data.counties_named(city)
    if parent:
        c.error(line, key, "unknown_city", N_("{city} is a county of {parent}, not a city: write {parent} as the "
                                              "city and {city} as the county."), city=city,
                parent="、".join(p.name for p, _ in parent))
        return
    other = next((p.name for p in divisions.provinces().values() if p is not data and p.city(city)[0] is not None),
                 None)
    if other is not None:
        c.error(line, key, "unknown_city", N_("{city} is a city of {other}, not of {province}."), city=city,
                other=other, province=data.name)
        return
    close = divisions.near(city, [x.name for x in data.cities])
    if close:
        c.error(line, key, "unknown_city", N_("{city} is not a city of {province}; did you mean {suggestion}?"),
                city=city, province=data.name, suggestion="、".join(close))
    else:
        c.error(line, key, "unknown_city", N_("{city} is not a city of {province}."), city=city, province=data.name)


def _unknown_county(c: _Checker, line: int, key: str, county: str, where: str, data: Any, city: Any,
                    code: str | None) -> None:
    from handlers import divisions

    units = city.counties if city is not None else [u for x in data.cities for u in x.counties]
    names = [u.name for u in units]
    close = divisions.near(county, names)
    if close:
        c.error(line, key, "unknown_county", N_("{county} is not a county or district of {place}; did you mean "
                                                "{suggestion}?"), county=county, place=where,
                suggestion="、".join(close))
        return
    registered = data.by_code(code[2:8]) if code is not None else None
    if registered is not None and (city is None or registered[0].code == city.code):
        c.error(line, key, "unknown_county", N_("{county} is not a county or district of {place}; the credit code "
                                                "was registered in {suggestion}: is it there?"), county=county,
                place=where, suggestion=registered[1].name)
        return
    c.error(line, key, "unknown_county", N_("{county} is not a county or district of {place}."), county=county,
            place=where)


def _outside(c: _Checker, line: int, key: str, place: str | None, level: str) -> None:
    if place is None:
        msgid = (N_("The city is missing; your jurisdiction is {scope}, so every row must name it.") if level == "city"
                 else N_("The county is missing; your jurisdiction is {scope}, so every row must name it."))
        c.error(line, key, "outside_jurisdiction", msgid, scope=c.scope.describe())
    else:
        c.error(line, key, "outside_jurisdiction", N_("{place} is outside your jurisdiction {scope}."), place=place,
                scope=c.scope.describe())


def _clean_place(value: Cell) -> str | None:
    if value is None:
        return None
    s = "".join(unicodedata.normalize("NFKC", str(value)).split())
    return s[:MAX_PLACE] or None


def _province_of(text: str) -> str | None:
    s = "".join(unicodedata.normalize("NFKC", text).split())
    return next((p.id for p in all_provinces() if s in (p.name, p.short, p.id)), None)


def split_region(text: str) -> tuple[str | None, str | None, str | None] | None:
    """(province id or None, city, county) from "太原市/清徐县", "山西省太原市清徐县", "太原市" or "清徐县"."""
    s = "".join(unicodedata.normalize("NFKC", text).split(" "))
    province = next((p for p in all_provinces() if s.startswith(p.name) and p.name != p.short + "市"), None)
    if province is not None:
        s = s[len(province.name):]
    parts = [p for p in _REGION_SPLIT.split(s) if p]
    if len(parts) > 2 or any(len(p) > MAX_PLACE for p in parts):
        return None
    if not parts:
        return (province.id if province else None), None, None
    if len(parts) == 2:
        return (province.id if province else None), parts[0], parts[1]
    m = _CITY_COUNTY.fullmatch(parts[0])
    if m:
        return (province.id if province else None), m.group(1), m.group(2)
    if parts[0].endswith(("县", "区", "旗")):
        return (province.id if province else None), None, parts[0]
    return (province.id if province else None), parts[0], None


# -- the rules -----------------------------------------------------------------------------------------


def facts_for(province: str, grounds: Sequence[str], published_on: date) -> dict[str, Any]:
    """The engine's facts for an enterprise a list names on these grounds."""
    facts: dict[str, Any] = {"province": province, "list_published_on": published_on.isoformat()}
    if "pollution" in grounds:
        facts["exceeds_emission_standard"] = True
    if "energy" in grounds:
        facts["exceeds_energy_limit"] = True
    if "toxic" in grounds:
        facts["toxic_classes"] = ["other_toxic"]
    if "key_industry" in grounds or "master_list" in grounds:
        facts["on_master_list"] = True
    return facts


@lru_cache(maxsize=4096)
def assess_listed(province: str, grounds: tuple[str, ...], published_on: date) -> Assessment:
    """What the rules say about an enterprise listed on these grounds, as of the list's date (cached)."""
    return assess(facts_for(province, grounds, published_on), published_on)


def _mandatory(c: _Checker, line: int, grounds: tuple[str, ...], published: date) -> None:
    a = assess_listed(c.scope.province, grounds, published)
    if a.obligation != "mandatory" or not a.deadlines:
        c.error(line, "grounds", "not_mandatory", N_("Under the rules loaded for {province} on {day}, {grounds} does "
                                                     "not make an audit mandatory; check the ground."),
                province=province_name(c.scope.province), day=published.isoformat(), grounds="、".join(grounds))


# -- industries ----------------------------------------------------------------------------------------

_INDUSTRY_CODE = re.compile(r"([A-Ta-t]?)\s*(\d{1,4})")
_CODE_AND_NAME = re.compile(r"([A-Ta-t]?)\s*(\d{4})\s*[-—:：]?\s*([^\d\s].*)")  # "2521 炼焦", "C2521炼焦"


class IndustryError(QingshenError):
    """An industry given in words or as a code that names no single GB/T 4754-2017 class or prefix."""


def read_industry(value: object) -> tuple[str | None, tuple[str, ...]]:
    """(the GB/T 4754-2017 class code, ()) for a class code (2521, C2521, "2521 炼焦"; a number that lost
    its leading zero: 610) or words naming one class (炼焦, 焦化, 啤酒); (None, candidate codes) otherwise:
    words that fit several classes (水泥) are never a guess, and an unknown code has no candidates."""
    from rules.industries import WEAK_TIER, get_class, search_tiers, section_of

    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10000:
        value = f"{value:04d}"
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = _INDUSTRY_CODE.fullmatch(text) or _CODE_AND_NAME.fullmatch(text)
    if m is not None and len(m.group(2)) == 4:
        code, letter = m.group(2), m.group(1).upper()
        found = get_class(code)
        return (code, ()) if found is not None and letter in ("", section_of(code)) else (None, ())
    if m is not None or not text:
        return None, ()
    tiers = search_tiers(text, limit=6)
    exact = [i.code for i, tier in tiers if tier == 0]
    strong = [i.code for i, tier in tiers if tier < WEAK_TIER]
    if len(exact) == 1:
        return exact[0], ()
    if len(strong) == 1:
        return strong[0], ()
    return None, tuple(strong or [i.code for i, _ in tiers])


def industry_prefix(text: str, tr: Gettext) -> str:
    """The GB/T 4754 code prefix a filter means: 1 to 4 digits (a section letter may lead, C30 -> 30), or
    words naming one class (炼焦 -> 2521). IndustryError, naming the candidates, for anything else."""
    from handlers.status import original
    from rules.industries import all_classes, get_class, section_of

    t = unicodedata.normalize("NFKC", text).strip()
    m = _INDUSTRY_CODE.fullmatch(t)
    if m is not None:
        digits, letter = m.group(2), m.group(1).upper()
        known = any(c.code.startswith(digits) for c in all_classes())
        if known and (not letter or len(digits) < 2 or section_of(digits[:2]) == letter):
            return digits
        raise IndustryError(tr(N_("{value} is not the start of any GB/T 4754-2017 industry code.")).format(
            value=original(t, tr)))
    code, candidates = read_industry(t)
    if code is not None:
        return code
    if not candidates:
        raise IndustryError(tr(N_("{value} names no GB/T 4754-2017 industry; type the start of the code (e.g. 30 "
                                  "or 3011).")).format(value=original(t, tr)))
    named = tr(N_(", ")).join(f"{i.code} {original(i.name, tr)}" for c in candidates if (i := get_class(c)))
    raise IndustryError(tr(N_("{value} fits several industries ({candidates}); type the code.")).format(
        value=original(t, tr), candidates=named))


# -- templates -----------------------------------------------------------------------------------------

TEMPLATE_HELP = (
    N_("One row per enterprise named by the list; keep the header row as it is."),
    N_("统一社会信用代码: 18 characters, typed as text (the check character is verified)."),
    N_("审核依据 (or 审核类型): one or more of 双超, 超标排放, 超总量, 高耗能, 双有, 使用有毒有害原料, "
       "排放有毒有害物质, 重点行业, 名录, separated by 、"),
    N_("名单公布日期: the day the list was published, e.g. 2026-03-31."),
    N_("文号: the document number of the notice, e.g. 晋环发〔2026〕1号."),
    N_("地市 and 区县: the city and the county, e.g. 太原市 and 清徐县 (or one column 市/县: 太原市/清徐县)."),
    N_("行业代码: the GB/T 4754-2017 class, e.g. 2521; or a column 行业 with the class name, e.g. 炼焦. A name "
       "that fits several classes is refused, not guessed."),
    N_("联系人 and 联系电话 (optional): the enterprise's contact person and a mobile or a landline with its area "
       "code."),
    N_("No formulas and no merged cells; at most 50,000 rows per file."),
)


def template_xlsx(locale: str = DEFAULT_LOCALE) -> bytes:
    """The list template: a header row (credit codes and dates formatted as text) and a help sheet."""
    import openpyxl

    tr = gettext_for(locale)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None, "a new workbook has a sheet"
    sheet.title = "名单"
    sheet.append(list(TEMPLATE_HEADER))
    for col, width in zip("ABCDEFGHIJ", (36, 24, 20, 16, 24, 14, 14, 12, 12, 16), strict=True):
        sheet.column_dimensions[col].width = width
        for row in range(2, 1002):
            sheet[f"{col}{row}"].number_format = "@"
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet("说明")
    for text in TEMPLATE_HELP:
        help_sheet.append([tr(text)])
    help_sheet.column_dimensions["A"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    """The list template as CSV UTF-8 with a BOM (Excel opens it with the right encoding)."""
    return codecs.BOM_UTF8 + (",".join(TEMPLATE_HEADER) + "\r\n").encode("utf-8")

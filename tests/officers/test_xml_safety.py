"""XML inside an officer's XLSX is parsed through defusedxml: entity declarations (a billion-laughs bomb, an
external entity reading a local file) are refused as an unreadable workbook, whichever part carries them
(the workbook part our code reads itself, the content types, styles and the sheet that openpyxl reads)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import defusedxml.ElementTree
import openpyxl
import openpyxl.xml.functions
import pytest
from defusedxml import EntitiesForbidden

from handlers.listimport import ListFileError, read_list
from handlers.officers import Jurisdiction
from tests.officers.officerkit import TODAY, row, xlsx_bytes

PARTS = ("xl/workbook.xml", "[Content_Types].xml", "xl/styles.xml", "xl/worksheets/sheet1.xml")
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY a "lollollollollollollollollollol">'
          + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi", strict=True))
          + "]>")


def external_entity(secret_file: Path) -> str:
    return f'<!DOCTYPE x [<!ENTITY secret SYSTEM "{secret_file.as_uri()}">]>'


def with_doctype(data: bytes, part: str, doctype: str, reference: str) -> bytes:
    """The workbook with `doctype` declared in `part` and `reference` placed in its first text node."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == part:
                text = body.decode()
                head, sep, rest = text.partition("?>") if text.startswith("<?xml") else ("", "", text)
                rest = rest.replace("<t>", f"<t>{reference}", 1)
                body = (head + sep + doctype + rest).encode()
                assert doctype in body.decode()
            dst.writestr(info, body)
    return out.getvalue()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-7f3a")
    return path


def test_openpyxl_parses_with_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True
    assert openpyxl.xml.functions.fromstring is defusedxml.ElementTree.fromstring
    assert openpyxl.xml.functions.iterparse is defusedxml.ElementTree.iterparse


def causes(e: BaseException | None) -> list[BaseException]:
    """The exception and those it was raised from or during (openpyxl wraps the parser's error)."""
    found: list[BaseException] = []
    while e is not None and e not in found:
        found.append(e)
        e = e.__cause__ or e.__context__
    return found


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("attack", ["bomb", "external"])
def test_entities_in_an_xlsx_are_refused_by_defusedxml(part: str, attack: str, secret_file: Path) -> None:
    doctype, reference = (LAUGHS, "&i;") if attack == "bomb" else (external_entity(secret_file), "&secret;")
    data = with_doctype(xlsx_bytes([row(1), row(2)]), part, doctype, reference)

    with pytest.raises(ListFileError) as caught:
        read_list(data, "list.xlsx", Jurisdiction("shanxi"), today=TODAY)
    assert caught.value.code == "unreadable"
    assert any(isinstance(c, EntitiesForbidden) for c in causes(caught.value)), caught.value.msg.args["reason"]
    assert "TOP-SECRET" not in str(caught.value) and "lollol" not in str(caught.value)

    with pytest.raises(Exception) as direct:  # openpyxl itself, not only through our import
        openpyxl.load_workbook(io.BytesIO(data))
    assert any(isinstance(c, EntitiesForbidden) for c in causes(direct.value)), direct.value


def test_the_same_workbook_without_the_doctype_reads(secret_file: Path) -> None:
    data = with_doctype(xlsx_bytes([row(1), row(2)]), "xl/worksheets/sheet1.xml", "", "")
    preview = read_list(data, "list.xlsx", Jurisdiction("shanxi"), today=TODAY)
    assert preview.ok and len(preview.rows) == 2

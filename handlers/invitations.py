"""Invitation sheets: for each enterprise of a list that nobody can be reached at yet, its one-time code, where to
send it (the WeChat public account or WeCom app, the web chat page) and a QR code of the web chat address with
the code (`<web>?bind=<code>`: the page offers to send `绑定 <code>`, kept until consent is given).

`sheet_rows` gathers the rows (creating the missing codes: the caller commits); `invitation_sheet_xlsx`
prints them for the CLI (`qingshen officer sheet`), `bot.dashboard.invitations` as a printable page.
QR codes are drawn by segno (pure Python, no image library).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import segno

from handlers.officers import authorize
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, gettext_for
from storage import ListImport, Officer, Repositories

BATCH = 1000
QR_SCALE = 4  # pixels per module of the PNG (printed at a fixed size by the page's CSS)


class SheetError(QingshenError):
    """There is no such list; the message says so."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a code is sent: the account's name (QINGSHEN_PUBLIC_NAME) and the web chat (QINGSHEN_WEB_URL)."""

    name: str | None = None
    web_url: str | None = None

    def bind_url(self, code: str) -> str | None:
        """The web chat address that brings the code along, or None without a web address."""
        if not self.web_url:
            return None
        return f"{self.web_url}?{urlencode({'bind': code})}"

    def how(self, code: str, tr: Gettext) -> str:
        """The sentence printed beside the code: where to send what."""
        if self.name and self.web_url:
            return tr(N_("Send 绑定 {code} to {name} (WeChat or WeCom), or open {url} and send it there; scanning "
                         "the QR code opens that page with the code.")).format(code=code, name=self.name,
                                                                              url=self.web_url)
        if self.name:
            return tr(N_("Send 绑定 {code} to {name} (WeChat or WeCom).")).format(code=code, name=self.name)
        if self.web_url:
            return tr(N_("Open {url} and send 绑定 {code}; scanning the QR code opens that page with the "
                         "code.")).format(code=code, url=self.web_url)
        return tr(N_("In the chat, send: 绑定 {code}")).format(code=code)


def qr(url: str) -> segno.QRCode:
    """The QR code of an address (error correction M: survives a smudged print)."""
    return segno.make(url, error="m", micro=False)


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    qr(url).save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()


def qr_data_uri(url: str) -> str:
    return str(qr(url).png_data_uri(scale=QR_SCALE, border=4))


@dataclass(frozen=True, slots=True)
class SheetRow:
    name: str
    credit_code: str
    code: str
    how: str
    url: str | None  # the web chat address with the code (the QR code's content), None without QINGSHEN_WEB_URL


def list_for(repos: Repositories, officer: Officer, import_id: int, *, locale: str = DEFAULT_LOCALE) -> ListImport:
    """The list, if the officer's jurisdiction covers it (ForbiddenError otherwise; SheetError if none)."""
    imp = repos.imports.get_by_id(import_id)
    if imp is None:
        raise SheetError(gettext_for(locale)(N_("There is no list import {id}.")).format(id=import_id))
    authorize(officer, imp.province, imp.city, imp.county, locale=locale)
    return imp


def sheet_rows(
    repos: Repositories, officer: Officer, import_id: int, place: Place, *, locale: str = DEFAULT_LOCALE,
    now: datetime | None = None,
) -> tuple[ListImport, list[SheetRow]]:
    """The list and its enterprises nobody can be reached at, each with its unused code (created if missing)."""
    imp = list_for(repos, officer, import_id, locale=locale)
    tr = gettext_for(locale)
    rows: list[SheetRow] = []
    after = 0
    while batch := repos.imports.list_entries(imp.id, after_enterprise_id=after, limit=BATCH):
        after = batch[-1][1].id
        reachable = repos.broadcasts.list_reachable_contacts([e.id for _, e in batch])
        nobody = [e for _, e in batch if not reachable.get(e.id)]
        codes = repos.invitations.ensure_enterprise_invitations(imp.id, [e.id for e in nobody], now=now)
        rows.extend(SheetRow(e.name or "", e.credit_code or "", codes[e.id].code, place.how(codes[e.id].code, tr),
                             place.bind_url(codes[e.id].code))
                    for e in nobody if codes[e.id].used_at is None)
    return imp, rows


def invitation_sheet_xlsx(
    repos: Repositories, officer: Officer, import_id: int, *, locale: str = DEFAULT_LOCALE,
    now: datetime | None = None, place: Place | None = None,
) -> bytes:
    """A printable sheet of the list's enterprises nobody can be reached at, each with its one-time code, where
    to send it and (with a web address) the QR code of the web chat with the code.

    Creates the missing codes (the caller commits). Cells are written as text, never as formulas.
    """
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    place = place or Place()
    _imp, rows = sheet_rows(repos, officer, import_id, place, locale=locale, now=now)
    tr = gettext_for(locale)
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet), "a new workbook has a sheet"
    sheet.title = tr(N_("Invitation codes"))[:31]
    header = [tr(N_("Enterprise name")), tr(N_("Unified social credit code")), tr(N_("Invitation code")),
              tr(N_("How to use it"))]
    if place.web_url:
        header += [tr(N_("Web chat with the code")), tr(N_("QR code"))]
    _text_row(sheet, header)
    for r in rows:
        _text_row(sheet, [r.name, r.credit_code, r.code, r.how, *([r.url or ""] if place.web_url else [])])
        if r.url:
            sheet[f"E{sheet.max_row}"].hyperlink = r.url
            image = _png_image(qr_png(r.url))
            sheet.add_image(image, f"F{sheet.max_row}")
            sheet.row_dimensions[sheet.max_row].height = image.height * 0.75 + 4  # points, from pixels
    for col, width in zip("ABCDEF", (40, 24, 14, 48, 40, 22), strict=False):
        sheet.column_dimensions[col].width = width
    for row in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.alignment = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_row(sheet: Any, values: Sequence[str]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        cell.data_type = "s"  # an enterprise name starting with "=" stays text, never a formula


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _png_image(data: bytes) -> Any:
    from openpyxl.drawing.image import Image

    class PngImage(Image):
        """openpyxl's image without Pillow: it needs Pillow only to read a file's size and bytes, which a PNG
        from segno gives directly."""

        def __init__(self, png: bytes) -> None:
            self.ref = png
            self.format = "png"
            self.width, self.height = _png_size(png)

        def _data(self) -> bytes:
            return bytes(self.ref)

    return PngImage(data)


"""`GET /officer/lists/{id}/export.{csv,xlsx}`: the list page's rows as a file (401 without a session).
No spreadsheet formula comes from data: a text starting with = + - @ gets a leading apostrophe."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

import openpyxl
from openpyxl.utils import get_column_letter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import NO_STORE, NOT_FOUND, Dashboard
from bot.dashboard.views import XLSX, list_view
from handlers.compliance import STATUS_LABELS, ListView, done_day
from handlers.render import KIND_LABELS
from rules.i18n import N_, Gettext


def cell(value: object) -> object:
    """No spreadsheet formula from data: a text starting with = + - @ gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_rows(tr: Gettext, view: ListView) -> list[list[object]]:
    header: list[object] = [tr(x) for x in (N_("Line"), N_("Enterprise"), N_("Credit code"), N_("Industry"),
                                            N_("Milestone"), N_("Nominal day"), N_("Legal last day"), N_("Status"),
                                            N_("Done on"), N_("Evidence"), N_("City"), N_("County"))]
    out = [header]
    for r in view.rows:
        e = r.enterprise
        base: list[object] = [r.line, e.name, e.credit_code, e.industry_code]
        place = [e.city, e.county]
        if not r.milestones:
            out.append([cell(v) for v in [*base, None, None, None, None, None, None, *place]])
        for m, status in r.milestones:
            done = done_day(m.done_at) if m.done_at is not None else None
            out.append([cell(v) for v in [*base, tr(KIND_LABELS.get(m.kind, m.kind)), m.nominal, m.due,
                                          tr(STATUS_LABELS[status]), done, m.evidence, *place]])
    return out


def to_csv(rows: list[list[object]]) -> bytes:
    return filing_csv(rows)


def to_xlsx(rows: list[list[object]], sheet_title: str = "List") -> bytes:
    return filing_xlsx(rows, sheet_title)


def filing_csv(rows: list[list[object]]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese text as such."""
    buf = io.StringIO()
    csv.writer(buf).writerows([["" if v is None else str(cell(v)) for v in r] for r in rows])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def text_width(value: object) -> int:
    """Columns a value takes in Excel: a CJK (wide) character counts two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def filing_xlsx(rows: list[list[object]], sheet_title: str) -> bytes:
    """A workbook officers can file: the named sheet, the header frozen and filtered, columns as wide as
    their content (sampled from the first 500 rows, 8 to 50 characters), days as dates."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title=re.sub(r"[\\/*?:\[\]]", " ", sheet_title)[:31] or "Sheet1")
    columns = max((len(r) for r in rows), default=0)
    for i in range(columns):
        width = max((text_width(r[i]) for r in rows[:500] if i < len(r)), default=8)
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(50, max(8, width + 2))
    if rows and columns:
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{len(rows)}"
    for r in rows:
        sheet.append([cell(v) for v in r])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def routes(dash: Dashboard) -> list[BaseRoute]:
    async def export(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "xlsx"):
            return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND))
        who = await dash.current(request)
        if who is None:
            return dash.need_login()
        view = await list_view(dash, request, who)
        if isinstance(view, Response):
            return view
        rows = export_rows(dash.tr, view)
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="list-{view.list_import.id}.{fmt}"'}
        if fmt == "csv":
            return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        return Response(await run_in_threadpool(to_xlsx, rows, dash.tr(N_("List"))), headers=headers, media_type=XLSX)

    return [Route("/officer/lists/{import_id:int}/export.{fmt}", export, methods=["GET"])]

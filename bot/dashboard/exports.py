"""`GET /officer/lists/{id}/export.{csv,xlsx}`: the list page's rows as a file (401 without a session).
No spreadsheet formula comes from data: a text starting with = + - @ gets a leading apostrophe."""

from __future__ import annotations

import csv
import io

import openpyxl
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import NEED_LOGIN, NO_STORE, NOT_FOUND, Dashboard
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
                                            N_("Done on"), N_("Evidence"))]
    out = [header]
    for r in view.rows:
        e = r.enterprise
        base: list[object] = [r.line, e.name, e.credit_code, e.industry_code]
        if not r.milestones:
            out.append([cell(v) for v in [*base, None, None, None, None, None, None]])
        for m, status in r.milestones:
            done = done_day(m.done_at) if m.done_at is not None else None
            out.append([cell(v) for v in [*base, tr(KIND_LABELS.get(m.kind, m.kind)), m.nominal, m.due,
                                          tr(STATUS_LABELS[status]), done, m.evidence]])
    return out


def to_csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([["" if v is None else str(v) for v in r] for r in rows])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def routes(dash: Dashboard) -> list[BaseRoute]:
    async def export(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "xlsx"):
            return dash.error(404, "not_found", dash.tr(NOT_FOUND))
        who = await dash.current(request)
        if who is None:
            return dash.error(401, "unauthorized", dash.tr(NEED_LOGIN))
        view = await list_view(dash, request, who.officer)
        if isinstance(view, Response):
            return view
        rows = export_rows(dash.tr, view)
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="list-{view.list_import.id}.{fmt}"'}
        if fmt == "csv":
            return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        return Response(await run_in_threadpool(to_xlsx, rows), headers=headers, media_type=XLSX)

    return [Route("/officer/lists/{import_id:int}/export.{fmt}", export, methods=["GET"])]

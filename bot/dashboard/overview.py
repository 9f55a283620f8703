"""`GET /officer/overview` (the jurisdiction by district, with charts), `GET /officer/enterprises?...`
(the enterprises behind each number of it) and `GET /officer/enterprises/export.{xlsx,csv}` (the same
rows as a file to file away). A filter the page does not understand is a 400 naming it."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import NO_STORE, NOT_FOUND, Dashboard, Who
from bot.dashboard.exports import filing_csv, filing_xlsx
from bot.dashboard.views import XLSX
from handlers.compliance import STATUS_LABELS, done_day, rate_text
from handlers.oversight import (
    BASIS_LABELS,
    LIST_STATUS_LABELS,
    LIST_STATUSES,
    PAGE_SIZE,
    REACH,
    Filters,
    OversightError,
    Overview,
    Tracked,
    find_tracked,
    load_overview,
)
from handlers.status import KIND_LABELS
from rules.i18n import N_, Gettext

REACH_LABELS = {"all": N_("All"), "unreachable": N_("Not reachable yet"), "reachable": N_("Reachable")}


def bad_input(e: OversightError) -> JSONResponse:
    return JSONResponse({"error": {"error": "invalid_field", "field": e.field, "message": e.message}},
                        status_code=400, headers=NO_STORE)


def link(filters: dict[str, str]) -> str:
    return "/officer/enterprises" + ("?" + urlencode(filters) if filters else "")


def district_filters(city: str, county: str) -> dict[str, str]:
    return {k: v for k, v in (("city", city), ("county", county)) if v}


def chart_data(ov: Overview, tr: Gettext) -> dict[str, Any]:
    """What overview.js draws: the monthly share done per kind, and overdue enterprises per district."""
    kinds = [k for k in ov.kinds if k in ov.trend]
    days = [d for d, _ in ov.trend[kinds[0]]] if kinds else []
    return {
        "x": [int(datetime.combine(d, time(12), UTC).timestamp()) for d in days],
        "series": [{"label": tr(KIND_LABELS.get(k, k)), "values": [round(100 * v, 1) for _, v in ov.trend[k]]}
                   for k in kinds],
        "districts": [line.county or line.city or "—" for line in ov.lines],
        "overdue": [line.overdue for line in ov.lines],
        "labels": {"share": tr(N_("Share done (%)")), "overdue": tr(N_("Enterprises with an overdue milestone")),
                   "month": tr(N_("Month")), "district": tr(N_("District"))},
    }


def filing_rows(tr: Gettext, tracked: list[Tracked]) -> list[list[object]]:
    """One row per enterprise and milestone: district and basis columns first, as officers file them."""
    header: list[object] = [tr(x) for x in (
        N_("City"), N_("County"), N_("Enterprise"), N_("Credit code"), N_("Industry"), N_("Basis"),
        N_("List published"), N_("Document number"), N_("Reachable"), N_("Milestone"), N_("Legal last day"),
        N_("Status"), N_("Done on"))]
    out = [header]
    for t in tracked:
        r = t.row
        base: list[object] = [r.city or "", r.county or "", r.name or "", r.credit_code or "", r.industry_code or "",
                              "、".join(tr(BASIS_LABELS.get(g, g)) for g in r.grounds), r.published_on,
                              r.document_number or "", tr(N_("yes")) if t.reachable else tr(N_("no"))]
        if not t.milestones:
            out.append([*base, "", None, "", None])
        for kind, due, done_at, status in t.milestones:
            done = done_day(done_at) if done_at is not None else None
            out.append([*base, tr(KIND_LABELS.get(kind, kind)), due, tr(STATUS_LABELS[status]), done])
    return out


def routes(dash: Dashboard) -> list[BaseRoute]:
    async def filters_for(request: Request) -> tuple[Who, Filters] | Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        try:
            filters = Filters.parse(request.query_params, dash.tr)
        except OversightError as e:
            return bad_input(e)
        return who, filters

    async def overview_page(request: Request) -> Response:
        got = await filters_for(request)
        if isinstance(got, Response):
            return got
        who, _ = got
        ov = await run_in_threadpool(load_overview, dash.sessions, who.officer, dash.today())
        return dash.render("overview.html", who=who, ov=ov, chart=chart_data(ov, dash.tr), rate_text=rate_text,
                           kind_labels=KIND_LABELS, link=link, district=district_filters)

    async def enterprises_page(request: Request) -> Response:
        got = await filters_for(request)
        if isinstance(got, Response):
            return got
        who, filters = got
        count, rows = await run_in_threadpool(find_tracked, dash.sessions, who.officer, filters, dash.today())
        pages = max(1, -(-count // PAGE_SIZE))
        return dash.render("enterprises.html", who=who, f=filters, rows=rows,
                           count=count, pages=pages, link=link, statuses=LIST_STATUSES,
                           status_labels=LIST_STATUS_LABELS, milestone_labels=STATUS_LABELS, kind_labels=KIND_LABELS,
                           basis_labels=BASIS_LABELS, reach=REACH, reach_labels=REACH_LABELS,
                           export_query=urlencode(filters.query(page=1)))

    async def export(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "xlsx"):
            return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND))
        if await dash.current(request) is None:
            return dash.need_login()
        got = await filters_for(request)
        if isinstance(got, Response):
            return got
        who, filters = got
        _, tracked = await run_in_threadpool(find_tracked, dash.sessions, who.officer, filters, dash.today(), None)
        rows = filing_rows(dash.tr, tracked)
        day = dash.today().isoformat()
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="enterprises-{day}.{fmt}"'}
        if fmt == "csv":
            return Response(filing_csv(rows), headers=headers, media_type="text/csv; charset=utf-8")
        sheet = dash.tr(N_("Listed enterprises"))
        return Response(await run_in_threadpool(filing_xlsx, rows, sheet), headers=headers, media_type=XLSX)

    return [
        Route("/officer/overview", overview_page, methods=["GET"]),
        Route("/officer/enterprises", enterprises_page, methods=["GET"]),
        Route("/officer/enterprises/export.{fmt}", export, methods=["GET"]),
    ]

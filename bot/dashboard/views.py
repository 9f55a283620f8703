"""`GET /officer/` (the officer's lists), `GET /officer/lists/{id}` (enterprises and milestones, filtered)
and `GET /officer/template.{xlsx,csv}` (the list template, public)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import NOT_FOUND, Dashboard, Who
from handlers.compliance import (
    STATUS_LABELS,
    STATUSES,
    ListView,
    done_day,
    load_index,
    load_list,
    rate_text,
)
from handlers.listimport import IndustryError, industry_prefix, template_csv, template_xlsx
from handlers.officers import ForbiddenError, Jurisdiction
from handlers.render import KIND_LABELS
from rules.i18n import DEFAULT_LOCALE, Gettext, gettext_for

INDUSTRY = re.compile(r"^[A-Za-z0-9]{0,8}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def industry_query(request: Request, tr: Gettext) -> tuple[str, str | None]:
    """(code prefix, why there is none): a prefix as typed (C26, 3011), or words mapped through
    rules.industries (炼焦 -> 2521); words naming no single class filter nothing and say why (never ignored
    silently)."""
    text = request.query_params.get("industry", "").strip()[:40]
    if INDUSTRY.match(text):
        return text, None
    try:
        return industry_prefix(text, tr), None
    except IndustryError as e:
        return "", str(e)


def list_filters(request: Request) -> tuple[str, str]:
    """(status, industry prefix) from the query; an unknown status means all."""
    status = request.query_params.get("status", "all")
    return (status if status in STATUSES else "all"), industry_query(request, gettext_for(DEFAULT_LOCALE))[0]


async def list_view(dash: Dashboard, request: Request, who: Who) -> ListView | Response:
    """The list at the path's `import_id` for this officer, filtered; a 403 or 404 error response otherwise."""
    status, industry = list_filters(request)
    try:
        view = await run_in_threadpool(load_list, dash.sessions, who.officer, request.path_params["import_id"],
                                       dash.today(), status, industry)
    except ForbiddenError as e:
        return dash.refuse(request, 403, "forbidden", str(e), who)
    if view is None:
        return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND), who)
    return view


def chart_bars(dash: Dashboard, rates: dict[str, tuple[int, int]]) -> list[tuple[str, str, int, int]]:
    """(kind, label, done on time, counted) per milestone kind, in the order of KIND_LABELS."""
    kinds = [k for k in KIND_LABELS if k in rates] + sorted(k for k in rates if k not in KIND_LABELS)
    return [(k, f"{dash.tr(KIND_LABELS.get(k, k))}  {rate_text(rates[k])}", *rates[k]) for k in kinds]


def routes(dash: Dashboard) -> list[BaseRoute]:
    async def index(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        summaries = await run_in_threadpool(load_index, dash.sessions, who.officer, dash.today())
        return dash.render("index.html", who=who, summaries=summaries, rate_text=rate_text)

    async def list_page(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        view = await list_view(dash, request, who)
        if isinstance(view, Response):
            return view
        status, industry = list_filters(request)
        refusal = industry_query(request, dash.tr)[1]
        typed = request.query_params.get("industry", "").strip()[:40]
        return dash.render("list.html", who=who, view=view, status=status, industry=typed if refusal else industry,
                           industry_error=refusal,
                           query=urlencode({"status": status, "industry": industry}), statuses=STATUSES,
                           status_labels=STATUS_LABELS, kind_labels=KIND_LABELS, done_day=done_day,
                           bars=chart_bars(dash, view.rates), where=Jurisdiction.of(who.officer).describe())

    async def template(request: Request) -> Response:
        """The list template (the columns an import expects); public, it holds no data."""
        fmt = request.path_params["fmt"]
        if fmt == "xlsx":
            return Response(template_xlsx(), media_type=XLSX,
                            headers={"Content-Disposition": 'attachment; filename="list-template.xlsx"'})
        if fmt == "csv":
            return Response(template_csv(), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="list-template.csv"'})
        return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND))

    return [
        Route("/officer/", index, methods=["GET"]),
        Route("/officer/template.{fmt}", template, methods=["GET"]),
        Route("/officer/lists/{import_id:int}", list_page, methods=["GET"]),
    ]

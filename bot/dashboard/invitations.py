"""`GET /officer/lists/{id}/invitations?page=N`: the printable invitation sheet of a list, one card per
enterprise nobody can be reached at: its one-time code, where to send it (QINGSHEN_PUBLIC_NAME, the web chat
page) and the QR code of the web chat address with the code. Like `qingshen officer sheet`, opening it creates
the codes still missing (idempotent: the same code each time). Outside the officer's jurisdiction 403, no
such list 404, a page number that is not a number 400."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import NO_STORE, NOT_FOUND, Dashboard
from handlers.invitations import SheetError, SheetRow, qr_data_uri, sheet_rows
from handlers.officers import ForbiddenError
from rules.i18n import N_
from storage import ListImport, Repositories

PER_PAGE = 60  # cards per printed batch: a page of the browser, about ten sheets of paper
BAD_PAGE = N_("{field}: expected a page number from 1.")


def routes(dash: Dashboard) -> list[BaseRoute]:
    def load(officer_id: int, import_id: int) -> tuple[ListImport, list[SheetRow]] | None:
        with dash.sessions.begin() as session:
            repos = Repositories(session)
            officer = repos.officers.get_by_id(officer_id)
            assert officer is not None
            try:
                return sheet_rows(repos, officer, import_id, dash.place)
            except SheetError:
                return None

    async def page(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        raw = request.query_params.get("page", "1")
        if not raw.isdigit() or int(raw) < 1:
            return JSONResponse({"error": {"error": "invalid_field", "field": "page",
                                           "message": dash.tr(BAD_PAGE).format(field="page")}},
                                status_code=400, headers=NO_STORE)
        number = int(raw)
        try:
            found = await run_in_threadpool(load, who.officer.id, request.path_params["import_id"])
        except ForbiddenError as e:
            return dash.refuse(request, 403, "forbidden", str(e), who)
        if found is None:
            return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND), who)
        imp, rows = found
        pages = max(1, -(-len(rows) // PER_PAGE))
        shown = rows[(number - 1) * PER_PAGE:number * PER_PAGE]
        cards = [(r, qr_data_uri(r.url) if r.url else None) for r in shown]
        return dash.render("invitations.html", who=who, imp=imp, cards=cards, total=len(rows), page=number,
                           pages=pages, place=dash.place)

    return [Route("/officer/lists/{import_id:int}/invitations", page, methods=["GET"])]

"""`GET /officer/enterprises/{id}` (facts, grounds, milestones, evidence, contacts masked, reminders sent,
the action log) and its two POSTs: `/stage` (report received, evaluation or acceptance passed on a day)
and `/reject` (a milestone's evidence, with the reason the contact is sent). An enterprise outside the
officer's jurisdiction is 403, one that does not exist 404; a wrong field 400 naming it; nothing is
written in any of those cases."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import BAD_CSRF, NO_STORE, NOT_FOUND, Dashboard, Who, read_form
from bot.dashboard.overview import bad_input
from handlers.compliance import STATUS_LABELS, TZ
from handlers.officers import ForbiddenError
from handlers.oversight import (
    ACTION_LABELS,
    BASIS_LABELS,
    STAGES,
    OversightError,
    load_enterprise,
    record_stage,
    reject_evidence,
)
from handlers.status import KIND_LABELS

MAX_ACTION_FORM = 8192


def routes(dash: Dashboard) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        try:
            view = await run_in_threadpool(load_enterprise, dash.sessions, who.officer,
                                           request.path_params["enterprise_id"], dash.today(), dash.tr)
        except ForbiddenError as e:
            return dash.refuse(request, 403, "forbidden", str(e), who)
        if view is None:
            return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND), who)
        return dash.render("enterprise.html", who=who, v=view, today=dash.today(), kind_labels=KIND_LABELS,
                           status_labels=STATUS_LABELS, basis_labels=BASIS_LABELS, action_labels=ACTION_LABELS,
                           stages=STAGES, when=lambda at: at.astimezone(TZ).strftime("%Y-%m-%d %H:%M"))

    async def acting(request: Request) -> tuple[Who, dict[str, str]] | Response:
        who = await dash.current(request)
        if who is None:
            return dash.need_login()
        form = await read_form(request, MAX_ACTION_FORM)
        if not dash.signer.csrf_ok(who.session.nonce, form.get("csrf")):
            return dash.error(403, "csrf", dash.tr(BAD_CSRF))
        return who, form

    async def act(request: Request, what: str) -> Response:
        got = await acting(request)
        if isinstance(got, Response):
            return got
        who, form = got
        enterprise_id = request.path_params["enterprise_id"]
        done: object
        try:
            if what == "stage":
                done = await run_in_threadpool(record_stage, dash.sessions, who.officer, enterprise_id,
                                               form.get("kind", ""), form.get("date", ""), dash.today(), dash.tr)
            else:
                milestone = form.get("milestone", "")
                if not milestone.isascii() or not milestone.isdigit() or len(milestone) > 12:
                    raise OversightError("milestone", dash.tr(NOT_FOUND))
                done = await run_in_threadpool(reject_evidence, dash.sessions, who.officer, enterprise_id,
                                               int(milestone), form.get("reason", ""), dash.today(), dash.tr)
        except ForbiddenError as e:
            return dash.error(403, "forbidden", str(e))
        except OversightError as e:
            return bad_input(e)
        if done is None:
            return dash.error(404, "not_found", dash.tr(NOT_FOUND))
        return RedirectResponse(f"/officer/enterprises/{enterprise_id}#actions", status_code=303, headers=NO_STORE)

    async def stage(request: Request) -> Response:
        return await act(request, "stage")

    async def reject(request: Request) -> Response:
        return await act(request, "reject")

    return [
        Route("/officer/enterprises/{enterprise_id:int}", page, methods=["GET"]),
        Route("/officer/enterprises/{enterprise_id:int}/stage", stage, methods=["POST"]),
        Route("/officer/enterprises/{enterprise_id:int}/reject", reject, methods=["POST"]),
    ]

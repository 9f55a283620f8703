"""Broadcasts from the browser, through the same code as `qingshen officer broadcast` (handlers.broadcast):

| route | what |
|---|---|
| `GET /officer/broadcast?list=<id>` | the form: list, district (市/县), basis, a milestone's status, message |
| `POST /officer/broadcast/preview` | HTML: the message as sent, the recipients (reachable / invitation needed) |
| `POST /officer/broadcast/send` | plans the broadcast, fans it out to the outbox after answering, returns its status |
| `GET /officer/broadcasts/{id}` | the delivery page (broadcast.js polls the JSON below while anything is pending) |
| `GET /officer/broadcasts/{id}/status` | the delivery report as JSON (planned, sent, failed, pending, unreachable) |

The POSTs are urlencoded forms with the CSRF token (sent by broadcast.js with fetch). A list, a district or
a broadcast outside the officer's jurisdiction is 403 and nothing is written; bad filters are 400 naming
the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import BAD_CSRF, NO_STORE, NOT_FOUND, Dashboard, Who, read_form
from handlers.broadcast import (
    AudiencePreview,
    BroadcastError,
    DeliveryReport,
    Filters,
    delivery_report,
    fan_out,
    get_broadcast,
    plan_general,
    plan_notice,
    preview_audience,
)
from handlers.compliance import covers, place_inside, reaches
from handlers.listimport import GROUND_ORDER
from handlers.officers import ForbiddenError
from handlers.status import KIND_LABELS
from rules.i18n import N_
from storage import Repositories
from storage.models import ListImport, Officer

MAX_BROADCAST_FORM = 32 * 1024
SHOW_NAMES = 200

BASIS_LABELS = {
    "pollution": N_("Emissions over a standard or the total quota"),
    "energy": N_("Energy use over the limit (high energy consumption)"),
    "toxic": N_("Uses or emits toxic and hazardous substances"),
    "key_industry": N_("Key industry"),
    "master_list": N_("Master list"),
}
STATUS_CHOICES = {
    "overdue": N_("Overdue"),
    "due_soon": N_("Due within 30 days"),
    "open": N_("Not done yet"),
    "done": N_("Done"),
}
KINDS = {"notice": N_("The list notice (each enterprise's own deadlines)"), "general": N_("A message of my own")}
PROGRESS_LABELS = {"planned": N_("Preparing"), "sending": N_("Queuing the messages"),
                   "done": N_("Every message queued")}
NO_LIST = N_("Choose a list first.")
OUTSIDE = N_("This list is outside your jurisdiction.")
BAD_FIELD = N_("{field}: choose one of the options offered.")


@dataclass(frozen=True)
class Choice:
    kind: str
    import_id: int | None
    filters: Filters
    text: str


def _lists(dash: Dashboard, officer: Officer) -> list[ListImport]:
    with dash.sessions() as session:
        repos = Repositories(session)
        found = [i for i in repos.imports.list_by_province(officer.province) if reaches(repos, officer, i)]
        session.expunge_all()
        return found


def _districts(dash: Dashboard, officer: Officer, import_id: int) -> list[str]:
    """The districts of the list to filter on; of a list wider than the officer's jurisdiction, those in it."""
    with dash.sessions() as session:
        repos = Repositories(session)
        imp = repos.imports.get_by_id(import_id)
        pairs = repos.imports.list_districts(import_id)
        if imp is not None and not covers(officer, imp):
            pairs = [(c, k) for c, k in repos.oversight.list_import_places(import_id)
                     if place_inside(officer, imp, c, k)]
            pairs.sort(key=lambda p: (p[0] or "", p[1] or ""))
    out: list[str] = []
    for city, county in pairs:
        for value in ([city] if city else []) + ([f"{city or ''}/{county}"] if county else []):
            if value not in out:
                out.append(value)
    return out


def _exists(dash: Dashboard, import_id: int) -> bool:
    with dash.sessions() as session:
        return Repositories(session).imports.get_by_id(import_id) is not None


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 12 else None


def read_choice(dash: Dashboard, form: dict[str, str]) -> Choice:
    """The form's fields as a broadcast (BroadcastError naming the wrong field)."""
    tr = dash.tr
    kind = form.get("kind", "notice")
    if kind not in KINDS:
        raise BroadcastError(tr(BAD_FIELD).format(field=tr(N_("Message"))))
    import_id = _int(form.get("list"))
    if import_id is None:
        raise BroadcastError(tr(NO_LIST))
    district = form.get("district", "").strip()
    city, _, county = district.partition("/")
    ground = form.get("basis") or None
    if ground is not None and ground not in GROUND_ORDER:
        raise BroadcastError(tr(BAD_FIELD).format(field=tr(N_("Basis"))))
    milestone = form.get("milestone") or None
    if milestone is not None and milestone not in KIND_LABELS:
        raise BroadcastError(tr(BAD_FIELD).format(field=tr(N_("Milestone"))))
    status = form.get("status") or None
    if status is not None and status not in STATUS_CHOICES:
        raise BroadcastError(tr(BAD_FIELD).format(field=tr(N_("Status"))))
    if milestone is not None and status is None:
        raise BroadcastError(tr(N_("Status: choose the milestone's status (e.g. overdue) too.")))
    filters = Filters(industry_prefix=form.get("industry", "").strip() or None, ground=ground, status=status,
                      city=city.strip() or None, county=county.strip() or None, milestone=milestone)
    return Choice(kind, import_id, filters, form.get("text", ""))


def _preview(dash: Dashboard, officer: Officer, c: Choice) -> AudiencePreview:
    with dash.sessions() as session:
        return preview_audience(Repositories(session), officer, kind=c.kind, import_id=c.import_id,
                                filters=c.filters, text=c.text, today=dash.today())


def _plan(dash: Dashboard, officer: Officer, c: Choice) -> int:
    with dash.sessions.begin() as session:
        repos = Repositories(session)
        if c.kind == "notice":
            assert c.import_id is not None
            return plan_notice(repos, officer, c.import_id, filters=c.filters).id
        return plan_general(repos, officer, c.text, c.filters, import_id=c.import_id).id


def _report(dash: Dashboard, officer: Officer, broadcast_id: int) -> DeliveryReport:
    with dash.sessions() as session:
        return delivery_report(Repositories(session), officer, broadcast_id)


def _broadcast_list(dash: Dashboard, officer: Officer, broadcast_id: int) -> int | None:
    with dash.sessions() as session:
        return get_broadcast(Repositories(session), officer, broadcast_id).list_import_id


def routes(dash: Dashboard) -> list[BaseRoute]:
    async def posted(request: Request) -> tuple[Who, Choice] | Response:
        who = await dash.current(request)
        if who is None:
            return dash.need_login()
        form = await read_form(request, MAX_BROADCAST_FORM, max_fields=16)
        if not dash.signer.csrf_ok(who.session.nonce, form.get("csrf")):
            return dash.error(403, "csrf", dash.tr(BAD_CSRF))
        try:
            return who, read_choice(dash, form)
        except BroadcastError as e:
            return dash.error(400, "invalid", str(e))

    async def form_page(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        lists = await run_in_threadpool(_lists, dash, who.officer)
        chosen = _int(request.query_params.get("list"))
        if chosen is not None and all(i.id != chosen for i in lists):
            if await run_in_threadpool(_exists, dash, chosen):
                return dash.refuse(request, 403, "forbidden", dash.tr(OUTSIDE), who)
            return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND), who)
        if chosen is None and lists:
            chosen = lists[0].id
        districts = await run_in_threadpool(_districts, dash, who.officer, chosen) if chosen is not None else []
        return dash.render("broadcast.html", who=who, lists=lists, chosen=chosen, districts=districts,
                           kinds=KINDS, basis=BASIS_LABELS, milestones=KIND_LABELS, statuses=STATUS_CHOICES)

    async def refused_or(fn: Any, *args: Any) -> Any:
        """fn(dash, *args) in the thread pool; outside the jurisdiction 403, a bad choice 400 naming it."""
        try:
            return await run_in_threadpool(fn, dash, *args)
        except ForbiddenError as e:
            return dash.error(403, "forbidden", str(e))
        except BroadcastError as e:
            return dash.error(400, "invalid", str(e))

    async def preview(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        who, choice = found
        p = await refused_or(_preview, who.officer, choice)
        if isinstance(p, Response):
            return p
        return dash.render("_broadcast_preview.html", who=who, p=p, show=SHOW_NAMES)

    async def send(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        who, choice = found
        broadcast_id = await refused_or(_plan, who.officer, choice)
        if isinstance(broadcast_id, Response):
            return broadcast_id
        report = await run_in_threadpool(_report, dash, who.officer, broadcast_id)
        task = BackgroundTask(fan_out, dash.sessions, who.officer, broadcast_id, today=dash.today())
        response = dash.render("_broadcast_status.html", who=who, r=report, progress=PROGRESS_LABELS)
        response.background = task  # the fan-out runs after the answer; the page polls its progress
        return response

    async def status_page(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        found = await report_of(request, who)
        if isinstance(found, Response):
            return found
        list_id = await run_in_threadpool(_broadcast_list, dash, who.officer, found.broadcast_id)
        return dash.render("broadcast_status.html", who=who, r=found, list_id=list_id, progress=PROGRESS_LABELS)

    async def report_of(request: Request, who: Who) -> DeliveryReport | Response:
        try:
            return await run_in_threadpool(_report, dash, who.officer, request.path_params["broadcast_id"])
        except ForbiddenError as e:
            return dash.refuse(request, 403, "forbidden", str(e), who)
        except BroadcastError:
            return dash.refuse(request, 404, "not_found", dash.tr(NOT_FOUND), who)

    async def status_json(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.need_login()
        found = await report_of(request, who)
        if isinstance(found, Response):
            return found
        body = {**found.to_dict(), "status_label": dash.tr(PROGRESS_LABELS.get(found.status, found.status))}
        return JSONResponse(body, headers=NO_STORE)

    return [
        Route("/officer/broadcast", form_page, methods=["GET"]),
        Route("/officer/broadcast/preview", preview, methods=["POST"]),
        Route("/officer/broadcast/send", send, methods=["POST"]),
        Route("/officer/broadcasts/{broadcast_id:int}", status_page, methods=["GET"]),
        Route("/officer/broadcasts/{broadcast_id:int}/status", status_json, methods=["GET"]),
    ]

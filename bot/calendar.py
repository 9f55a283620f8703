"""An enterprise's deadlines as an iCalendar file (RFC 5545), from a secret link the bot gives."""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from handlers.render import KIND_LABELS
from rules.i18n import N_, Gettext, gettext_for
from storage import Repositories, utcnow

PRODID = "-//qingshen//cleaner-production audit deadlines//ZH"


def calendar_ics(sessions: sessionmaker[Session], token: str, locale: str = "zh_CN") -> bytes | None:
    """The .ics of the enterprise with this calendar token; None if the token is unknown."""
    tr = gettext_for(locale)
    with sessions() as session:
        repos = Repositories(session)
        enterprise = repos.enterprises.get_by_calendar_token(token)
        if enterprise is None:
            return None
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("x-wr-calname", tr(N_("Cleaner-production audit deadlines")))
        for cycle in repos.cycles.list_by_enterprise(enterprise.id, include_superseded=False):
            for m in repos.milestones.list_by_cycle(cycle.id):
                cal.add_component(_event(m.id, m.kind, m.nominal, m.due, m.citation, m.done_at is not None, tr))
        return cal.to_ical()


def _event(mid: int, kind: str, nominal: date, due: date, citation: str, done: bool, tr: Gettext) -> Event:
    what = tr(KIND_LABELS.get(kind, kind))
    done_mark = tr(N_("(done)"))
    event = Event()
    event.add("uid", f"milestone-{mid}@qingshen")
    event.add("dtstamp", utcnow())
    event.add("summary", f"{what} {done_mark}" if done else what)
    event.add("dtstart", nominal)
    event.add("dtend", nominal + timedelta(days=1))
    event.add("description", tr(N_("By {nominal}; legal last day {due}. Basis: {citation}")).format(
        nominal=nominal.isoformat(), due=due.isoformat(), citation=citation))
    if not done:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", what)
        alarm.add("trigger", timedelta(days=-7))
        event.add_component(alarm)
    return event


def calendar_routes(sessions: sessionmaker[Session]) -> list[BaseRoute]:
    """GET /calendar/{token}.ics: the secret link itself is the credential (no API key), like a
    calendar subscription URL; an unknown token is a plain 404."""

    async def ics(request: Request) -> Response:
        token = request.path_params["token"]
        body = await run_in_threadpool(calendar_ics, sessions, token) if 8 <= len(token) <= 64 else None
        if body is None:
            return JSONResponse({"error": {"error": "not_found", "field": None,
                                           "message": gettext_for("zh_CN")(N_("There is nothing at this address."))}},
                                status_code=404)
        headers = {"Content-Disposition": 'attachment; filename="qingshen.ics"', "Cache-Control": "no-store"}
        return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)

    return [Route("/calendar/{token}.ics", ics, methods=["GET"])]

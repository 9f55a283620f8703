"""The .ics link a contact gets from 我的期限, served over real HTTP by the routes `qingshen run` adds."""

from __future__ import annotations

from datetime import date

import httpx
from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from bot.calendar import calendar_routes
from bot.server import create_app
from handlers.dispatcher import Dispatcher
from storage import Repositories
from tests.bot.bot_testkit import serve, settings


def test_an_enterprise_calendar_is_served_and_a_wrong_token_is_not(real_sessions: sessionmaker[Session]) -> None:
    with real_sessions.begin() as s:
        repos = Repositories(s)
        enterprise = repos.enterprises.add(credit_code=None, name="某某水泥有限公司")
        cycle = repos.cycles.add(enterprise.id, source="chat", list_published_on=date(2026, 3, 31))
        repos.milestones.add(cycle.id, kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 4, 30),
                             citation="《清洁生产审核办法》第十一条")
        token = repos.enterprises.ensure_calendar_token(enterprise)
    app = create_app(settings(demo=False, api_keys=["k" * 20]), Dispatcher(real_sessions),
                     routes=calendar_routes(real_sessions))
    with serve(app) as base:
        r = httpx.get(f"{base}/calendar/{token}.ics")            # the secret link is the credential
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
        event = next(iter(Calendar.from_ical(r.content).walk("VEVENT")))
        assert str(event["dtstart"].dt) == "2026-04-30" and "第十一条" in str(event["description"])
        missing = httpx.get(f"{base}/calendar/{'x' * 20}.ics")
        assert missing.status_code == 404 and missing.json()["error"]["error"] == "not_found"

"""What every dashboard view shares: the session factory, the signer, the clock, the translations,
the Jinja2 templates (autoescaped; `_` is the page's gettext) and the small response helpers.

A view module exposes `routes(dash: Dashboard) -> list[BaseRoute]`; `bot.dashboard.VIEWS` lists them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.dashboard.auth import COOKIE, OfficerSession, Signer, Throttle
from handlers.compliance import load_officer
from handlers.invitations import Place
from rules.i18n import N_, Gettext, gettext_for
from storage.models import Officer

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
NO_STORE = {"Cache-Control": "no-store"}
MAX_FORM_BYTES = 4096

TITLE = N_("Cleaner-production audit dashboard")
BAD_CSRF = N_("This form has expired or did not come from this site; reload the page and try again.")
NEED_LOGIN = N_("Please log in as an officer first.")
NOT_FOUND = N_("There is nothing at this address.")
LOG_IN_AGAIN = N_("Log in again")
LOGIN_PATH = "/officer/login"
REFUSED_TITLES = {403: N_("Not allowed"), 404: N_("Not found")}


def safe_next(text: str | None) -> str | None:
    """Where a login may send the officer back to: a dashboard path of this site (never another host, nor the
    login page itself), else None."""
    text = (text or "").strip()
    if (not text.startswith("/officer/") or len(text) > 500 or "\\" in text or "//" in text
            or not text.isprintable() or text.startswith((LOGIN_PATH, "/officer/logout"))):
        return None
    return text


def wants_page(request: Request) -> bool:
    """A browser's GET (it asks for HTML): an error is shown as a page, not as the API's JSON."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def translator(tr: Gettext) -> Callable[..., str]:
    """The templates' `_`: `_("{n} enterprises shown", n=3)` translates, then fills the placeholders."""

    def _(msgid: str, **args: object) -> str:
        text = tr(msgid)
        return text.format(**args) if args else text

    return _


@dataclass
class Who:
    """The logged-in officer and their session (its nonce derives the CSRF token)."""

    session: OfficerSession
    officer: Officer
    csrf: str


@dataclass
class Dashboard:
    sessions: sessionmaker[Session]
    signer: Signer
    today: Callable[[], date]
    throttle: Throttle
    secure_cookies: bool = False
    place: Place = field(default_factory=Place)  # where invitation codes are sent (the invitation sheets)
    tr: Gettext = field(default_factory=lambda: gettext_for("zh_CN"))
    env: jinja2.Environment = field(default_factory=_environment)

    def render(self, template: str, *, http_status: int = 200, who: Who | None = None, **context: Any) -> HTMLResponse:
        page = self.env.get_template(template).render(_=translator(self.tr), who=who, **context)
        return HTMLResponse(page, status_code=http_status, headers=NO_STORE)

    def error(self, status: int, kind: str, message: str) -> JSONResponse:
        return JSONResponse({"error": {"error": kind, "field": None, "message": message}}, status_code=status,
                            headers=NO_STORE)

    def refuse(self, request: Request, status: int, kind: str, message: str, who: Who | None = None) -> Response:
        """`error`, or for a browser's GET a page in the dashboard's layout saying what is not allowed (or not
        there), with the way back to the officer's lists."""
        if wants_page(request):
            return self.render("error.html", http_status=status, who=who, status=status, message=message,
                               heading=REFUSED_TITLES.get(status, TITLE))
        return self.error(status, kind, message)

    def need_login(self) -> JSONResponse:
        """401 for a form or an export sent without a live session: the message and the login page's address
        (the page's script adds `next=` so that the officer comes back to what they were doing)."""
        return JSONResponse({"error": {"error": "unauthorized", "field": None, "message": self.tr(NEED_LOGIN),
                                       "login": {"href": LOGIN_PATH, "label": self.tr(LOG_IN_AGAIN)}}},
                            status_code=401, headers=NO_STORE)

    def set_cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/officer", httponly=True, samesite="strict",
                            secure=self.secure_cookies)

    async def current(self, request: Request) -> Who | None:
        found = self.signer.read(request.cookies.get(COOKIE), time.time())
        if found is None:
            return None
        officer = await run_in_threadpool(load_officer, self.sessions, found.officer_id)
        return Who(found, officer, self.signer.csrf(found.nonce)) if officer is not None else None

    def to_login(self) -> Response:
        return RedirectResponse("/officer/login", status_code=303, headers=NO_STORE)


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES, max_fields: int = 8) -> dict[str, str]:
    """A urlencoded form's fields (first value of each); {} when too big or not UTF-8."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return {}
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items()}

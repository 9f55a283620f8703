"""The officers' web dashboard under /officer/: their imported lists, who meets which deadline, exports.

| route | module |
|---|---|
| `GET/POST /officer/login`, `POST /officer/logout` | `login` (sessions and throttle: `auth`) |
| `GET /officer/` | `views`: the officer's imports (inside their jurisdiction), counts, on-time rate |
| `GET /officer/lists/{id}?status=all|overdue|due_soon|done&industry=<prefix>` | `views`: enterprises, milestones |
| `GET /officer/lists/{id}/export.csv` / `.xlsx` | `exports`: the same rows as a file |
| `GET /officer/template.xlsx` / `.csv` | `views`: the list template |
| `GET /officer/overview` | `overview`: the jurisdiction by district, on-time rates, overdue, unreachable, charts |
| `GET /officer/enterprises?city&county&status&kind&reach&basis&page`, `…/export.{xlsx,csv}` | `overview`: filtered |
| `GET /officer/enterprises/{id}`, `POST …/stage`, `POST …/reject` | `enterprise`: one enterprise, officer actions |
| `GET /officer/broadcast`, `POST …/preview`, `POST …/send`, `GET /officer/broadcasts/{id}[/status]` | `broadcasts` |
| `GET /officer/lists/{id}/invitations?page=N` | `invitations`: the printable invitation sheet, with QR codes |

Pages without a valid session redirect to the login; exports answer 401; a list outside the officer's
jurisdiction is 403 (a list that does not exist is 404). Every POST carries a CSRF token, an HMAC of
the session's nonce (of a pre-session cookie for the login form). The server's CSP forbids form
submission (`form-action 'none'`), so dashboard.js submits the forms with fetch.

A new view group is a module with `routes(dash: Dashboard) -> list[BaseRoute]`, added to `VIEWS`; its
pages are Jinja2 templates in `templates/` (autoescaped, `{{ _("msgid", name=value) }}` through Babel)
rendered with `dash.render`. Statuses and queries live in `handlers.compliance` and the repositories.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.dashboard import broadcasts, enterprise, exports, invitations, lists, login, overview, views
from bot.dashboard.auth import COOKIE, Signer, Throttle
from bot.dashboard.core import Dashboard
from handlers.compliance import load_list, local_today, milestone_status, on_time_rates
from handlers.invitations import Place

STATIC_DIR = Path(__file__).resolve().parent.parent / "dashboard_static"
VIEWS: list[ModuleType] = [login, views, exports, lists, overview, enterprise, broadcasts, invitations]

__all__ = ["COOKIE", "VIEWS", "Dashboard", "Signer", "Throttle", "dashboard_routes", "load_list",
           "milestone_status", "on_time_rates"]


def dashboard_routes(sessions: sessionmaker[Session], *, secure_cookies: bool = False,
                     session_secret: bytes | None = None, today: Callable[[], date] = local_today,
                     place: Place | None = None) -> list[BaseRoute]:
    """The /officer/ routes (see the module docstring); `session_secret` or a random per-process key; `place`:
    where the invitation sheets send contacts (the account's name, the web chat page)."""
    signer = Signer(session_secret or secrets.token_bytes(32), sessions)
    dash = Dashboard(sessions, signer, today, Throttle(sessions), secure_cookies, place=place or Place())
    routes: list[BaseRoute] = [route for module in VIEWS for route in module.routes(dash)]
    return [*routes, Mount("/officer/static", StaticFiles(directory=STATIC_DIR), name="officer-static")]

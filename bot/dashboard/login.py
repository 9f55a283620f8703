"""`GET/POST /officer/login` and `POST /officer/logout`. `?next=/officer/…` (a dashboard path only, see
`core.safe_next`) is where a successful login goes back to: the page whose session expired."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.auth import COOKIE, PRE_COOKIE, SESSION_TTL, address_key, check_login
from bot.dashboard.core import BAD_CSRF, NO_STORE, Dashboard, read_form, safe_next


def routes(dash: Dashboard) -> list[BaseRoute]:
    signer = dash.signer

    async def login_form(request: Request) -> Response:
        if await dash.current(request) is not None:
            return RedirectResponse("/officer/", status_code=303)
        nonce = signer.pre_nonce(request.cookies.get(PRE_COOKIE))
        pre = None
        if nonce is None:
            pre = signer.pre_session()
            nonce = pre.partition(".")[0]
        response = dash.render("login.html", csrf=signer.csrf(nonce), failed=request.query_params.get("failed") == "1",
                               next=safe_next(request.query_params.get("next")))
        if pre is not None:
            dash.set_cookie(response, PRE_COOKIE, pre, 3600)
        return response

    async def login(request: Request) -> Response:
        form = await read_form(request)
        if not signer.csrf_ok(signer.pre_nonce(request.cookies.get(PRE_COOKIE)), form.get("csrf")):
            return dash.error(403, "csrf", dash.tr(BAD_CSRF))
        officer_id = await run_in_threadpool(check_login, dash.sessions, form.get("login", ""),
                                             form.get("password", ""), dash.throttle,
                                             address_key(request.client.host if request.client else None), time.time())
        back = safe_next(form.get("next"))
        if officer_id is None:
            again = "/officer/login?" + urlencode({"failed": "1", **({"next": back} if back else {})})
            return RedirectResponse(again, status_code=303, headers=NO_STORE)
        response = RedirectResponse(back or "/officer/", status_code=303, headers=NO_STORE)
        dash.set_cookie(response, COOKIE, signer.issue(officer_id, time.time()), int(SESSION_TTL.total_seconds()))
        response.delete_cookie(PRE_COOKIE, path="/officer")
        return response

    async def logout(request: Request) -> Response:
        found = signer.read(request.cookies.get(COOKIE), time.time())
        if found is None:
            return dash.to_login()
        if not signer.csrf_ok(found.nonce, (await read_form(request)).get("csrf")):
            return dash.error(403, "csrf", dash.tr(BAD_CSRF))
        signer.revoke(found, time.time())
        response = dash.to_login()
        response.delete_cookie(COOKIE, path="/officer")
        return response

    return [
        Route("/officer/login", login_form, methods=["GET"]),
        Route("/officer/login", login, methods=["POST"]),
        Route("/officer/logout", logout, methods=["POST"]),
    ]

"""Lists in the browser: `GET /officer/upload` (choose a file), `POST /officer/upload/preview` (the checks,
as an HTML fragment: row errors with line and column, duplicates, what would be created) and
`POST /officer/upload/import` (import it). The file is the raw request body (dashboard.js sends it with
fetch; the CSP forbids form submission), its name in `?name=`, the CSRF token in `X-CSRF-Token`."""

from __future__ import annotations

import posixpath

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dashboard.core import BAD_CSRF, Dashboard, Who
from handlers.cycles import ImportRefused
from handlers.listimport import MAX_FILE_BYTES, ListFileError
from handlers.listupload import apply_upload, check_upload
from handlers.officers import ForbiddenError
from rules.i18n import N_

TOO_LARGE = N_("The file is larger than {limit} MB.")
NO_FILE = N_("Choose a list file (XLSX or CSV) first.")


async def _body(request: Request) -> bytes | None:
    """The uploaded bytes, or None past MAX_FILE_BYTES (stops reading there)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_FILE_BYTES:
            return None
    return bytes(data)


def _filename(request: Request) -> str:
    name = posixpath.basename(request.query_params.get("name", "").replace("\\", "/")).strip()
    return "".join(c for c in name if c.isprintable())[:200] or "list.csv"


def routes(dash: Dashboard) -> list[BaseRoute]:
    async def posted(request: Request) -> tuple[Who, bytes, str] | Response:
        who = await dash.current(request)
        if who is None:
            return dash.need_login()
        if not dash.signer.csrf_ok(who.session.nonce, request.headers.get("x-csrf-token")):
            return dash.error(403, "csrf", dash.tr(BAD_CSRF))
        data = await _body(request)
        if data is None:
            return dash.error(413, "too_large", dash.tr(TOO_LARGE).format(limit=MAX_FILE_BYTES // 2**20))
        if not data:
            return dash.error(400, "no_file", dash.tr(NO_FILE))
        return who, data, _filename(request)

    async def upload_page(request: Request) -> Response:
        who = await dash.current(request)
        if who is None:
            return dash.to_login()
        return dash.render("upload.html", who=who)

    async def preview(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        who, data, name = found
        try:
            check = await run_in_threadpool(check_upload, dash.sessions, who.officer, data, name, today=dash.today())
        except ListFileError as e:
            return dash.error(400, e.code, e.msg.render(dash.tr))
        return dash.render("_preview.html", who=who, check=check, p=check.preview, tr=dash.tr)

    async def do_import(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        who, data, name = found
        accept = request.query_params.get("accept_partial") == "1"
        try:
            p, outcome = await run_in_threadpool(apply_upload, dash.sessions, who.officer, data, name,
                                                 today=dash.today(), accept_partial=accept)
        except ListFileError as e:
            return dash.error(400, e.code, e.msg.render(dash.tr))
        except ImportRefused as e:
            return dash.error(400, "refused", str(e))
        except ForbiddenError as e:
            return dash.error(403, "forbidden", str(e))
        return dash.render("_imported.html", who=who, outcome=outcome, p=p)

    return [
        Route("/officer/upload", upload_page, methods=["GET"]),
        Route("/officer/upload/preview", preview, methods=["POST"]),
        Route("/officer/upload/import", do_import, methods=["POST"]),
    ]

"""The officers' web dashboard under /officer/: their imported lists, who meets which deadline, exports.

| route | answer |
|---|---|
| `GET/POST /officer/login`, `POST /officer/logout` | a signed session cookie (8 h); 5 failures in 15 min lock 15 min |
| `GET /officer/` | the officer's imports (inside their jurisdiction), with counts and on-time rate |
| `GET /officer/lists/{id}?status=all|overdue|due_soon|done&industry=<prefix>` | enterprises and milestones |
| `GET /officer/lists/{id}/export.csv` / `.xlsx` | the same rows as a file |

Pages without a valid session redirect to the login; exports answer 401; a list outside the officer's
jurisdiction is 403 (a list that does not exist is 404). Every POST carries a CSRF token, an HMAC of
the session's nonce (of a pre-session cookie for the login form). The server's CSP forbids form
submission (`form-action 'none'`), so dashboard.js submits the forms with fetch.

A milestone is *done on time* when done on or before its legal `due` day (Beijing date), *done late*
after it, *overdue* when not done and `due` has passed, *due soon* when not done and due within 30 days.
The on-time rate counts milestones that are done or whose due day has passed.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from handlers.listimport import template_csv, template_xlsx
from handlers.officers import ForbiddenError, authorize, hash_password, verify_password
from handlers.render import KIND_LABELS
from rules.i18n import N_, Gettext, gettext_for
from storage import Enterprise, Milestone, Repositories
from storage.models import ListImport, Officer

STATIC_DIR = Path(__file__).resolve().parent / "dashboard_static"
TZ = ZoneInfo("Asia/Shanghai")
COOKIE, PRE_COOKIE = "qs_officer", "qs_officer_pre"
SESSION_TTL = timedelta(hours=8)
MAX_FAILURES, FAILURE_WINDOW = 5, 15 * 60
DUE_SOON_DAYS = 30
MAX_FORM_BYTES = 4096
STATUSES = ("all", "overdue", "due_soon", "done")
INDUSTRY = re.compile(r"^[A-Za-z0-9]{0,8}$")
NO_STORE = {"Cache-Control": "no-store"}

TITLE = N_("Cleaner-production audit dashboard")
LOGIN_FAILED = N_("The officer or the password is wrong, or logging in is paused after too many failures.")
LOGIN_LABEL = N_("Officer number or name")
PASSWORD_LABEL = N_("Password")
LOGIN_BUTTON = N_("Log in")
LOGOUT_BUTTON = N_("Log out")
BAD_CSRF = N_("This form has expired or did not come from this site; reload the page and try again.")
NEED_LOGIN = N_("Please log in as an officer first.")
NOT_FOUND = N_("There is nothing at this address.")
STATUS_LABELS = {
    "all": N_("All"), "overdue": N_("Overdue"), "due_soon": N_("Due within 30 days"), "done": N_("Done"),
    "done_on_time": N_("Done on time"), "done_late": N_("Done late"), "pending": N_("Not yet due"),
}


# -- sessions, CSRF and the login throttle ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfficerSession:
    officer_id: int
    nonce: str
    expires: int


class Signer:
    """Cookies `officer_id.expiry.nonce.hmac` (HMAC-SHA256) and the CSRF tokens derived from a nonce."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.revoked: dict[str, int] = {}
        self.lock = threading.Lock()

    def _mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, officer_id: int, now: float) -> str:
        body = f"{officer_id}.{int(now + SESSION_TTL.total_seconds())}.{secrets.token_hex(16)}"
        return f"{body}.{self._mac('session:' + body)}"

    def read(self, cookie: str | None, now: float) -> OfficerSession | None:
        parts = (cookie or "").split(".")
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        body = ".".join(parts[:3])
        if not _same(self._mac("session:" + body), parts[3]) or int(parts[1]) <= now:
            return None
        with self.lock:
            if parts[2] in self.revoked:
                return None
        return OfficerSession(int(parts[0]), parts[2], int(parts[1]))

    def revoke(self, session: OfficerSession, now: float) -> None:
        with self.lock:
            self.revoked = {n: exp for n, exp in self.revoked.items() if exp > now}
            self.revoked[session.nonce] = session.expires

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf:" + nonce)

    def pre_session(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._mac('pre:' + nonce)}"

    def pre_nonce(self, cookie: str | None) -> str | None:
        nonce, _, mac = (cookie or "").partition(".")
        return nonce if nonce and _same(self._mac("pre:" + nonce), mac) else None

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        return nonce is not None and token is not None and _same(self.csrf(nonce), token)


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that accepts any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


@dataclass
class Throttle:
    """Failed logins per key (an officer, or the name typed when it matches none): after MAX_FAILURES
    within FAILURE_WINDOW seconds the key is refused for FAILURE_WINDOW seconds."""

    failures: dict[str, list[float]] = field(default_factory=dict)
    locked: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def is_locked(self, key: str, now: float) -> bool:
        with self.lock:
            return self.locked.get(key, 0.0) > now

    def fail(self, key: str, now: float) -> None:
        with self.lock:
            recent = [t for t in self.failures.get(key, []) if t > now - FAILURE_WINDOW] + [now]
            self.failures[key] = recent
            if len(recent) >= MAX_FAILURES:
                self.locked[key] = now + FAILURE_WINDOW
                self.failures[key] = []
            if len(self.failures) > 4096:
                self.failures = {k: v for k, v in self.failures.items() if v and v[-1] > now - FAILURE_WINDOW}

    def succeed(self, key: str) -> None:
        with self.lock:
            self.failures.pop(key, None)


_DUMMY_HASH: list[str] = []


def check_login(sessions: sessionmaker[Session], login: str, password: str, throttle: Throttle,
                now: float) -> int | None:
    """The officer id if `login` (a number or a unique name) and the password match and the key is not
    locked; the password is hashed even when no officer matches, so the time taken tells nothing."""
    login = login.strip()
    with sessions() as session:
        repos = Repositories(session)
        found: Officer | None = None
        if login.isdigit() and len(login) < 12:
            found = repos.officers.get_by_id(int(login))
        elif login:
            named = repos.officers.list_by_name(login)
            found = named[0] if len(named) == 1 else None
        stored = found.password_hash if found is not None else None
    key = f"officer:{found.id}" if found is not None else f"name:{login.casefold()}"
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
    ok = verify_password(password, stored or _DUMMY_HASH[0]) and stored is not None
    if throttle.is_locked(key, now):
        return None
    if not ok or found is None:
        throttle.fail(key, now)
        return None
    throttle.succeed(key)
    return found.id


# -- statuses ------------------------------------------------------------------------------------------


def local_today() -> date:
    return datetime.now(TZ).date()


def done_day(done_at: datetime) -> date:
    return (done_at if done_at.tzinfo else done_at.replace(tzinfo=UTC)).astimezone(TZ).date()


def milestone_status(due: date, done_at: datetime | None, today: date) -> str:
    """done_on_time, done_late, overdue, due_soon or pending (see the module docstring)."""
    if done_at is not None:
        return "done_on_time" if done_day(done_at) <= due else "done_late"
    if due < today:
        return "overdue"
    return "due_soon" if due <= today + timedelta(days=DUE_SOON_DAYS) else "pending"


def on_time_rates(items: Iterable[tuple[str, date, datetime | None]], today: date) -> dict[str, tuple[int, int]]:
    """Per kind: (done on time, counted), counting milestones done or past their due day."""
    out: dict[str, tuple[int, int]] = {}
    for kind, due, done_at in items:
        status = milestone_status(due, done_at, today)
        if status in ("done_on_time", "done_late", "overdue"):
            good, total = out.get(kind, (0, 0))
            out[kind] = (good + (status == "done_on_time"), total + 1)
    return out


def enterprise_matches(statuses: list[str], wanted: str) -> bool:
    if wanted == "all":
        return True
    if wanted == "done":
        return bool(statuses) and all(s.startswith("done") for s in statuses)
    return wanted in statuses


# -- what the pages show ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    enterprise: Enterprise
    line: int
    milestones: list[tuple[Milestone, str]]


@dataclass(frozen=True, slots=True)
class ListView:
    list_import: ListImport
    rows: list[Row]
    rates: dict[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    list_import: ListImport
    enterprises: int
    counts: dict[str, int]
    rate: tuple[int, int]


def load_officer(sessions: sessionmaker[Session], officer_id: int) -> Officer | None:
    with sessions() as session:
        officer = Repositories(session).officers.get_by_id(officer_id)
        if officer is not None:
            session.expunge(officer)
        return officer


def load_index(sessions: sessionmaker[Session], officer: Officer, today: date) -> list[ImportSummary]:
    with sessions() as session:
        repos = Repositories(session)
        mine = [i for i in repos.imports.list_by_province(officer.province) if _covers(officer, i)]
        dates = repos.imports.list_milestone_dates([i.id for i in mine])
        out = []
        for imp in mine:
            items = [(k, due, done) for iid, k, due, done in dates if iid == imp.id]
            counts = {s: 0 for s in STATUS_LABELS}
            for _, due, done in items:
                counts[milestone_status(due, done, today)] += 1
            rates = on_time_rates(items, today).values()
            rate = (sum(g for g, _ in rates), sum(t for _, t in rates))
            out.append(ImportSummary(imp, repos.imports.count_entries(imp.id), counts, rate))
        session.expunge_all()
        return out


def _covers(officer: Officer, imp: ListImport) -> bool:
    try:
        authorize(officer, imp.province, imp.city, imp.county)
    except ForbiddenError:
        return False
    return True


def load_list(sessions: sessionmaker[Session], officer: Officer, import_id: int, today: date, status: str,
              industry: str) -> ListView | None:
    """The list, filtered; None if there is no such list, ForbiddenError if it is outside the jurisdiction."""
    with sessions() as session:
        repos = Repositories(session)
        imp = repos.imports.get_by_id(import_id)
        if imp is None:
            return None
        authorize(officer, imp.province, imp.city, imp.county)
        rows: dict[int, Row] = {}
        for entry, enterprise, milestone in repos.imports.list_enterprise_milestones(import_id):
            row = rows.setdefault(entry.id, Row(enterprise, entry.line, []))
            if milestone is not None:
                row.milestones.append((milestone, milestone_status(milestone.due, milestone.done_at, today)))
        all_items = [(m.kind, m.due, m.done_at) for r in rows.values() for m, _ in r.milestones]
        session.expunge_all()
    kept = [r for r in rows.values() if (r.enterprise.industry_code or "").upper().startswith(industry.upper())
            and enterprise_matches([s for _, s in r.milestones], status)]
    return ListView(imp, kept, on_time_rates(all_items, today))


# -- HTML ---------------------------------------------------------------------------------------------


def h(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def layout(tr: Gettext, title: str, body: str, *, officer: Officer | None = None, csrf: str = "") -> str:
    logout = ""
    if officer is not None:
        logout = (f'<form method="post" action="/officer/logout" class="logout"><span>{h(officer.name)}</span>'
                  f'<input type="hidden" name="csrf" value="{h(csrf)}">'
                  f'<button type="submit">{h(tr(LOGOUT_BUTTON))}</button><output class="form-error"></output></form>')
    return ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f'<title>{h(title)}</title><link rel="stylesheet" href="/officer/static/dashboard.css">'
            '<script src="/officer/static/dashboard.js" defer></script></head><body>'
            f'<header><a href="/officer/">{h(tr(TITLE))}</a>{logout}</header><main>{body}</main></body></html>')


def login_page(tr: Gettext, csrf: str, failed: bool) -> str:
    error = f'<p class="error" role="alert">{h(tr(LOGIN_FAILED))}</p>' if failed else ""
    return layout(tr, tr(LOGIN_BUTTON), (
        f'<h1>{h(tr(LOGIN_BUTTON))}</h1>{error}<form method="post" action="/officer/login" class="login">'
        f'<input type="hidden" name="csrf" value="{h(csrf)}">'
        f'<label>{h(tr(LOGIN_LABEL))}<input name="login" autocomplete="username" required></label>'
        f'<label>{h(tr(PASSWORD_LABEL))}<input name="password" type="password" autocomplete="current-password" '
        f'required></label><button type="submit">{h(tr(LOGIN_BUTTON))}</button>'
        '<output class="form-error"></output></form>'))


def _rate_text(rate: tuple[int, int]) -> str:
    good, total = rate
    return f"{100 * good / total:.0f}% ({good}/{total})" if total else "—"


def index_body(tr: Gettext, summaries: list[ImportSummary]) -> str:
    heads = [N_("List"), N_("Published"), N_("Enterprises"), N_("Overdue"), N_("Due within 30 days"), N_("Done"),
             N_("On-time rate")]
    rows = "".join(
        f'<tr><td><a href="/officer/lists/{s.list_import.id}">{h(s.list_import.document_number or "")} '
        f'{h(s.list_import.filename)}</a></td><td>{h(s.list_import.published_on or "")}</td>'
        f'<td>{s.enterprises}</td><td>{s.counts["overdue"]}</td><td>{s.counts["due_soon"]}</td>'
        f'<td>{s.counts["done_on_time"] + s.counts["done_late"]}</td><td>{h(_rate_text(s.rate))}</td></tr>'
        for s in summaries)
    empty = f'<p>{h(tr(N_("No imported list is in your jurisdiction yet.")))}</p>' if not summaries else ""
    head = "".join(f"<th>{h(tr(x))}</th>" for x in heads)
    templates = (f'<p class="templates">{h(tr(N_("List template:")))} <a href="/officer/template.xlsx">XLSX</a> · '
                 f'<a href="/officer/template.csv">CSV</a></p>')
    return f'<h1>{h(tr(N_("Imported lists")))}</h1>{templates}{empty}<table class="imports"><thead><tr>{head}</tr>' \
           f"</thead><tbody>{rows}</tbody></table>"


def chart_svg(tr: Gettext, rates: dict[str, tuple[int, int]]) -> str:
    """A bar per milestone kind: the share done on time; presentation attributes only (the CSP has no
    'unsafe-inline' style)."""
    kinds = [k for k in KIND_LABELS if k in rates] + sorted(k for k in rates if k not in KIND_LABELS)
    title = tr(N_("On-time rate per milestone"))
    if not kinds:
        return f'<p class="chart-empty">{h(title)}: —</p>'
    bar_h, gap, label_w, width = 22, 10, 0, 320
    height = len(kinds) * (bar_h * 2 + gap)
    parts = []
    for i, kind in enumerate(kinds):
        good, total = rates[kind]
        y = i * (bar_h * 2 + gap)
        label = f"{tr(KIND_LABELS.get(kind, kind))}  {_rate_text(rates[kind])}"
        parts.append(f'<g class="bar" data-kind="{h(kind)}"><text x="{label_w}" y="{y + 15}">{h(label)}</text>'
                     f'<rect x="0" y="{y + bar_h}" width="{width}" height="{bar_h - 4}" fill="#e5e7eb"/>'
                     f'<rect x="0" y="{y + bar_h}" width="{width * good / total:.1f}" height="{bar_h - 4}" '
                     f'fill="#15803d"/></g>')
    return (f'<figure class="chart"><svg role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{h(title)}</title>{"".join(parts)}</svg>'
            f"<figcaption>{h(title)}</figcaption></figure>")


def _milestone_html(tr: Gettext, m: Milestone, status: str) -> str:
    done = ""
    if m.done_at is not None:
        done = f' <span class="done-on">{h(done_day(m.done_at))}</span>'
        if m.evidence:
            text = h(tr(N_("evidence")))
            link = m.evidence.startswith(("https://", "http://"))
            done += (f' <a href="{h(m.evidence)}" rel="noopener noreferrer">{text}</a>' if link
                     else f' <span class="evidence">{h(m.evidence)}</span>')
    kind = h(tr(KIND_LABELS.get(m.kind, m.kind)))
    return (f'<li class="ms {h(status)}"><span class="kind">{kind}</span> <span class="due">{h(m.due)}</span> '
            f'<span class="status">{h(tr(STATUS_LABELS[status]))}</span>{done}</li>')


def list_body(tr: Gettext, view: ListView, status: str, industry: str) -> str:
    imp = view.list_import
    options = "".join(f'<option value="{s}"{" selected" if s == status else ""}>{h(tr(STATUS_LABELS[s]))}</option>'
                      for s in STATUSES)
    query = urlencode({"status": status, "industry": industry})
    filters = (f'<form method="get" action="/officer/lists/{imp.id}" class="filters">'
               f'<label>{h(tr(N_("Status")))}<select name="status">{options}</select></label>'
               f'<label>{h(tr(N_("Industry code starts with")))}<input name="industry" value="{h(industry)}" '
               f'maxlength="8"></label><button type="submit">{h(tr(N_("Filter")))}</button></form>'
               f'<p class="exports"><a href="/officer/lists/{imp.id}/export.csv?{h(query)}">CSV</a> '
               f'<a href="/officer/lists/{imp.id}/export.xlsx?{h(query)}">Excel</a></p>')
    rows = "".join(
        f'<tr class="enterprise"><td class="name">{h(r.enterprise.name)}</td><td>{h(r.enterprise.credit_code)}</td>'
        f'<td>{h(r.enterprise.industry_code)}</td><td><ul>{"".join(_milestone_html(tr, m, s) for m, s in r.milestones)}'
        f"</ul></td></tr>" for r in view.rows)
    heads = "".join(f"<th>{h(tr(x))}</th>" for x in (N_("Enterprise"), N_("Credit code"), N_("Industry"),
                                                       N_("Milestones")))
    title = f"{imp.document_number or ''} {imp.filename}"
    return (f'<h1>{h(title)}</h1>{chart_svg(tr, view.rates)}{filters}'
            f'<p class="count">{h(tr(N_("{n} enterprises shown")).format(n=len(view.rows)))}</p>'
            f'<table class="entries"><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>')


# -- exports ------------------------------------------------------------------------------------------


def _cell(value: object) -> object:
    """No spreadsheet formula from data: a text starting with = + - @ gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_rows(tr: Gettext, view: ListView) -> list[list[object]]:
    header: list[object] = [tr(x) for x in (N_("Line"), N_("Enterprise"), N_("Credit code"), N_("Industry"),
                                            N_("Milestone"), N_("Nominal day"), N_("Legal last day"), N_("Status"),
                                            N_("Done on"), N_("Evidence"))]
    out = [header]
    for r in view.rows:
        e = r.enterprise
        base: list[object] = [r.line, e.name, e.credit_code, e.industry_code]
        if not r.milestones:
            out.append([_cell(v) for v in [*base, None, None, None, None, None, None]])
        for m, status in r.milestones:
            done = done_day(m.done_at) if m.done_at is not None else None
            out.append([_cell(v) for v in [*base, tr(KIND_LABELS.get(m.kind, m.kind)), m.nominal, m.due,
                                           tr(STATUS_LABELS[status]), done, m.evidence]])
    return out


def to_csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([["" if v is None else str(v) for v in r] for r in rows])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- routes -------------------------------------------------------------------------------------------


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"error": kind, "field": None, "message": message}}, status_code=status,
                        headers=NO_STORE)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items()}


def dashboard_routes(sessions: sessionmaker[Session], *, secure_cookies: bool = False,
                     session_secret: bytes | None = None, today: Callable[[], date] = local_today) -> list[BaseRoute]:
    """The /officer/ routes (see the module docstring); `session_secret` or a random per-process key."""
    signer = Signer(session_secret or secrets.token_bytes(32))
    throttle = Throttle()
    tr = gettext_for("zh_CN")

    def html(text: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(text, status_code=status, headers=NO_STORE)

    def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/officer", httponly=True, samesite="strict",
                            secure=secure_cookies)

    async def current(request: Request) -> tuple[OfficerSession, Officer] | None:
        found = signer.read(request.cookies.get(COOKIE), time.time())
        officer = await run_in_threadpool(load_officer, sessions, found.officer_id) if found else None
        return (found, officer) if found is not None and officer is not None else None

    def to_login() -> Response:
        return RedirectResponse("/officer/login", status_code=303, headers=NO_STORE)

    async def login_form(request: Request) -> Response:
        if await current(request) is not None:
            return RedirectResponse("/officer/", status_code=303)
        nonce = signer.pre_nonce(request.cookies.get(PRE_COOKIE))
        pre = None
        if nonce is None:
            pre = signer.pre_session()
            nonce = pre.partition(".")[0]
        response = html(login_page(tr, signer.csrf(nonce), request.query_params.get("failed") == "1"))
        if pre is not None:
            set_cookie(response, PRE_COOKIE, pre, 3600)
        return response

    async def login(request: Request) -> Response:
        form = await _form(request)
        if not signer.csrf_ok(signer.pre_nonce(request.cookies.get(PRE_COOKIE)), form.get("csrf")):
            return _error(403, "csrf", tr(BAD_CSRF))
        officer_id = await run_in_threadpool(check_login, sessions, form.get("login", ""), form.get("password", ""),
                                             throttle, time.time())
        if officer_id is None:
            return RedirectResponse("/officer/login?failed=1", status_code=303, headers=NO_STORE)
        response = RedirectResponse("/officer/", status_code=303, headers=NO_STORE)
        set_cookie(response, COOKIE, signer.issue(officer_id, time.time()), int(SESSION_TTL.total_seconds()))
        response.delete_cookie(PRE_COOKIE, path="/officer")
        return response

    async def logout(request: Request) -> Response:
        found = signer.read(request.cookies.get(COOKIE), time.time())
        if found is None:
            return to_login()
        if not signer.csrf_ok(found.nonce, (await _form(request)).get("csrf")):
            return _error(403, "csrf", tr(BAD_CSRF))
        signer.revoke(found, time.time())
        response = to_login()
        response.delete_cookie(COOKIE, path="/officer")
        return response

    async def index(request: Request) -> Response:
        who = await current(request)
        if who is None:
            return to_login()
        summaries = await run_in_threadpool(load_index, sessions, who[1], today())
        return html(layout(tr, tr(TITLE), index_body(tr, summaries), officer=who[1], csrf=signer.csrf(who[0].nonce)))

    async def view_of(request: Request, officer: Officer) -> tuple[ListView | None, str, str] | Response:
        status = request.query_params.get("status", "all")
        industry = request.query_params.get("industry", "").strip()
        status = status if status in STATUSES else "all"
        industry = industry if INDUSTRY.match(industry) else ""
        try:
            view = await run_in_threadpool(load_list, sessions, officer, request.path_params["import_id"], today(),
                                           status, industry)
        except ForbiddenError as e:
            return _error(403, "forbidden", str(e))
        if view is None:
            return _error(404, "not_found", tr(NOT_FOUND))
        return view, status, industry

    async def template(request: Request) -> Response:
        """The list template (the columns an import expects); public, it holds no data."""
        fmt = request.path_params["fmt"]
        if fmt == "xlsx":
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return Response(template_xlsx(), media_type=media,
                            headers={"Content-Disposition": 'attachment; filename="list-template.xlsx"'})
        if fmt == "csv":
            return Response(template_csv(), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="list-template.csv"'})
        return _error(404, "not_found", gettext_for("zh_CN")(N_("There is nothing at this address.")))

    async def list_page(request: Request) -> Response:
        who = await current(request)
        if who is None:
            return to_login()
        found = await view_of(request, who[1])
        if isinstance(found, Response):
            return found
        view, status, industry = found
        assert view is not None
        body = list_body(tr, view, status, industry)
        return html(layout(tr, view.list_import.filename, body, officer=who[1], csrf=signer.csrf(who[0].nonce)))

    async def export(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "xlsx"):
            return _error(404, "not_found", tr(NOT_FOUND))
        who = await current(request)
        if who is None:
            return _error(401, "unauthorized", tr(NEED_LOGIN))
        found = await view_of(request, who[1])
        if isinstance(found, Response):
            return found
        view = found[0]
        assert view is not None
        rows = export_rows(tr, view)
        name = f"list-{view.list_import.id}.{fmt}"
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
        if fmt == "csv":
            return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        body = await run_in_threadpool(to_xlsx, rows)
        return Response(body, headers=headers,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    return [
        Route("/officer/", index, methods=["GET"]),
        Route("/officer/template.{fmt}", template, methods=["GET"]),
        Route("/officer/login", login_form, methods=["GET"]),
        Route("/officer/login", login, methods=["POST"]),
        Route("/officer/logout", logout, methods=["POST"]),
        Route("/officer/lists/{import_id:int}", list_page, methods=["GET"]),
        Route("/officer/lists/{import_id:int}/export.{fmt}", export, methods=["GET"]),
        Mount("/officer/static", StaticFiles(directory=STATIC_DIR), name="officer-static"),
    ]

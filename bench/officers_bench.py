"""Officer figures: importing a 10,000-row XLSX list, and fanning its notice out to 10,000 contacts.

Runs on a fresh PostgreSQL database when $QINGSHEN_TEST_PG_URL is set (`make bench` sets it through
scripts/with-postgres), else on a fresh SQLite file; the result says which. Targets: the import under
5 s (reading + checking + one transaction), the fan-out under 10 s (outbox rows written, in committed
batches). The delivery of those rows by the outbox sender on an in-memory test channel with no rate
limit is timed too, for information.

    python -m bench.officers_bench
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from stdnum.cn import uscc

from bot.sender import Sender
from handlers.broadcast import delivery_report, fan_out, plan_notice
from handlers.cycles import import_rows
from handlers.listimport import read_list
from handlers.officers import Jurisdiction, create_officer
from handlers.reminders import ReminderPolicy
from storage import Contact, Repositories, make_engine, session_factory, upgrade

PG_URL_ENV = "QINGSHEN_TEST_PG_URL"
ROWS = 10_000
LISTED = date(2026, 3, 31)
GROUNDS = ("超标", "高耗能", "有毒有害", "超标、有毒有害", "名录", "超总量")
CITIES = ("太原市/清徐县", "大同市/平城区", "长治市/潞州区", "晋中市/榆次区", "吕梁市/孝义市")


class MemoryChannel:
    """A push channel that only counts: the test channel, with no network and no rate limit."""

    name = "test"

    def __init__(self) -> None:
        self.sent = 0

    def send(self, address: str, payload: Mapping[str, Any], *, key: str) -> None:
        self.sent += 1


def list_xlsx(rows: int = ROWS, series: str = "A") -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append(["企业名称", "统一社会信用代码", "审核依据", "名单公布日期", "文号", "市/县"])
    for n in range(rows):
        body = f"9114{(n % 11) + 1:02d}00M{series}{n:07d}"
        sheet.append([f"山西某某{series}{n}号有限公司", body + uscc.calc_check_digit(body), GROUNDS[n % len(GROUNDS)],
                      LISTED.isoformat(), "晋环发〔2026〕1号", CITIES[n % len(CITIES)]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@contextmanager
def fresh_database() -> Iterator[tuple[str, str]]:
    """(backend, url) of an empty database, dropped afterwards."""
    admin_url = os.environ.get(PG_URL_ENV)
    if not admin_url:
        with tempfile.TemporaryDirectory() as tmp:
            yield "sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        return
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"qs_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield "postgresql", make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(rows: int = ROWS) -> dict[str, Any]:
    data = list_xlsx(rows)
    with fresh_database() as (backend, url):
        upgrade(url)
        engine = make_engine(url)
        try:
            return {"database": backend, "rows": rows, "xlsx_bytes": len(data), **_measure(engine, data, rows)}
        finally:
            engine.dispose()


def _measure(engine: Any, data: bytes, rows: int) -> dict[str, Any]:
    sessions = session_factory(engine)
    now = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
    with sessions.begin() as session:
        officer, _ = create_officer(Repositories(session), name="bench", role="ecology", province="shanxi", now=now)

    started = time.perf_counter()
    preview = read_list(data, "list.xlsx", Jurisdiction.of(officer), today=LISTED)
    read_s = time.perf_counter() - started
    with sessions.begin() as session:
        outcome = import_rows(Repositories(session), officer, preview, accept_partial=False, today=LISTED,
                              policy=ReminderPolicy())
    import_s = time.perf_counter() - started
    assert preview.ok and outcome.added == rows, (preview.errors[:3], outcome)

    with sessions.begin() as session:  # one consented contact per listed enterprise (not timed)
        ids = session.scalars(text("SELECT enterprise_id FROM list_entries ORDER BY enterprise_id")).all()
        session.execute(insert(Contact), [
            {"channel": "test", "user_id": f"c{eid}", "enterprise_id": eid, "locale": "zh_CN",
             "timezone": "Asia/Shanghai", "consented_at": now, "preferred": False, "created_at": now}
            for eid in ids
        ])

    started = time.perf_counter()
    with sessions.begin() as session:
        assert outcome.import_id is not None
        broadcast_id = plan_notice(Repositories(session), officer, outcome.import_id).id
    progress = fan_out(sessions, officer, broadcast_id, today=LISTED)
    fan_out_s = time.perf_counter() - started

    channel = MemoryChannel()
    sender = Sender(sessions, {"test": channel}, rates={"test": 1e9}, worker="bench")
    started = time.perf_counter()
    delivered = sender.drain()
    drain_s = time.perf_counter() - started
    with sessions() as session:
        report = delivery_report(Repositories(session), officer, broadcast_id)

    return {
        "import_read_s": round(read_s, 3),
        "import_total_s": round(import_s, 3),
        "import_rows_per_s": round(rows / import_s),
        "import_writes": {"enterprises": outcome.enterprises_created, "cycles": outcome.cycles_created,
                          "milestones": outcome.milestones_created, "reminders": outcome.reminders_created},
        "fan_out_contacts": progress.queued,
        "fan_out_s": round(fan_out_s, 3),
        "fan_out_messages_per_s": round(progress.queued / fan_out_s),
        "delivery_s": round(drain_s, 3),
        "delivered": delivered,
        "report": report.to_dict(),
        "target": {"import_s": 5.0, "fan_out_s": 10.0},
        "notes": "import = read + check + one transaction; fan-out = outbox rows in committed batches of 1000; "
                 "delivery = bot.sender draining them on an in-memory test channel with no rate limit",
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))


# -- the dashboard: overview, enterprise list and upload preview for a jurisdiction of 10,000 -------------

DASH_RUNS = 5
DASH_PASSWORD = "bench password 42"


def dashboard_run(rows: int = ROWS, runs: int = DASH_RUNS) -> dict[str, Any]:
    """Server time of /officer/overview and /officer/enterprises for a province officer whose jurisdiction
    holds `rows` listed enterprises (half of them with a contact), and of the preview of a `rows`-row upload.

    Each request goes through the whole ASGI app in this process (Starlette's TestClient: routing, session,
    queries, Jinja2); the figure is the process's CPU time around the request (every thread, the client's few
    microseconds included) and the wall time, median of `runs` with min/max; plus the SQL statements it ran,
    at `rows` and at a tenth of it (the same count means no query per enterprise)."""
    small = _fresh_dashboard(rows // 10, upload=None, runs=1)
    backend, big = _fresh_dashboard_db(rows, runs)
    return {
        "database": backend, "jurisdiction_enterprises": rows, "runs": runs, **big,
        "statements_at_a_tenth": small["statements"],
        "target_ms": {"overview": 300, "enterprises": 300, "upload_preview": 3000},
        "notes": "in-process: TestClient -> the ASGI app; CPU = time.process_time() of the process around one "
                 "request (the database server's own CPU not included: since the overview and the list are "
                 "counted and paged in SQL, most of their work is there, so wall = the request end to end, "
                 "database included, is the server time to read against the target); "
                 "statements counted with an SQLAlchemy before_cursor_execute listener",
    }


def _fresh_dashboard(rows: int, *, upload: bytes | None, runs: int) -> dict[str, Any]:
    with fresh_database() as (_backend, url):
        upgrade(url)
        engine = make_engine(url)
        try:
            return _dashboard(engine, rows, list_xlsx(rows), upload=upload, runs=runs)
        finally:
            engine.dispose()


def _fresh_dashboard_db(rows: int, runs: int) -> tuple[str, dict[str, Any]]:
    with fresh_database() as (backend, url):
        upgrade(url)
        engine = make_engine(url)
        try:  # the upload: another list of `rows` enterprises, all new
            return backend, _dashboard(engine, rows, list_xlsx(rows), upload=list_xlsx(rows, "B"), runs=runs)
        finally:
            engine.dispose()


def _dashboard(engine: Any, rows: int, data: bytes, *, upload: bytes | None, runs: int) -> dict[str, Any]:
    import re as _re
    import statistics

    from sqlalchemy import event
    from starlette.testclient import TestClient

    from bot.config import Settings
    from bot.dashboard import dashboard_routes
    from bot.server import create_app
    from handlers.officers import hash_password

    sessions = session_factory(engine)
    now = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
    name = f"bench{rows}"
    with sessions.begin() as session:
        officer, _ = create_officer(Repositories(session), name=name, role="ecology", province="shanxi", now=now)
        officer.password_hash = hash_password(DASH_PASSWORD)
    preview = read_list(data, "list.xlsx", Jurisdiction.of(officer), today=LISTED)
    with sessions.begin() as session:
        outcome = import_rows(Repositories(session), officer, preview, accept_partial=False, today=LISTED,
                              policy=ReminderPolicy())
    assert preview.ok and outcome.added == rows, (preview.errors[:3], outcome)
    with sessions.begin() as session:  # a contact for every other enterprise: "reachable" is not all or none
        ids = session.scalars(text("SELECT enterprise_id FROM list_entries WHERE import_id = :i "
                                   "ORDER BY enterprise_id"), {"i": outcome.import_id}).all()
        session.execute(insert(Contact), [
            {"channel": "test", "user_id": f"d{eid}", "enterprise_id": eid, "locale": "zh_CN",
             "timezone": "Asia/Shanghai", "consented_at": now, "preferred": False, "created_at": now}
            for eid in ids[::2]
        ])

    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    settings = Settings.model_validate({"database_url": "sqlite://", "api_keys": ("k" * 24,)})
    app = create_app(settings, _NoChat(), routes=dashboard_routes(sessions, session_secret=b"b" * 32,
                                                                  today=lambda: date(2026, 6, 1)))
    out: dict[str, Any] = {"statements": {}}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        token = _re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/officer/login").text)
        assert token
        r = client.post("/officer/login", data={"login": name, "password": DASH_PASSWORD, "csrf": token.group(1)},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        csrf = _re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/officer/").text)
        assert csrf
        pages = {"overview": ("GET", "/officer/overview", None),
                 "enterprises": ("GET", "/officer/enterprises", None),
                 "enterprises_overdue": ("GET", "/officer/enterprises?status=overdue", None)}
        if upload is not None:
            pages["upload_preview"] = ("POST", "/officer/upload/preview?name=list.xlsx", upload)
        event.listen(engine, "before_cursor_execute", count)
        try:
            for page, (method, path, body) in pages.items():
                cpu, wall = [], []
                for _ in range(runs + 1):  # the first one warms the templates and caches: not counted
                    statements = 0
                    c0, w0 = time.process_time(), time.perf_counter()
                    r = client.request(method, path, content=body,
                                       headers={"X-CSRF-Token": csrf.group(1)} if body else None)
                    cpu.append(time.process_time() - c0)
                    wall.append(time.perf_counter() - w0)
                    assert r.status_code == 200, (page, r.status_code, r.text[:300])
                out["statements"][page] = statements
                cpu, wall = cpu[1:] or cpu, wall[1:] or wall
                out[page] = {"cpu_ms_median": round(1000 * statistics.median(cpu), 1),
                             "cpu_ms_min": round(1000 * min(cpu), 1), "cpu_ms_max": round(1000 * max(cpu), 1),
                             "wall_ms_median": round(1000 * statistics.median(wall), 1),
                             "wall_ms_min": round(1000 * min(wall), 1), "wall_ms_max": round(1000 * max(wall), 1),
                             "bytes": len(r.content)}
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return out


class _NoChat:
    def dispatch(self, inbound: Any) -> list[Any]:
        return []

    def inbox(self, channel: str, user_id: str) -> list[Any]:
        return []

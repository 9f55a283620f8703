"""The chat API under load, measured by the server's own CPU time, on SQLite and on PostgreSQL.

The server is a real `qingshen run --no-scheduler` process pinned to one core; the load generator is this
process on the other core, speaking HTTP/1.1 over raw keep-alive sockets (a selector loop, no HTTP
library: it spends a few tens of microseconds per request, so it is not what is measured). The figure
that compares is the server's CPU time per request, read from /proc/<pid>/stat (utime + stime) before
and after each run: it does not depend on how fast the client is or on what else the machine runs.
Requests per second and latencies are given too, but they do depend on both.

Three loads, each run 3 times (median, min and max of every figure):

- `ping`: `GET /api/v1/ping`, the server stack alone;
- `interview`: whole interviews without a credit code (10 messages each), the same script for every user;
- `varied`: the same interviews with each user's own greeting, industry and list date (text-keyed caches miss);
- `heavy`: interviews that give a new credit code (an enterprise added and bound), then the industry and
  the list's date (an audit cycle opened: milestones and reminders), the follow-ups and 我的期限.

Errors (HTTP statuses >= 400, broken connections) are counted and reported; a run with errors goes on.
PostgreSQL should run with durable commits (`QINGSHEN_PG_DURABLE=1 scripts/with-postgres`, as `make bench`
does): the settings it ran with are read from the server and recorded. `QINGSHEN_BENCH_SERVER_PATH`
serves another checkout (e.g. the previous commit, for a before/after figure) with this load generator.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from stdnum.cn import uscc

RUNS = 3
CONCURRENCY = 16
PINGS = 4000
USERS = 100
INTERVIEW = ("你好", "同意", "跳过", "山西", "3011", "2026-03-31", {"choice": "none"}, {"choice": "none"}, "我的期限",
             "帮助")  # the industry by its code: a name costs a fuzzy search (rules.industries.search, ~2.5 ms)
HEAVY = ("你好", {"choice": "consent:yes"}, "{code}", "3011", "2026-03-31", {"choice": "none"}, {"choice": "none"},
         "我的期限")
# `varied`: the interview with every user's own greeting, industry and list date, so that the caches keyed
# by a message's text or by the facts known (handlers.router's readings, handlers.ordering's scores) miss
# as they do for real contacts, who do not all type the same thing (`interview` repeats one script).
GREETINGS = ("你好", "您好", "在吗", "你好，想咨询一下清洁生产审核", "请问我们要不要做清洁生产审核", "hi 你好")
VARIED_CODES = ("3011", "2521", "3360", "2614", "3120", "2710", "1713", "3311", "0610", "4411", "2662", "3130")


def varied_script(i: int) -> tuple[str | dict[str, str], ...]:
    day = date(2026, 1, 5) + timedelta(days=(i * 37) % 170)
    return (GREETINGS[i % len(GREETINGS)], "同意", "跳过", "山西", VARIED_CODES[i % len(VARIED_CODES)],
            day.isoformat(), {"choice": "none"}, {"choice": "none"}, "我的期限", "帮助")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of proc(5)


# -- the load generator --------------------------------------------------------------------------

def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def post_json(path: str, body: Any) -> bytes:
    data = json.dumps(body, ensure_ascii=False).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    scripts_cut: int = 0  # conversations abandoned after a broken connection


@dataclass
class _Conn:
    sock: socket.socket
    script: list[bytes]
    step: int = 0
    buf: bytes = b""
    sent_at: float = 0.0


def drive(port: int, scripts: Sequence[Sequence[bytes]], concurrency: int = CONCURRENCY) -> Outcome:
    """Send each script's requests in order on one keep-alive connection, `concurrency` scripts at once."""
    out = Outcome()
    pending = list(reversed([list(s) for s in scripts if s]))
    sel = selectors.DefaultSelector()

    def connect(script: list[bytes]) -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = _Conn(sock, script)
        sel.register(sock, selectors.EVENT_READ, conn)
        send(conn)

    def send(conn: _Conn) -> None:
        conn.sent_at = time.perf_counter()
        conn.sock.sendall(conn.script[conn.step])  # small requests: the socket buffer takes them whole

    def close(conn: _Conn) -> None:
        sel.unregister(conn.sock)
        conn.sock.close()

    def next_script(conn: _Conn | None) -> None:
        if conn is not None:
            close(conn)
        if pending:
            try:
                connect(pending.pop())
            except OSError:
                out.transport_errors += 1
                out.scripts_cut += 1
                next_script(None)

    for _ in range(min(concurrency, len(pending))):
        next_script(None)
    while sel.get_map():
        for key, _mask in sel.select(timeout=30):
            conn: _Conn = key.data
            try:
                chunk = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if not chunk:
                out.transport_errors += 1
                out.scripts_cut += 1
                next_script(conn)
                continue
            conn.buf += chunk
            head_end = conn.buf.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = conn.buf[:head_end].decode("latin-1").lower()
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    length = int(value)
            if len(conn.buf) < head_end + 4 + length:
                continue
            out.latencies.append(time.perf_counter() - conn.sent_at)
            out.statuses[int(head.split(" ", 2)[1])] += 1
            conn.buf = conn.buf[head_end + 4 + length:]
            conn.step += 1
            if conn.step < len(conn.script) and "connection: close" not in head:
                send(conn)
            else:
                if conn.step < len(conn.script):
                    out.scripts_cut += 1
                next_script(conn)
    sel.close()
    return out


# -- the loads -----------------------------------------------------------------------------------

def _message(user: str, item: str | dict[str, str], code: str) -> bytes:
    body = {"user_id": user, **item} if isinstance(item, dict) else {"user_id": user, "text": item.format(code=code)}
    return post_json("/api/v1/messages", body)


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码 registered in Shanxi (9114…), different for every n."""
    body = f"91140100MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def scripts(load: str, run: int) -> list[list[bytes]]:
    if load == "ping":
        return [[get("/api/v1/ping")] * 100 for _ in range(PINGS // 100)]
    def script(i: int) -> Sequence[str | dict[str, str]]:
        if load == "varied":
            return varied_script(run * USERS + i)
        return INTERVIEW if load == "interview" else HEAVY

    return [[_message(f"{load}-{run}-{i}", item, credit_code(run * 100_000 + i)) for item in script(i)]
            for i in range(USERS)]


def _spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def _percentile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_load(port: int, pid: int, load: str) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    drive(port, scripts(load, 99)[:4])  # warm-up: first-request costs (imports, caches) are not counted
    for run in range(RUNS):
        jobs = scripts(load, run)
        cpu0, client0, t0 = cpu_seconds(pid), time.process_time(), time.perf_counter()
        outcome = drive(port, jobs)
        wall, client, cpu = time.perf_counter() - t0, time.process_time() - client0, cpu_seconds(pid) - cpu0
        n = len(outcome.latencies)
        ordered = sorted(outcome.latencies) or [0.0]
        runs.append({
            "requests": n, "server_cpu_ms_per_request": 1000 * cpu / max(n, 1),
            "client_cpu_ms_per_request": 1000 * client / max(n, 1), "per_s": n / wall,
            "p50_ms": 1000 * statistics.median(ordered), "p99_ms": 1000 * _percentile(ordered, 0.99),
            "errors": sum(c for s, c in outcome.statuses.items() if s >= 400) + outcome.transport_errors,
            "statuses": dict(sorted(outcome.statuses.items())), "transport_errors": outcome.transport_errors,
            "scripts_cut": outcome.scripts_cut,
        })
    figures = ("server_cpu_ms_per_request", "client_cpu_ms_per_request", "per_s", "p50_ms", "p99_ms")
    return {
        "runs": RUNS,
        "requests_per_run": runs[0]["requests"],
        **{name: _spread([r[name] for r in runs], 1 if name == "per_s" else 3) for name in figures},
        "errors": sum(r["errors"] for r in runs),
        "statuses": dict(sum((Counter(r["statuses"]) for r in runs), Counter())),
        "transport_errors": sum(r["transport_errors"] for r in runs),
        "scripts_cut": sum(r["scripts_cut"] for r in runs),
    }


@contextlib.contextmanager
def _server(url: str, core: int | None) -> Iterator[tuple[int, int]]:
    port = _free_port()
    env = {**os.environ, "QINGSHEN_DATABASE_URL": url, "QINGSHEN_API_KEYS": "", "QINGSHEN_DEMO": "1"}
    env.pop("QINGSHEN_ACCESS_LOG", None)
    root = os.environ.get("QINGSHEN_BENCH_SERVER_PATH")
    if root:
        env["PYTHONPATH"] = root
    cmd = [sys.executable, "-m", "bot.cli", "run", "--demo", "--no-scheduler", "--port", str(port)]
    if core is not None:
        cmd = ["taskset", "-c", str(core), *cmd]  # taskset execs the server: the pid is the server's
    proc = subprocess.Popen(cmd, env=env, cwd=root or None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(get("/healthz"))
                    if b" 200 " in s.recv(4096):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (exit status {proc.poll()})")
            time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pg_settings(url: str) -> dict[str, str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return {name: str(c.execute(text(f"SHOW {name}")).scalar_one())
                    for name in ("synchronous_commit", "fsync", "full_page_writes")}
    finally:
        engine.dispose()


def measure(url: str, core: int | None) -> dict[str, Any]:
    from storage import upgrade

    upgrade(url)
    out: dict[str, Any] = {}
    with _server(url, core) as (port, pid):
        for load in ("ping", "interview", "varied", "heavy"):
            try:
                out[load] = measure_load(port, pid, load)
            except Exception as e:  # reported, and the other loads still run
                out[load] = {"error": f"{type(e).__name__}: {e}"}
    ping = out.get("ping", {}).get("server_cpu_ms_per_request", {}).get("median")
    for load in ("interview", "varied", "heavy"):
        cpu = out.get(load, {}).get("server_cpu_ms_per_request", {}).get("median")
        if ping and cpu:
            out[f"{load}_vs_ping_by_server_cpu"] = round(ping / cpu, 3)
    return out


def run() -> dict[str, Any]:
    own = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    server_core: int | None = None
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # the server takes one core, we take another
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > 1:
            server_core = cores[0]
            os.sched_setaffinity(0, {cores[-1]})
    try:
        report: dict[str, Any] = {
            "setup": f"server = `qingshen run --no-scheduler` (uvicorn) pinned to core {server_core}; load = raw "
                     f"keep-alive sockets from one process on another core, {CONCURRENCY} connections; ping: "
                     f"{PINGS} requests; interview: {USERS} users x {len(INTERVIEW)} messages; varied: the same with "
                     f"each user's own greeting, industry and list date; heavy: {USERS} "
                     f"users x {len(HEAVY)} messages (new credit code, binding, cycle with milestones and "
                     f"reminders); each load {RUNS} runs, figures median/min/max; chat turns on bot.turns' "
                     f"threads: {os.environ.get('QINGSHEN_TURN_THREADS') or 'by database (1 SQLite, 4 PostgreSQL)'}",
            "server_path": os.environ.get("QINGSHEN_BENCH_SERVER_PATH") or "this checkout",
            "target": {"server_cpu_ms_per_message": 1.5},
        }
        with tempfile.TemporaryDirectory() as tmp:
            report["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", server_core)
        pg = os.environ.get("QINGSHEN_TEST_PG_URL")
        if pg:
            report["postgresql"] = {"settings": _pg_settings(pg), **measure(pg, server_core)}
        else:
            report["postgresql"] = "skipped: QINGSHEN_TEST_PG_URL is not set"
        return report
    finally:
        with contextlib.suppress(AttributeError, OSError):
            if own:
                os.sched_setaffinity(0, own)

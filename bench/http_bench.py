"""Messages per second and latency through the HTTP API, on SQLite and on PostgreSQL, side by side with
the trivial `/api/v1/ping` on the same server stack (target: messages reach 25% of ping's rate).

The server is a real `qingshen run` process pinned to one core; the load comes from this process on
the other core, over loopback, with a fixed number of requests and concurrent users.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from storage import upgrade

USERS = 200
SCRIPT = ("你好", "同意", "跳过", "山西", "否", "否", "否", "否", "3011", "2026-03-31")
CONCURRENCY = 16
PINGS = 4000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "QINGSHEN_DATABASE_URL": url, "QINGSHEN_API_KEYS": "", "QINGSHEN_DEMO": "1"}
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cmd = [sys.executable, "-m", "bot.cli", "run", "--demo", "--no-scheduler", "--port", str(port)]
    if cores:
        cmd = ["taskset", "-c", str(cores[0]), *cmd]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def _conversations(base: str) -> list[float]:
    latencies: list[float] = []
    sem = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one_user(i: int) -> None:
            async with sem:
                for text in SCRIPT:
                    t0 = time.perf_counter()
                    r = await client.post("/api/v1/messages", json={"user_id": f"bench-{i}", "text": text})
                    latencies.append(time.perf_counter() - t0)
                    r.raise_for_status()

        await asyncio.gather(*(one_user(i) for i in range(USERS)))
    return latencies


async def _pings(base: str) -> list[float]:
    latencies: list[float] = []
    sem = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one() -> None:
            async with sem:
                t0 = time.perf_counter()
                r = await client.get("/api/v1/ping")
                latencies.append(time.perf_counter() - t0)
                r.raise_for_status()

        await asyncio.gather(*(one() for _ in range(PINGS)))
    return latencies


def _figures(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "per_s": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 2),
    }


def _measure(url: str) -> dict[str, Any]:
    upgrade(url)
    with _server(url) as base:
        t0 = time.perf_counter()
        pings = asyncio.run(_pings(base))
        ping = _figures(pings, time.perf_counter() - t0)
        t0 = time.perf_counter()
        msgs = asyncio.run(_conversations(base))
        messages = _figures(msgs, time.perf_counter() - t0)
    return {"messages": messages, "ping": ping, "ratio": round(messages["per_s"] / ping["per_s"], 3)}


def run() -> dict[str, Any]:
    own = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # the server takes one core, we take another
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > 1:
            os.sched_setaffinity(0, {cores[-1]})
    try:
        report: dict[str, Any] = {
            "setup": f"{USERS} users x {len(SCRIPT)} messages (a whole interview each), {CONCURRENCY} at once; "
                     f"{PINGS} pings; server = `qingshen run --no-scheduler` pinned to one core",
            "target": {"messages_vs_ping_ratio": 0.25},
        }
        with tempfile.TemporaryDirectory() as tmp:
            report["sqlite"] = _measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        pg = os.environ.get("QINGSHEN_TEST_PG_URL")
        report["postgresql"] = _measure(pg) if pg else "skipped: QINGSHEN_TEST_PG_URL is not set"
        return report
    finally:
        with contextlib.suppress(AttributeError, OSError):
            if own:
                os.sched_setaffinity(0, own)

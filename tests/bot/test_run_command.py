"""`qingshen migrate` and `qingshen run` as subprocesses: the real program, start to stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(url: str) -> dict[str, str]:
    return {**os.environ, "QINGSHEN_DATABASE_URL": url, "PYTHONIOENCODING": "utf-8", "QINGSHEN_API_KEYS": ""}


def test_run_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--port", str(free_port())],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
                          env=env_for(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    assert done.returncode == 1
    assert "not migrated" in done.stderr or "qingshen migrate" in done.stderr
    assert "http://" not in done.stdout


def test_migrate_then_run_serves_the_page_and_the_api(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'run.sqlite3'}")
    migrated = subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120, check=False)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--demo", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "qingshen run did not start listening"
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        assert "清审" in httpx.get(f"{base}/").text
        r = httpx.post(f"{base}/api/v1/messages", json={"user_id": "run-test", "text": "开始"}, timeout=30)
        assert r.status_code == 200
        assert r.json()["replies"][0]["choices"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

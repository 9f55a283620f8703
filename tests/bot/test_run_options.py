"""`qingshen run`'s HTTP stack: uvicorn on httptools and uvloop, the access log off unless asked for."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import ConfigError, Settings
from tests.bot.test_run_command import env_for, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_fast_http_parts_are_installed() -> None:
    # uvicorn's "auto" picks these when they can be imported (uvicorn[standard] in pyproject.toml)
    assert importlib.util.find_spec("httptools") is not None
    assert importlib.util.find_spec("uvloop") is not None


def test_the_access_log_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).access_log is False
    assert Settings.from_env({"QINGSHEN_ACCESS_LOG": "on"}).access_log is True
    with pytest.raises(ConfigError, match="QINGSHEN_ACCESS_LOG"):
        Settings.from_env({"QINGSHEN_ACCESS_LOG": "sometimes"})


def _serve_and_log(env: dict[str, str], *extra: str) -> str:
    """Run the server, answer two requests, stop it; what it printed (uvicorn's access log goes to stdout)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--demo", "--no-scheduler", "--port", str(port),
                             *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "qingshen run did not start listening"
                time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/ping?probe=1", timeout=5).json() == {"pong": True}
    finally:
        proc.terminate()
        out, _err = proc.communicate(timeout=30)
    return out


def test_run_logs_no_requests_by_default_and_each_one_with_access_log(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'run.sqlite3'}")
    env.pop("QINGSHEN_ACCESS_LOG", None)
    migrated = subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120, check=False)
    assert migrated.returncode == 0, migrated.stderr
    quiet = _serve_and_log(env)
    assert "Application startup complete" in quiet           # the server's own log lines stay
    assert "/api/v1/ping" not in quiet and "/healthz" not in quiet
    logged = _serve_and_log(env, "--access-log")
    assert "GET /api/v1/ping?probe=1" in logged and " 200" in logged

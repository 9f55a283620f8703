"""The wheel, installed with `pip install` (not editable) into a fresh venv, is a working bot outside the checkout.

The project is copied without its compiled catalogs, built with `pip wheel --no-build-isolation --no-index`
(no network), and installed with `--no-deps` into a new venv whose only way to the dependencies is a .pth
file naming this interpreter's site-packages (where the project itself is installed editable, through a
finder that a .pth line does not load). From a temporary directory outside the checkout, `qingshen
migrate` and `qingshen run` must then answer a chat turn in Chinese and serve the dashboard and the
static files byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "rules", "storage")
CJK = re.compile(r"[\u4e00-\u9fff]")
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "tests", "bench", "var", "build", "dist", "*.egg-info",
                                    "__pycache__", "*.pyc", "*.mo", ".*_cache", ".hypothesis", "*.sqlite3*")

pytestmark = pytest.mark.packaging


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    workdir: Path  # outside the checkout: the installed bot runs here

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QINGSHEN_", "VIRTUAL_ENV"))}
        return {**env, "PYTHONIOENCODING": "utf-8", "PYTHONNOUSERSITE": "1", **extra}


def _run(args: list[str | Path], cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, check=False,
                          cwd=cwd, env=env)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(_run([python, "-c", code], env={"PATH": os.environ.get("PATH", "")}).stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT)
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    assert not list(source.rglob("*.mo")), "the build, not the copy, must provide the compiled catalogs"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", base / "dist", source], cwd=source)
    [wheel] = (base / "dist").glob("qingshen-*.whl")

    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    deps = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    (_site_packages(venv / "bin" / "python") / "_qingshen_test_deps.pth").write_text("\n".join(dict.fromkeys(deps)))
    _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index",
          "-q", wheel])
    workdir = base / "run"
    workdir.mkdir()
    yield Installed(wheel, venv, workdir)


def test_the_wheel_carries_every_file_of_the_packages_and_the_compiled_catalogs(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as z:
        names = set(z.namelist())
        catalogs = {n for n in names if n.endswith(".mo")}
    source = {
        str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".mo")
    }
    assert source - names == set(), "files of the packages missing from the wheel (pyproject package-data)"
    assert {"bot/static/app.js", "bot/dashboard_static/dashboard.css", "rules/data/holidays.yaml",
            "storage/migrations/script.py.mako"} <= names
    assert any(n.startswith("storage/migrations/versions/0001") for n in names)
    assert catalogs == {"rules/locales/zh_CN/LC_MESSAGES/messages.mo", "rules/locales/en/LC_MESSAGES/messages.mo"}


def test_the_installed_bot_imports_from_the_venv_not_the_checkout(installed: Installed) -> None:
    code = ("import json, bot, handlers, rules, storage, rules.i18n as i; "
            "print(json.dumps([m.__file__ for m in (bot, handlers, rules, storage)] + [str(i.LOCALES_DIR), "
            "i.translations('zh_CN').gettext('Yes')]))")
    found = json.loads(_run([installed.bin("python"), "-c", code], cwd=installed.workdir,
                            env=installed.env()).stdout)
    *modules, locales, yes = found
    site = _site_packages(installed.bin("python"))
    for path in [*modules, locales]:
        assert Path(path).is_relative_to(site), path
    assert yes == "是"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_installed_bot_chats_in_chinese_and_serves_the_dashboard_and_static_files(installed: Installed) -> None:
    env = installed.env(QINGSHEN_DATABASE_URL=f"sqlite:///{installed.workdir / 'qingshen.sqlite3'}")
    migrated = _run([installed.bin("qingshen"), "migrate"], cwd=installed.workdir, env=env)
    assert "数据库" in migrated.stdout  # the CLI's own message, from the wheel's catalogs

    port = _free_port()
    proc = subprocess.Popen([installed.bin("qingshen"), "run", "--demo", "--port", str(port)],
                            cwd=installed.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # waiting for start-up, not a speed limit
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=5)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    out, err = proc.communicate()
                    pytest.fail(f"qingshen run did not start: {out}\n{err}")
                time.sleep(0.2)

        r = httpx.post(f"{base}/api/v1/messages", json={"user_id": "wheel-test", "text": "你好"}, timeout=60)
        assert r.status_code == 200, r.text
        text = "\n".join(reply["text"] for reply in r.json()["replies"])
        assert "清洁生产审核" in text and "同意" in text, text

        page = httpx.get(f"{base}/officer/login", timeout=30)
        assert page.status_code == 200
        assert "登录" in page.text and "Log in" not in page.text
        assets = re.findall(r'(?:href|src)="/officer/static/([^"?]+)"', page.text)
        assert assets, page.text
        for name in assets:
            asset = httpx.get(f"{base}/officer/static/{name}", timeout=30)
            assert asset.status_code == 200, name
            [original] = [p for p in (ROOT / "bot").rglob(name) if "static" in "/".join(p.parts)]
            assert asset.content == original.read_bytes()

        chat_page = httpx.get(f"{base}/", timeout=30)
        assert chat_page.status_code == 200 and CJK.search(chat_page.text)
        for name in ("app.js", "style.css"):
            asset = httpx.get(f"{base}/static/{name}", timeout=30)
            assert asset.status_code == 200
            assert asset.content == (ROOT / "bot" / "static" / name).read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

"""The console channel, in-process with a fake conversation and as `python -m bot.cli chat` on piped stdin."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel, console_user_id, run_console
from handlers.messages import Choice, Outbound
from tests.bot.bot_testkit import FakeConversation

ROOT = Path(__file__).resolve().parents[2]


def qingshen(args: list[str], url: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QINGSHEN_DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout, check=False)


def test_choices_are_numbered_through_a_batch_and_a_number_picks_one() -> None:
    channel = ConsoleChannel("console:tester")
    shown = channel.render([Outbound("问题一", (Choice("a", "甲"), Choice("b", "乙"))),
                            Outbound("问题二", (Choice("c", "丙"),))])
    assert shown == "问题一\n1. 甲\n2. 乙\n\n问题二\n3. 丙"
    picked = channel.parse(" 3 \n")
    assert picked is not None and (picked.channel, picked.user_id, picked.choice, picked.text) == (
        "console", "console:tester", "c", None)
    typed = channel.parse("4")
    assert typed is not None and (typed.text, typed.choice) == ("4", None)
    assert channel.parse("   \n") is None


def test_replies_without_choices_forget_the_old_numbers() -> None:
    channel = ConsoleChannel("console:tester")
    channel.render([Outbound("q", (Choice("a", "甲"),))])
    channel.render([Outbound("没有选项")])
    inbound = channel.parse("1")
    assert inbound is not None and inbound.text == "1"


def test_run_console_reads_until_end_of_input() -> None:
    fake = FakeConversation()
    out = io.StringIO()
    assert run_console(fake.dispatch, ConsoleChannel("console:tester"), io.StringIO("你好\n\n1\n"), out) == 0
    text = out.getvalue()
    assert "收到：你好\n1. 是\n2. 否\n\n第二条" in text
    assert "收到：choice:yes" in text
    assert [i.text or i.choice for i in fake.received] == ["你好", "yes"]


def test_the_console_user_is_named_after_the_login() -> None:
    assert console_user_id().startswith("console:") and len(console_user_id()) > len("console:")


def test_chat_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    done = qingshen(["chat"], f"sqlite:///{tmp_path / 'empty.sqlite3'}", "你好\n")
    assert done.returncode == 1
    assert "qingshen migrate" in done.stderr
    assert done.stdout == ""


def test_a_whole_interview_on_piped_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.sqlite3'}"
    migrated = qingshen(["migrate"], url)
    assert migrated.returncode == 0, migrated.stderr
    # 开始 -> 1 同意 -> 1 跳过 (credit code) -> 2 山东 -> 2 否 (emissions) -> 否 typed (quota) -> 1 是 (energy)
    done = qingshen(["chat"], url, "开始\n1\n1\n2\n2\n否\n1\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "1. 同意" in out and "2. 不同意" in out
    assert "2. 山东" in out
    assert "应当实施强制性清洁生产审核" in out
    assert out.index("1. 同意") < out.index("2. 山东") < out.index("应当实施强制性清洁生产审核")


@pytest.mark.parametrize("args", [["run", "--port", "0"], ["chat"]])
def test_a_bad_setting_is_named(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "QINGSHEN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "QINGSHEN_PORT": "http"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60, check=False)
    assert done.returncode == 1
    assert "QINGSHEN_PORT" in done.stderr

"""Links in the console's output: OSC 8 hyperlinks with a short text on a terminal, the full address elsewhere.

(The web page's links are tested in Chromium in test_inbox_live.py.)
"""

from __future__ import annotations

import io

import pytest

from bot.channels.console import ConsoleChannel, run_console, short_url, with_links
from handlers.messages import Inbound, Outbound

CALENDAR = "http://127.0.0.1:8080/calendar/0123456789abcdef0123456789abcdef.ics"
TEXT = f"加入日历：{CALENDAR}。健康检查（http://127.0.0.1:8080/healthz），或 (https://example.com/a_(b))."


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_address_is_shortened_to_its_host_and_last_segment() -> None:
    assert short_url(CALENDAR) == "127.0.0.1:8080/…/012345…cdef.ics"
    assert short_url("http://127.0.0.1:8080/healthz") == "127.0.0.1:8080/healthz"
    assert short_url("https://example.com/") == "example.com"


def test_on_a_terminal_addresses_are_hyperlinks_without_the_punctuation_around_them() -> None:
    shown = with_links(TEXT, hyperlinks=True)
    assert f"\x1b]8;;{CALENDAR}\x1b\\127.0.0.1:8080/…/012345…cdef.ics\x1b]8;;\x1b\\。" in shown
    assert "\x1b]8;;http://127.0.0.1:8080/healthz\x1b\\127.0.0.1:8080/healthz\x1b]8;;\x1b\\）" in shown
    assert "\x1b]8;;https://example.com/a_(b)\x1b\\" in shown and shown.endswith("\x1b]8;;\x1b\\).")


def test_elsewhere_the_text_is_left_as_it_is() -> None:
    assert with_links(TEXT, hyperlinks=False) == TEXT
    channel = ConsoleChannel("console:tester")
    assert channel.render([Outbound(TEXT)]) == TEXT


def test_run_console_makes_links_only_when_printing_to_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    def dispatch(inbound: Inbound) -> list[Outbound]:
        return [Outbound(TEXT)]

    piped = io.StringIO()
    run_console(dispatch, ConsoleChannel("console:tester"), io.StringIO("日历\n"), piped)
    assert CALENDAR in piped.getvalue() and "\x1b" not in piped.getvalue()
    tty = _Tty()
    run_console(dispatch, ConsoleChannel("console:tester"), io.StringIO("日历\n"), tty)
    assert f"\x1b]8;;{CALENDAR}\x1b\\" in tty.getvalue()
    monkeypatch.setenv("TERM", "dumb")
    dumb = _Tty()
    run_console(dispatch, ConsoleChannel("console:tester"), io.StringIO("日历\n"), dumb)
    assert "\x1b" not in dumb.getvalue()

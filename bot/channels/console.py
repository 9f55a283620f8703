"""The console channel: the same conversation in a terminal (`qingshen chat`), or on piped stdin.

Choices are shown numbered (`1. label`) across one batch of replies; typing a number picks that choice.
Web addresses in replies are clickable on a terminal: an OSC 8 hyperlink whose visible text is the
address shortened (`127.0.0.1:8080/…/0123ab…cdef.ics`); when the output is not a terminal (a pipe, a
file), the full address is printed as it is.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Callable
from typing import TextIO
from urllib.parse import urlsplit

from handlers.messages import Choice, Inbound, Outbound
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for

INTRO = N_("清审 · cleaner-production audit assistant. Type your answers; type a number to pick a choice. "
           "Ctrl-D quits.")
PROMPT = "> "
# http(s) addresses up to whitespace, quotes, angle brackets or CJK punctuation (as the web page reads them)
URL = re.compile(r"https?://[^\s<>\"'`，。；：！？、（）【】「」《》]+", re.IGNORECASE)
TRAILING = ".,;:!?'\"]}"
SHORT = 40


def _trim(url: str) -> str:
    url = url.rstrip(TRAILING)
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1].rstrip(TRAILING)
    return url


def short_url(url: str) -> str:
    """The address without its scheme; when long, the host and the last path segment (itself shortened)."""
    parts = urlsplit(url)
    path = "" if parts.path == "/" else parts.path
    whole = parts.netloc + path + (f"?{parts.query}" if parts.query else "")
    if len(whole) <= SHORT:
        return whole
    segments = [s for s in parts.path.split("/") if s]
    last = segments[-1] if segments else ""
    if len(last) > 18:
        last = f"{last[:6]}…{last[-8:]}"
    return parts.netloc + ("/…/" if len(segments) > 1 else "/") + last + ("?…" if parts.query else "")


def hyperlink(url: str) -> str:
    """An OSC 8 terminal hyperlink to `url` showing its short form (control characters are never passed on)."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return url
    return f"\x1b]8;;{url}\x1b\\{short_url(url)}\x1b]8;;\x1b\\"


def with_links(text: str, *, hyperlinks: bool) -> str:
    """The text with every web address made a terminal hyperlink, or left as it is when `hyperlinks` is off."""
    if not hyperlinks:
        return text

    def link(match: re.Match[str]) -> str:
        url = _trim(match.group(0))
        return hyperlink(url) + match.group(0)[len(url):]

    return URL.sub(link, text)


def terminal_links(stream: TextIO) -> bool:
    """Hyperlinks only on a terminal that is not a dumb one."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


def console_user_id() -> str:
    """`console:<login name>` (or `console:user` where the login name cannot be found)."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = "user"
    return f"console:{login or 'user'}"


class ConsoleChannel:
    name = "console"

    def __init__(self, user_id: str, locale: str | None = None, *, hyperlinks: bool = False) -> None:
        self.user_id = user_id
        self.locale = locale
        self.hyperlinks = hyperlinks
        self.offered: tuple[Choice, ...] = ()

    def parse(self, line: str) -> Inbound | None:
        """A typed line -> Inbound: a number picks an offered choice; a blank line is nothing."""
        text = line.strip()
        if not text:
            return None
        if text.isdigit() and 1 <= int(text) <= len(self.offered):
            choice = self.offered[int(text) - 1].id
            return Inbound(self.name, self.user_id, choice=choice, locale=self.locale)
        return Inbound(self.name, self.user_id, text=text, locale=self.locale)

    def render(self, replies: list[Outbound]) -> str:
        """The replies as text, choices numbered on through the whole batch (remembered for `parse`)."""
        offered: list[Choice] = []
        blocks: list[str] = []
        for reply in replies:
            lines = [with_links(reply.text, hyperlinks=self.hyperlinks)]
            for choice in reply.choices:
                offered.append(choice)
                lines.append(f"{len(offered)}. {choice.label}")
            blocks.append("\n".join(lines))
        if offered or replies:
            self.offered = tuple(offered)
        return "\n\n".join(blocks)


def run_console(dispatch: Callable[[Inbound], list[Outbound]], channel: ConsoleChannel,
                stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Read lines until end of input, printing the replies to each; exit status 0."""
    interactive = stdin.isatty()
    channel.hyperlinks = channel.hyperlinks or terminal_links(stdout)
    print(gettext_for(channel.locale or DEFAULT_LOCALE)(INTRO), file=stdout)
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            if interactive:
                stdout.write("\n")
            return 0
        inbound = channel.parse(line)
        if inbound is None:
            continue
        print(channel.render(dispatch(inbound)), end="\n\n", file=stdout, flush=True)

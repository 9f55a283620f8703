"""The console channel: the same conversation in a terminal (`qingshen chat`), or on piped stdin.

Choices are shown numbered (`1. label`) across one batch of replies; typing a number picks that choice.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from handlers.messages import Choice, Inbound, Outbound
from rules.i18n import DEFAULT_LOCALE, N_, gettext_for

INTRO = N_("清审 · cleaner-production audit assistant. Type your answers; type a number to pick a choice. "
           "Ctrl-D quits.")
PROMPT = "> "


def console_user_id() -> str:
    """`console:<login name>` (or `console:user` where the login name cannot be found)."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = "user"
    return f"console:{login or 'user'}"


class ConsoleChannel:
    name = "console"

    def __init__(self, user_id: str, locale: str | None = None) -> None:
        self.user_id = user_id
        self.locale = locale
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
            lines = [reply.text]
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

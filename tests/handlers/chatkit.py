"""A test channel you can talk to (errbot's testbot): push a message, pop the replies."""

from __future__ import annotations

from collections import deque
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from handlers.dispatcher import Dispatcher
from handlers.messages import Choice, Inbound, Outbound
from storage import Milestone, Repositories


def milestones(sessions: sessionmaker[Session], user: str = "u1", channel: str = "test") -> dict[str, Milestone]:
    """The milestones of the user's enterprise's current audit cycle, by kind."""
    with sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address(channel, user)
        assert contact is not None and contact.enterprise_id is not None
        cycle = repos.cycles.get_by_enterprise(contact.enterprise_id)
        assert cycle is not None
        return {m.kind: m for m in repos.milestones.list_by_cycle(cycle.id)}


def credit_code(body: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return body + uscc.calc_check_digit(body)


class ChatBot:
    def __init__(self, sessions: sessionmaker[Session], today: date, channel: str = "test") -> None:
        self.dispatcher = Dispatcher(sessions, today=lambda: today)
        self.channel = channel
        self.replies: deque[Outbound] = deque()
        self.last: list[Outbound] = []

    def push(self, text: str, user: str = "u1") -> list[Outbound]:
        return self._send(Inbound(self.channel, user, text=text), user)

    def pick(self, choice: str, user: str = "u1") -> list[Outbound]:
        return self._send(Inbound(self.channel, user, choice=choice), user)

    def _send(self, inbound: Inbound, user: str) -> list[Outbound]:
        self.replies.clear()
        out = self.dispatcher.dispatch(inbound)
        self.last = out
        self.replies.extend(out)
        return out

    def pop(self) -> str:
        return self.replies.popleft().text

    @property
    def text(self) -> str:
        """Every reply to the last message, joined."""
        return "\n".join(r.text for r in self.last)

    @property
    def choices(self) -> tuple[Choice, ...]:
        return self.last[-1].choices if self.last else ()

    def choice_ids(self) -> list[str]:
        return [c.id for c in self.choices]

    def start(self, user: str = "u1", code: str | None = None) -> None:
        """Greet, consent, and give (or skip) the credit code."""
        self.push("你好", user)
        self.pick("consent:yes", user)
        self.push(code or "跳过", user)

    def deny_grounds(self, user: str = "u1", limit: int = 10) -> None:
        """Answer "no" to every yes/no ground or toxic-substance question until another kind is asked
        (the revenue question of Henan's voluntary programme is not a ground: it ends the run)."""
        for _ in range(limit):
            ids = self.choice_ids()
            if "2000万元" in (self.last[-1].text if self.last else ""):
                return
            if "ck:none" in ids:                  # the open grounds asked together
                self.pick("ck:none", user)
            elif "tox:none" in ids:
                self.pick("tox:none", user)
            elif ids[:2] == ["yes", "no"]:
                self.push("否", user)
            else:
                return

    def confirm(self, user: str = "u1", limit: int = 3) -> None:
        """Say yes to "is the enterprise's own trade …?" and other readings asked back, while they are asked."""
        for _ in range(limit):
            if "ok:yes" not in self.choice_ids():
                return
            self.pick("ok:yes", user)

    def skip_follow_ups(self, user: str = "u1", limit: int = 5) -> None:
        """Answer "none" (not on a list / never audited / not evaluated) to the remaining date questions."""
        for _ in range(limit):
            if self.choice_ids() != ["none"]:
                return
            self.pick("none", user)


def sqlite_bot(tmp_path: Path, today: date = date(2026, 12, 1), *, start: bool = True) -> ChatBot:
    """A ChatBot on a fresh migrated SQLite file under tmp_path; consented, credit code skipped if `start`."""
    from storage.db import make_engine, session_factory
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path}/chat.sqlite3"
    upgrade(url)
    bot = ChatBot(session_factory(make_engine(url)), today=today)
    if start:
        bot.start()
    return bot


def stored_facts(bot: ChatBot, user: str = "u1") -> dict[str, Any]:
    """The facts the interview has stored for the user."""
    with bot.dispatcher.sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address(bot.channel, user)
        assert contact is not None
        conversation = repos.conversations.get_by_contact_id(contact.id)
        assert conversation is not None
        return dict(conversation.state["interview"]["facts"])

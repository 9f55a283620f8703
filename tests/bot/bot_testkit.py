"""Helpers for the bot tests: a REAL uvicorn server on a free loopback port, in a background thread.

- `serve(app)`: a context manager yielding the base URL of a running server (stopped on exit).
- `FakeConversation`: a stand-in dispatcher that echoes and records what it is given.
- `migrated_sqlite(dir)`: a fresh SQLite file migrated with storage.migrate.upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from handlers.messages import Choice, Inbound, Outbound
from tests.webkit import serve  # noqa: F401 - re-exported for the bot tests

API_KEY = "test-key-0123456789abcdef"
OTHER_KEY = "other-key-0123456789abcdef"
SCRIPT = '<script>window.__pwned = true;</script><img src=x onerror="window.__pwned=true">'


def settings(**overrides: object) -> Settings:
    base: dict[str, object] = {"database_url": "sqlite://", "api_keys": (API_KEY,)}
    return Settings.model_validate({**base, **overrides})


class FakeConversation:
    """Echoes each message with two choices; "boom" raises; "script" answers with HTML in the text."""

    def __init__(self) -> None:
        self.received: list[Inbound] = []
        self.pending: dict[tuple[str, str], list[Outbound]] = {}

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        self.received.append(inbound)
        if inbound.text == "boom":
            raise RuntimeError("the fake dispatcher blew up on purpose")
        if inbound.text == "script":
            return [Outbound(f"原文照登：{SCRIPT}\n第二行")]
        said = inbound.text if inbound.text is not None else f"choice:{inbound.choice}"
        return [Outbound(f"收到：{said}", (Choice("yes", "是"), Choice("no", "否"))), Outbound("第二条")]

    def inbox(self, channel: str, user_id: str) -> list[Outbound]:
        return self.pending.pop((channel, user_id), [])


def migrated_sqlite(directory: Path) -> str:
    from storage.migrate import upgrade

    url = f"sqlite:///{directory / 'qingshen.sqlite3'}"
    upgrade(url)
    return url


def real_conversation(sessions: sessionmaker[Session]) -> Any:
    from handlers.dispatcher import Dispatcher

    return Dispatcher(sessions)

"""Before consent nothing about a chat id is stored: a visitor of the web page who describes the enterprise,
asks for help, switches language, declines and gets a verdict leaves no row holding its id (over real HTTP,
through the real dispatcher; SQLite and PostgreSQL). What a platform's delivery writes per chat id before
consent is known (WeChat's 48-hour window) and contact rows without consent left by older versions are
purged by the scheduler's sweep after an hour."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.scheduler import sweep_job
from bot.server import create_app
from handlers.dispatcher import Dispatcher
from handlers.reminders import ReminderPolicy
from storage import Contact, Repositories, utcnow
from storage.erasure import PRE_CONSENT_KEEP
from tests.storage.erasure_kit import traces
from tests.webkit import serve

KEY = "k" * 24
VISITOR, SILENT = "page-visitor-5c1e0b", "page-visitor-silent-77d2"


def test_a_visitor_who_never_consents_leaves_no_row(engine: Engine, sessions: sessionmaker[Session]) -> None:
    app = create_app(Settings.model_validate({"database_url": "sqlite://", "api_keys": [KEY]}), Dispatcher(sessions))
    headers = {"Authorization": f"Bearer {KEY}", "X-Qingshen-Channel": "web"}
    with serve(app) as url, httpx.Client(base_url=url, headers=headers) as client:
        def say(user: str, **message: str) -> str:
            r = client.post("/api/v1/messages", json={"user_id": user, **message})
            assert r.status_code == 200, r.text
            return "\n".join(reply["text"] for reply in r.json()["replies"])

        assert "个人信息保护法" in say(VISITOR, text="山东的化工厂，双有企业，去年3月31号上了名单")
        say(VISITOR, text="帮助")
        assert say(VISITOR, text="English")
        r = client.post("/api/v1/messages", json={"user_id": VISITOR, "text": "中文"})
        assert r.headers["content-language"] == "zh-CN"  # the language is known, from memory
        assert "没有保存" in say(VISITOR, choice="consent:no")
        say(VISITOR, text="我的期限")
        say(VISITOR, text="返回")
        assert client.get(f"/api/v1/users/{VISITOR}/inbox").json() == {"messages": []}
        say(SILENT, text="你好")                   # asked for consent, never answers
        left = traces(engine, {"visitor": VISITOR, "silent visitor": SILENT})
        assert left == [], "\n".join(left)
        say(VISITOR, text="同意")                   # agreeing is what writes the contact
        assert traces(engine, {"visitor": VISITOR})


def test_the_sweep_purges_what_a_chat_id_left_before_consent(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    long_ago = now - PRE_CONSENT_KEEP - timedelta(minutes=5)
    with sessions.begin() as s:
        repos = Repositories(s)
        legacy = repos.contacts.add("web", "legacy-unconsented")  # as every first message wrote before
        repos.conversations.save(legacy.id, {"stage": "consent", "locale": "zh_CN"})
        s.execute(update(Contact).where(Contact.id == legacy.id).values(created_at=long_ago))
        repos.contacts.add("web", "unconsented-just-now")
        kept = repos.contacts.add("wechat", "consented-openid")
        repos.contacts.record_consent(kept, long_ago)
        for openid, at in (("stranger-old", long_ago), ("stranger-new", now), ("consented-openid", long_ago)):
            repos.kv.put(f"wechat:seen:{openid}", at.isoformat(), expires_at=at + timedelta(hours=47))
    sweep_job(sessions, ReminderPolicy())
    with sessions() as s:
        repos = Repositories(s)
        assert repos.contacts.get_by_address("web", "legacy-unconsented") is None
        assert repos.conversations.get_by_contact_id(legacy.id) is None
        assert repos.contacts.get_by_address("web", "unconsented-just-now") is not None  # within the hour
        assert repos.contacts.get_by_address("wechat", "consented-openid") is not None
        seen = {key for key, _ in repos.kv.list_by_prefix("wechat:seen:", now=now)}
        assert seen == {"wechat:seen:stranger-new", "wechat:seen:consented-openid"}

"""0004: conversations written before the typed state (one flat dict, string stages) are rewritten to
version 2, and a conversation in flight goes on where it was after the upgrade."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import text

from handlers.dispatcher import Dispatcher
from handlers.messages import Inbound
from handlers.state import ConversationState, Stage
from storage import downgrade, make_engine, session_factory, upgrade

OLD_STATE = {
    "stage": "interview", "locale": "zh_CN", "facts": {"province": "hebei"},
    "history": [{"fact": "province", "set": ["province"]}], "skipped": [], "asking": "exceeds_emission_standard",
    "candidates": [], "offered": ["yes", "no", "unknown"], "asked_follow": [], "credit_code": None,
}


def _insert_v1(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO contacts (id, channel, user_id, locale, created_at, consented_at)"
                " VALUES (1, 'test', 'u1', 'zh_CN', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO conversations (contact_id, state, updated_at) VALUES (1, :s, CURRENT_TIMESTAMP)"),
                {"s": json.dumps(OLD_STATE)})
    finally:
        engine.dispose()


def _state(db_url: str) -> dict[str, object]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            raw = connection.execute(text("SELECT state FROM conversations")).scalar_one()
    finally:
        engine.dispose()
    return raw if isinstance(raw, dict) else json.loads(raw)


def test_0004_rewrites_old_rows_and_the_conversation_goes_on(db_url: str) -> None:
    upgrade(db_url, "0003")
    _insert_v1(db_url)
    upgrade(db_url)
    new = _state(db_url)
    assert new["version"] == 2 and new["stage"] == "interview"
    assert new["interview"] == {k: OLD_STATE[k] for k in ("facts", "history", "skipped", "asking",
                                                         "candidates", "asked_follow")}
    engine = make_engine(db_url)
    try:
        bot = Dispatcher(session_factory(engine), today=lambda: date(2026, 12, 1))
        replies = bot.dispatch(Inbound("test", "u1", choice="no"))   # the open question is answered
        assert "总量" in replies[-1].text
    finally:
        engine.dispose()
    downgrade(db_url, "0003")
    flat = _state(db_url)
    assert "interview" not in flat and flat["facts"]["province"] == "hebei"


def test_an_old_row_read_without_the_migration_is_upgraded_too() -> None:
    state = ConversationState.model_validate(OLD_STATE)
    assert state.stage is Stage.INTERVIEW and state.facts == {"province": "hebei"}
    assert state.interview.asking == "exceeds_emission_standard"
    assert ConversationState.model_validate(state.dump()) == state


def test_an_unknown_stage_becomes_a_known_one() -> None:
    assert ConversationState.model_validate({"stage": "henan_form", "facts": {}}).stage is Stage.NEW

"""Replies to reminders in English: every confirmation word of handlers.reminders (DONE_WORDS, ACTION_WORDS)
works in Chinese and in English, a reminder names the words of the contact's language, and a conversation
in English confirms, snoozes and unsubscribes a milestone. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

import rules
from handlers.confirm import NO_LINK, read_evidence, read_request
from handlers.cycles import open_cycle
from handlers.messages import Inbound
from handlers.reminders import ACTION_WORDS, DONE_WORDS, ReminderPolicy, reminder_message
from storage import Milestone, Repositories
from tests.handlers.chatkit import ChatBot, credit_code
from tests.handlers.chatkit import milestones as _milestones
from tests.handlers.english import assert_no_chinese

TODAY = date(2026, 3, 31)
CODE = credit_code("91140100MA0K5555Q")


def said(text: str) -> Inbound:
    return Inbound("test", "u1", text=text)


# -- the words ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(DONE_WORDS))
def test_every_word_that_confirms_a_kind_is_read_in_both_languages(kind: str) -> None:
    for word in DONE_WORDS[kind].zh + DONE_WORDS[kind].en:
        for text in (word, word.upper() if word.isascii() else word, f"{word} https://example.com/x", f"{word}!"):
            req = read_request(said(text))
            assert req is not None and (req.action, req.kind) == ("done", kind), text
        assert read_request(said(f"{word} https://example.com/x")).evidence == "https://example.com/x"  # type: ignore[union-attr]


@pytest.mark.parametrize("action", sorted(ACTION_WORDS))
def test_every_other_reply_word_is_read_in_both_languages(action: str) -> None:
    for word in ACTION_WORDS[action].zh + ACTION_WORDS[action].en:
        for text in (word, f"{word.capitalize()}.", f"  {word}  "):
            req = read_request(said(text))
            assert req is not None and req.action == action and req.kind is None, text


def test_english_words_are_read_only_as_the_whole_message() -> None:
    for text in ("published on 2026-03-31", "the list was published today", "done with the first question?",
                 "stop the audit", "when should I submit the report", "completed in 2023"):
        assert read_request(said(text)) is None, text
    req = read_request(said("Published: https://example.gov.cn/notice/1"))
    assert req is not None and req.kind == "disclosure" and req.evidence == "https://example.gov.cn/notice/1"
    req = read_request(said("Published (已公布)"))      # the button's label, typed
    assert req is not None and req.kind == "disclosure"


def test_no_link_in_either_language() -> None:
    for word in NO_LINK.zh + NO_LINK.en:
        assert read_evidence(word) == (True, None), word
    assert read_evidence("None.") == (True, None)
    assert read_evidence("see https://example.com/y") == (True, "https://example.com/y")
    assert read_evidence("later") == (False, None)


def _milestone(kind: str = "disclosure") -> Milestone:
    return Milestone(id=7, cycle_id=1, kind=kind, nominal=date(2026, 4, 30), due=date(2026, 4, 30),
                     citation="《中华人民共和国清洁生产促进法》第二十七条", note="")


@pytest.mark.parametrize("kind", sorted(DONE_WORDS))
def test_a_reminder_names_the_words_of_the_contacts_language(kind: str) -> None:
    en = reminder_message(_milestone(kind), "before_7", enterprise_name=None, locale="en", today=date(2026, 4, 23))
    assert f"reply “{DONE_WORDS[kind].en[0]}”" in en.text
    assert "“remind me later”" in en.text and "“unsubscribe”" in en.text
    assert_no_chinese(en.text)
    zh = reminder_message(_milestone(kind), "before_7", enterprise_name=None, locale="zh_CN", today=date(2026, 4, 23))
    assert f"回复“{DONE_WORDS[kind].zh[0]}”" in zh.text
    assert "回复“稍后提醒”一周后再提醒" in zh.text and "回复“退订”停止提醒" in zh.text
    for text in (en.text, zh.text):  # and the words named are the words read
        words = text.replace("”", "“").split("“")[1::2]
        assert [read_request(said(w)).action for w in words[-3:]] == ["done", "snooze", "unsubscribe"]  # type: ignore[union-attr]


# -- a conversation in English ------------------------------------------------------------------------


@pytest.fixture
def bot(sessions: sessionmaker[Session]) -> ChatBot:
    """test_reminder_replies' enterprise (Shanxi, over an emission standard, listed today) with its cycle, and
    its contact talking English. The cycle is opened as the verdict opens it (handlers.cycles.open_cycle),
    not through the interview's questions, which are tested elsewhere."""
    bot = ChatBot(sessions, TODAY)
    bot.start(code=CODE)
    with sessions.begin() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address("test", "u1")
        assert contact is not None and contact.consented_at is not None
        enterprise = repos.enterprises.get_by_credit_code(CODE) or repos.enterprises.add(
            credit_code=CODE, province="shanxi")
        if contact.enterprise_id != enterprise.id:
            repos.contacts.bind_enterprise(contact, enterprise.id)
        a = rules.assess({"province": "shanxi", "exceeds_emission_standard": True,
                          "list_published_on": TODAY.isoformat()}, TODAY)
        open_cycle(repos, enterprise.id, a, list_published_on=TODAY, source="chat", today=TODAY,
                   policy=ReminderPolicy())
    bot.push("English")
    assert "Language: English" in bot.text
    return bot




def _remind(sessions: sessionmaker[Session], kind: str, at: datetime) -> None:
    """As if the sweep had sent the first pending reminder of that milestone at `at`."""
    with sessions.begin() as s:
        repos = Repositories(s)
        m = _milestones(sessions)[kind]
        first = next(r for r in repos.reminders.list_by_milestone(m.id) if r.status == "pending")
        assert repos.reminders.mark_queued([first.id], at) == 1


def _unsubscribed(sessions: sessionmaker[Session]) -> bool:
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "u1")
        assert contact is not None
        return contact.unsubscribed_at is not None


def test_published_with_its_link_confirms_the_disclosure(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.push("Published https://example.com/x")
    assert "Recorded: Publish the enterprise's information was done on 2026-03-31 (https://example.com/x)" in bot.text
    assert _milestones(sessions)["disclosure"].evidence == "https://example.com/x"
    bot.push("Audit started")
    assert "Recorded: Start the audit was done on 2026-03-31" in bot.text
    assert _milestones(sessions)["start"].done_at is not None
    assert_no_chinese(bot.text)


def test_published_alone_asks_for_the_link_in_english(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.push("published")
    assert "Send the link" in bot.text and "“none”" in bot.text
    assert_no_chinese(bot.text)
    bot.push("None")
    assert "Recorded: Publish the enterprise's information was done on 2026-03-31." in bot.text
    done = _milestones(sessions)["disclosure"]
    assert done.done_at is not None and done.evidence is None


def test_done_confirms_the_milestone_last_reminded_of(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.push("done")                                  # nothing reminded yet, three steps open: which one?
    assert "Recorded" not in bot.text
    assert all(m.done_at is None for m in _milestones(sessions).values())
    _remind(sessions, "disclosure", datetime(2026, 3, 31, 1, 30, tzinfo=UTC))
    _remind(sessions, "report", datetime(2026, 3, 31, 1, 35, tzinfo=UTC))   # the latest reminder
    bot.push("Done!")
    assert "Recorded: Complete the audit and submit the report was done on 2026-03-31" in bot.text
    ms = _milestones(sessions)
    assert ms["report"].done_at is not None and ms["disclosure"].done_at is None


def test_remind_me_later_snoozes_the_milestone_last_reminded_of(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    _remind(sessions, "disclosure", datetime(2026, 3, 31, 1, 30, tzinfo=UTC))
    bot.push("Remind me later")
    assert "I will remind you again after 2026-04-07" in bot.text
    assert _milestones(sessions)["disclosure"].snoozed_until == date(2026, 4, 7)
    bot.push("snooze")
    assert "2026-04-07" in bot.text


def test_unsubscribe_stop_and_resubscribe(bot: ChatBot, sessions: sessionmaker[Session]) -> None:
    bot.push("Unsubscribe")
    assert _unsubscribed(sessions)
    assert "resubscribe" in bot.text
    bot.push("resubscribe")
    assert not _unsubscribed(sessions)
    bot.push("stop reminders")
    assert _unsubscribed(sessions)
    bot.push("Resume reminders")
    assert not _unsubscribed(sessions)

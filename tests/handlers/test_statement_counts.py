"""The SQL a chat message costs, counted with SQLAlchemy's `before_cursor_execute` event on the real
database (SQLite and PostgreSQL): the contact and its conversation are read in one query, the state is
written once, and the turn that binds a credit code and opens an audit cycle inserts its milestones and
reminders in one multi-row statement (a data-modifying CTE on PostgreSQL, a trigger on SQLite)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code, milestones

TODAY = date(2026, 4, 10)
CODE = credit_code("91140100MA0K1234X")  # registered in Shanxi


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        self.statements.append(" ".join(statement.split()))

    def tables(self) -> list[str]:
        """The verb and table of each statement, e.g. "INSERT milestones"; a statement with data-modifying
        CTEs (PostgreSQL) is its writes joined by " + ", e.g. "INSERT milestones + INSERT reminders". SQLite's
        `BEGIN IMMEDIATE` (storage.db takes the write lock first) is transaction control, like the COMMIT the
        driver sends: not counted, but there is at most one per message."""
        out = []
        assert sum(s.upper().startswith("BEGIN") for s in self.statements) <= 1, self.statements
        for s in self.statements:
            words = s.split()
            verb = words[0].upper()
            if verb == "BEGIN":
                continue
            if verb == "WITH":
                writes = re.findall(r"\b(INSERT INTO|UPDATE|DELETE FROM) (\w+)", s)
                out.append(" + ".join(f"{v.split()[0]} {table}" for v, table in writes))
                continue
            if verb == "SELECT":
                out.append("SELECT " + words[words.index("FROM") + 1])
            elif verb == "INSERT":
                out.append("INSERT " + words[2])
            else:
                out.append(f"{verb} {words[1]}")
        return out


@pytest.fixture
def counted(engine: Engine) -> Iterator[Counter]:
    counter = Counter()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


def _turn(bot: ChatBot, counter: Counter, text: str, *, pick: bool = False, user: str = "u1") -> list[str]:
    counter.statements.clear()
    (bot.pick if pick else bot.push)(text, user)
    return counter.tables()


def test_an_ordinary_interview_turn_is_one_read_and_one_write(
    sessions: sessionmaker[Session], counted: Counter
) -> None:
    bot = ChatBot(sessions, TODAY)
    bot.start()
    assert "省" in bot.text
    tables = _turn(bot, counted, "晋")
    assert "行业" in bot.text                                  # the turn did its work: the next question
    assert tables == ["SELECT contacts", "INSERT conversations"], counted.statements
    assert "conversations" in next(s for s in counted.statements if s.startswith("SELECT"))  # the state: a join
    tables = _turn(bot, counted, "水泥")
    if bot.choice_ids() and bot.choice_ids()[0].startswith("ind:"):
        tables = _turn(bot, counted, "ind:3011", pick=True)
    assert "强制性清洁生产审核" in bot.text                      # a verdict: the assessment is stored too
    assert tables == ["SELECT contacts", "INSERT assessments", "INSERT conversations"], counted.statements
    with sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address("test", "u1")
        assert contact is not None
        conversation = repos.conversations.get_by_contact_id(contact.id)
        assert conversation is not None and conversation.state["interview"]["facts"]["province"] == "shanxi"


def test_the_consenting_turn_adds_the_contact_with_its_consent_in_one_transaction(
    sessions: sessionmaker[Session], counted: Counter
) -> None:
    bot = ChatBot(sessions, TODAY)
    assert _turn(bot, counted, "你好") == ["SELECT contacts"]     # before consent: nothing is written
    tables = _turn(bot, counted, "consent:yes", pick=True)
    # the first message is held in memory: the consent is written without a look-up, with the contact itself
    assert tables == ["INSERT contacts", "INSERT conversations"], counted.statements
    assert "consented_at" in next(s for s in counted.statements if s.startswith("INSERT INTO contacts"))
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "u1")
        assert contact is not None and contact.consented_at is not None


def test_the_turn_that_binds_a_credit_code_and_opens_a_cycle(
    sessions: sessionmaker[Session], counted: Counter
) -> None:
    bot = ChatBot(sessions, TODAY)
    bot.start()
    bot.push("山西的水泥厂，2026年3月31日上了名单")
    bot.confirm()
    if bot.choice_ids() and bot.choice_ids()[0].startswith("ind:"):
        bot.pick("ind:3011")
    bot.skip_follow_ups()
    assert "2026-04-30" in bot.text, bot.text                # the verdict's deadlines, not yet kept
    tables = _turn(bot, counted, CODE)
    if sessions.kw["bind"].dialect.name == "postgresql":  # writable CTEs: 6 statements
        assert tables == [
            "SELECT contacts",
            "INSERT enterprises + UPDATE contacts",   # added and bound in one statement (ON CONFLICT DO NOTHING)
            "INSERT assessments",
            "INSERT audit_cycles",
            "INSERT milestones + INSERT reminders",   # every milestone, and every reminder of each, in one
            "INSERT conversations",
        ], counted.statements
    else:  # SQLite: an AFTER INSERT trigger writes the second table (migration 0011), as the CTEs do there
        assert tables == [
            "SELECT contacts",
            "INSERT enterprises",            # ON CONFLICT DO NOTHING RETURNING; its trigger binds the contact
            "INSERT assessments",
            "INSERT audit_cycles",
            "INSERT milestones",             # every milestone in one statement; its trigger adds their reminders
            "INSERT conversations",
        ], counted.statements
        with sessions() as s:  # what the triggers wrote: the contact bound, the plans cleared
            contact = Repositories(s).contacts.get_by_address("test", "u1")
            assert contact is not None and contact.enterprise_id is not None
            enterprise = Repositories(s).enterprises.get_by_id(contact.enterprise_id)
            assert enterprise is not None and enterprise.bind_contact_id is None
        assert all(m.reminder_plan is None for m in milestones(sessions).values())
    milestone_insert = next(s for s in counted.statements if "INSERT INTO milestones" in s)
    assert milestone_insert.count("(") > 3  # multi-row
    kept = milestones(sessions)
    assert {"disclosure", "report", "start"} <= set(kept)
    assert str(kept["disclosure"].due) == "2026-04-30"
    with sessions() as s:
        reminders = Repositories(s).reminders.list_by_milestone(kept["report"].id)
        assert len(reminders) >= 3 and all(r.status == "pending" for r in reminders)
    # and the next turn is ordinary again
    assert _turn(bot, counted, "帮助") == ["SELECT contacts", "INSERT conversations"]


def test_a_known_credit_code_is_refused_by_the_insert_itself(
    sessions: sessionmaker[Session], counted: Counter
) -> None:
    bot = ChatBot(sessions, TODAY)
    bot.start(user="alice", code=CODE)
    bot.push("你好", user="bob")
    bot.pick("consent:yes", user="bob")
    tables = _turn(bot, counted, CODE.lower(), user="bob")
    assert "邀请同事" in bot.text                               # a public code alone gives nobody the enterprise
    assert tables[0] == "SELECT contacts"
    assert tables[1] in ("INSERT enterprises", "INSERT enterprises + UPDATE contacts")  # SQLite, PostgreSQL
    assert "UPDATE contacts" not in tables
    with sessions() as s:
        repos = Repositories(s)
        bob = repos.contacts.get_by_address("test", "bob")
        assert bob is not None and bob.enterprise_id is None
        assert repos.enterprises.count_all() == 1


def test_ordinary_and_verdict_turns_make_no_orm_session(sessions: sessionmaker[Session], counted: Counter) -> None:
    """The hot path is Core on the turn's connection: an ORM Session (storage.TurnRepositories) is made only when
    a handler uses a repository, which an interview answer, a verdict and 我的期限 without an enterprise do not."""
    began: list[object] = []

    def on_begin(session: Session, transaction: object) -> None:
        began.append(transaction)

    bot = ChatBot(sessions, TODAY)
    bot.start()
    event.listen(Session, "after_transaction_create", on_begin)
    try:
        bot.push("晋")
        assert "行业" in bot.text and began == []
        bot.push("水泥")
        if bot.choice_ids() and bot.choice_ids()[0].startswith("ind:"):
            bot.pick("ind:3011")
        assert "强制性清洁生产审核" in bot.text and began == []   # the verdict stored by Core
        tables = _turn(bot, counted, "我的期限")
        assert "2026" in bot.text and began == [], bot.text       # the deadlines read back as a plain value
        assert tables == ["SELECT contacts", "SELECT assessments", "INSERT conversations"], counted.statements
    finally:
        event.remove(Session, "after_transaction_create", on_begin)


def test_a_follow_up_that_changes_no_deadline_leaves_the_cycle_alone(
    sessions: sessionmaker[Session], counted: Counter
) -> None:
    """Once a verdict's cycle is kept, a later answer that changes none of its deadlines (a follow-up
    answered "none") records the assessment and the state, not the cycle again; one that changes a deadline
    (the list date corrected) writes the milestones anew."""
    bot = ChatBot(sessions, TODAY)
    bot.start(code=CODE)
    bot.push("山西的水泥厂，2026年3月31日上了名单")
    bot.confirm()
    if bot.choice_ids() and bot.choice_ids()[0].startswith("ind:"):
        bot.pick("ind:3011")
    assert str(milestones(sessions)["disclosure"].due) == "2026-04-30"      # the cycle is kept
    assert bot.choice_ids() == ["none"], bot.text                           # a follow-up date question
    tables = _turn(bot, counted, "none", pick=True)
    assert "INSERT assessments" in tables, counted.statements
    assert not any("audit_cycles" in t or "milestones" in t for t in tables), counted.statements
    bot.skip_follow_ups()
    bot.push("返回")
    bot.push("不对，名单是2026年3月20日公布的")
    bot.confirm()
    bot.skip_follow_ups()
    kept = milestones(sessions)
    assert str(kept["disclosure"].due) == "2026-04-20", {k: str(m.due) for k, m in kept.items()}


def _heavy_until_list_question(bot: ChatBot) -> None:
    """`make bench`'s heavy script up to the list's day: the credit code first (added and bound), then the
    industry by its code (the enterprise's industry written)."""
    bot.start(code=CODE)
    bot.push("3011")
    assert "名单" in bot.text, bot.text


def test_the_verdict_that_opens_the_cycle_of_an_enterprise_bound_before(
    sessions: sessionmaker[Session], counted: Counter
) -> None:
    """The enterprise is bound first and the list's day comes later: the cycle's INSERT says (a subquery in its
    RETURNING) that the enterprise has no other cycle, so none is read; its facts are not read back to be
    compared, and not written again when this conversation already wrote them."""
    bot = ChatBot(sessions, TODAY)
    _heavy_until_list_question(bot)
    tables = _turn(bot, counted, "2026-03-31")
    assert bot.choice_ids() == ["none"], bot.text               # a follow-up: the cycle is kept already
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert tables == ["SELECT contacts", "INSERT assessments", "INSERT audit_cycles",
                          "INSERT milestones + INSERT reminders", "INSERT conversations"], counted.statements
    else:  # the milestones' trigger adds their reminders
        assert tables == ["SELECT contacts", "INSERT assessments", "INSERT audit_cycles", "INSERT milestones",
                          "INSERT conversations"], counted.statements
    assert str(milestones(sessions)["disclosure"].due) == "2026-04-30"
    # a follow-up answered: the verdict is stored, the enterprise and its cycle are left as they are
    tables = _turn(bot, counted, "none", pick=True)
    assert tables == ["SELECT contacts", "INSERT assessments", "INSERT conversations"], counted.statements
    # 我的期限: the current cycle's milestones in one statement
    bot.skip_follow_ups()
    tables = _turn(bot, counted, "我的期限")
    assert "2026-04-30" in bot.text, bot.text
    assert tables == ["SELECT contacts", "SELECT milestones", "INSERT conversations"], counted.statements


def test_the_industry_is_written_to_the_enterprise_once(sessions: sessionmaker[Session], counted: Counter) -> None:
    bot = ChatBot(sessions, TODAY)
    bot.start(code=CODE)
    tables = _turn(bot, counted, "3011")
    assert "UPDATE enterprises" in tables, counted.statements   # one UPDATE, no read first
    assert "SELECT enterprises" not in tables, counted.statements
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "u1")
        assert contact is not None and contact.enterprise_id is not None
        enterprise = Repositories(s).enterprises.get_by_id(contact.enterprise_id)
        assert enterprise is not None and (enterprise.province, enterprise.industry_code) == ("shanxi", "3011")


def test_a_cycle_imported_before_is_read_and_superseded_by_a_later_list(
    sessions: sessionmaker[Session], counted: Counter
) -> None:
    """An enterprise that already has a cycle (an officer's import of an earlier list, written here directly):
    the cycle's INSERT says so, the others are read, and the earlier one is superseded with its reminders."""
    bot = ChatBot(sessions, TODAY)
    _heavy_until_list_question(bot)
    with sessions.begin() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address("test", "u1")
        assert contact is not None and contact.enterprise_id is not None
        earlier = repos.cycles.add(contact.enterprise_id, source="import", list_published_on=date(2025, 3, 31))
        milestone = repos.milestones.add(earlier.id, kind="report", nominal=date(2026, 3, 31), due=date(2026, 3, 31))
        repos.reminders.add_for_milestone(milestone.id, [("on_day", date(2026, 4, 20))])
        earlier_id, milestone_id = earlier.id, milestone.id
    tables = _turn(bot, counted, "2026-03-31")
    assert "SELECT audit_cycles" in tables, counted.statements
    with sessions() as s:
        repos = Repositories(s)
        old = repos.cycles.get_by_id(earlier_id)
        assert old is not None and old.superseded_at is not None
        assert {r.status for r in repos.reminders.list_by_milestone(milestone_id)} == {"cancelled"}
        contact = repos.contacts.get_by_address("test", "u1")
        assert contact is not None and contact.enterprise_id is not None
        current = repos.cycles.get_by_enterprise(contact.enterprise_id)
        assert current is not None and current.list_published_on == date(2026, 3, 31)


def test_the_credit_code_turn_binds_without_an_orm_session(sessions: sessionmaker[Session], counted: Counter) -> None:
    """A new credit code at its question: the enterprise added and the contact bound by one Core statement."""
    began: list[object] = []

    def on_begin(session: Session, transaction: object) -> None:
        began.append(transaction)

    bot = ChatBot(sessions, TODAY)
    bot.push("你好")
    bot.pick("consent:yes")
    event.listen(Session, "after_transaction_create", on_begin)
    try:
        tables = _turn(bot, counted, CODE)
    finally:
        event.remove(Session, "after_transaction_create", on_begin)
    assert began == [], counted.statements
    assert tables[0] == "SELECT contacts" and tables[-1] == "INSERT conversations", counted.statements
    assert tables[1:-1] in (["INSERT enterprises"], ["INSERT enterprises + UPDATE contacts"]), counted.statements
    with sessions() as s:
        contact = Repositories(s).contacts.get_by_address("test", "u1")
        assert contact is not None and contact.enterprise_id is not None

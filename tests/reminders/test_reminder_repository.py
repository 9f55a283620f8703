"""ReminderRepository and the reminder-related storage methods: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage import DueReminder, Message, Milestone, Repositories, make_engine, reminder_key, session_factory
from tests.reminders.reminder_kit import add_contact, add_milestone, add_site

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
D = date(2026, 3, 2)


@pytest.fixture
def repos(session: Session) -> Repositories:
    return Repositories(session)


def statuses(repos: Repositories, milestone: Milestone) -> dict[str, str]:
    return {r.kind: r.status for r in repos.reminders.list_by_milestone(milestone.id)}


class TestAddAndList:
    def test_add_is_idempotent_per_milestone_and_kind(self, repos: Repositories) -> None:
        site = add_site(repos, "甲")
        m = add_milestone(repos, site, D)
        plan = [("before_7", date(2026, 2, 23)), ("on_day", D)]
        assert repos.reminders.add_for_milestone(m.id, plan) == 2
        assert repos.reminders.add_for_milestone(m.id, [*plan, ("overdue_1", date(2026, 3, 3))]) == 1
        assert repos.reminders.add_for_milestone(m.id, []) == 0
        listed = repos.reminders.list_by_milestone(m.id)
        assert [(r.kind, r.send_on, r.status) for r in listed] == [
            ("before_7", date(2026, 2, 23), "pending"),
            ("on_day", D, "pending"),
            ("overdue_1", date(2026, 3, 3), "pending"),
        ]
        assert repos.reminders.count_by_status() == {"pending": 3}

    def test_reminders_go_with_their_milestone(self, repos: Repositories, session: Session) -> None:
        site = add_site(repos, "甲")
        add_milestone(repos, site, D, reminders=[("on_day", D)])
        session.execute(text("DELETE FROM milestones"))
        assert repos.reminders.count_by_status() == {}


class TestClaim:
    def test_due_reminders_by_day_then_id_with_every_due_sibling(self, repos: Repositories) -> None:
        site = add_site(repos, "甲")
        a = add_milestone(repos, site, D, kind="disclosure",
                          reminders=[("before_7", date(2026, 2, 23)), ("on_day", D), ("overdue_1", date(2026, 3, 3))])
        b = add_milestone(repos, site, D, kind="start", reminders=[("before_1", date(2026, 2, 27))])
        c = add_milestone(repos, site, date(2026, 4, 1), kind="report", reminders=[("before_30", date(2026, 3, 2))])
        claimed = repos.reminders.claim_due(D, limit=1)
        # The first due reminder picks milestone a; all of a's due reminders come, not its future one.
        assert [(r.milestone_id, r.kind) for r in claimed] == [(a.id, "before_7"), (a.id, "on_day")]
        claimed = repos.reminders.claim_due(D, limit=10)
        assert {(r.milestone_id, r.kind) for r in claimed} == {
            (a.id, "before_7"), (a.id, "on_day"), (b.id, "before_1"), (c.id, "before_30")
        }
        assert [r.send_on for r in claimed] == sorted(r.send_on for r in claimed)
        assert repos.reminders.claim_due(date(2026, 2, 1), limit=10) == []

    def test_claiming_as_queued_takes_what_claim_due_takes_and_queues_it(
        self, repos: Repositories, session: Session
    ) -> None:
        site = add_site(repos, "甲")
        a = add_milestone(repos, site, D, kind="disclosure",
                          reminders=[("before_7", date(2026, 2, 23)), ("on_day", D), ("overdue_1", date(2026, 3, 3))])
        b = add_milestone(repos, site, D, kind="start", reminders=[("before_1", date(2026, 2, 27))])
        add_milestone(repos, site, date(2026, 4, 1), kind="report", reminders=[("before_30", date(2026, 3, 2))])
        for limit in (1, 2, 10):
            expected = repos.reminders.claim_due(D, limit=limit)
            with session.begin_nested() as savepoint:
                claimed = repos.reminders.claim_due_as_queued(D, limit, at=NOW)
                assert claimed == expected  # the same rows, in the same (send_on, id) order
                assert {r.id: (r.status, r.queued_at) for r in repos.reminders.list_by_milestone(a.id)
                        if r.id in {c.id for c in claimed}} == {c.id: ("queued", NOW) for c in claimed
                                                                 if c.milestone_id == a.id}
                assert repos.reminders.claim_due_as_queued(D, limit, at=NOW) == [] or limit < 10
                savepoint.rollback()
        claimed = repos.reminders.claim_due_as_queued(D, 10, at=NOW)
        first, second = (r.id for r in claimed if r.milestone_id == a.id)
        [only_b] = (r.id for r in claimed if r.milestone_id == b.id)
        repos.reminders.settle(superseded=[first], cancelled=[only_b])
        session.expire_all()
        assert statuses(repos, a) == {"before_7": "superseded", "on_day": "queued", "overdue_1": "pending"}
        assert statuses(repos, b) == {"before_1": "cancelled"}
        assert repos.reminders.get_by_id(first).queued_at is None  # type: ignore[union-attr]
        assert repos.reminders.get_by_id(second).queued_at == NOW  # type: ignore[union-attr]
        later = next(r.id for r in repos.reminders.list_by_milestone(a.id) if r.kind == "overdue_1")
        repos.reminders.settle(superseded=[later], cancelled=[first])  # neither queued: both left alone
        session.expire_all()
        assert statuses(repos, a) == {"before_7": "superseded", "on_day": "queued", "overdue_1": "pending"}

    def test_only_pending_reminders_are_claimed(self, repos: Repositories) -> None:
        site = add_site(repos, "甲")
        m = add_milestone(repos, site, D, reminders=[("before_7", date(2026, 2, 23)), ("on_day", D)])
        first, second = repos.reminders.claim_due(D, limit=10)
        assert repos.reminders.mark_superseded([first.id]) == 1
        assert repos.reminders.mark_queued([second.id], NOW) == 1
        assert repos.reminders.mark_cancelled([first.id, second.id]) == 0  # no longer pending
        assert repos.reminders.claim_due(D, limit=10) == []
        assert statuses(repos, m) == {"before_7": "superseded", "on_day": "queued"}
        assert repos.reminders.list_by_milestone(m.id)[1].queued_at == NOW
        assert repos.reminders.count_by_status() == {"superseded": 1, "queued": 1}


class TestCancel:
    def test_cancel_stops_pending_reminders_and_withdraws_unsent_messages(self, repos: Repositories) -> None:
        site = add_site(repos, "甲", users=("a", "b"))
        m = add_milestone(repos, site, D, reminders=[("on_day", D), ("overdue_1", date(2026, 3, 3))])
        on_day = repos.reminders.list_by_milestone(m.id)[0]
        repos.reminders.mark_queued([on_day.id], NOW)
        a, b = site.contacts
        for contact in site.contacts:
            repos.outbox.add_if_absent(reminder_key(on_day.id, contact.id), channel="api", address=contact.user_id,
                                       payload={"text": "x"}, not_before=NOW)
        # a's message is already with a sender; b's is still waiting.
        [taken] = repos.outbox.claim_batch("api", 1, "w", NOW)
        assert repos.reminders.cancel_for_milestone(m.id) == 1
        assert statuses(repos, m) == {"on_day": "queued", "overdue_1": "cancelled"}
        assert repos.outbox.get_by_key(taken.idempotency_key) is not None
        waiting = ({reminder_key(on_day.id, c.id) for c in (a, b)} - {taken.idempotency_key}).pop()
        assert repos.outbox.get_by_key(waiting) is None

    def test_superseding_a_cycle_cancels_its_pending_reminders(self, repos: Repositories) -> None:
        site = add_site(repos, "甲")
        m = add_milestone(repos, site, D, reminders=[("on_day", D)])
        cycle = repos.cycles.get_by_id(site.cycle_id)
        assert cycle is not None
        repos.cycles.supersede(cycle, NOW)
        assert statuses(repos, m) == {"on_day": "cancelled"}


class TestMessages:
    def test_add_messages_skips_keys_already_queued(self, repos: Repositories) -> None:
        def message(n: int) -> Message:
            return Message(f"rem:{n}:1", "api", f"u{n}", {"text": f"m{n}", "choices": []}, NOW + timedelta(hours=n))

        assert repos.reminders.add_messages([message(1), message(2)]) == 2
        assert repos.reminders.add_messages([message(2), message(3)]) == 1
        assert repos.reminders.add_messages([]) == 0
        row = repos.outbox.get_by_key("rem:3:1")
        assert row is not None
        assert (row.status, row.attempts, row.channel, row.address) == ("pending", 0, "api", "u3")
        assert row.next_attempt_at == NOW + timedelta(hours=3) and row.payload["text"] == "m3"
        assert repos.outbox.count_by_status() == {"pending": 3}
        twice = Message("rem:4:1", "api", "u4", {"text": "second", "choices": []}, NOW)
        assert repos.reminders.add_messages([message(4), twice, message(3)]) == 1  # a key given twice: the first
        fourth = repos.outbox.get_by_key("rem:4:1")
        assert fourth is not None and fourth.payload["text"] == "m4"


class TestTargets:
    def test_due_milestones_come_with_reachable_contacts_only(self, repos: Repositories) -> None:
        site = add_site(repos, "甲", users=("a",))
        add_contact(repos, site.enterprise_id, "no-consent", consented=False)
        add_contact(repos, site.enterprise_id, "left", unsubscribed=True)
        other = add_site(repos, "乙", users=("x", "y"), timezone="Asia/Urumqi")
        m1 = add_milestone(repos, site, D)
        m2 = add_milestone(repos, other, D)
        due = repos.reminders.list_due_milestones([m1.id, m2.id])
        assert [c.user_id for c in due[m1.id].contacts] == ["甲-a"]
        assert [c.user_id for c in due[m2.id].contacts] == ["乙-x", "乙-y"]
        assert due[m2.id].enterprise.name == "乙" and due[m2.id].cycle.id == other.cycle_id
        assert repos.reminders.list_due_milestones([]) == {}
        assert repos.reminders.list_contact_timezones() == {"Asia/Shanghai", "Asia/Urumqi"}


class TestMilestonesAndEnterprises:
    def test_snooze_and_lift(self, repos: Repositories) -> None:
        m = add_milestone(repos, add_site(repos, "甲"), D)
        assert repos.milestones.snooze(m, date(2026, 3, 9)).snoozed_until == date(2026, 3, 9)
        assert repos.milestones.snooze(m, None).snoozed_until is None

    def test_open_milestones_of_an_enterprise(self, repos: Repositories) -> None:
        site = add_site(repos, "甲")
        later = add_milestone(repos, site, date(2026, 6, 1), kind="report")
        first = add_milestone(repos, site, D, kind="disclosure")
        done = add_milestone(repos, site, D, kind="start")
        repos.milestones.mark_done(done, at=NOW)
        assert repos.milestones.list_open_by_enterprise(site.enterprise_id) == [first, later]
        cycle = repos.cycles.get_by_id(site.cycle_id)
        assert cycle is not None
        repos.cycles.supersede(cycle, NOW)
        assert repos.milestones.list_open_by_enterprise(site.enterprise_id) == []

    def test_calendar_token_is_made_once_random_and_unique(self, repos: Repositories) -> None:
        a = repos.enterprises.add(name="甲")
        b = repos.enterprises.add(name="乙")
        token = repos.enterprises.ensure_calendar_token(a)
        assert len(token) >= 32 and token.replace("-", "").replace("_", "").isalnum()
        assert repos.enterprises.ensure_calendar_token(a) == token
        assert repos.enterprises.ensure_calendar_token(b) != token
        assert repos.enterprises.get_by_calendar_token(token) is a
        assert repos.enterprises.get_by_calendar_token("nope") is None
        assert repos.enterprises.get_by_calendar_token("") is None


@pytest.fixture
def pg_sessions(pg_migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(pg_migrated_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.mark.postgres
class TestClaimLocks:
    @pytest.mark.parametrize("as_queued", [False, True], ids=["claim_due", "claim_due_as_queued"])
    def test_a_second_sweeper_skips_milestones_the_first_holds(
        self, pg_sessions: sessionmaker[Session], as_queued: bool
    ) -> None:
        with pg_sessions.begin() as session:
            repos = Repositories(session)
            site = add_site(repos, "甲")
            for kind in ("disclosure", "start", "report"):
                add_milestone(repos, site, D, kind=kind, reminders=[("before_1", date(2026, 2, 27)), ("on_day", D)])

        def claim(session: Session, limit: int) -> list[DueReminder]:
            reminders = Repositories(session).reminders
            return reminders.claim_due_as_queued(D, limit, at=NOW) if as_queued else reminders.claim_due(D, limit)

        with pg_sessions() as first, pg_sessions() as second:
            second.execute(text("SET lock_timeout = '2s'"))
            mine = claim(first, 1)  # both due reminders of one milestone
            theirs = claim(second, 10)
            assert len({r.milestone_id for r in mine}) == 1 and len(mine) == 2
            assert {r.milestone_id for r in theirs}.isdisjoint({r.milestone_id for r in mine})
            assert len(theirs) == 4
            if as_queued:  # once the first commits, its reminders are queued: nobody claims them again
                first.commit()
                second.rollback()
                assert claim(second, 10) == theirs
            first.rollback()
            second.rollback()

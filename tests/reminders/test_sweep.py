"""The sweep: due reminders -> outbox rows, once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.sweep import SweepResult, due_cutoff, sweep
from handlers.reminders import ReminderPolicy, schedule
from storage import Milestone, OutboxMessage, Repositories, make_engine, reminder_key, session_factory
from tests.reminders.reminder_kit import URUMQI, add_contact, add_milestone, add_site, at

POLICY = ReminderPolicy()
MONDAY = date(2026, 3, 2)
TEN = at(MONDAY, 10)


def outbox(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.idempotency_key)))


def reminder_statuses(sessions: sessionmaker[Session], milestone_id: int) -> dict[str, str]:
    with sessions() as session:
        return {r.kind: r.status for r in Repositories(session).reminders.list_by_milestone(milestone_id)}


class TestWindow:
    @pytest.mark.parametrize(
        "now",
        [
            at(MONDAY, 9, 29),  # before the send time
            at(MONDAY, 20, 0),  # the quiet hour
            at(MONDAY, 23, 30),
            at(date(2026, 3, 7), 10),  # a Saturday
            at(date(2026, 10, 2), 10),  # National Day
            at(date(2026, 2, 17), 10),  # Spring Festival
        ],
    )
    def test_nothing_is_cut_off_outside_the_window(self, now: datetime) -> None:
        assert due_cutoff(now, POLICY, ["Asia/Shanghai"]) is None

    def test_the_window_opens_at_the_send_time_on_working_days(self) -> None:
        assert due_cutoff(at(MONDAY, 9, 30), POLICY, []) == MONDAY
        assert due_cutoff(at(date(2026, 2, 28), 9, 30), POLICY, []) == date(2026, 2, 28)  # make-up Saturday

    def test_a_zone_east_of_beijing_opens_it_earlier(self) -> None:
        tokyo_0930 = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Beijing
        assert due_cutoff(tokyo_0930, POLICY, ["Asia/Shanghai"]) is None
        assert due_cutoff(tokyo_0930, POLICY, ["Asia/Tokyo"]) == MONDAY

    def test_outside_the_window_a_sweep_claims_nothing(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            m = add_milestone(repos, add_site(repos, "甲"), MONDAY, reminders=[("on_day", MONDAY)])
        assert sweep(sessions, now=at(MONDAY, 7), policy=POLICY) == SweepResult()
        assert reminder_statuses(sessions, m.id) == {"on_day": "pending"}


class TestQueueing:
    def test_one_message_per_reachable_contact(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            site = add_site(repos, "某某化工", users=("a", "b"))
            add_contact(repos, site.enterprise_id, "never-consented", consented=False)
            add_contact(repos, site.enterprise_id, "unsubscribed", unsubscribed=True)
            m = add_milestone(repos, site, MONDAY, reminders=[("on_day", MONDAY), ("overdue_1", date(2026, 3, 3))])
            on_day = repos.reminders.list_by_milestone(m.id)[0]
        result = sweep(sessions, now=TEN, policy=POLICY)
        assert result == SweepResult(claimed=1, queued=1, messages=2)
        rows = outbox(sessions)
        assert [r.idempotency_key for r in rows] == sorted(reminder_key(on_day.id, c.id) for c in site.contacts)
        assert {r.address for r in rows} == {"某某化工-a", "某某化工-b"}
        assert {r.channel for r in rows} == {"api"}
        assert all(r.next_attempt_at == TEN for r in rows)  # 09:30 has passed: send now
        payload = rows[0].payload
        assert payload["milestone_id"] == m.id and payload["reminder_kind"] == "on_day"
        assert "某某化工" in payload["text"] and "2026-03-02" in payload["text"]
        assert [c["id"] for c in payload["choices"]] == [f"done:{m.id}", f"snooze:{m.id}", "unsubscribe"]
        assert reminder_statuses(sessions, m.id) == {"on_day": "queued", "overdue_1": "pending"}

    def test_a_person_on_two_channels_is_reminded_once_on_the_preferred_one(
        self, sessions: sessionmaker[Session]
    ) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            site = add_site(repos, "甲", users=())
            telegram = add_contact(repos, site.enterprise_id, "4242", channel="telegram")
            wecom = add_contact(repos, site.enterprise_id, "zhangsan", channel="wecom")
            colleague = add_contact(repos, site.enterprise_id, "lisi", channel="wecom")
            for contact, name in ((telegram, "张三"), (wecom, "张三"), (colleague, "李四")):
                repos.contacts.update_display_name(contact, name)
            repos.contacts.update_settings(wecom, preferred=True)
            add_milestone(repos, site, MONDAY, reminders=[("on_day", MONDAY)])
        assert sweep(sessions, now=TEN, policy=POLICY).messages == 2
        assert {(r.channel, r.address) for r in outbox(sessions)} == {("wecom", "zhangsan"), ("wecom", "lisi")}

    def test_a_second_sweep_finds_nothing_to_do(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            add_milestone(repos, add_site(repos, "甲"), MONDAY, reminders=[("on_day", MONDAY)])
        assert sweep(sessions, now=TEN, policy=POLICY).messages == 1
        assert sweep(sessions, now=TEN + timedelta(minutes=1), policy=POLICY) == SweepResult()
        assert len(outbox(sessions)) == 1

    def test_each_contact_is_reminded_at_its_own_half_past_nine(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            site = add_site(repos, "甲", users=("beijing",))
            urumqi = add_contact(repos, site.enterprise_id, "urumqi", timezone="Asia/Urumqi")
            add_milestone(repos, site, MONDAY, reminders=[("on_day", MONDAY)])
        sweep(sessions, now=at(MONDAY, 9, 31), policy=POLICY)
        slots = {r.address: r.next_attempt_at for r in outbox(sessions)}
        assert slots["甲-beijing"] == at(MONDAY, 9, 31)
        assert slots[urumqi.user_id] == at(MONDAY, 9, 30, URUMQI) == at(MONDAY, 11, 30)

    def test_many_batches(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            for n in range(5):
                site = add_site(repos, f"企业{n}")
                for kind in ("disclosure", "start", "report", "evaluation", "acceptance"):
                    add_milestone(repos, site, MONDAY, kind=kind, reminders=schedule(MONDAY, POLICY))
        result = sweep(sessions, now=TEN, policy=POLICY, batch=3)
        assert (result.queued, result.messages) == (25, 25)
        assert result.superseded == 25 * 3  # before_30, before_7 and before_1 were missed


class TestAfterDowntime:
    def test_missed_reminders_of_a_milestone_are_sent_once(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            m = add_milestone(repos, add_site(repos, "甲"), MONDAY, reminders=schedule(MONDAY, POLICY))
        # Down from mid-January until the day after the nominal day.
        result = sweep(sessions, now=at(date(2026, 3, 3), 10), policy=POLICY)
        assert (result.queued, result.superseded, result.messages) == (1, 4, 1)
        [row] = outbox(sessions)
        assert row.payload["reminder_kind"] == "overdue_1"
        assert "1" in row.payload["text"]  # one day late, worded as of today
        statuses = reminder_statuses(sessions, m.id)
        assert statuses["overdue_1"] == "queued"
        assert {statuses[k] for k in ("before_30", "before_7", "before_1", "on_day")} == {"superseded"}
        assert statuses["overdue_w1"] == "pending"


class TestSkipped:
    def test_done_snoozed_and_superseded_cycles_are_not_reminded(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            site = add_site(repos, "甲")
            done = add_milestone(repos, site, MONDAY, kind="disclosure", reminders=[("on_day", MONDAY)])
            repos.milestones.mark_done(done, at=TEN - timedelta(days=1))
            snoozed = add_milestone(repos, site, MONDAY, kind="start", reminders=[("on_day", MONDAY)])
            repos.milestones.snooze(snoozed, MONDAY)
            woken = add_milestone(repos, site, MONDAY, kind="report", reminders=[("on_day", MONDAY)])
            repos.milestones.snooze(woken, MONDAY - timedelta(days=1))
            old = add_site(repos, "乙")
            stale = add_milestone(repos, old, MONDAY, reminders=[("on_day", MONDAY)])
            cycle = repos.cycles.get_by_id(old.cycle_id)
            assert cycle is not None
            cycle.superseded_at = TEN  # as if written without AuditCycleRepository.supersede
            nobody = add_site(repos, "丙", users=())
            add_contact(repos, nobody.enterprise_id, "unsubscribed", unsubscribed=True)
            alone = add_milestone(repos, nobody, MONDAY, reminders=[("on_day", MONDAY)])
        result = sweep(sessions, now=TEN, policy=POLICY)
        assert (result.queued, result.cancelled, result.messages) == (1, 4, 1)
        assert [r.payload["milestone_id"] for r in outbox(sessions)] == [woken.id]
        for m in (done, snoozed, stale, alone):
            assert reminder_statuses(sessions, m.id) == {"on_day": "cancelled"}


@pytest.fixture
def pg_sessions(pg_migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(pg_migrated_url, pool_size=10)
    yield session_factory(engine)
    engine.dispose()


@pytest.mark.postgres
class TestConcurrentSweeps:
    def test_two_sweeps_at_once_write_each_key_once(self, pg_sessions: sessionmaker[Session]) -> None:
        expected = 0
        with pg_sessions.begin() as session:
            repos = Repositories(session)
            for n in range(60):
                site = add_site(repos, f"企业{n}", users=("a", "b"))
                for kind in ("disclosure", "start", "report"):
                    add_milestone(repos, site, MONDAY, kind=kind, reminders=schedule(MONDAY, POLICY))
                    expected += 2
        results: list[SweepResult] = []
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def run() -> None:
            try:
                start.wait()
                results.append(sweep(pg_sessions, now=TEN, policy=POLICY, batch=7))
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert sum(r.messages for r in results) == expected
        assert sum(r.queued for r in results) == expected // 2
        with pg_sessions() as session:
            keys = session.scalar(select(func.count(func.distinct(OutboxMessage.idempotency_key))))
            rows = session.scalar(select(func.count()).select_from(OutboxMessage))
            assert Repositories(session).reminders.count_by_status().get("pending", 0) == 180 * 9
        assert keys == rows == expected


    def test_overlapped_batches_claim_each_reminder_once_in_key_order(
        self, pg_sessions: sessionmaker[Session]
    ) -> None:
        """Transactions at once (bot.sweep._overlapped), batches of 3: each keyset claim goes on after the
        last candidate of the one before, though a milestone's newer reminder (claimed with it) lies far beyond
        that key, so the keyset pass claims everything and the pass from the first due key finds nothing."""
        engine = pg_sessions.kw["bind"]
        with pg_sessions.begin() as session:
            repos = Repositories(session)
            milestones = []
            for n in range(40):
                site = add_site(repos, f"企业{n}")
                milestones.append(add_milestone(repos, site, MONDAY, reminders=[
                    ("before_1", MONDAY - timedelta(days=3)), ("on_day", MONDAY),
                    ("overdue_1", MONDAY + timedelta(days=1))]))
        claims: list[tuple[int, bool]] = []

        def count(conn: object, cursor: object, statement: str, *args: object) -> None:
            if statement.lstrip().startswith("WITH candidates"):
                claims.append((threading.get_ident(), "(reminders.send_on, reminders.id) >" in statement))

        event.listen(engine, "before_cursor_execute", count)
        try:
            result = sweep(pg_sessions, now=TEN, policy=POLICY, batch=3)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert result == SweepResult(claimed=80, queued=40, messages=40, superseded=40)
        for milestone in milestones:
            assert reminder_statuses(pg_sessions, milestone.id) == {
                "before_1": "superseded", "on_day": "queued", "overdue_1": "pending"}
        rows = outbox(pg_sessions)
        assert sorted(r.payload["milestone_id"] for r in rows) == sorted(m.id for m in milestones)
        assert all(r.payload["reminder_kind"] == "on_day" for r in rows)
        # 14 batches of 3 milestones (the last of 1), one keyset claim finding nothing, one pass from the start.
        assert len(claims) == 14 + 1 + 1, claims
        assert [keyset for _, keyset in claims].count(False) == 2  # the overlapped pass's first, the last
        assert len({thread for thread, keyset in claims if keyset}) >= 2  # the transactions took turns

    def test_a_milestone_held_elsewhere_is_left_pending_and_swept_later(
        self, pg_sessions: sessionmaker[Session]
    ) -> None:
        with pg_sessions.begin() as session:
            repos = Repositories(session)
            sites = [add_site(repos, f"企业{n}") for n in range(10)]
            milestones = [add_milestone(repos, site, MONDAY, reminders=[("on_day", MONDAY)]) for site in sites]
        held = milestones[4]
        with pg_sessions.begin() as other:  # a writer holds one milestone's row lock through the sweep
            other.execute(select(Milestone.id).where(Milestone.id == held.id).with_for_update()).all()
            result = sweep(pg_sessions, now=TEN, policy=POLICY, batch=2)
            assert (result.queued, result.messages) == (9, 9)
            assert reminder_statuses(pg_sessions, held.id) == {"on_day": "pending"}
        assert sweep(pg_sessions, now=TEN, policy=POLICY, batch=2).messages == 1
        assert reminder_statuses(pg_sessions, held.id) == {"on_day": "queued"}


class TestWording:
    """The sweep words each set of equal milestones once (bot.sweep.Wording): what it writes is what
    handlers.reminders.reminder_message says for each milestone, name and buttons included."""

    def test_every_row_says_what_reminder_message_says(self, sessions: sessionmaker[Session]) -> None:
        from handlers.reminders import outbound_payload, reminder_message

        with sessions.begin() as session:
            repos = Repositories(session)
            # The payload's JSON is built from pieces (bot.sweep.Wording.payload): a name JSON must escape too.
            sites = [add_site(repos, name, users=("zh", "en")) for name in ("甲厂", "乙厂", "丙厂", '丁"厂\\ 🏭\t')]
            for site in sites:
                repos.contacts.update_settings(site.contacts[1], locale="en")
                for kind in ("disclosure", "start"):  # equal dates and kinds across the three sites
                    add_milestone(repos, site, MONDAY + timedelta(days=7), kind=kind,
                                  reminders=[("before_7", MONDAY)])
                add_milestone(repos, site, MONDAY - timedelta(days=9), kind="report",
                              reminders=[("overdue_w1", MONDAY)])
            nameless = add_site(repos, "")
            enterprise = repos.enterprises.get_by_id(nameless.enterprise_id)
            assert enterprise is not None
            repos.enterprises.update(enterprise, name=None)
            add_milestone(repos, nameless, MONDAY + timedelta(days=7), reminders=[("before_7", MONDAY)])
        assert sweep(sessions, now=TEN, policy=POLICY).messages == 4 * 3 * 2 + 1
        with sessions() as session:
            repos = Repositories(session)
            rows = list(session.scalars(select(OutboxMessage)))
            for row in rows:
                reminder_id, contact_id = (int(part) for part in row.idempotency_key.split(":")[1:])
                reminder = repos.reminders.get_by_id(reminder_id)
                contact = repos.contacts.get_by_id(contact_id)
                assert reminder is not None and contact is not None
                [target] = repos.reminders.list_due_milestones([reminder.milestone_id]).values()
                expected = outbound_payload(
                    reminder_message(target.milestone, reminder.kind, enterprise_name=target.enterprise.name,
                                     locale=contact.locale, today=MONDAY),
                    milestone_id=target.milestone.id, reminder_kind=reminder.kind)
                assert row.payload == expected
        assert {row.payload["choices"][0]["id"] for row in rows} == {
            f"done:{row.payload['milestone_id']}" for row in rows}
        assert len({row.payload["text"] for row in rows}) == len(rows)  # names, kinds and locales all differ

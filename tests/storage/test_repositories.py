"""Contract tests of the repositories: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from storage import (
    ConsentError,
    Contact,
    DuplicateError,
    FieldError,
    Repositories,
)

VALID_CODE = "91110000600037341L"
OTHER_CODE = "91110108551385082Q"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_the_sample_credit_codes_are_valid() -> None:
    assert uscc.is_valid(VALID_CODE)
    assert uscc.is_valid(OTHER_CODE)
    assert not uscc.is_valid(VALID_CODE[:-1] + "X")


@pytest.fixture
def repos(session: Session) -> Repositories:
    return Repositories(session)


class TestEnterprises:
    def test_a_valid_credit_code_is_stored_compact_and_upper_case(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(credit_code="91110000 600037341l", name="某某化工有限公司")
        assert enterprise.credit_code == VALID_CODE
        assert repos.enterprises.get_by_credit_code(VALID_CODE.lower()) is enterprise
        assert repos.enterprises.get_by_id(enterprise.id) is enterprise

    @pytest.mark.parametrize("bad", ["91110000600037341X", "12345", "9111000060003734IL"])
    def test_an_invalid_credit_code_is_refused_naming_the_field(self, repos: Repositories, bad: str) -> None:
        with pytest.raises(FieldError) as caught:
            repos.enterprises.add(credit_code=bad)
        assert caught.value.field == "credit_code"
        assert "credit_code" in str(caught.value)

    def test_an_invalid_credit_code_is_refused_on_update_and_assignment(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(name="无代码企业")
        with pytest.raises(FieldError) as caught:
            repos.enterprises.update(enterprise, credit_code="91110000600037341X")
        assert caught.value.field == "credit_code"
        with pytest.raises(FieldError):
            enterprise.credit_code = "nonsense"
        assert enterprise.credit_code is None

    def test_the_credit_code_is_unique_but_may_be_unknown(self, repos: Repositories) -> None:
        repos.enterprises.add(credit_code=VALID_CODE)
        repos.enterprises.add(name="甲")
        repos.enterprises.add(name="乙")
        with pytest.raises(DuplicateError):
            repos.enterprises.add(credit_code=VALID_CODE)
        assert repos.enterprises.count_all() == 3

    def test_update_sets_known_fields_and_refuses_unknown_ones(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(name="甲")
        repos.enterprises.update(enterprise, province="shandong", scale="medium", credit_code=OTHER_CODE)
        assert (enterprise.province, enterprise.scale, enterprise.credit_code) == (
            "shandong",
            "medium",
            OTHER_CODE,
        )
        with pytest.raises(FieldError) as caught:
            repos.enterprises.update(enterprise, colour="red")
        assert caught.value.field == "colour"
        with pytest.raises(FieldError) as caught:
            repos.enterprises.update(enterprise, scale="huge")
        assert caught.value.field == "scale"

    def test_list_by_credit_codes(self, repos: Repositories) -> None:
        a = repos.enterprises.add(credit_code=VALID_CODE)
        b = repos.enterprises.add(credit_code=OTHER_CODE)
        assert repos.enterprises.list_by_credit_codes([OTHER_CODE, VALID_CODE]) == [a, b]
        assert repos.enterprises.list_by_credit_codes([]) == []

    def test_timestamps_come_back_aware_in_utc(self, repos: Repositories, session: Session) -> None:
        enterprise = repos.enterprises.add(name="甲")
        session.commit()
        session.expire_all()
        reloaded = repos.enterprises.get_by_id(enterprise.id)
        assert reloaded is not None
        assert reloaded.created_at.tzinfo is not None
        assert reloaded.created_at.utcoffset() == timedelta(0)


class TestContacts:
    def test_a_channel_user_pair_is_unique(self, repos: Repositories) -> None:
        repos.contacts.add("telegram", "42")
        repos.contacts.add("wecom", "42")
        with pytest.raises(DuplicateError):
            repos.contacts.add("telegram", "42")

    def test_the_database_itself_refuses_a_duplicate_pair(self, sessions: sessionmaker[Session]) -> None:
        row = {"channel": "web", "user_id": "u1", "created_at": NOW}
        with sessions.begin() as session:
            session.execute(insert(Contact).values(**row))
        with pytest.raises(IntegrityError), sessions.begin() as session:
            session.execute(insert(Contact).values(**row))

    def test_add_if_absent_returns_the_same_contact(self, repos: Repositories, session: Session) -> None:
        first = repos.contacts.add_if_absent("web", "u1", locale="en")
        session.commit()
        again = repos.contacts.add_if_absent("web", "u1", locale="ug")
        assert again.id == first.id
        assert again.locale == "en"
        assert (again.timezone, again.preferred, again.consented_at) == ("Asia/Shanghai", False, None)

    def test_defaults(self, repos: Repositories) -> None:
        contact = repos.contacts.add("console", "me")
        assert (contact.locale, contact.timezone, contact.preferred) == ("zh_CN", "Asia/Shanghai", False)
        assert repos.contacts.get_by_address("console", "me") is contact
        assert repos.contacts.get_by_address("console", "you") is None

    def test_settings_validate_the_time_zone(self, repos: Repositories) -> None:
        contact = repos.contacts.add("console", "me")
        repos.contacts.update_settings(contact, locale="ug", timezone="Asia/Urumqi", preferred=True)
        assert (contact.locale, contact.timezone, contact.preferred) == ("ug", "Asia/Urumqi", True)
        with pytest.raises(FieldError) as caught:
            repos.contacts.update_settings(contact, timezone="Mars/Olympus")
        assert caught.value.field == "timezone"


class TestConsent:
    def test_personal_fields_are_refused_before_consent(self, repos: Repositories) -> None:
        contact = repos.contacts.add("telegram", "42")
        enterprise = repos.enterprises.add(credit_code=VALID_CODE)
        with pytest.raises(ConsentError):
            repos.contacts.bind_enterprise(contact, enterprise.id)
        with pytest.raises(ConsentError):
            repos.contacts.update_display_name(contact, "王经理")
        assert contact.enterprise_id is None
        assert contact.display_name is None

    def test_a_direct_write_is_refused_too(self, repos: Repositories, session: Session) -> None:
        contact = repos.contacts.add("telegram", "42")
        session.commit()
        contact.display_name = "王经理"
        with pytest.raises(ConsentError):
            session.flush()
        session.rollback()
        with pytest.raises(ConsentError):
            session.add(Contact(channel="web", user_id="x", display_name="李", created_at=NOW))
            session.flush()

    def test_after_consent_personal_fields_are_stored(self, repos: Repositories, session: Session) -> None:
        contact = repos.contacts.add("telegram", "42")
        enterprise = repos.enterprises.add(credit_code=VALID_CODE, province="shanxi")
        repos.contacts.record_consent(contact, NOW)
        repos.contacts.bind_enterprise(contact, enterprise.id)
        repos.contacts.update_display_name(contact, "王经理")
        session.commit()
        session.expire_all()
        stored = repos.contacts.get_by_id(contact.id)
        assert stored is not None
        assert (stored.enterprise_id, stored.display_name, stored.consented_at) == (
            enterprise.id,
            "王经理",
            NOW,
        )
        assert repos.contacts.list_by_enterprise(enterprise.id) == [stored]

    def test_withdrawing_consent_erases_personal_fields(self, repos: Repositories) -> None:
        contact = repos.contacts.add("telegram", "42")
        enterprise = repos.enterprises.add(credit_code=VALID_CODE)
        repos.contacts.record_consent(contact, NOW)
        repos.contacts.bind_enterprise(contact, enterprise.id)
        repos.contacts.update_display_name(contact, "王经理")
        repos.contacts.withdraw_consent(contact)
        assert (contact.consented_at, contact.enterprise_id, contact.display_name) == (None, None, None)
        assert repos.contacts.list_by_enterprise(enterprise.id) == []

    def test_reachable_contacts_exclude_the_unsubscribed(self, repos: Repositories) -> None:
        shanxi = repos.enterprises.add(credit_code=VALID_CODE, province="shanxi")
        henan = repos.enterprises.add(credit_code=OTHER_CODE, province="henan")
        contacts = []
        for user_id, enterprise in [("a", shanxi), ("b", shanxi), ("c", henan)]:
            contact = repos.contacts.add("web", user_id)
            repos.contacts.record_consent(contact, NOW)
            repos.contacts.bind_enterprise(contact, enterprise.id)
            contacts.append(contact)
        repos.contacts.add("web", "never-consented")
        repos.contacts.unsubscribe(contacts[1], NOW)
        assert repos.contacts.list_reachable(province="shanxi") == [contacts[0]]
        assert repos.contacts.list_reachable() == [contacts[0], contacts[2]]
        assert repos.contacts.list_reachable(after_id=contacts[0].id) == [contacts[2]]
        assert repos.contacts.count_reachable() == 2
        assert repos.contacts.count_reachable(channel="telegram") == 0
        repos.contacts.resubscribe(contacts[1])
        assert repos.contacts.count_reachable(province="shanxi") == 2


class TestConversations:
    def test_state_is_saved_replaced_and_deleted(self, repos: Repositories, session: Session) -> None:
        contact = repos.contacts.add("web", "u1")
        assert repos.conversations.get_by_contact_id(contact.id) is None
        state = {"facts": {"province": "shandong"}, "history": [], "question": "industry_code"}
        repos.conversations.save(contact.id, state)
        state["facts"]["province"] = "henan"  # the caller's later change is not stored
        session.commit()
        session.expire_all()
        saved = repos.conversations.get_by_contact_id(contact.id)
        assert saved is not None
        assert saved.state["facts"] == {"province": "shandong"}
        repos.conversations.save(contact.id, {"facts": {}, "history": [{"q": "province"}], "question": None})
        session.commit()
        again = repos.conversations.get_by_contact_id(contact.id)
        assert again is not None
        assert again.state == {"facts": {}, "history": [{"q": "province"}], "question": None}
        repos.conversations.delete(contact.id)
        session.commit()
        assert repos.conversations.get_by_contact_id(contact.id) is None


class TestAssessments:
    def test_add_and_list(self, repos: Repositories) -> None:
        contact = repos.contacts.add("web", "u1")
        enterprise = repos.enterprises.add(name="甲")
        result = {"obligation": "mandatory", "grounds": [{"id": "national.art8_2"}], "missing": []}
        first = repos.assessments.add(
            facts={"province": "shandong"},
            as_of=date(2026, 3, 2),
            obligation="mandatory",
            result=result,
            pack_versions={"national_measures_2016": "sha256:abc"},
            enterprise_id=enterprise.id,
            contact_id=contact.id,
        )
        second = repos.assessments.add(
            facts={},
            as_of=date(2026, 3, 3),
            obligation="undetermined",
            result={},
            pack_versions={},
            contact_id=contact.id,
        )
        assert repos.assessments.list_by_contact(contact.id) == [second, first]
        assert repos.assessments.list_by_enterprise(enterprise.id) == [first]
        assert repos.assessments.count_by_obligation() == {"mandatory": 1, "undetermined": 1}
        assert repos.assessments.count_by_obligation(since=date(2026, 3, 3)) == {"undetermined": 1}
        assert first.result == result
        assert repos.assessments.delete_by_contact(contact.id) == 2
        assert repos.assessments.list_by_enterprise(enterprise.id) == []
        with pytest.raises(FieldError) as caught:
            repos.assessments.add(facts={}, as_of=NOW.date(), obligation="maybe", result={}, pack_versions={})
        assert caught.value.field == "obligation"


class TestCycles:
    def test_one_cycle_per_enterprise_and_list_date(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(credit_code=VALID_CODE)
        day = date(2026, 3, 31)
        cycle = repos.cycles.add(enterprise.id, source="import", list_published_on=day, grounds=["a"])
        with pytest.raises(DuplicateError):
            repos.cycles.add(enterprise.id, source="chat", list_published_on=day)
        again, opened = repos.cycles.add_if_absent(enterprise.id, day, source="import")
        assert (again.id, opened) == (cycle.id, False)
        other, opened = repos.cycles.add_if_absent(enterprise.id, date(2031, 3, 31), source="import")
        assert opened and other.id != cycle.id

    def test_unknown_list_dates_do_not_collide(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(name="甲")
        repos.cycles.add(enterprise.id, source="chat")
        repos.cycles.add(enterprise.id, source="chat")
        assert len(repos.cycles.list_by_enterprise(enterprise.id)) == 2

    def test_the_source_is_checked(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(name="甲")
        with pytest.raises(FieldError) as caught:
            repos.cycles.add(enterprise.id, source="fax")
        assert caught.value.field == "source"

    def test_the_current_cycle_is_the_latest_not_superseded(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(name="甲")
        old = repos.cycles.add(enterprise.id, source="import", list_published_on=date(2021, 3, 31))
        new = repos.cycles.add(enterprise.id, source="import", list_published_on=date(2026, 3, 31))
        assert repos.cycles.get_by_enterprise(enterprise.id) == new
        repos.cycles.supersede(new, NOW)
        assert repos.cycles.get_by_enterprise(enterprise.id) == old
        assert repos.cycles.list_by_enterprise(enterprise.id, include_superseded=False) == [old]


class TestMilestones:
    def test_one_milestone_per_cycle_and_kind(self, repos: Repositories) -> None:
        enterprise = repos.enterprises.add(name="甲")
        cycle = repos.cycles.add(enterprise.id, source="chat", list_published_on=date(2026, 3, 31))
        other = repos.cycles.add(enterprise.id, source="chat", list_published_on=date(2027, 3, 31))
        repos.milestones.add(
            cycle.id, kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 5, 6), citation="第十一条"
        )
        with pytest.raises(DuplicateError):
            repos.milestones.add(
                cycle.id, kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 4, 30)
            )
        repos.milestones.add(other.id, kind="disclosure", nominal=date(2027, 4, 30), due=date(2027, 4, 30))
        with pytest.raises(FieldError) as caught:
            repos.milestones.add(cycle.id, kind="party", nominal=date(2026, 4, 30), due=date(2026, 4, 30))
        assert caught.value.field == "kind"

    def test_open_due_milestones(self, repos: Repositories) -> None:
        contact = repos.contacts.add("web", "u1")
        enterprise = repos.enterprises.add(name="甲")
        cycle = repos.cycles.add(enterprise.id, source="chat", list_published_on=date(2026, 3, 31))
        old = repos.cycles.add(enterprise.id, source="chat", list_published_on=date(2021, 3, 31))
        disclosure = repos.milestones.add(
            cycle.id, kind="disclosure", nominal=date(2026, 4, 30), due=date(2026, 4, 30)
        )
        start = repos.milestones.add(cycle.id, kind="start", nominal=date(2026, 5, 31), due=date(2026, 6, 1))
        report = repos.milestones.add(
            cycle.id, kind="report", nominal=date(2027, 3, 31), due=date(2027, 3, 31)
        )
        repos.milestones.add(old.id, kind="start", nominal=date(2021, 5, 31), due=date(2021, 5, 31))
        repos.cycles.supersede(old, NOW)
        assert repos.milestones.list_open_due(date(2026, 6, 30)) == [disclosure, start]
        repos.milestones.mark_done(
            disclosure, at=NOW, by_contact_id=contact.id, evidence="https://example.org/x"
        )
        assert repos.milestones.list_open_due(date(2026, 6, 30)) == [start]
        assert repos.milestones.list_by_cycle(cycle.id) == [disclosure, start, report]
        assert repos.milestones.get_by_kind(cycle.id, "report") == report
        repos.milestones.reopen(disclosure)
        assert repos.milestones.list_open_due(date(2026, 6, 30), limit=1) == [disclosure]


class TestOutbox:
    def test_add_if_absent_is_idempotent(self, repos: Repositories, session: Session) -> None:
        payload = {"text": "提醒：请于2026年4月30日前公布信息"}
        assert repos.outbox.add_if_absent(
            "reminder:1:disclosure:-7", channel="web", address="u1", payload=payload
        )
        session.commit()
        again = repos.outbox.add_if_absent(
            "reminder:1:disclosure:-7", channel="web", address="u1", payload={"text": "different"}
        )
        assert again is False
        session.commit()
        assert repos.outbox.count_by_status() == {"pending": 1}
        message = repos.outbox.get_by_key("reminder:1:disclosure:-7")
        assert message is not None
        assert message.payload == payload

    def test_claim_only_due_rows_of_the_channel(self, repos: Repositories, session: Session) -> None:
        repos.outbox.add_if_absent("k1", channel="web", address="u1", payload={}, not_before=NOW)
        repos.outbox.add_if_absent(
            "k2", channel="web", address="u1", payload={}, not_before=NOW + timedelta(days=1)
        )
        repos.outbox.add_if_absent("k3", channel="telegram", address="7", payload={}, not_before=NOW)
        session.commit()
        claimed = repos.outbox.claim_batch("web", 10, "worker-1", NOW)
        session.commit()
        assert [m.idempotency_key for m in claimed] == ["k1"]
        (message,) = claimed
        assert (message.status, message.attempts, message.claimed_by) == ("sending", 1, "worker-1")
        assert repos.outbox.claim_batch("web", 10, "worker-2", NOW + timedelta(minutes=1)) == []

    def test_an_abandoned_claim_is_claimed_again_after_the_lease(
        self, repos: Repositories, session: Session
    ) -> None:
        repos.outbox.add_if_absent("k1", channel="web", address="u1", payload={}, not_before=NOW)
        repos.outbox.claim_batch("web", 10, "crashed", NOW, lease=timedelta(minutes=5))
        session.commit()
        (again,) = repos.outbox.claim_batch("web", 10, "worker-2", NOW + timedelta(minutes=5))
        assert (again.claimed_by, again.attempts) == ("worker-2", 2)

    def test_sent_failed_and_dead(self, repos: Repositories, session: Session) -> None:
        for key in ("a", "b"):
            repos.outbox.add_if_absent(key, channel="web", address="u1", payload={}, not_before=NOW)
        session.commit()
        a, b = repos.outbox.claim_batch("web", 10, "w", NOW)
        repos.outbox.mark_sent(a, now=NOW)
        repos.outbox.mark_failed(b, error="HTTP 502", retry_at=NOW + timedelta(minutes=1))
        session.commit()
        assert repos.outbox.count_by_status(channel="web") == {"sent": 1, "failed": 1}
        assert repos.outbox.claim_batch("web", 10, "w", NOW) == []
        (retry,) = repos.outbox.claim_batch("web", 10, "w", NOW + timedelta(minutes=1))
        assert (retry.id, retry.attempts, retry.last_error) == (b.id, 2, "HTTP 502")
        repos.outbox.mark_failed(retry, error="HTTP 403", retry_at=None)
        session.commit()
        assert repos.outbox.count_by_status() == {"sent": 1, "dead": 1}
        sent = repos.outbox.get_by_id(a.id)
        assert sent is not None and sent.sent_at == NOW

    def test_list_by_address(self, repos: Repositories) -> None:
        repos.outbox.add_if_absent("1", channel="web", address="u1", payload={"n": 1})
        repos.outbox.add_if_absent("2", channel="web", address="u2", payload={"n": 2})
        repos.outbox.add_if_absent("3", channel="web", address="u1", payload={"n": 3})
        assert [m.payload["n"] for m in repos.outbox.list_by_address("web", "u1")] == [1, 3]


class TestKeyValue:
    def test_put_get_expire(self, repos: Repositories, session: Session) -> None:
        repos.kv.put("wecom:token", "abc", expires_at=NOW + timedelta(hours=2))
        session.commit()
        assert repos.kv.get_by_key("wecom:token", now=NOW) == "abc"
        assert repos.kv.get_by_key("wecom:token", now=NOW + timedelta(hours=2)) is None
        repos.kv.put("wecom:token", "def", expires_at=NOW + timedelta(hours=4))
        session.commit()
        assert repos.kv.get_by_key("wecom:token", now=NOW + timedelta(hours=3)) == "def"
        assert repos.kv.get_by_key("missing", now=NOW) is None

    def test_delete_expired(self, repos: Repositories) -> None:
        repos.kv.put("old", "1", expires_at=NOW - timedelta(seconds=1))
        repos.kv.put("new", "2", expires_at=NOW + timedelta(seconds=1))
        repos.kv.put("forever", "3")
        assert repos.kv.delete_expired(NOW) == 1
        assert repos.kv.get_by_key("forever", now=NOW) == "3"
        repos.kv.delete("forever")
        assert repos.kv.get_by_key("forever", now=NOW) is None

    def test_an_aware_datetime_in_another_zone_means_the_same_instant(self, repos: Repositories) -> None:
        beijing = timezone(timedelta(hours=8))
        repos.kv.put("k", "v", expires_at=datetime(2026, 3, 2, 18, 0, tzinfo=beijing))
        assert repos.kv.get_by_key("k", now=datetime(2026, 3, 2, 9, 59, tzinfo=UTC)) == "v"
        assert repos.kv.get_by_key("k", now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC)) is None


class TestKeyValueAddIfAbsent:
    def test_only_the_first_caller_sets_a_live_value(self, sessions: sessionmaker[Session]) -> None:
        from datetime import timedelta

        from storage import utcnow

        now = utcnow()
        with sessions.begin() as s:
            assert Repositories(s).kv.add_if_absent("k", "a", expires_at=now + timedelta(hours=1), now=now)
        with sessions.begin() as s:
            assert not Repositories(s).kv.add_if_absent("k", "b", expires_at=now + timedelta(hours=1), now=now)
            assert Repositories(s).kv.get_by_key("k", now=now) == "a"
        later = now + timedelta(hours=2)     # the first one expired: the key may be taken again
        with sessions.begin() as s:
            assert Repositories(s).kv.add_if_absent("k", "c", expires_at=later + timedelta(hours=1), now=later)
            assert Repositories(s).kv.get_by_key("k", now=later) == "c"
            assert Repositories(s).kv.delete_expired(later + timedelta(hours=5)) == 1

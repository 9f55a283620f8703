"""Authorization and invitation codes: a Shanxi officer cannot read, import or broadcast for Shandong; a
contact cannot reach officer functions; codes bind contacts and officers. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handlers.broadcast import (
    Filters,
    delivery_report,
    fan_out,
    get_broadcast,
    invitation_sheet_xlsx,
    plan_general,
    plan_notice,
)
from handlers.cycles import import_rows
from handlers.listimport import read_list
from handlers.officers import (
    ForbiddenError,
    Jurisdiction,
    authorize,
    hash_password,
    read_code,
    redeem,
    require_officer,
    verify_password,
)
from handlers.reminders import ReminderPolicy
from rules.errors import QingshenError
from storage import Contact, Officer, Repositories
from tests.officers.officerkit import NOW, TODAY, add_contact, add_officer, csv_bytes, row, shandong_code, shanxi_code


def import_for(sessions: sessionmaker[Session], officer: Officer, rows: list[list[str]]) -> int:
    p = read_list(csv_bytes(rows), "l.csv", Jurisdiction.of(officer), today=TODAY)
    assert p.ok, p.errors
    with sessions.begin() as s:
        repos = Repositories(s)
        me = repos.officers.get_by_id(officer.id)
        assert me is not None
        out = import_rows(repos, me, p, accept_partial=False, today=TODAY, policy=ReminderPolicy(), now=NOW)
        assert out.import_id is not None
        return out.import_id


class TestAuthorize:
    def test_province_city_and_county(self) -> None:
        province, city, county = (Jurisdiction("shanxi"), Jurisdiction("shanxi", "太原市"),
                                  Jurisdiction("shanxi", "太原市", "清徐县"))
        authorize(province, "shanxi")
        authorize(province, "shanxi", "大同市")
        authorize(city, "shanxi", "太原")  # 太原 and 太原市 are the same city
        authorize(county, "shanxi", "太原市", "清徐")
        for scope, args in ((province, ("shandong",)), (city, ("shanxi",)), (city, ("shanxi", "大同市")),
                            (county, ("shanxi", "太原市")), (county, ("shanxi", "太原市", "阳曲县"))):
            with pytest.raises(ForbiddenError):
                authorize(scope, *args)

    def test_forbidden_is_a_qingshen_error_with_a_sentence(self) -> None:
        with pytest.raises(QingshenError) as caught:
            authorize(Jurisdiction("shanxi"), "shandong")
        assert "山东省" in str(caught.value) and "山西省" in str(caught.value)


class TestShanxiCannotActForShandong:
    @pytest.fixture
    def officers(self, sessions: sessionmaker[Session]) -> tuple[Officer, Officer, int]:
        shanxi = add_officer(sessions, "shanxi", name="晋")
        shandong = add_officer(sessions, "shandong", name="鲁")
        sd_import = import_for(sessions, shandong, [row(1, code=shandong_code(1), place="济南市")])
        return shanxi, shandong, sd_import

    def test_cannot_import(self, sessions: sessionmaker[Session], officers: tuple[Officer, Officer, int]) -> None:
        shanxi, _, _ = officers
        own = read_list(csv_bytes([row(2, code=shandong_code(2), place="济南市")]), "sd.csv", Jurisdiction.of(shanxi),
                        today=TODAY)
        assert [e.code for e in own.errors] == ["outside_jurisdiction"]
        theirs = read_list(csv_bytes([row(2, code=shandong_code(2), place="济南市")]), "sd.csv",
                           Jurisdiction("shandong"), today=TODAY)
        with sessions.begin() as s, pytest.raises(ForbiddenError):
            import_rows(Repositories(s), shanxi, theirs, accept_partial=True, today=TODAY)

    def test_cannot_broadcast(self, sessions: sessionmaker[Session], officers: tuple[Officer, Officer, int]) -> None:
        shanxi, shandong, sd_import = officers
        with sessions.begin() as s, pytest.raises(ForbiddenError):
            plan_notice(Repositories(s), shanxi, sd_import)
        with sessions.begin() as s:
            theirs = plan_general(Repositories(s), shandong, "通知", Filters()).id
        with pytest.raises(ForbiddenError):
            fan_out(sessions, shanxi, theirs, today=TODAY)

    def test_cannot_read(self, sessions: sessionmaker[Session], officers: tuple[Officer, Officer, int]) -> None:
        shanxi, shandong, sd_import = officers
        with sessions.begin() as s:
            theirs = plan_notice(Repositories(s), shandong, sd_import).id
        with sessions() as s:
            repos = Repositories(s)
            for call in (lambda: delivery_report(repos, shanxi, theirs), lambda: get_broadcast(repos, shanxi, theirs),
                         lambda: invitation_sheet_xlsx(repos, shanxi, sd_import)):
                with pytest.raises(ForbiddenError):
                    call()
            assert delivery_report(repos, shandong, theirs).broadcast_id == theirs

    def test_a_city_officer_cannot_act_province_wide(
        self, sessions: sessionmaker[Session], officers: tuple[Officer, Officer, int]
    ) -> None:
        shanxi, _, _ = officers
        datong_import = import_for(sessions, shanxi, [row(3, place="大同市/平城区", code=shanxi_code(3, "0200"))])
        taiyuan = add_officer(sessions, "shanxi", city="太原市", name="并")
        with sessions.begin() as s, pytest.raises(ForbiddenError):
            plan_notice(Repositories(s), taiyuan, datong_import)  # the province's list, none of 太原's on it
        both = import_for(sessions, shanxi, [row(4), row(5, place="大同市/平城区", code=shanxi_code(5, "0200"))])
        with sessions.begin() as s:  # the province's list with 太原's enterprise: only that part is reached
            b = plan_notice(Repositories(s), taiyuan, both)
            assert (b.province, b.city, b.county) == ("shanxi", "太原市", None)
            assert b.filters["city"] == "太原市"


class TestContactsAreNotOfficers:
    def test_an_enterprise_contact_cannot_call_officer_functions(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.add(credit_code=shanxi_code(1))
            contact = add_contact(repos, "boss", enterprise_id=e.id)
            with pytest.raises(ForbiddenError):
                require_officer(repos, contact)

    def test_an_officer_code_makes_a_contact_the_officer(self, sessions: sessionmaker[Session]) -> None:
        officer = add_officer(sessions)
        with sessions.begin() as s:
            repos = Repositories(s)
            code = repos.invitations.add_officer_invitation(officer.id, now=NOW).code
            contact = add_contact(repos, "officer-phone", consent=False)
            replies = redeem(repos, contact, f"绑定 {code}", now=NOW)
            assert replies is not None and "张三" in replies[0].text
            assert require_officer(repos, contact).id == officer.id
            again = add_contact(repos, "thief")
            replies = redeem(repos, again, code, now=NOW)
            assert replies is not None
            with pytest.raises(ForbiddenError):
                require_officer(repos, again)

    def test_an_expired_officer_code_is_refused(self, sessions: sessionmaker[Session]) -> None:
        officer = add_officer(sessions)
        with sessions.begin() as s:
            repos = Repositories(s)
            code = repos.invitations.add_officer_invitation(officer.id, now=NOW, ttl=timedelta(days=1)).code
            contact = add_contact(repos, "late")
            assert redeem(repos, contact, code, now=NOW + timedelta(days=2)) is not None
            assert repos.officers.get_by_contact(contact.id) is None

    def test_an_enterprise_contact_cannot_become_an_officer_nor_the_reverse(
        self, sessions: sessionmaker[Session]
    ) -> None:
        officer = add_officer(sessions)
        shanxi = add_officer(sessions, name="导入员")
        import_id = import_for(sessions, shanxi, [row(1)])
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None
            bound = add_contact(repos, "bound", enterprise_id=e.id)
            code = repos.invitations.add_officer_invitation(officer.id, now=NOW).code
            redeem(repos, bound, code, now=NOW)
            assert repos.officers.get_by_contact(bound.id) is None
            officer_contact = add_contact(repos, "official")
            redeem(repos, officer_contact, code, now=NOW)
            assert repos.officers.get_by_contact(officer_contact.id) is not None
            invitation = repos.invitations.ensure_enterprise_invitations(import_id, [e.id])[e.id]
            redeem(repos, officer_contact, invitation.code, now=NOW)
            assert officer_contact.enterprise_id is None


class TestEnterpriseCodes:
    @pytest.fixture
    def code(self, sessions: sessionmaker[Session]) -> str:
        officer = add_officer(sessions)
        import_id = import_for(sessions, officer, [row(1)])
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e is not None
            return repos.invitations.ensure_enterprise_invitations(import_id, [e.id])[e.id].code

    def contact(self, sessions: sessionmaker[Session], user: str, consent: bool = True) -> Contact:
        with sessions.begin() as s:
            return add_contact(Repositories(s), user, consent=consent)

    def test_a_code_binds_the_contact_and_shows_its_deadlines(self, sessions: sessionmaker[Session], code: str) -> None:
        c = self.contact(sessions, "manager")
        with sessions.begin() as s:
            repos = Repositories(s)
            me = repos.contacts.get_by_id(c.id)
            assert me is not None
            replies = redeem(repos, me, f"绑定 {code[:4]}-{code[4:].lower()}", now=NOW)
            assert replies is not None
            assert "企业1有限公司" in replies[0].text and "2026-04-30" in replies[0].text
        with sessions() as s:
            repos = Repositories(s)
            me = repos.contacts.get_by_id(c.id)
            e = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert me is not None and e is not None and me.enterprise_id == e.id
            invitation = repos.invitations.get_enterprise_invitation(code)
            assert invitation is not None and invitation.used_by_contact_id == c.id
            cycle = repos.cycles.get_by_enterprise(e.id)
            assert cycle is not None
            milestones = repos.milestones.list_by_cycle(cycle.id)
            pending = [r for m in milestones for r in repos.reminders.list_by_milestone(m.id)]
            assert pending  # its reminders exist already, from the import: now they reach this contact

    def test_a_contact_must_consent_first(self, sessions: sessionmaker[Session], code: str) -> None:
        c = self.contact(sessions, "new", consent=False)
        with sessions.begin() as s:
            repos = Repositories(s)
            me = repos.contacts.get_by_id(c.id)
            assert me is not None
            assert redeem(repos, me, code, now=NOW) is not None
            assert me.enterprise_id is None
            invitation = repos.invitations.get_enterprise_invitation(code)
            assert invitation is not None and invitation.used_at is None

    def test_a_code_works_once(self, sessions: sessionmaker[Session], code: str) -> None:
        first, second = self.contact(sessions, "a"), self.contact(sessions, "b")
        for who in (first, second, first):
            with sessions.begin() as s:
                repos = Repositories(s)
                me = repos.contacts.get_by_id(who.id)
                assert me is not None
                assert redeem(repos, me, code, now=NOW) is not None
        with sessions() as s:
            repos = Repositories(s)
            a, b = repos.contacts.get_by_id(first.id), repos.contacts.get_by_id(second.id)
            assert a is not None and b is not None
            assert a.enterprise_id is not None and b.enterprise_id is None

    def test_what_is_and_is_not_a_code(self, sessions: sessionmaker[Session], code: str) -> None:
        assert read_code("绑定 ABCD2345") == ("ABCD2345", True)
        assert read_code("邀请码：abcd-2345") == ("ABCD2345", True)
        assert read_code("ABCD2345") == ("ABCD2345", False)
        assert read_code("ＡＢＣＤ２３４５") == ("ABCD2345", False)
        assert read_code("绑定 ABCD2O45") == (None, True)  # O is not in the alphabet
        assert read_code("你好")[0] is None and read_code("shandong")[0] is None
        c = self.contact(sessions, "x")
        with sessions.begin() as s:
            repos = Repositories(s)
            me = repos.contacts.get_by_id(c.id)
            assert me is not None
            assert redeem(repos, me, "ABCD2345", now=NOW) is None  # a bare unknown code: the interview goes on
            assert redeem(repos, me, "91140100MA0K1234X9", now=NOW) is None  # a credit code is not ours
            assert redeem(repos, me, "绑定 ABCD2345", now=NOW) is not None  # asked for explicitly: say it is unknown


def test_passwords_are_salted_and_verified() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("correct horse", first) and not verify_password("wrong horse", first)
    assert not verify_password("x", None) and not verify_password("x", "garbage")
    with pytest.raises(QingshenError):
        hash_password("short")

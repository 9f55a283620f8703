"""Broadcasts: notice fan-out, invitations, resume after a crash without duplicates, delivery report,
general broadcasts with filters. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handlers.broadcast import (
    BroadcastError,
    Filters,
    Progress,
    delivery_report,
    fan_out,
    invitation_sheet_xlsx,
    plan_general,
    plan_notice,
    resume,
)
from handlers.cycles import import_rows
from handlers.listimport import read_list
from handlers.officers import Jurisdiction
from handlers.reminders import ReminderPolicy
from storage import OutboxMessage, Repositories, broadcast_key_prefix, utcnow
from tests.officers.officerkit import NOW, TODAY, add_contact, add_officer, credit_code, csv_bytes, row, shanxi_code


class Crash(Exception):
    pass


def import_list(sessions: sessionmaker[Session], officer_id: int, rows: list[list[str]], name: str = "l.csv") -> int:
    p = read_list(csv_bytes(rows), name, Jurisdiction("shanxi"), today=TODAY)
    with sessions.begin() as s:
        repos = Repositories(s)
        officer = repos.officers.get_by_id(officer_id)
        assert officer is not None
        out = import_rows(repos, officer, p, accept_partial=False, today=TODAY, policy=ReminderPolicy(), now=NOW)
        assert out.import_id is not None
        return out.import_id


def bind_contacts(sessions: sessionmaker[Session], per_enterprise: dict[int, int]) -> None:
    """n contacts for the enterprise of shanxi_code(i), for each i: n."""
    with sessions.begin() as s:
        repos = Repositories(s)
        for i, n in per_enterprise.items():
            e = repos.enterprises.get_by_credit_code(shanxi_code(i))
            assert e is not None
            for k in range(n):
                add_contact(repos, f"u{i}-{k}", enterprise_id=e.id)


def outbox_keys(sessions: sessionmaker[Session], broadcast_id: int) -> list[str]:
    with sessions() as s:
        stmt = select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.startswith(broadcast_key_prefix(broadcast_id)))
        return list(s.scalars(stmt))


@pytest.fixture
def listed(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """(officer id, import id): a Shanxi officer and a list of 6 enterprises; 1-4 have contacts, 5-6 none."""
    officer = add_officer(sessions)
    import_id = import_list(sessions, officer.id, [row(i, grounds="超标、有毒有害" if i == 1 else "超标")
                                                  for i in range(1, 7)])
    bind_contacts(sessions, {1: 2, 2: 1, 3: 1, 4: 1})
    return officer.id, import_id


def plan(sessions: sessionmaker[Session], officer_id: int, import_id: int) -> int:
    with sessions.begin() as s:
        repos = Repositories(s)
        officer = repos.officers.get_by_id(officer_id)
        assert officer is not None
        return plan_notice(repos, officer, import_id).id


def officer_scope(sessions: sessionmaker[Session], officer_id: int) -> Jurisdiction:
    with sessions() as s:
        officer = Repositories(s).officers.get_by_id(officer_id)
        assert officer is not None
        return Jurisdiction.of(officer)


class TestNotice:
    def test_every_bound_contact_gets_its_notice_and_the_rest_an_invitation(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        officer_id, import_id = listed
        bid = plan(sessions, officer_id, import_id)
        seen: list[Progress] = []
        done = fan_out(sessions, officer_scope(sessions, officer_id), bid, today=TODAY, batch_size=2,
                       on_progress=seen.append)
        assert (done.enterprises, done.queued, done.unreachable, done.done) == (6, 5, 2, True)
        assert [p.enterprises for p in seen] == [2, 4, 6, 6]  # live progress, batch by batch
        assert len(outbox_keys(sessions, bid)) == 5
        with sessions() as s:
            repos = Repositories(s)
            contact = repos.contacts.get_by_address("test", "u1-0")
            assert contact is not None
            message = repos.outbox.get_by_key(f"bc:{bid}:{contact.id}")
            assert message is not None and message.channel == "test" and message.address == "u1-0"
            text = message.payload["text"]
            assert shanxi_code(1) in text and "2026-03-31" in text and "晋环发〔2026〕1号" in text
            assert "2026-04-30" in text and "2026-05-31" in text and "2027-03-31" in text  # its own deadlines
            assert "企业名称" in text  # what to disclose
            assert message.payload["broadcast_id"] == bid
            b = repos.broadcasts.get_by_id(bid)
            assert b is not None and b.status == "done" and b.finished_at is not None
            invitations = repos.invitations.list_enterprise_invitations(import_id)
            assert len(invitations) == 2

    def test_a_crash_midway_resumes_without_duplicates(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        officer_id, import_id = listed
        bid = plan(sessions, officer_id, import_id)
        scope = officer_scope(sessions, officer_id)

        def crash_after_first_batch(p: Progress) -> None:
            raise Crash

        with pytest.raises(Crash):
            fan_out(sessions, scope, bid, today=TODAY, batch_size=2, on_progress=crash_after_first_batch)
        assert len(outbox_keys(sessions, bid)) == 3  # the first batch (enterprises 1 and 2) committed
        with sessions() as s:
            b = Repositories(s).broadcasts.get_by_id(bid)
            assert b is not None and b.status == "sending"
        done = resume(sessions, scope, bid, today=TODAY, batch_size=2)
        assert done.done and done.queued == 2
        keys = outbox_keys(sessions, bid)
        assert len(keys) == len(set(keys)) == 5

    def test_a_rerun_from_the_start_writes_nothing_twice(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        officer_id, import_id = listed
        bid = plan(sessions, officer_id, import_id)
        scope = officer_scope(sessions, officer_id)
        fan_out(sessions, scope, bid, today=TODAY)
        with sessions.begin() as s:  # as if the cursor had been lost: redo every batch
            from storage import Broadcast

            b = s.get(Broadcast, bid)
            assert b is not None
            b.status, b.resume_after = "sending", 0
        again = resume(sessions, scope, bid, today=TODAY)
        assert again.queued == 0
        assert len(outbox_keys(sessions, bid)) == 5
        with sessions() as s:
            assert len(Repositories(s).invitations.list_enterprise_invitations(import_id)) == 2
        with sessions() as s:
            report = delivery_report(Repositories(s), scope, bid)
        assert (report.planned, report.unreachable, report.invited) == (5, 2, 2)

    def test_the_delivery_report_follows_the_outbox(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        officer_id, import_id = listed
        bid = plan(sessions, officer_id, import_id)
        scope = officer_scope(sessions, officer_id)
        fan_out(sessions, scope, bid, today=TODAY)
        with sessions.begin() as s:
            repos = Repositories(s)
            now = utcnow()
            claimed = repos.outbox.claim_batch("test", 10, "w1", now)
            assert len(claimed) == 5
            repos.outbox.mark_sent(claimed[0], now=now)
            repos.outbox.mark_sent(claimed[1], now=now)
            repos.outbox.mark_failed(claimed[2], error="blocked", retry_at=None)
            repos.outbox.mark_failed(claimed[3], error="timeout", retry_at=now + timedelta(minutes=5))
        with sessions() as s:
            report = delivery_report(Repositories(s), scope, bid)
        assert report.to_dict() == {"broadcast_id": bid, "status": "done", "planned": 5, "sent": 2, "failed": 1,
                                    "pending": 2, "unreachable": 2, "invited": 2, "reached": 4}

    def test_unsubscribed_or_unconsented_contacts_are_not_messaged(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        officer_id, import_id = listed
        with sessions.begin() as s:
            repos = Repositories(s)
            contact = repos.contacts.get_by_address("test", "u2-0")
            assert contact is not None
            repos.contacts.unsubscribe(contact, NOW)
        bid = plan(sessions, officer_id, import_id)
        done = fan_out(sessions, officer_scope(sessions, officer_id), bid, today=TODAY)
        assert (done.queued, done.unreachable) == (4, 3)

    def test_the_invitation_sheet_lists_the_unreachable_with_their_codes(
        self, sessions: sessionmaker[Session], listed: tuple[int, int]
    ) -> None:
        officer_id, import_id = listed
        with sessions.begin() as s:
            repos = Repositories(s)
            e = repos.enterprises.get_by_credit_code(shanxi_code(5))
            assert e is not None
            repos.enterprises.update(e, name='=HYPERLINK("http://evil")')  # must stay text in the sheet
            officer = repos.officers.get_by_id(officer_id)
            assert officer is not None
            data = invitation_sheet_xlsx(repos, officer, import_id)
        sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
        rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
        assert [r[1] for r in rows] == [shanxi_code(5), shanxi_code(6)]
        assert all(sheet.cell(row=r, column=1).data_type == "s" for r in (2, 3))
        with sessions() as s:
            codes = {i.code for i in Repositories(s).invitations.list_enterprise_invitations(import_id)}
        assert {r[2] for r in rows} == codes
        assert all(f"绑定 {r[2]}" in str(r[3]) for r in rows)


class TestGeneral:
    @pytest.fixture
    def region(self, sessions: sessionmaker[Session]) -> int:
        """Enterprises: 1 (Taiyuan, 3011, list of 2026-03-31), 2 (Datong, 2521, no cycle), 3 (Shandong)."""
        officer = add_officer(sessions)
        import_list(sessions, officer.id, [row(1)])
        with sessions.begin() as s:
            repos = Repositories(s)
            e1 = repos.enterprises.get_by_credit_code(shanxi_code(1))
            assert e1 is not None
            repos.enterprises.update(e1, industry_code="3011")
            e2 = repos.enterprises.add(credit_code=shanxi_code(2, "0200"), province="shanxi", city="大同市",
                                       industry_code="2521")
            e3 = repos.enterprises.add(credit_code=credit_code("91370100MA0000003"), province="shandong",
                                       industry_code="3011")
            for e in (e1, e2, e3):
                add_contact(repos, f"g{e.id}", enterprise_id=e.id)
        return officer.id

    def send(self, sessions: sessionmaker[Session], officer_id: int, filters: Filters,
             today: date = TODAY) -> set[str]:
        with sessions.begin() as s:
            repos = Repositories(s)
            officer = repos.officers.get_by_id(officer_id)
            assert officer is not None
            bid = plan_general(repos, officer, "请于月底前报送审核进展。", filters).id
        fan_out(sessions, officer_scope(sessions, officer_id), bid, today=today)
        with sessions() as s:
            rows = s.scalars(select(OutboxMessage).where(
                OutboxMessage.idempotency_key.startswith(broadcast_key_prefix(bid))))
            out = {r.address for r in rows}
            for r in s.scalars(select(OutboxMessage)):
                if r.idempotency_key.startswith(broadcast_key_prefix(bid)):
                    assert "请于月底前报送审核进展。" in r.payload["text"]
            return out

    def test_the_whole_jurisdiction_and_nothing_outside(self, sessions: sessionmaker[Session], region: int) -> None:
        assert self.send(sessions, region, Filters()) == {"g1", "g2"}

    def test_filters(self, sessions: sessionmaker[Session], region: int) -> None:
        assert self.send(sessions, region, Filters(industry_prefix="30")) == {"g1"}
        assert self.send(sessions, region, Filters(ground="pollution")) == {"g1"}
        assert self.send(sessions, region, Filters(ground="energy")) == set()
        assert self.send(sessions, region, Filters(status="due_soon", within_days=30)) == {"g1"}
        assert self.send(sessions, region, Filters(status="overdue")) == set()
        assert self.send(sessions, region, Filters(status="overdue"), today=date(2026, 5, 2)) == {"g1"}
        assert self.send(sessions, region, Filters(status="done")) == set()

    def test_a_city_officer_reaches_only_the_city(self, sessions: sessionmaker[Session], region: int) -> None:
        city = add_officer(sessions, "shanxi", city="太原", name="李四")
        assert self.send(sessions, city.id, Filters()) == {"g1"}

    def test_bad_filters_and_texts_are_refused(self, sessions: sessionmaker[Session], region: int) -> None:
        with sessions.begin() as s:
            repos = Repositories(s)
            officer = repos.officers.get_by_id(region)
            assert officer is not None
            for filters, text in ((Filters(industry_prefix="A30"), "x"), (Filters(industry_prefix="水泥"), "x"),
                                  (Filters(ground="noise"), "x"),
                                  (Filters(status="late"), "x"), (Filters(), "  "), (Filters(), "x" * 2001)):
                with pytest.raises(BroadcastError):
                    plan_general(repos, officer, text, filters)

    def test_the_count_of_rows_matches_the_keys(self, sessions: sessionmaker[Session], region: int) -> None:
        self.send(sessions, region, Filters())
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_the_industry_of_an_imported_list_is_stored_and_filters_broadcasts(sessions: sessionmaker[Session]) -> None:
    from storage.models import ListEntry

    officer = add_officer(sessions)
    header = ("企业名称", "统一社会信用代码", "审核依据", "名单公布日期", "文号", "市/县", "行业", "联系人", "联系电话")
    rows = [[*row(1), "炼焦", "王强", "13812345678"], [*row(2), "3011", "", ""], [*row(3), "", "", ""]]
    p = read_list(csv_bytes(rows, header=header), "industries.csv", Jurisdiction("shanxi"), today=TODAY)
    assert p.ok
    with sessions.begin() as s:
        repos = Repositories(s)
        current = repos.officers.get_by_id(officer.id)
        assert current is not None
        import_rows(repos, current, p, accept_partial=False, today=TODAY, policy=ReminderPolicy(), now=NOW)
    bind_contacts(sessions, {1: 1, 2: 1, 3: 1})
    with sessions() as s:
        repos = Repositories(s)
        found = {i: repos.enterprises.get_by_credit_code(shanxi_code(i)) for i in (1, 2, 3)}
        assert {i: e.industry_code for i, e in found.items() if e} == {1: "2521", 2: "3011", 3: None}
        entry = s.scalars(select(ListEntry).where(ListEntry.enterprise_id == found[1].id)).one()  # type: ignore[union-attr]
        assert (entry.contact_name, entry.contact_phone) == ("王强", "13812345678")
    for prefix, expected in (("25", {"u1-0"}), ("炼焦", {"u1-0"}), ("C30", {"u2-0"})):
        with sessions.begin() as s:
            repos = Repositories(s)
            current = repos.officers.get_by_id(officer.id)
            assert current is not None
            bid = plan_general(repos, current, "请报送进展。", Filters(industry_prefix=prefix)).id
        fan_out(sessions, Jurisdiction("shanxi"), bid, today=TODAY)
        with sessions() as s:
            rows_ = s.scalars(select(OutboxMessage).where(
                OutboxMessage.idempotency_key.startswith(broadcast_key_prefix(bid))))
            assert {r.address for r in rows_} == expected, prefix

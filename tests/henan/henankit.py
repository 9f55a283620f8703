"""Helpers of the Henan form's tests: an eligible enterprise in the real database, a chat through
`henan_form.handle` as the dispatcher calls it, and reading the XLSX back."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from handlers.henan_form import STATE_KEY, handle
from handlers.messages import Inbound, Outbound
from storage import Repositories

TODAY = date(2026, 4, 1)
NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)

# What the contact types, in the order the form asks when the enterprise's name, code and industry are
# known (eia 是 asks its number; permit and auditor 否 skip theirs).
FILL: list[tuple[str, str]] = [
    ("address", "河南省郑州市金水区经三路1号"), ("legal_representative", "王强"), ("output_10k_yuan", "1.2亿"),
    ("energy_tce", "3500.5吨标煤"), ("pollutants", "COD 12吨，SO2 3吨"), ("products", "甲醇 5万吨"),
    ("contact_name", "李华"), ("contact_title", "环保科长"), ("mobile", "138 1234 5678"),
    ("email", "lihua@example.com"), ("eia_accepted", "是"), ("eia_number", "豫环审〔2020〕8号"), ("has_permit", "否"),
    ("auditor_intent", "否"), ("restructuring", "否"), ("filled_by", "李华"),
]
STORED: dict[str, Any] = {
    "address": "河南省郑州市金水区经三路1号", "legal_representative": "王强", "output_10k_yuan": 12000.0,
    "energy_tce": 3500.5, "pollutants": "COD 12吨，SO2 3吨", "products": "甲醇 5万吨", "contact_name": "李华",
    "contact_title": "环保科长", "mobile": "13812345678", "email": "lihua@example.com", "eia_accepted": True,
    "eia_number": "豫环审〔2020〕8号", "has_permit": False, "auditor_intent": False, "restructuring": False,
    "filled_by": "李华", "filled_on": "2026-04-01",
}


def henan_code(n: int) -> str:
    body = f"914101{n:011d}"
    return body + uscc.calc_check_digit(body)


def add_enterprise(sessions: sessionmaker[Session], user: str, *, province: str = "henan",
                   obligation: str = "voluntary", eligible: bool | None = True, n: int = 1,
                   city: str | None = "郑州市", locale: str = "zh_CN") -> int:
    """A consented contact bound to an enterprise whose latest assessment has the given verdict."""
    with sessions.begin() as session:
        repos = Repositories(session)
        enterprise = repos.enterprises.add(credit_code=henan_code(n), name=f"河南企业{n}有限公司", province=province,
                                           city=city, industry_code="2614")
        repos.assessments.add(facts={"province": province, "industry_code": "2614"}, as_of=TODAY,
                              obligation=obligation, result={"voluntary": {"eligible": eligible}},
                              pack_versions={}, enterprise_id=enterprise.id)
        contact = repos.contacts.add("test", user)
        repos.contacts.record_consent(contact, NOW)
        repos.contacts.bind_enterprise(contact, enterprise.id)
        repos.conversations.save(contact.id, {"stage": "done", "locale": locale, "facts": {}})
        return enterprise.id


class Chat:
    """Messages through `henan_form.handle` as the dispatcher calls it first; None means 'not for the form'."""

    def __init__(self, sessions: sessionmaker[Session], user: str) -> None:
        self.sessions, self.user = sessions, user
        self.links: list[str] = []
        self.last: list[Outbound] = []
        self.passed_state: dict[str, Any] | None = None

    def say(self, text: str | None = None, choice: str | None = None) -> list[Outbound] | None:
        with self.sessions.begin() as session:
            repos = Repositories(session)
            contact = repos.contacts.add_if_absent("test", self.user)
            conversation = repos.conversations.get_by_contact_id(contact.id)
            state = dict(conversation.state) if conversation is not None else None
            out = handle(repos, contact, state, Inbound("test", self.user, text=text, choice=choice), today=TODAY,
                         file_url=self.link)
            self.passed_state = state
            self.last = out or []
            return out

    def link(self, token: str) -> str:
        self.links.append(token)
        return f"https://qs.example/forms/henan/{token}.xlsx"

    def text(self, text: str | None = None, choice: str | None = None) -> str:
        out = self.say(text, choice)
        assert out is not None, text
        return "\n".join(o.text for o in out)

    def choice_ids(self) -> list[str]:
        return [c.id for c in self.last[-1].choices] if self.last else []

    def state(self) -> dict[str, Any] | None:
        with self.sessions() as session:
            repos = Repositories(session)
            contact = repos.contacts.get_by_address("test", self.user)
            assert contact is not None
            conversation = repos.conversations.get_by_contact_id(contact.id)
            return None if conversation is None else dict(conversation.state)

    def form(self) -> dict[str, Any] | None:
        state = self.state()
        return None if state is None else state.get(STATE_KEY)

    def fill(self, upto: str | None = None) -> str:
        """Answer every field (until `upto`, not answered); the last reply's text."""
        last = self.text("申请表")
        for key, value in FILL:
            if key == upto:
                break
            last = self.text(value)
        return last


def sheet(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def right_of(ws: Any, label: str) -> Any:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label:
                return ws.cell(row=cell.row, column=cell.column + 1).value
    raise AssertionError(f"no cell {label!r}")

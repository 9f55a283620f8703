"""Helpers for the officer tests: credit codes, list files (CSV in any encoding, XLSX), officers, contacts."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime

import openpyxl
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from handlers.officers import create_officer
from storage import Contact, Officer, Repositories

TODAY = date(2026, 4, 1)
LISTED = date(2026, 3, 31)
NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
HEADER = ("企业名称", "统一社会信用代码", "审核依据", "名单公布日期", "文号", "市/县")


def credit_code(body: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return body + uscc.calc_check_digit(body)


def shanxi_code(n: int, city: str = "0100") -> str:
    """A valid code registered in Shanxi (division 14xxxx), distinct for each n."""
    return credit_code(f"9114{city}MA{n:07d}")


def shandong_code(n: int) -> str:
    return credit_code(f"913701{n:011d}")


def wrong_check(code: str) -> str:
    """The code with a wrong (but well-formed) check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:-1] + next(c for c in alphabet if c != code[-1])


def row(n: int, *, name: str | None = None, grounds: str = "超标", day: str = "2026-03-31",
        number: str = "晋环发〔2026〕1号", place: str = "太原市/清徐县", code: str | None = None) -> list[str]:
    return [f"企业{n}有限公司" if name is None else name, code or shanxi_code(n), grounds, day, number, place]


def csv_bytes(rows: Sequence[Sequence[object]], *, encoding: str = "utf-8", header: Sequence[str] = HEADER) -> bytes:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]], *, header: Sequence[str] = HEADER, title: str | None = None,
               write_only: bool = False) -> bytes:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    assert sheet is not None
    if title is not None:
        sheet.append([title])
    sheet.append(list(header))
    for r in rows:
        sheet.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def add_officer(sessions: sessionmaker[Session], province: str = "shanxi", city: str | None = None,
                county: str | None = None, role: str = "ecology", name: str = "张三") -> Officer:
    with sessions.begin() as session:
        officer, _ = create_officer(Repositories(session), name=name, role=role, province=province, city=city,
                                    county=county, now=NOW)
        return officer


def add_contact(repos: Repositories, user: str, *, enterprise_id: int | None = None, consent: bool = True,
                channel: str = "test", locale: str = "zh_CN") -> Contact:
    contact = repos.contacts.add(channel, user, locale=locale)
    if consent:
        repos.contacts.record_consent(contact, NOW)
    if enterprise_id is not None:
        repos.contacts.bind_enterprise(contact, enterprise_id)
    return contact

"""Each kind of field of the Henan form, read by what it is (handlers/henan_fields.py)."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.henan_fields import FIELDS, PROBLEMS, read_value


def ok(key: str, text: str) -> Any:
    value, problem = read_value(FIELDS[key], text, ("返回", "back", "帮助", "help"))
    assert problem is None, (key, text, problem)
    return value


def refused(key: str, text: str) -> str:
    value, problem = read_value(FIELDS[key], text, ("返回", "back", "帮助", "help"))
    assert value is None and problem is not None, (key, text, value)
    assert "{field}" in problem
    return problem


@pytest.mark.parametrize("text", ["河南省郑州市金水区经三路1号", "郑州市高新区科学大道100号",
                                  "郑州经济技术开发区第九大街", "No. 1 Jingsan Road, Jinshui District, Zhengzhou"])
def test_addresses(text: str) -> None:
    assert ok("address", text) == text


@pytest.mark.parametrize("text", ["王强", "欧阳娜娜", "13812345678", "lihua@example.com", "郑州", "河南省郑州市",
                                  "返回", "Wang Qiang"])
def test_not_addresses(text: str) -> None:
    assert refused("address", text) == PROBLEMS["address"]


@pytest.mark.parametrize(("text", "value"), [("王强", "王强"), ("王 强", "王强"), ("欧阳娜娜", "欧阳娜娜"),
                                             ("阿不都·热合曼", "阿不都·热合曼"), ("Wang Qiang", "Wang Qiang"),
                                             ("John O'Neil", "John O'Neil")])
def test_names(text: str, value: str) -> None:
    assert ok("legal_representative", text) == value


@pytest.mark.parametrize("text", ["返回", "back", "帮助", "王", "王强强强强", "河南省郑州市金水区经三路1号",
                                  "郑州市", "13812345678", "张经理", "manager", "没有", "不知道",
                                  "河南绿源环境咨询有限公司", "Li2"])
def test_not_names(text: str) -> None:
    assert refused("legal_representative", text) == PROBLEMS["person"]


@pytest.mark.parametrize("text", ["经理", "总经理", "环保科长", "技术部负责人", "厂长", "主任", "高级工程师",
                                  "董事长兼总经理", "Environmental Manager", "CEO"])
def test_job_titles(text: str) -> None:
    assert ok("contact_title", text) == text


@pytest.mark.parametrize("text", ["13812345678", "0371-65509953", "李华", "河南省郑州市金水区经三路1号",
                                  "lihua@example.com"])
def test_not_job_titles(text: str) -> None:
    assert refused("contact_title", text) == PROBLEMS["title"]


@pytest.mark.parametrize(("text", "value"), [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("19912345678", "19912345678"), ("0371-65509953", "0371-65509953"), ("037165509953", "0371-65509953"),
    ("(0371) 6550 9953", "0371-65509953"), ("010-12345678", "010-12345678"),
    ("0371-65509953转801", "0371-65509953-801"),
])
def test_phones(text: str, value: str) -> None:
    assert ok("mobile", text) == value


@pytest.mark.parametrize("text", ["1381234567", "23812345678", "12812345678", "65509953", "0371-0550995", "李华",
                                  "12345"])
def test_not_phones(text: str) -> None:
    assert refused("mobile", text) == PROBLEMS["phone"]


@pytest.mark.parametrize(("text", "value"), [("两个亿", 20000.0), ("5000万", 5000.0), ("1.2亿", 12000.0),
                                             ("12000", 12000.0), ("12,000万元", 12000.0), ("五千万", 5000.0),
                                             ("8000000元", 800.0),
                                             ("50 million yuan", 5000.0), ("1.2 billion", 120000.0),
                                             ("约3000万", 3000.0)])
def test_amounts_in_10k_yuan(text: str, value: float) -> None:
    assert ok("output_10k_yuan", text) == value


@pytest.mark.parametrize("text", ["很多", "不知道", "13812345678", "about a lot", "返回"])
def test_not_amounts(text: str) -> None:
    assert refused("output_10k_yuan", text) == PROBLEMS["amount_10k"]


@pytest.mark.parametrize(("text", "value"), [("3500", 3500.0), ("3500.5吨标煤", 3500.5), ("1.2万吨", 12000.0),
                                             ("三千五百吨", 3500.0), ("3,500 tce", 3500.0)])
def test_energy(text: str, value: float) -> None:
    assert ok("energy_tce", text) == value


@pytest.mark.parametrize(("text", "value"), [("91130200699229617X001P", "91130200699229617X001P"),
                                             ("91130200699229617x001p", "91130200699229617X001P"),
                                             ("91130200699229617X 002P", "91130200699229617X002P"),
                                             ("H9410100000000123a001P", "H9410100000000123A001P")])
def test_permit_numbers(text: str, value: str) -> None:
    """HJ 608-2017: the 18-character credit code (or H9… without one), a 3-digit sequence number, a letter."""
    assert ok("permit_number", text) == value


def test_not_permit_numbers() -> None:
    assert refused("permit_number", "91130200699229617X001") == PROBLEMS["permit_number"]
    assert refused("permit_number", "91130200699229617X") == PROBLEMS["permit_number"]
    assert refused("permit_number", "豫环审〔2020〕8号") == PROBLEMS["permit_number"]
    assert refused("permit_number", "91130200699229617Y001P") == PROBLEMS["permit_checksum"]


def test_yes_no_emails_dates_codes_and_documents() -> None:
    assert ok("has_permit", "是的") is True and ok("has_permit", "没有") is False and ok("has_permit", "no") is False
    assert refused("has_permit", "也许") == PROBLEMS["yes_no"]
    assert refused("has_permit", "返回") == PROBLEMS["yes_no"]
    assert ok("email", "ＬＩＨＵＡ@example.com") == "LIHUA@example.com"
    assert refused("email", "lihua@example") == PROBLEMS["email"]
    assert ok("filled_on", "2026年4月2日") == "2026-04-02"
    assert refused("filled_on", "2026-02-30") == PROBLEMS["date"]
    assert ok("industry_code", "2614") == "2614"
    assert refused("industry_code", "9999") == PROBLEMS["industry_code"]
    assert ok("industry_name", "2614") == "有机化学原料制造"
    assert ok("eia_number", "豫环审〔2020〕8号；郑环验[2021]3号") == "豫环审〔2020〕8号；郑环验[2021]3号"
    assert refused("eia_number", "已通过") == PROBLEMS["doc_number"]
    assert ok("pollutants", "COD 12吨，SO2 3吨") == "COD 12吨，SO2 3吨"  # kept as typed (full-width comma)
    assert ok("pollutants", "无") == "无"
    assert refused("products", "甲醇") == PROBLEMS["products"]
    assert ok("auditor_name", "河南绿源环境咨询有限公司") == "河南绿源环境咨询有限公司"
    assert refused("auditor_name", "李华") == PROBLEMS["org_name"]
    assert refused("address", "x" * 501) == PROBLEMS["too_long"]
    assert refused("address", "  ") == PROBLEMS["empty"]

"""The fields of Henan's 自愿性清洁生产审核申请表 (the annex of 豫工信办节〔2018〕24号, seed 004) and how each
answer is checked: every field is validated by what it is (an address, a person's name, a job title, a
phone number, an amount, a permit number...). `read_value` returns the value to store, or the msgid of a
re-ask that names the field (`{field}`) and says what is expected; a refused value is never stored.

The labels are the form's own (printed in the XLSX, `handlers/henan_form.application_xlsx`); `name` is
the field's short name in the contact's language (the summary and the re-asks).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum.cn import uscc

from handlers import parse
from rules.i18n import N_
from rules.industries import get_class

Kind = Literal["org_name", "address", "person", "title", "phone", "email", "amount_10k", "tce", "emissions",
               "products", "yes_no", "doc_number", "permit_number", "credit_code", "industry_name",
               "industry_code", "date"]
Value = str | bool | int | float
MAX_LENGTH = 500
KEEP_AS_TYPED = frozenset({"address", "org_name", "title", "emissions", "products", "doc_number", "industry_name"})


@dataclass(frozen=True, slots=True)
class FormField:
    """One field. `source`: "enterprise" (filled from the bound enterprise when known), "today", or "ask".
    `when`: asked (and printed) only if that yes/no field was answered 是. `aliases`: more words that name
    the field when a contact corrects it from the summary."""

    key: str
    label: str
    name: str
    prompt: str
    kind: Kind
    source: str = "ask"
    when: str | None = None
    aliases: tuple[str, ...] = ()


FORM_FIELDS: tuple[FormField, ...] = (
    FormField("name", "企业名称（加盖公章）", N_("Enterprise name"),
              N_("What is the enterprise's full registered name?"), "org_name", "enterprise",
              aliases=("企业名称", "名称", "公司名称", "企业", "name")),
    FormField("address", "注册地址", N_("Registered address"),
              N_("What is the enterprise's registered address (province, city, district, road and number)?"),
              "address", aliases=("地址", "address")),
    FormField("legal_representative", "法定代表人", N_("Legal representative"),
              N_("Who is the enterprise's legal representative?"), "person",
              aliases=("法人", "法人代表", "法定代表人", "legal representative")),
    FormField("credit_code", "社会统一信用代码", N_("Unified social credit code"),
              N_("What is the enterprise's unified social credit code (18 characters)?"), "credit_code",
              "enterprise", aliases=("统一社会信用代码", "信用代码", "credit code")),
    FormField("industry_name", "所属行业（按照《国民经济行业分类》）", N_("Industry, by the national classification"),
              N_("Which industry is the enterprise in, as named in the national industry classification "
                 "(GB/T 4754)?"), "industry_name", "enterprise", aliases=("所属行业", "行业", "industry")),
    FormField("industry_code", "行业代码", N_("Industry code"),
              N_("What is the four-digit industry code (GB/T 4754)?"), "industry_code", "enterprise",
              aliases=("代码", "industry code")),
    FormField("output_10k_yuan", "企业上一年工业产值（万元）", N_("Last year's industrial output value"),
              N_("What was last year's industrial output value? A number in 10,000 yuan (e.g. 12000), or an "
                 "amount with its unit."), "amount_10k", aliases=("工业产值", "产值", "output")),
    FormField("energy_tce", "企业上一年用能总量（吨标煤）", N_("Last year's total energy use"),
              N_("What was last year's total energy use, in tonnes of standard coal equivalent?"), "tce",
              aliases=("用能总量", "用能", "能耗", "energy")),
    FormField("pollutants", "企业上一年主要污染物排放量", N_("Last year's emissions of the main pollutants"),
              N_("What were last year's emissions of the main pollutants, with their amounts (e.g. COD 12 t, "
                 "SO2 3 t)?"), "emissions", aliases=("污染物", "排放量", "污染物排放量", "emissions", "pollutants")),
    FormField("products", "主要产品及产量", N_("Main products and output"),
              N_("What are the main products and their output (e.g. methanol 50,000 t)?"), "products",
              aliases=("产品", "产量", "主要产品", "products")),
    FormField("contact_name", "联系人", N_("Contact person"),
              N_("Who is the contact person for this application?"), "person", aliases=("contact",)),
    FormField("contact_title", "职 务", N_("Contact person's job title"),
              N_("What is the contact person's job title (e.g. manager, director, engineer)?"), "title",
              aliases=("职务", "职位", "title", "job title", "position")),
    FormField("mobile", "手 机", N_("Phone"),
              N_("What is the contact person's phone number (a mobile, or a landline with its area code)?"),
              "phone", aliases=("手机", "电话", "手机号", "phone", "mobile")),
    FormField("email", "邮 箱", N_("Email"), N_("What is the contact person's email address?"), "email",
              aliases=("邮箱", "电子邮箱", "email", "e-mail")),
    FormField("eia_accepted", "企业是否已通过当地环保部门组织的环评和环境保护设施竣工验收",
              N_("EIA and completion acceptance passed"),
              N_("Has the enterprise passed the environmental impact assessment and the completion acceptance "
                 "of its environmental protection facilities organised by the local environment department?"),
              "yes_no", aliases=("环评", "竣工验收", "eia")),
    FormField("eia_number", "环评和环境保护设施竣工验收批文号", N_("EIA and acceptance approval numbers"),
              N_("What are the approval numbers of the EIA and of the completion acceptance?"), "doc_number",
              when="eia_accepted", aliases=("批文号", "环评批文号", "批复文号", "approval number")),
    FormField("has_permit", "企业是否已获得排污许可证", N_("Pollutant discharge permit held"),
              N_("Does the enterprise hold a pollutant discharge permit?"), "yes_no",
              aliases=("排污许可证", "许可证", "permit")),
    FormField("permit_number", "排污许可证编号", N_("Pollutant discharge permit number"),
              N_("What is the pollutant discharge permit number (22 characters: the credit code, a 3-digit "
                 "number and a letter)?"), "permit_number", when="has_permit",
              aliases=("许可证编号", "排污许可证号", "permit number")),
    FormField("auditor_intent", "企业是否已与第三方审核机构有合同意向",
              N_("Intended contract with a third-party auditor"),
              N_("Does the enterprise already intend to contract a third-party audit institution?"), "yes_no",
              aliases=("第三方", "合同意向", "auditor")),
    FormField("auditor_name", "有意向的第三方审核机构名称", N_("Intended audit institution"),
              N_("What is the name of that audit institution?"), "org_name", when="auditor_intent",
              aliases=("审核机构", "机构名称", "audit institution")),
    FormField("restructuring", "近两年内是否列入区县关停并转等结构调整计划",
              N_("On a county plan to close, stop, merge or convert in the last two years"),
              N_("In the last two years, was the enterprise put on a district or county plan to close, stop, "
                 "merge or convert it?"), "yes_no", aliases=("关停并转", "结构调整", "restructuring")),
    FormField("filled_by", "填表人", N_("Filled in by"), N_("Who fills in this form?"), "person",
              aliases=("filled by",)),
    FormField("filled_on", "填表日期", N_("Date of filling in"),
              N_("Which date should the form carry (e.g. 2026-04-01)?"), "date", "today",
              aliases=("日期", "date")),
)
FIELDS = {f.key: f for f in FORM_FIELDS}

# What each kind expects, said when a value is refused ({field} is the field's name).
PROBLEMS: dict[str, str] = {
    "org_name": N_("{field} must be the full name of an organisation, ending with a word such as company, "
                   "factory, centre or institute (e.g. Henan Lvyuan Environmental Consulting Co., Ltd.)."),
    "address": N_("{field} must be an address with the province, city or district and the road and number "
                  "(e.g. No. 1 Jingsan Road, Jinshui District, Zhengzhou, Henan), not a person's name or a phone "
                  "number."),
    "person": N_("{field} must be a person's name: 2 to 4 Chinese characters, or a name in Latin letters "
                 "(e.g. Wang Qiang); not an address, a phone number, a job title or a command."),
    "title": N_("{field} must be a job title such as manager, director, head of office, factory director, "
                "engineer or person in charge; not a phone number or a name."),
    "phone": N_("{field} must be a mobile number (11 digits starting with 13 to 19, e.g. 13812345678) or a "
                "landline with its area code (e.g. 0371-65509953)."),
    "email": N_("{field} must be an email address like name@example.com."),
    "amount_10k": N_("{field} must be an amount: a number in 10,000 yuan (e.g. 12000), or with its unit "
                     "(e.g. 50 million yuan, 1.2 billion yuan)."),
    "tce": N_("{field} must be a number of tonnes of standard coal equivalent (e.g. 3500)."),
    "emissions": N_("{field} must name the pollutants with their amounts (e.g. COD 12 t, SO2 3 t), or say "
                    "none."),
    "products": N_("{field} must name the products with their output (e.g. methanol 50,000 t)."),
    "yes_no": N_("{field}: please answer yes or no."),
    "doc_number": N_("{field} must be approval document numbers: the issuer's abbreviation, the year in "
                     "brackets and the number of each approval."),
    "permit_number": N_("{field} must be the 22-character permit number: the 18-character unified social "
                        "credit code, a 3-digit sequence number and a letter (e.g. 91130200699229617X001P)."),
    "permit_checksum": N_("{field}: its first 18 characters are not a valid unified social credit code; "
                          "please check them."),
    "credit_code": N_("{field} must be the 18-character unified social credit code, check character included; "
                      "please check it."),
    "industry_name": N_("{field} must be the name of an industry of the national classification (e.g. organic "
                        "chemical raw materials manufacturing), or its four-digit code."),
    "industry_code": N_("{field} must be a four-digit class code of GB/T 4754-2017 (e.g. 2614)."),
    "date": N_("{field} must be a date, e.g. 2026-04-01."),
    "empty": N_("{field}: please type an answer."),
    "too_long": N_("{field}: that answer is too long (500 characters at most)."),
}

# -- what things look like -------------------------------------------------------------------------

HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
CHINESE_NAME = re.compile(rf"[{HAN}]{{2,4}}")
MINORITY_NAME = re.compile(rf"[{HAN}]{{1,10}}(?:[·•・][{HAN}]{{1,10}})+")
LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z'.\-]*(?: [A-Za-z][A-Za-z'.\-]*){0,4}")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
MOBILE = re.compile(r"1[3-9]\d{9}")
PERMIT = re.compile(r"([0-9A-Z]{18})(\d{3})([A-Z])")
DOC_NUMBER = re.compile(rf"[{HAN}A-Za-z]{{1,15}}\s*[〔\[【(〖]\s*(?:19|20)\d{{2}}\s*[〕\]】)〗]"
                        r"\s*(?:第\s*)?\d{1,6}\s*号")
NUMERAL = re.compile(r"\d|[零〇一二两三四五六七八九十百千万亿]")

ADMIN_WORDS = ("省", "市", "区", "县", "镇", "乡", "旗", "州", "盟", "自治")
STREET_WORDS = ("路", "街", "大道", "道", "巷", "弄", "胡同", "号", "村", "组", "园区", "工业园", "产业园",
                "开发区", "集聚区", "工业区", "大厦", "楼", "栋", "幢", "室", "层")
LATIN_ADDRESS_WORDS = ("road", "rd", "street", "st", "avenue", "ave", "lane", "district", "city", "province",
                       "county", "town", "township", "village", "zone", "park", "no", "building", "floor", "room",
                       "henan", "zhengzhou")
TITLE_WORDS = ("经理", "总监", "主任", "厂长", "矿长", "工程师", "负责人", "主管", "科长", "处长", "部长", "局长",
               "所长", "院长", "站长", "组长", "班长", "队长", "董事", "总裁", "主席", "书记", "专员", "助理", "秘书",
               "会计", "出纳", "文员", "职员", "干事", "总工", "法人", "代表", "老板", "股东", "执行", "总经理",
               "副总", "高管", "专干", "管理")
TITLE_ENDINGS = ("员", "长", "师", "总", "官")
LATIN_TITLE_WORDS = ("manager", "director", "head", "chief", "engineer", "officer", "supervisor", "president",
                     "chairman", "chairwoman", "chair", "secretary", "assistant", "specialist", "coordinator", "lead",
                     "leader", "ceo", "cto", "cfo", "coo", "vp", "deputy", "owner", "founder", "accountant", "clerk",
                     "technician", "administrator", "representative", "partner", "executive", "staff", "in charge")
ORG_WORDS = ("公司", "厂", "集团", "中心", "研究院", "研究所", "设计院", "事务所", "院", "所", "协会", "学会",
             "站", "合作社", "机构", "企业", "大学", "学院")
LATIN_ORG_WORDS = ("co", "co.", "company", "ltd", "ltd.", "limited", "inc", "inc.", "corp", "corp.", "corporation",
                   "group", "llc", "gmbh", "plc", "institute", "center", "centre", "consulting", "association",
                   "factory", "firm")
PLACE_ENDINGS = ("省", "市", "区", "县", "镇", "乡", "路", "街", "号", "村", "公司", "厂")
NONE_WORDS = ("无", "没有", "暂无", "无排放", "none", "nil", "0")
NOT_NAMES = ("你好", "您好", "谢谢", "不知道", "不清楚", "没有", "不是", "是的", "好的", "可以", "不用", "跳过",
             "申请表", "确认", "确定", "取消", "退出", "帮助", "返回", "菜单", "重来", "开始", "重新开始",
             "hello", "hi", "yes", "no", "none", "ok", "okay", "thanks", "unknown", "skip")
UNIT_WORDS = re.compile(r"吨标煤|万吨|千吨|吨|公斤|千克|kg|t|万元|元|万|亿|千|百|十|个|台|套|件|立方米|m3|平方米|"
                        r"千瓦时|kwh|度|米|条|只|辆|箱|批|每年|/年|年")


def clean(text: str) -> str:
    """NFKC, control characters dropped, spaces folded; the case is kept (names, codes)."""
    t = unicodedata.normalize("NFKC", text)
    t = "".join(ch for ch in t if unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", t).strip()


def _bare(text: str) -> str:
    return re.sub(r"[\s,，。.!！~～、;；:：\"'“”‘’()（）\-]+", "", text).lower()


def looks_like_phone(text: str) -> bool:
    return read_phone(text) is not None or len(re.sub(r"\D", "", text)) >= 7


def looks_like_address(text: str) -> bool:
    t = clean(text)
    if "@" in t or len(t) < 5:
        return False
    if re.search(f"[{HAN}]", t):
        han = re.sub(rf"[^{HAN}0-9]", "", t)
        if len(han) < 6:
            return False
        admin = sum(1 for w in ADMIN_WORDS if w in t)
        street = sum(1 for w in STREET_WORDS if w in t)
        return street >= 1 and admin + street >= 2  # a road or a number, with a place or a second one
    words = re.findall(r"[a-z]+", t.lower())
    hits = sum(1 for w in words if w in LATIN_ADDRESS_WORDS)
    return hits >= 2 and len(t) >= 10 and bool(re.search(r"\d", t))


def looks_like_title(text: str) -> bool:
    t = clean(text)
    if re.search(f"[{HAN}]", t):
        return any(w in t for w in TITLE_WORDS) or t.endswith(TITLE_ENDINGS)
    low = f" {t.lower()} "
    return any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", low) for w in LATIN_TITLE_WORDS)


def looks_like_org(text: str) -> bool:
    t = clean(text)
    if re.search(f"[{HAN}]", t):
        return len(re.sub(rf"[^{HAN}]", "", t)) >= 4 and any(w in t for w in ORG_WORDS)
    words = re.findall(r"[a-z.]+", t.lower())
    return len(t) >= 5 and any(w in LATIN_ORG_WORDS or w.rstrip(".") in LATIN_ORG_WORDS for w in words)


def read_phone(text: str) -> str | None:
    """A mobile (13812345678) or a landline with its area code (0371-65509953, an extension kept as
    0371-65509953-801); None if neither."""
    t = clean(text).lower()
    ext = None
    m = re.search(r"(?:转|分机|ext\.?|x)\s*(\d{1,6})$", t)
    if m:
        ext, t = m.group(1), t[: m.start()]
    t = re.sub(r"^\s*(?:\+86|0086|\(\+86\)|\(86\))\s*", "", t)
    parts = [p for p in re.split(r"[\s\-()]+", t) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    digits = "".join(parts)
    if MOBILE.fullmatch(digits):
        return digits if ext is None else None
    if len(parts) >= 2 and parts[0].startswith("0") and 3 <= len(parts[0]) <= 4:
        area, rest = parts[0], parts[1:]
        if len(rest) == 2 and ext is None and len(rest[1]) <= 6 and re.fullmatch(r"[1-9]\d{6,7}", rest[0]):
            local, ext = rest
        else:
            local = "".join(rest)
    elif digits.startswith("0"):
        n = 3 if digits[:2] in ("01", "02") else 4
        area, local = digits[:n], digits[n:]
    else:
        return None
    if not re.fullmatch(r"0(?:[12]\d|[3-9]\d{2})", area) or not re.fullmatch(r"[1-9]\d{6,7}", local):
        return None
    return f"{area}-{local}" + (f"-{ext}" if ext else "")


# -- numbers -------------------------------------------------------------------------------------------


def _number_text(text: str) -> str:
    t = clean(text).lower().replace(",", "").replace("，", "")
    t = re.sub(r"(?<=\d)\s+(?=\d)", "", t)
    t = re.sub(r"个(?=[万亿])", "", t)  # 两个亿
    return re.sub(r"^(?:约|大约|大概|共|合计|总计|about|approx\.?|around)\s*", "", t)


def read_amount_10k(text: str) -> float | None:
    """An amount in 万元: 12000, 5000万, 1.2亿, 两个亿, 8000000元, 50 million (yuan), 1.2 billion."""
    t = _number_text(text)
    if not NUMERAL.search(t) or looks_like_phone_number_only(t):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(million|billion|thousand)?\s*(?:yuan|rmb|cny)?", t)
    if m and m.group(2):
        factor = {"thousand": 0.1, "million": 100.0, "billion": 100_000.0}[m.group(2)]
        value: float | None = float(m.group(1)) * factor
    elif m:
        value = float(m.group(1)) / (10_000 if re.search(r"yuan|rmb|cny", t) else 1)
    elif re.search(r"[a-z]", re.sub(r"yuan|rmb|cny", "", t)):
        return None
    else:
        value = parse.parse_money_10k(t)
    if value is None or not 0 <= value < 1e9:
        return None
    return round(value, 4)


def read_quantity(text: str) -> float | None:
    """Tonnes of standard coal: 3500, 3500.5吨标煤, 1.2万吨, 三千五百吨, 3,500 tce."""
    t = _number_text(text)
    if not NUMERAL.search(t) or looks_like_phone_number_only(t):
        return None
    rest = re.sub(r"tce|tonnes?|tons?|t|of|standard|coal|equivalent|\d|\.|\s", "", t)
    if re.search(r"[a-z]", rest):
        return None
    value = parse.parse_count(t)
    if value is None or not 0 <= value < 1e9:
        return None
    return round(value, 4)


def looks_like_phone_number_only(t: str) -> bool:
    return bool(re.fullmatch(r"\+?\d{11,}", t.replace("-", "").replace(" ", "")))


def _named_with_amount(text: str) -> bool:
    """Words (a pollutant, a product) and at least one amount."""
    t = clean(text).lower()
    if not NUMERAL.search(t) or "@" in t or looks_like_phone_number_only(t):
        return False
    words = UNIT_WORDS.sub("", re.sub(r"\d+(?:\.\d+)?", " ", t))
    words = re.sub(r"[零〇一二两三四五六七八九点]+", "", words)
    return len(re.sub(r"[\s,，。.;；:：、/()%]+", "", words)) >= 2


# -- the check ---------------------------------------------------------------------------------------


def read_value(f: FormField, text: str, commands: tuple[str, ...] = ()) -> tuple[Value | None, str | None]:
    """(value, None), or (None, the msgid saying what is expected; format it with field=the field's name).
    `commands` are command words, never a value."""
    raw = clean(text or "")
    if not raw:
        return None, PROBLEMS["empty"] if f.kind != "yes_no" else PROBLEMS["yes_no"]
    if len(raw) > MAX_LENGTH:
        return None, PROBLEMS["too_long"]
    if _bare(raw) in commands or raw.lower() in commands:
        return None, PROBLEMS[f.kind] if f.kind in PROBLEMS else PROBLEMS["empty"]
    reader = READERS[f.kind]
    value = reader(raw)
    if isinstance(value, Problem):
        return None, PROBLEMS[value.key]
    if value is None:
        return None, PROBLEMS[f.kind]
    if f.kind in KEEP_AS_TYPED and value == raw:
        return re.sub(r"\s+", " ", text.strip()), None  # full-width punctuation kept as typed
    return value, None


@dataclass(frozen=True, slots=True)
class Problem:
    key: str


def _org_name(t: str) -> Value | None:
    if looks_like_phone(t) or "@" in t or not looks_like_org(t):
        return None
    return t


def _address(t: str) -> Value | None:
    return t if looks_like_address(t) and not EMAIL.search(t) else None


def _person(t: str) -> Value | None:
    if _bare(t) in NOT_NAMES or re.search(r"\d|@", t) or parse.parse_unknown(t):
        return None
    if re.search(f"[{HAN}]", t):
        name = t.replace(" ", "")
        if not (CHINESE_NAME.fullmatch(name) or MINORITY_NAME.fullmatch(name)):
            return None
        if looks_like_title(name) or looks_like_org(name) or name.endswith(PLACE_ENDINGS):
            return None
        if len(name) == 2 and parse.parse_yes_no(name) is not None:  # 没有, 不是, 是的
            return None
        return name
    if not LATIN_NAME.fullmatch(t) or sum(ch.isalpha() for ch in t) < 2 or looks_like_title(t) or \
            looks_like_address(t) or looks_like_org(t):
        return None
    return t


def _title(t: str) -> Value | None:
    if re.search(r"\d{3,}", t) or looks_like_phone(t) or "@" in t or len(t) > 30 or looks_like_address(t):
        return None
    return t if looks_like_title(t) else None


def _phone(t: str) -> Value | None:
    return read_phone(t)


def _email(t: str) -> Value | None:
    t = t.replace(" ", "")
    return t if EMAIL.fullmatch(t) else None


def _amount(t: str) -> Value | None:
    return read_amount_10k(t)


def _tce(t: str) -> Value | None:
    return read_quantity(t)


def _emissions(t: str) -> Value | None:
    if _bare(t) in NONE_WORDS:
        return "无"
    return t if _named_with_amount(t) else None


def _products(t: str) -> Value | None:
    return t if _named_with_amount(t) else None


def _yes_no(t: str) -> Value | None:
    low = _bare(t)
    if low in ("yes", "1"):
        return True
    if low in ("no", "2"):
        return False
    return parse.parse_yes_no(t)


def _doc_number(t: str) -> Value | None:
    return t if DOC_NUMBER.search(t) else None


def _permit_number(t: str) -> Value | Problem | None:
    code = re.sub(r"[\s\-]", "", t).upper()
    m = PERMIT.fullmatch(code)
    if m is None:
        return None
    base = m.group(1)
    if not base.startswith("H9") and not uscc.is_valid(base):
        return Problem("permit_checksum")
    return code


def _credit_code(t: str) -> Value | None:
    code = re.sub(r"[\s\-]", "", t).upper()
    return code if uscc.is_valid(code) else None


def _industry_name(t: str) -> Value | None:
    if re.fullmatch(r"\d{4}", t):
        industry = get_class(t)
        return industry.name if industry is not None else None
    if re.search(r"\d|@", t) or len(t) > 60 or not re.search(f"[{HAN}A-Za-z]{{2}}", t):
        return None
    return None if looks_like_address(t) or _bare(t) in NOT_NAMES else t


def _industry_code(t: str) -> Value | None:
    code = re.sub(r"\s", "", t)
    return code if re.fullmatch(r"\d{4}", code) and get_class(code) is not None else None


def _date(t: str) -> Value | None:
    d = parse.parse_date(t)
    return d.isoformat() if d is not None and date(2000, 1, 1) <= d <= date(2100, 1, 1) else None


READERS: dict[str, Callable[[str], Value | Problem | None]] = {
    "org_name": _org_name, "address": _address, "person": _person, "title": _title, "phone": _phone,
    "email": _email, "amount_10k": _amount, "tce": _tce, "emissions": _emissions, "products": _products,
    "yes_no": _yes_no, "doc_number": _doc_number, "permit_number": _permit_number, "credit_code": _credit_code,
    "industry_name": _industry_name, "industry_code": _industry_code, "date": _date,
}


__all__ = ["FIELDS", "FORM_FIELDS", "PROBLEMS", "FormField", "Value", "read_phone", "read_value"]

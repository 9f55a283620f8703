"""Henan's 自愿性清洁生产审核申请表: filled from the conversation, downloaded as XLSX to stamp and submit.

The form is the annex of 豫工信节〔2018〕 (seed 004). A contact bound to a Henan enterprise whose latest
stored assessment is `voluntary` with `voluntary.eligible` true types 申请表 (or 自愿审核申请); the bot
fills what it already knows (the enterprise's name, credit code and industry, today's date) and asks
the rest one field at a time (`apply_step`, a pure sub-interview kept under `state["henan_form"]`).

Storage (no schema change): the finished answers live in the `kv` table.

- `henan:apply:<enterprise_id>` -> JSON `{"answers": {...}, "token": ..., "contact_id": ..., "submitted_on": ...}`;
  a new application of the same enterprise replaces the old one (and its link).
- `henan:form:<token>` -> the enterprise id, so that `GET /forms/henan/{token}.xlsx` finds it; the token
  is a random secret and the link itself is the credential (like the calendar link).

"Applicants" (what a Henan officer sees, `list_applicants`) are the enterprises with a
`henan:apply:` entry that are in Henan and whose latest assessment is still voluntary and eligible.

Wiring in handlers/dispatcher.py: `from handlers import henan_form`, and in `Dispatcher.dispatch`, right
after the invitation-code `redeem` block (before the reminder replies and the interview):

    if (form := henan_form.handle(repos, contact, state, inbound, today=self.today(),
                                  file_url=henan_form.form_url_from(self.calendar_url))) is not None:
        return form

and `routes = [..., *henan_routes(sessions)]` in bot/cli.py's run_server.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from handlers import parse
from handlers.messages import Choice, Inbound, Outbound
from handlers.officers import Jurisdiction, authorize
from rules.i18n import DEFAULT_LOCALE, LOCALES, N_, Gettext, gettext_for
from rules.industries import get_class
from storage import Contact, Enterprise, Officer, Repositories, utcnow

PROVINCE = "henan"
STATE_KEY = "henan_form"
APPLY_PREFIX = "henan:apply:"
TOKEN_PREFIX = "henan:form:"
TOKEN_BYTES = 24  # 32 URL-safe characters
TRIGGERS = ("申请表", "自愿审核申请", "自愿性审核申请", "自愿性清洁生产审核申请", "自愿性清洁生产审核申请表")
CANCEL = ("取消", "取消申请", "cancel", "/cancel", "退出")
TITLE = "自愿性清洁生产审核申请表"
STAMP_NOTE = "请加盖公章后报送县（市、区）工业和信息化主管部门"
MOBILE = re.compile(r"1\d{10}")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
INDUSTRY_CODE = re.compile(r"\d{4}")


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of the form. `kind`: text, number, mobile, email, yes_no, credit_code, industry_code, date.
    `source`: "enterprise" (known from the bound enterprise or its facts), "today", or "ask".
    `when`: asked (and printed) only if that yes/no field was answered 是."""

    key: str
    label: str
    prompt: str
    kind: str = "text"
    source: str = "ask"
    when: str | None = None


FORM_FIELDS: tuple[FormField, ...] = (
    FormField("name", "企业名称（加盖公章）", N_("What is the enterprise's full registered name?"),
              source="enterprise"),
    FormField("address", "注册地址", N_("What is the enterprise's registered address (注册地址)?")),
    FormField("legal_representative", "法定代表人", N_("Who is the legal representative (法定代表人)?")),
    FormField("credit_code", "社会统一信用代码",
              N_("What is the unified social credit code (统一社会信用代码, 18 characters)?"),
              kind="credit_code", source="enterprise"),
    FormField("industry_name", "所属行业（按照《国民经济行业分类》）",
              N_("Which industry is the enterprise in, as named in 《国民经济行业分类》?"), source="enterprise"),
    FormField("industry_code", "行业代码", N_("What is the four-digit industry code (行业代码)?"),
              kind="industry_code", source="enterprise"),
    FormField("output_10k_yuan", "企业上一年工业产值（万元）",
              N_("What was last year's industrial output value, in 万元?"), kind="number"),
    FormField("energy_tce", "企业上一年用能总量（吨标煤）",
              N_("What was last year's total energy use, in tonnes of standard coal (吨标煤)?"), kind="number"),
    FormField("pollutants", "企业上一年主要污染物排放量",
              N_("What were last year's emissions of the main pollutants (e.g. COD 12吨, SO2 3吨)?")),
    FormField("products", "主要产品及产量", N_("What are the main products and their output?")),
    FormField("contact_name", "联系人", N_("Who is the contact person for this application?")),
    FormField("contact_title", "职务", N_("What is the contact person's position (职务)?")),
    FormField("mobile", "手机", N_("What is the contact person's mobile number?"), kind="mobile"),
    FormField("email", "邮箱", N_("What is the contact person's email address?"), kind="email"),
    FormField("eia_accepted", "企业是否已通过当地环保部门组织的环评和环境保护设施竣工验收",
              N_("Has the enterprise passed the environmental impact assessment and the completion acceptance "
                 "of its environmental protection facilities organised by the local environment department?"),
              kind="yes_no"),
    FormField("eia_number", "环评和环境保护设施竣工验收批文号",
              N_("What is the approval document number of the EIA and the completion acceptance?"),
              when="eia_accepted"),
    FormField("has_permit", "企业是否已获得排污许可证",
              N_("Does the enterprise hold a pollutant discharge permit (排污许可证)?"), kind="yes_no"),
    FormField("permit_number", "排污许可证编号", N_("What is the permit's number?"), when="has_permit"),
    FormField("auditor_intent", "企业是否已与第三方审核机构有合同意向",
              N_("Does the enterprise already intend to contract a third-party audit institution?"), kind="yes_no"),
    FormField("auditor_name", "有意向的第三方审核机构名称", N_("What is the name of that audit institution?"),
              when="auditor_intent"),
    FormField("restructuring", "近两年内是否列入区县关停并转等结构调整计划",
              N_("In the last two years, was the enterprise put on a district or county plan to close, stop, "
                 "merge or convert (关停并转) it?"), kind="yes_no"),
    FormField("filled_by", "填表人", N_("Who fills in this form (填表人)?")),
    FormField("filled_on", "填表日期", N_("Date of filling in"), kind="date", source="today"),
)
FIELDS = {f.key: f for f in FORM_FIELDS}
YES_NO_CHOICES = (("yes", N_("Yes")), ("no", N_("No")))


class NotApplicable(Exception):
    """Why this contact cannot apply (a msgid)."""

    def __init__(self, msgid: str) -> None:
        super().__init__(msgid)
        self.msgid = msgid


# -- the sub-interview (pure) ---------------------------------------------------------------------


def start_state(known: Mapping[str, Any], locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """A new sub-interview; `known` answers (see `known_answers`) are taken as given and not asked."""
    answers = {k: v for k, v in known.items() if k in FIELDS and v not in (None, "")}
    return {"locale": locale if locale in LOCALES else DEFAULT_LOCALE, "answers": answers, "asking": None}


def apply_step(state: dict[str, Any], text: str, known: dict[str, Any]) -> tuple[dict[str, Any], list[Outbound], bool]:
    """Read `text` as the answer to the field being asked (ignored when nothing is asked yet), then
    ask the next missing field. `done` is true when the form is complete (state["answers"]) or was
    cancelled (state["cancelled"])."""
    st = {**state, "answers": {**known, **dict(state.get("answers") or {})}}
    st.setdefault("locale", DEFAULT_LOCALE)
    tr = gettext_for(st["locale"])
    replies: list[Outbound] = []
    asking = st.get("asking")
    t = parse.normalize(text or "")
    if t.lower() in CANCEL:
        st["asking"] = None
        st["cancelled"] = True
        return st, [Outbound(tr(N_("The application form was cancelled; nothing was stored. Type 申请表 to "
                                    "start again.")))], True
    if asking is not None:
        value, problem = read_value(FIELDS[asking], text or "")
        if problem is not None:
            replies.append(Outbound(tr(problem)))
            replies.append(_question(FIELDS[asking], tr))
            return st, replies, False
        st["answers"] = {**st["answers"], asking: value}
    nxt = next_field(st["answers"])
    if nxt is None:
        st["asking"] = None
        return st, replies, True
    st["asking"] = nxt.key
    replies.append(_question(nxt, tr))
    return st, replies, False


def next_field(answers: Mapping[str, Any]) -> FormField | None:
    for f in FORM_FIELDS:
        if f.source == "today" or f.key in answers:
            continue
        if f.when is not None and answers.get(f.when) is not True:
            continue
        return f
    return None


def read_value(f: FormField, text: str) -> tuple[Any, str | None]:
    """(value, None) or (None, a msgid saying what is wrong). Free text is kept as typed."""
    raw = text.strip()
    t = parse.normalize(raw)
    if f.kind == "yes_no":
        yes = {"yes": True, "no": False}.get(t.lower())
        if yes is None:
            yes = parse.parse_yes_no(t)
        return (yes, None) if yes is not None else (None, N_("Please answer 是 (yes) or 否 (no)."))
    if not t:
        return None, N_("Please type an answer.")
    if f.kind == "number":
        value = parse.parse_money_10k(t) if f.key == "output_10k_yuan" else parse.parse_count(t)
        if value is None or not re.search(r"\d|[零〇一二两三四五六七八九十百千万亿]", t):
            return None, N_("Please give a number, e.g. 1200 or 1.5万.")
        return round(value, 4), None
    if f.kind == "mobile":
        digits = re.sub(r"[\s\-]", "", t)
        digits = digits.removeprefix("+86").removeprefix("0086")
        if not MOBILE.fullmatch(digits):
            return None, N_("A mobile number has 11 digits and starts with 1, e.g. 13812345678.")
        return digits, None
    if f.kind == "email":
        if not EMAIL.fullmatch(t):
            return None, N_("That does not look like an email address (name@example.com).")
        return t, None  # normalised: full-width characters become ASCII
    if f.kind == "credit_code":
        code = t.upper().replace(" ", "")
        if not CREDIT_CODE.fullmatch(code):
            return None, N_("A unified social credit code has 18 characters.")
        return code, None
    if f.kind == "industry_code":
        if not INDUSTRY_CODE.fullmatch(t):
            return None, N_("An industry code has four digits, e.g. 2614.")
        return t, None
    if len(raw) > 500:
        return None, N_("That answer is too long (500 characters at most).")
    return raw, None


def _question(f: FormField, tr: Gettext) -> Outbound:
    if f.kind == "yes_no":
        return Outbound(tr(f.prompt), tuple(Choice(cid, tr(label)) for cid, label in YES_NO_CHOICES))
    return Outbound(tr(f.prompt))


# -- what is known, and who may apply -------------------------------------------------------------


def known_answers(enterprise: Enterprise, facts: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The fields the bot fills itself: the enterprise's name and code, its industry, today's date."""
    known: dict[str, Any] = {"filled_on": today.isoformat()}
    if enterprise.name:
        known["name"] = enterprise.name
    if enterprise.credit_code:
        known["credit_code"] = enterprise.credit_code
    code = enterprise.industry_code or facts.get("industry_code")
    industry = get_class(str(code)) if code else None
    if industry is not None:
        known["industry_code"] = industry.code
        known["industry_name"] = industry.name
    return known


def check_eligible(repos: Repositories, contact: Contact) -> tuple[Enterprise, dict[str, Any]]:
    """The contact's enterprise and its latest facts, or NotApplicable saying why not."""
    if contact.consented_at is None or contact.enterprise_id is None:
        raise NotApplicable(N_("The application form is filled for an enterprise: first give me its unified social "
                               "credit code (type 重新开始), then ask again."))
    enterprise = repos.enterprises.get_by_id(contact.enterprise_id)
    latest = repos.assessments.list_by_enterprise(contact.enterprise_id, limit=1)
    facts = dict(latest[0].facts) if latest else {}
    province = (enterprise.province if enterprise is not None else None) or facts.get("province")
    if enterprise is None or province != PROVINCE:
        raise NotApplicable(N_("The 自愿性清洁生产审核申请表 is Henan's form: it is only for enterprises in Henan."))
    if not latest:
        raise NotApplicable(N_("I have no verdict for your enterprise yet: answer my questions first (type "
                               "重新开始), then ask for the form."))
    result = latest[0].result or {}
    if latest[0].obligation != "voluntary":
        raise NotApplicable(N_("The voluntary application form is only for enterprises that are not obliged to carry "
                               "out an audit; my latest verdict for yours is not voluntary."))
    if (result.get("voluntary") or {}).get("eligible") is not True:
        raise NotApplicable(N_("By my latest verdict your enterprise does not meet Henan's conditions for a voluntary "
                               "audit, so I cannot fill the application form."))
    return enterprise, facts


def is_trigger(text: str | None) -> bool:
    return text is not None and parse.normalize(text).strip().lower() in TRIGGERS


# -- the dispatcher's entry -----------------------------------------------------------------------


def handle(
    repos: Repositories,
    contact: Contact,
    state: dict[str, Any] | None,
    inbound: Inbound,
    *,
    today: date,
    file_url: Callable[[str], str] | None,
) -> list[Outbound] | None:
    """Replies when the message is for the application form (it saves the conversation itself);
    None when it is for the interview."""
    sub = (state or {}).get(STATE_KEY)
    text = inbound.choice if inbound.choice is not None else inbound.text
    locale = (state or {}).get("locale") or contact.locale or DEFAULT_LOCALE
    tr = gettext_for(locale)
    if sub is None:
        if not is_trigger(inbound.text):
            return None
        try:
            enterprise, facts = check_eligible(repos, contact)
        except NotApplicable as e:
            return [Outbound(tr(e.msgid))]
        known = known_answers(enterprise, facts, today)
        intro = Outbound(tr(N_("I will fill Henan's 自愿性清洁生产审核申请表 with you, one question at a time. "
                               "Type 取消 to stop.")))
        sub, replies, done = apply_step(start_state(known, locale), "", known)
        replies.insert(0, intro)
    else:
        try:
            enterprise, facts = check_eligible(repos, contact)
        except NotApplicable as e:
            _save(repos, contact, state, None)
            return [Outbound(tr(e.msgid))]
        known = known_answers(enterprise, facts, today)
        sub, replies, done = apply_step(sub, text or "", known)
    if not done:
        _save(repos, contact, state, sub)
        return replies
    _save(repos, contact, state, None)
    if sub.get("cancelled"):
        return replies
    token = store_application(repos, enterprise.id, contact.id, sub["answers"], today)
    text_out = tr(N_("Your application form is ready. Print it, stamp it with the company seal (加盖公章) and submit "
                     "it to your county (city, district) industry and information technology department."))
    if file_url is not None:
        text_out += "\n\n" + tr(N_("Download: {link}")).format(link=file_url(token))
    replies.append(Outbound(text_out))
    return replies


def _save(repos: Repositories, contact: Contact, state: dict[str, Any] | None, sub: dict[str, Any] | None) -> None:
    """Keep the sub-interview in the conversation; a contact who had none gets it back empty afterwards."""
    base: dict[str, Any] = dict(state) if state is not None else {"locale": contact.locale}
    if sub is None:
        base.pop(STATE_KEY, None)
        if state is None or set(base) <= {"locale"}:
            repos.conversations.delete(contact.id)
            return
    else:
        base[STATE_KEY] = sub
    repos.conversations.save(contact.id, base)


def form_url_from(calendar_url: Callable[[str], str] | None) -> Callable[[str], str] | None:
    """The form's link builder from the dispatcher's calendar one (both hang off the public base URL):
    `.../calendar/{token}.ics` gives `.../forms/henan/{token}.xlsx`; None if there is no such link."""
    if calendar_url is None:
        return None
    probe, suffix = calendar_url("TOKEN"), "/calendar/TOKEN.ics"
    if not probe.endswith(suffix):
        return None
    base = probe[: -len(suffix)]
    return lambda token: f"{base}/forms/henan/{token}.xlsx"


# -- storage in kv --------------------------------------------------------------------------------


def store_application(repos: Repositories, enterprise_id: int, contact_id: int, answers: Mapping[str, Any],
                      today: date) -> str:
    """Keep the answers (replacing an earlier application of the enterprise); returns the link's token."""
    old = load_application(repos, enterprise_id)
    if old is not None:
        repos.kv.delete(TOKEN_PREFIX + str(old.get("token")))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    value = {"answers": dict(answers), "token": token, "contact_id": contact_id, "submitted_on": today.isoformat()}
    repos.kv.put(APPLY_PREFIX + str(enterprise_id), json.dumps(value, ensure_ascii=False))
    repos.kv.put(TOKEN_PREFIX + token, str(enterprise_id))
    return token


def load_application(repos: Repositories, enterprise_id: int) -> dict[str, Any] | None:
    raw = repos.kv.get_by_key(APPLY_PREFIX + str(enterprise_id), now=utcnow())
    if raw is None:
        return None
    value: dict[str, Any] = json.loads(raw)
    return value


def answers_by_token(repos: Repositories, token: str) -> dict[str, Any] | None:
    if not token:
        return None
    enterprise_id = repos.kv.get_by_key(TOKEN_PREFIX + token, now=utcnow())
    if enterprise_id is None or not enterprise_id.isdigit():
        return None
    application = load_application(repos, int(enterprise_id))
    if application is None or application.get("token") != token:
        return None
    answers: dict[str, Any] = application["answers"]
    return answers


@dataclass(frozen=True, slots=True)
class Applicant:
    enterprise_id: int
    province: str
    city: str | None
    county: str | None
    submitted_on: str
    answers: Mapping[str, Any]


def list_applicants(repos: Repositories, officer: Officer) -> list[Applicant]:
    """Henan enterprises that asked for the form and whose latest verdict is still voluntary and eligible,
    within the officer's jurisdiction; ForbiddenError for an officer outside Henan."""
    if officer.province != PROVINCE:
        authorize(officer, PROVINCE)  # raises ForbiddenError
    scope = Jurisdiction.of(officer)
    out: list[Applicant] = []
    for key, raw in repos.kv.list_by_prefix(APPLY_PREFIX, now=utcnow()):
        enterprise_id = key.removeprefix(APPLY_PREFIX)
        if not enterprise_id.isdigit():
            continue
        enterprise = repos.enterprises.get_by_id(int(enterprise_id))
        if enterprise is None or enterprise.province != PROVINCE:
            continue
        latest = repos.assessments.list_by_enterprise(enterprise.id, limit=1)
        if not latest or latest[0].obligation != "voluntary" or \
                ((latest[0].result or {}).get("voluntary") or {}).get("eligible") is not True:
            continue
        if not scope.covers(PROVINCE, enterprise.city, enterprise.county):
            continue
        value = json.loads(raw)
        out.append(Applicant(enterprise.id, PROVINCE, enterprise.city, enterprise.county,
                             str(value.get("submitted_on", "")), dict(value.get("answers") or {})))
    return sorted(out, key=lambda a: (a.submitted_on, a.enterprise_id))


# -- the XLSX files -------------------------------------------------------------------------------


def _shown(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


def application_xlsx(answers: Mapping[str, Any]) -> bytes:
    """The form laid out like the seed's table: four columns, label/value pairs, ☑/☐ for 是/否."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "申请表"
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    for col, width in zip("ABCD", (34, 26, 26, 26), strict=True):
        ws.column_dimensions[col].width = width
    ws["A1"] = TITLE
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:D1")
    row = 3

    def label(key: str) -> str:
        return FIELDS[key].label

    def cells(values: Sequence[Any], merge_value: bool) -> None:
        nonlocal row
        for i, v in enumerate(values):
            c = ws.cell(row=row, column=i + 1, value=v)
            c.alignment = wrap
            c.border = box
        if merge_value:
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        row += 1

    for item in ("name", "address", ("legal_representative", "credit_code"), ("industry_name", "industry_code"),
                 ("output_10k_yuan", "energy_tce"), "pollutants", "products", ("contact_name", "contact_title"),
                 ("mobile", "email")):
        if isinstance(item, tuple):
            a, b = item
            cells([label(a), _shown(answers.get(a)), label(b), _shown(answers.get(b))], False)
        else:
            cells([label(item), _shown(answers.get(item))], True)
    for question, detail in (("eia_accepted", "eia_number"), ("has_permit", "permit_number"),
                             ("auditor_intent", "auditor_name"), ("restructuring", None)):
        yes = answers.get(question)
        cells([label(question), ("☑" if yes is True else "☐") + " 是", ("☑" if yes is False else "☐") + " 否", ""],
              False)
        if detail is not None:
            cells([label(detail), _shown(answers.get(detail)) if yes is True else ""], True)
    row += 1
    ws.cell(row=row, column=1, value="填表人：")
    ws.cell(row=row, column=2, value=_shown(answers.get("filled_by")))
    row += 1
    ws.cell(row=row, column=1, value="填表日期：")
    ws.cell(row=row, column=2, value=_shown(answers.get("filled_on")))
    row += 2
    ws.cell(row=row, column=1, value=STAMP_NOTE).font = Font(bold=True)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()



def applicants_xlsx(applicants: Sequence[Applicant]) -> bytes:
    """One row per applicant: the enterprise id, the date, the place, then every field of the form."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "自愿性审核申请企业"
    fields = list(FORM_FIELDS)
    ws.append(["企业编号", "申请日期", "市", "县（区）", *(f.label for f in fields)])
    for a in applicants:
        values = []
        for f in fields:
            v = a.answers.get(f.key)
            values.append("是" if v is True else "否" if v is False else _shown(v))
        ws.append([a.enterprise_id, a.submitted_on, a.city or "", a.county or "", *values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- the download route ---------------------------------------------------------------------------


def form_bytes(sessions: sessionmaker[Session], token: str) -> bytes | None:
    with sessions() as session:
        answers = answers_by_token(Repositories(session), token)
    return None if answers is None else application_xlsx(answers)


def henan_routes(sessions: sessionmaker[Session]) -> list[BaseRoute]:
    """GET /forms/henan/{token}.xlsx: the filled form; the secret link is the credential, unknown is 404."""

    async def form(request: Request) -> Response:
        token = request.path_params["token"]
        body = await run_in_threadpool(form_bytes, sessions, token) if 8 <= len(token) <= 64 else None
        if body is None:
            return JSONResponse({"error": {"error": "not_found", "field": None,
                                           "message": gettext_for(DEFAULT_LOCALE)(N_("There is nothing at this "
                                                                                     "address."))}},
                                status_code=404)
        headers = {"Content-Disposition": "attachment; filename=\"henan-application.xlsx\"",
                   "Cache-Control": "no-store"}
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers=headers)

    return [Route("/forms/henan/{token}.xlsx", form, methods=["GET"])]


__all__ = [
    "FORM_FIELDS",
    "Applicant",
    "FormField",
    "applicants_xlsx",
    "application_xlsx",
    "apply_step",
    "handle",
    "henan_routes",
    "list_applicants",
]

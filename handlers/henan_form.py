"""Henan's 自愿性清洁生产审核申请表: filled from the conversation, checked by the contact, downloaded as XLSX.

The form is the annex of 豫工信办节〔2018〕24号 (seed 004). A contact bound to a Henan enterprise whose latest
stored assessment is `voluntary` with `voluntary.eligible` true types 申请表 (or picks the choice
`offer_choice` builds, id `CHOICE_ID` = "cmd:henan_form"); the bot fills what it already knows (the
enterprise's name, credit code and industry, today's date) and asks the rest one field at a time, each
answer checked by what it is (handlers/henan_fields.py). After the last field every value is shown
numbered: the contact corrects any of them (a number, a field name or its button) and confirms; only
then is the application stored and its XLSX link given.

The sub-interview is a pure function (`apply_step`) over a typed state, `HenanFormState`, kept in the
conversation as `state["henan_form"]` (`model_dump(mode="json")`; rows of the old dict shape
{"locale", "answers", "asking"} are read by `HenanFormState.model_validate` and keep working).

Commands come from the interview's table (handlers/interview.COMMANDS) plus the form's own 取消/确认:
返回/back undoes the previous field, 帮助/help explains the form, 取消/cancel leaves it (nothing is stored).
重新开始/删除我的数据 drop the form and are left to the interview (`handle` returns None after removing
`henan_form` from the `state` dict it was given); 我的期限 and 语言 are left to the interview too, and the
form waits.

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

import importlib
import io
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from handlers import parse
from handlers.henan_fields import FIELDS, FORM_FIELDS, FormField, Value, read_value
from handlers.messages import Choice, Inbound, Outbound
from handlers.officers import Jurisdiction, authorize
from rules.i18n import DEFAULT_LOCALE, LOCALES, N_, Gettext, gettext_for
from rules.industries import get_class
from storage import Contact, Enterprise, Officer, Repositories, utcnow
from storage.kv import HENAN_APPLY_PREFIX, HENAN_FORM_PREFIX

PROVINCE = "henan"
STATE_KEY = "henan_form"
APPLY_PREFIX = HENAN_APPLY_PREFIX  # storage.kv names the keys that hold a person (erasure finds them)
TOKEN_PREFIX = HENAN_FORM_PREFIX
TOKEN_BYTES = 24  # 32 URL-safe characters
CHOICE_ID = "cmd:henan_form"  # the choice that opens the form (offer_choice)
EDIT_PREFIX = "henan:edit:"  # + a field's key: correct it from the summary
CONFIRM_ID = "henan:confirm"
CANCEL_ID = "henan:cancel"
TRIGGERS = ("申请表", "填写申请表", "自愿审核申请", "自愿性审核申请", "自愿性清洁生产审核申请",
            "自愿性清洁生产审核申请表", "application form", "apply", "/apply", "henan form")
# The form's own command words, added to the interview's table (handlers/interview.COMMANDS).
FORM_COMMANDS: dict[str, tuple[str, ...]] = {
    "cancel": ("取消", "取消申请", "退出", "不填了", "cancel", "/cancel", "quit", "exit", "stop"),
    "confirm": ("确认", "确定", "确认无误", "无误", "没问题", "提交", "生成", "confirm", "/confirm", "ok", "okay",
                "submit"),
}
TITLE = "自愿性清洁生产审核申请表"
ANNEX = "附 件"
STAMP_NOTE = "请加盖公章后报送县（市、区）工业和信息化主管部门"
YES_NO_CHOICES = (("yes", N_("Yes")), ("no", N_("No")))
CORRECT_PREFIXES = ("修改", "更正", "更改", "改正", "改", "correct", "change", "edit", "fix")


class NotApplicable(Exception):
    """Why this contact cannot apply (a msgid, with the document's own words as arguments)."""

    def __init__(self, msgid: str, args: Mapping[str, str] | None = None) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.words = dict(args or {})

    def render(self, tr: Gettext) -> str:
        from handlers.status import original

        return tr(self.msgid).format(**{k: original(v, tr) for k, v in self.words.items()})


# -- the typed state --------------------------------------------------------------------------------


class HenanFormState(BaseModel):
    """The form's sub-state under `state["henan_form"]`. `stage`: asking (one field after the other),
    summary (every value shown, waiting for 确认 or a field to correct), correcting (one field picked from
    the summary; `before` keeps the answers to restore on 返回)."""

    model_config = ConfigDict(extra="ignore")

    locale: str = DEFAULT_LOCALE
    stage: Literal["asking", "summary", "correcting"] = "asking"
    asking: str | None = None
    answers: dict[str, Value] = Field(default_factory=dict)
    before: dict[str, Value] | None = None

    @field_validator("locale", mode="before")
    @classmethod
    def _known_locale(cls, v: object) -> object:
        return v if v in LOCALES else DEFAULT_LOCALE

    @field_validator("asking", mode="before")
    @classmethod
    def _known_field(cls, v: object) -> object:
        return v if isinstance(v, str) and v in FIELDS else None

    @field_validator("answers", "before", mode="before")
    @classmethod
    def _known_answers(cls, v: object) -> object:
        if isinstance(v, Mapping):
            return {k: x for k, x in v.items() if k in FIELDS and x is not None}
        return v


def load_state(raw: object) -> HenanFormState | None:
    """The stored sub-state (the typed shape or the old dict one); None when it cannot be read."""
    try:
        return HenanFormState.model_validate(raw)
    except ValidationError:
        return None


def start_state(known: Mapping[str, Any], locale: str = DEFAULT_LOCALE) -> HenanFormState:
    """A new form; `known` answers (see `known_answers`) are taken as given and not asked."""
    answers = {k: v for k, v in known.items() if k in FIELDS and v not in (None, "")}
    return HenanFormState(locale=locale, answers=answers)


# -- commands ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def command_words() -> dict[str, tuple[str, ...]]:
    """The conversation's command table with the form's own words (cancel, confirm) added. It is read
    here, not imported at the top, so that the interview may import this module (offer_choice) without
    an import cycle: handlers/commands.py where it exists, else the interview's `COMMANDS`."""
    try:
        table: Mapping[str, Sequence[str]] = importlib.import_module("handlers.commands").COMMANDS
    except (ImportError, AttributeError):
        table = importlib.import_module("handlers.interview").COMMANDS
    merged = {name: tuple(words) for name, words in table.items()}
    for name, words in FORM_COMMANDS.items():
        merged[name] = (*merged.get(name, ()), *(w for w in words if w not in merged.get(name, ())))
    return merged


def _plain(text: str) -> str:
    return re.sub(r"[\s。.!！?？~～]+$", "", parse.normalize(text or ""))


def command_of(text: str | None) -> str | None:
    """The command a message is (help, back, cancel, confirm, restart, status, language, forget), or None.
    A choice id `cmd:<name>` is that command."""
    if not text:
        return None
    if text.startswith("cmd:"):
        return text[4:]
    t = _plain(text)
    for name, words in command_words().items():
        if t in words:
            return name
    return None


def all_command_words() -> tuple[str, ...]:
    return tuple(w for words in command_words().values() for w in words)


# -- the sub-interview (pure) -----------------------------------------------------------------------


@dataclass
class FormStep:
    """What one message did: the new state, the replies, and whether the form is still open, done
    (confirmed: store it and give the link) or cancelled."""

    state: HenanFormState
    replies: list[Outbound] = field(default_factory=list)
    outcome: Literal["open", "done", "cancelled"] = "open"


def applicable(f: FormField, answers: Mapping[str, Any]) -> bool:
    return f.when is None or answers.get(f.when) is True


def next_field(answers: Mapping[str, Any]) -> FormField | None:
    for f in FORM_FIELDS:
        if f.source == "today" or f.key in answers or not applicable(f, answers):
            continue
        return f
    return None


def shown_fields(answers: Mapping[str, Any]) -> list[FormField]:
    """The fields of the summary (and of the stored application), in the form's order."""
    return [f for f in FORM_FIELDS if applicable(f, answers)]


def _drop_dependents(answers: dict[str, Value]) -> None:
    for f in FORM_FIELDS:
        if f.when is not None and answers.get(f.when) is not True:
            answers.pop(f.key, None)


def apply_step(form: HenanFormState, text: str | None, known: Mapping[str, Any]) -> FormStep:
    """Read `text` (typed text, or a choice id) as the answer to the field being asked, a command, or a
    pick from the summary; then ask what comes next. The first call, with nothing asked yet and no
    text, asks the first missing field."""
    st = form.model_copy(deep=True)
    st.answers = {**{k: v for k, v in known.items() if k in FIELDS and v not in (None, "")}, **st.answers}
    tr = gettext_for(st.locale)
    command = command_of(text)
    if text == CANCEL_ID:
        command = "cancel"
    if command == "cancel":
        return FormStep(st, [Outbound(tr(N_("The application form was cancelled; nothing was stored. Type "
                                            "application form to start again.")))], "cancelled")
    if command == "help":
        return FormStep(st, [Outbound(tr(HELP)), *_current(st, tr)])
    if command == "henan_form" or (text is not None and _plain(text) in TRIGGERS):  # already open
        return FormStep(st, [Outbound(tr(N_("The application form is already open."))), *_current(st, tr)])
    if st.stage == "summary":
        return _in_summary(st, text or "", command, known, tr)
    if command == "back":
        return _back(st, known, tr)
    if st.asking is None:
        return _advance(st, tr)
    f = FIELDS[st.asking]
    answer = {"yes": "是", "no": "否"}.get(text or "", text or "") if f.kind == "yes_no" else (text or "")
    value, problem = read_value(f, answer, all_command_words())
    if problem is not None:
        return FormStep(st, [Outbound(tr(problem).format(field=tr(f.name))), _question(f, tr)])
    st.answers[f.key] = value  # type: ignore[assignment]  # read_value gives a value with no problem
    _drop_dependents(st.answers)
    return _advance(st, tr)


HELP = N_("You are filling in Henan's application form for a voluntary cleaner-production audit. I ask one "
          "field at a time and check each answer; after the last one you see every answer, can correct any "
          "of them, and get the form as an XLSX file to print, stamp and hand in. Commands: back undoes the "
          "previous answer, cancel leaves the form without storing anything, restart leaves it and starts the "
          "questions about your enterprise again, help shows this text.")


def _advance(st: HenanFormState, tr: Gettext) -> FormStep:
    nxt = next_field(st.answers)
    if nxt is not None:
        st.asking = nxt.key
        if st.stage == "summary":
            st.stage = "asking"
        return FormStep(st, [_question(nxt, tr)])
    st.asking, st.stage, st.before = None, "summary", None
    return FormStep(st, [summary(st, tr)])


def _current(st: HenanFormState, tr: Gettext) -> list[Outbound]:
    """The question being asked again (or the summary)."""
    if st.stage == "summary" or st.asking is None:
        nxt = next_field(st.answers)
        if st.stage != "summary" and nxt is not None:
            return [_question(nxt, tr)]
        return [summary(st, tr)]
    return [_question(FIELDS[st.asking], tr)]


def _asked_by_the_form(f: FormField, answers: Mapping[str, Any], known: Mapping[str, Any]) -> bool:
    """A field the contact answered here (not one filled from the enterprise or today's date)."""
    return f.source != "today" and f.key in answers and not (f.key in known and answers[f.key] == known[f.key])


def _back(st: HenanFormState, known: Mapping[str, Any], tr: Gettext) -> FormStep:
    """返回: in the summary's correction, back to the summary unchanged; otherwise undo the answer of the
    previous field and ask it again."""
    if st.stage == "correcting":
        st.answers = dict(st.before if st.before is not None else st.answers)
        st.stage, st.asking, st.before = "summary", None, None
        return FormStep(st, [summary(st, tr)])
    order = shown_fields(st.answers)
    keys = [f.key for f in order]
    end = keys.index(st.asking) if st.asking in keys else len(order)
    previous = next((f for f in reversed(order[:end]) if _asked_by_the_form(f, st.answers, known)), None)
    if previous is None:
        return FormStep(st, [Outbound(tr(N_("There is no earlier answer to undo."))), *_current(st, tr)])
    old = st.answers.pop(previous.key)
    st.asking, st.stage = previous.key, "asking"
    undone = tr(N_("Undone: {field} ({value}).")).format(field=tr(previous.name), value=shown(previous, old, tr))
    return FormStep(st, [Outbound(undone), _question(previous, tr)])


def _question(f: FormField, tr: Gettext) -> Outbound:
    if f.kind == "yes_no":
        return Outbound(tr(f.prompt), tuple(Choice(cid, tr(label)) for cid, label in YES_NO_CHOICES))
    return Outbound(tr(f.prompt))


# -- the summary ------------------------------------------------------------------------------------


def shown(f: FormField, value: Any, tr: Gettext) -> str:
    """A value as the contact reads it in the summary."""
    if value is None or value == "":
        return tr(N_("(not filled in)"))
    if isinstance(value, bool):
        return tr(N_("Yes")) if value else tr(N_("No"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if f.kind == "amount_10k":
        return tr(N_("{value} × 10,000 yuan")).format(value=value)
    if f.kind == "tce":
        return tr(N_("{value} t of standard coal")).format(value=value)
    return str(value)


def summary(st: HenanFormState, tr: Gettext) -> Outbound:
    """Every value numbered; a choice per field (to correct it), then confirm and cancel."""
    fields = shown_fields(st.answers)
    lines = [tr(N_("Please check the application form:"))]
    line = tr(N_("{number}. {field}: {value}"))
    lines += [line.format(number=i, field=tr(f.name), value=shown(f, st.answers.get(f.key), tr))
              for i, f in enumerate(fields, start=1)]
    lines.append(tr(N_("To correct a field, pick it or type its number or its name; type confirm to make the "
                       "form.")))
    choices = [Choice(EDIT_PREFIX + f.key, tr(f.name)) for f in fields]
    choices += [Choice(CONFIRM_ID, tr(N_("Confirm and make the form"))), Choice(CANCEL_ID, tr(N_("Cancel")))]
    return Outbound("\n".join(lines), tuple(choices))


def _picked_field(text: str, fields: Sequence[FormField], tr: Gettext) -> FormField | str | None:
    """The field a summary reply names (a choice, a number, a name), "confirm"/"cancel" for the numbers
    after the fields, or None."""
    if text.startswith(EDIT_PREFIX):
        key = text.removeprefix(EDIT_PREFIX)
        return next((f for f in fields if f.key == key), None)
    t = _plain(text)
    for prefix in CORRECT_PREFIXES:
        if t.startswith(prefix) and len(t) > len(prefix):
            t = t.removeprefix(prefix).strip()
            break
    t = t.removeprefix("第").removesuffix("项").strip()
    if t.isdigit():
        n = int(t)
        if 1 <= n <= len(fields):
            return fields[n - 1]
        return {len(fields) + 1: "confirm", len(fields) + 2: "cancel"}.get(n)
    bare = re.sub(r"[\s（）()《》:：]+", "", t)
    for f in fields:
        names = {f.label, tr(f.name), gettext_for("zh_CN")(f.name), gettext_for("en")(f.name), *f.aliases}
        if bare in {re.sub(r"[\s（）()《》:：]+", "", parse.normalize(n)) for n in names}:
            return f
    return None


def _in_summary(st: HenanFormState, text: str, command: str | None, known: Mapping[str, Any],
                tr: Gettext) -> FormStep:
    fields = shown_fields(st.answers)
    picked: FormField | str | None = "confirm" if command == "confirm" or text == CONFIRM_ID else None
    if command == "back":
        return _back(st, known, tr)
    if picked is None:
        picked = _picked_field(text, fields, tr)
    if picked == "cancel":
        return apply_step(st, CANCEL_ID, known)
    if picked == "confirm":
        missing = next_field(st.answers)
        if missing is not None:  # an old row, or a yes turned on a field: ask it first
            st.stage, st.asking = "asking", missing.key
            return FormStep(st, [_question(missing, tr)])
        return FormStep(st, [], "done")
    if isinstance(picked, FormField):
        st.stage, st.asking, st.before = "correcting", picked.key, dict(st.answers)
        now = tr(N_("{field} is now: {value}. Type the new value, or back to keep it.")).format(
            field=tr(picked.name), value=shown(picked, st.answers.get(picked.key), tr))
        return FormStep(st, [Outbound(now), _question(picked, tr)])
    hint = tr(N_("I did not understand: type confirm to make the form, a number from 1 to {count} to correct "
                 "that field, or cancel.")).format(count=len(fields))
    return FormStep(st, [Outbound(hint), summary(st, tr)])


def offer_choice(tr: Gettext) -> Choice:
    """The choice the interview appends to an eligible Henan voluntary verdict ("填写申请表")."""
    return Choice(CHOICE_ID, tr(N_("Fill in the application form")))


def is_offered(province: str | None, obligation: str | None, result: Mapping[str, Any] | None) -> bool:
    """Whether a verdict should carry `offer_choice`: Henan, voluntary, eligible (what `check_eligible` asks)."""
    return province == PROVINCE and obligation == "voluntary" and \
        ((result or {}).get("voluntary") or {}).get("eligible") is True


# -- what is known, and who may apply ---------------------------------------------------------------


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


def check_eligible(repos: Repositories, contact: Contact, *, interviewing: bool = False
                   ) -> tuple[Enterprise, dict[str, Any]]:
    """The contact's enterprise and its latest facts, or NotApplicable saying why not (`interviewing`: a
    question of the interview is open, so its answers are not to be thrown away with 重新开始)."""
    if contact.consented_at is None:
        raise NotApplicable(N_("The application form is filled in for an enterprise, and I keep it only with your "
                               "consent: send 同意 (agree) first, then the enterprise's unified social credit code "
                               "(18 characters), then 申请表 again."))
    if contact.enterprise_id is None:  # the code can be given at any time: no need to start again
        raise NotApplicable(N_("The application form is filled in for an enterprise, and I do not know yours yet: "
                               "send its unified social credit code (统一社会信用代码, 18 characters, on the business "
                               "licence) here, then 申请表 again. If a colleague has already registered the "
                               "enterprise, ask them for an invitation code (邀请同事) and send 绑定 <code>."))
    enterprise = repos.enterprises.get_by_id(contact.enterprise_id)
    latest = repos.assessments.list_by_enterprise(contact.enterprise_id, limit=1)
    facts = dict(latest[0].facts) if latest else {}
    province = (enterprise.province if enterprise is not None else None) or facts.get("province")
    if enterprise is None or province != PROVINCE:
        raise NotApplicable(N_("The application form for a voluntary audit is Henan's: it is only for enterprises "
                               "in Henan."))
    if not latest and interviewing:
        raise NotApplicable(N_("I have no verdict for your enterprise yet: please answer the question below "
                               "first (your answers so far are kept), then send 申请表 again."))
    if not latest:
        raise NotApplicable(N_("I have no verdict for your enterprise yet: answer my questions first (type "
                               "restart), then ask for the form."))
    if latest[0].obligation != "voluntary":
        raise NotApplicable(N_("The voluntary application form is only for enterprises that are not obliged to carry "
                               "out an audit; my latest verdict for yours is not voluntary."))
    voluntary = (latest[0].result or {}).get("voluntary") or {}
    if voluntary.get("eligible") is not True:
        why = str(voluntary.get("why") or "")
        if why:
            raise NotApplicable(N_("By my latest verdict your enterprise does not meet Henan's conditions for a "
                                   "voluntary audit ({why}), so I cannot fill the application form."), {"why": why})
        raise NotApplicable(N_("By my latest verdict your enterprise does not meet Henan's conditions for a voluntary "
                               "audit, so I cannot fill the application form."))
    return enterprise, facts


def waiting_question(state: Mapping[str, Any] | None, locale: str) -> list[Outbound]:
    """The open form's question (or its summary), asked again after the interview answered a command typed
    in the middle of it (我的期限, 语言); nothing when no form is open."""
    form = load_state((state or {}).get(STATE_KEY))
    if form is None:
        return []
    return _current(form, gettext_for(locale if locale in LOCALES else DEFAULT_LOCALE))


def is_trigger(inbound: Inbound, state: Mapping[str, Any] | None = None) -> bool:
    """申请表 (and its synonyms), the offered choice, or the number of that choice when the interview
    showed it as numbered text."""
    if inbound.choice is not None:
        return inbound.choice == CHOICE_ID
    if inbound.text is None:
        return False
    t = _plain(inbound.text)
    if t in TRIGGERS:
        return True
    offered = list((state or {}).get("offered") or [])
    return t.isdigit() and 1 <= int(t) <= len(offered) and offered[int(t) - 1] == CHOICE_ID


def _is_for_the_form(choice: str) -> bool:
    return choice in ("yes", "no", CONFIRM_ID, CANCEL_ID, CHOICE_ID) or choice.startswith((EDIT_PREFIX, "cmd:"))


# -- the dispatcher's entry -------------------------------------------------------------------------

PASSED_ON = ("status", "language")  # answered by the interview; the form waits
LEAVING = ("restart", "forget")  # the form is dropped, then the interview answers


def handle(
    repos: Repositories,
    contact: Contact,
    state: dict[str, Any] | None,
    inbound: Inbound,
    *,
    today: date,
    file_url: Callable[[str], str] | None,
    resume: Callable[[], list[Outbound]] | None = None,
) -> list[Outbound] | None:
    """Replies when the message is for the application form (it saves the conversation itself); None
    when it is for the interview (or a reminder's button). 重新开始 and 删除我的数据 drop the form (from the
    stored row and from `state`, in place) and return None, so that the interview answers them.
    `resume` gives the interview's open question, asked again after 申请表 is refused (no code, no
    verdict yet): the contact goes on where they were."""
    raw = (state or {}).get(STATE_KEY)
    locale = (state or {}).get("locale") or contact.locale or DEFAULT_LOCALE
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    tr = gettext_for(locale)
    if raw is None:
        if not is_trigger(inbound, state):
            return None
        try:
            enterprise, facts = check_eligible(repos, contact, interviewing=resume is not None)
        except NotApplicable as e:
            return [Outbound(e.render(tr)), *(resume() if resume is not None else ())]
        known = known_answers(enterprise, facts, today)
        intro = Outbound(tr(N_("I will fill in Henan's application form for a voluntary cleaner-production audit "
                               "with you, one question at a time. Type back to undo an answer, help for help, "
                               "cancel to stop.")))
        step = apply_step(start_state(known, locale), None, known)
        step.replies.insert(0, intro)
    else:
        form = load_state(raw)
        text = inbound.choice if inbound.choice is not None else inbound.text
        if inbound.choice is not None and not _is_for_the_form(inbound.choice):
            return None  # e.g. a reminder's button: the form waits
        command = command_of(text)
        interview_state = state is not None and "stage" in state
        if form is None or command in LEAVING:
            _save(repos, contact, state, None)
            if state is not None:
                state.pop(STATE_KEY, None)
                if not interview_state:
                    state.clear()  # the interview starts from its welcome
            return None
        if command in PASSED_ON and interview_state:
            return None
        form.locale = locale
        try:
            enterprise, facts = check_eligible(repos, contact)
        except NotApplicable as e:
            _save(repos, contact, state, None)
            return [Outbound(e.render(tr))]
        known = known_answers(enterprise, facts, today)
        step = apply_step(form, text, known)
    if step.outcome == "open":
        _save(repos, contact, state, step.state)
        return step.replies
    _save(repos, contact, state, None)
    if step.outcome == "cancelled":
        return step.replies
    answers = {f.key: step.state.answers[f.key] for f in shown_fields(step.state.answers)
               if f.key in step.state.answers}
    token = store_application(repos, enterprise.id, contact.id, answers, today)
    text_out = tr(N_("Your application form is ready. Print it, stamp it with the company seal and hand it in to "
                     "your county (city, district) department of industry and information technology."))
    if file_url is not None:
        text_out += "\n\n" + tr(N_("Download: {link}")).format(link=file_url(token))
    step.replies.append(Outbound(text_out))
    return step.replies


def _save(repos: Repositories, contact: Contact, state: Mapping[str, Any] | None,
          sub: HenanFormState | None) -> None:
    """Keep the sub-interview in the conversation; a contact who had none gets it back empty afterwards."""
    base: dict[str, Any] = dict(state) if state is not None else {"locale": contact.locale}
    if sub is None:
        base.pop(STATE_KEY, None)
        if state is None or set(base) <= {"locale"}:
            repos.conversations.delete(contact.id)
            return
    else:
        base[STATE_KEY] = sub.model_dump(mode="json")
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


# -- the XLSX files ---------------------------------------------------------------------------------

# The annex's table as in the seed (004, 附件 自愿性清洁生产审核申请表): one tuple per row, the fields of
# its label/value pairs; a yes/no row shows 是 ☐ | 否 ☐, the row after it the number or name it asks for.
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("name",), ("address",), ("legal_representative", "credit_code"), ("industry_name", "industry_code"),
    ("output_10k_yuan", "energy_tce"), ("pollutants",), ("products",), ("contact_name", "contact_title"),
    ("mobile", "email"), ("eia_accepted",), ("eia_number",), ("has_permit",), ("permit_number",),
    ("auditor_intent",), ("auditor_name",), ("restructuring",),
)
TABLE_TOP = 4  # A1 附 件, A2 the title, a blank row, then the table
FILLED_BY, FILLED_ON = "填表人：", "填表日期："


def _cell_value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


def _chinese_date(value: Any) -> str:
    try:
        d = date.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    return f"{d.year}年{d.month}月{d.day}日"


def application_xlsx(answers: Mapping[str, Any]) -> bytes:
    """The form laid out like the seed's annex: 附 件 and the title, then the table of four columns
    (label, value, label, value; one value over three columns when the row has one field), 是 ☑ / 否 ☐
    for the yes/no rows, then 填表人 and 填表日期 under the table."""
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
    ws["A1"] = ANNEX
    ws["A1"].font = Font(bold=True)
    ws["A2"] = TITLE
    ws["A2"].font = Font(bold=True, size=16)
    ws["A2"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:D2")
    for row, keys in enumerate(LAYOUT, start=TABLE_TOP):
        first = FIELDS[keys[0]]
        if first.kind == "yes_no":
            yes = answers.get(first.key)
            values: list[Any] = [first.label, "是 " + ("☑" if yes is True else "☐"),
                                 "否 " + ("☑" if yes is False else "☐"), ""]
        elif len(keys) == 2:
            values = [first.label, _cell_value(answers.get(first.key)), FIELDS[keys[1]].label,
                      _cell_value(answers.get(keys[1]))]
        else:
            shown_value = answers.get(first.key) if applicable(first, answers) else None
            values = [first.label, _cell_value(shown_value), None, None]
        for column, v in enumerate(values, start=1):
            ws.cell(row=row, column=column, value=v)
        if len(keys) == 1 and first.kind != "yes_no":
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        for column in range(1, 5):  # styled after merging: the merged cells keep their borders
            c = ws.cell(row=row, column=column)
            c.alignment = wrap
            c.border = box
    row = TABLE_TOP + len(LAYOUT) + 1
    ws.cell(row=row, column=1, value=FILLED_BY)
    ws.cell(row=row, column=2, value=_cell_value(answers.get("filled_by")))
    ws.cell(row=row + 1, column=1, value=FILLED_ON)
    ws.cell(row=row + 1, column=2, value=_chinese_date(answers.get("filled_on")))
    ws.cell(row=row + 3, column=1, value=STAMP_NOTE).font = Font(bold=True)
    ws.merge_cells(start_row=row + 3, start_column=1, end_row=row + 3, end_column=4)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is not None:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_area = f"A1:D{row + 3}"
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
    ws.append(["企业编号", "申请日期", "市", "县（区）", *(f.label.replace(" ", "") for f in fields)])
    for a in applicants:
        values = []
        for f in fields:
            v = a.answers.get(f.key)
            values.append("是" if v is True else "否" if v is False else _cell_value(v))
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
    "CHOICE_ID",
    "FORM_FIELDS",
    "STATE_KEY",
    "Applicant",
    "FormField",
    "FormStep",
    "HenanFormState",
    "applicants_xlsx",
    "application_xlsx",
    "apply_step",
    "handle",
    "henan_routes",
    "is_offered",
    "list_applicants",
    "offer_choice",
]

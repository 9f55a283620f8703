"""The interview as a pure state machine: (typed state, message, its reading) -> (replies, effects).

Every message is read once for every fact it carries (`handlers.extract`), whatever was asked: a
description in one breath sets the province, the industry and the grounds at once, and the next
question skips them. Only sure readings are stored; an unsure one (a typo, 化工厂, 去年3月) is asked back.
The engine says what is still `missing`; `handlers.ordering` asks the most decisive of it first; the
verdict comes as soon as it is decided, then the dates its deadlines count from. The router carries
commands; the dispatcher persists the state and carries out the effects.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from handlers import extract, parse
from handlers.extract import (
    CREDIT_CODE,
    DATE_FACTS,
    HW_OPERATOR,
    LISTED,
    OUTPUT_VALUE,
    PAST,
    RANGE,
    ROUND_DAY,
    STANDARD_OR_QUOTA,
    SURE,
    Candidate,
    Reading,
)
from handlers.extract_numbers import find_dates
from handlers.messages import Choice, Outbound
from handlers.offices import render_offices
from handlers.ordering import Scores, order_missing
from handlers.questions import QUESTIONS, TOXIC_ORDER, Answer, province_label
from handlers.reminders import ReminderPolicy
from handlers.render import fact_label, ineligible_reasons, render_deadlines, render_verdict
from handlers.state import ConversationState, InterviewState, Pending, Stage, Undo
from handlers.status import original
from handlers.steps import read_step
from handlers.understood import describe, summary, understood
from rules import Engine, FactError, derive, parse_facts
from rules.engine import Assessment
from rules.i18n import N_, Gettext, gettext_for
from rules.sizes import EMPLOYEE_BOUNDS

FOLLOW_UPS = DATE_FACTS
CHECKLIST = "grounds"  # the open grounds asked together (not a fact of its own)
TOXIC_LEAD = N_("Which of these? Pick the class that applies (type several numbers, e.g. 1,3, if more than one "
                "does).")
GROUND_FACTS = ("exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit", "toxic_classes",
                "missed_energy_target")
GROUND_LABELS = {
    "exceeds_emission_standard": N_("Pollutant emissions exceed a national or local emission standard"),
    "exceeds_total_quota": N_("Emissions of key pollutants exceed the total-quantity control quota"),
    "exceeds_energy_limit": N_("Energy use per unit of product exceeds the limit standard (high energy use)"),
    "toxic_classes": N_("Uses toxic or hazardous raw materials, or discharges toxic or hazardous substances "
                        "(hazardous waste, highly toxic chemicals, lead, mercury, cadmium, chromium, arsenic …)"),
    "missed_energy_target": N_("Did not meet its energy-saving target"),
}
NONE_OF_THEM = ("都没有", "都不是", "以上都没有", "以上都不是", "一个都没有", "全都没有", "都不符合", "没有这些情况",
                "none of them", "none", "none of these", "no to all")
DUTY_FACTS = ("central_enterprise",)  # asked after a mandatory verdict where a pack's duties depend on them
BOOL_FACTS = frozenset(f for f, q in QUESTIONS.items() if q.yes_no)
_CODE_LIKE = re.compile(r"^[0-9a-z]{15,20}$")
_NUMBERS = re.compile(r"^[\d,，、\s]+$")
_LEADING_NUMBERS = re.compile(r"^\s*(\d+(?:\s*[,，、和及]\s*\d+)*)\s*(?:$|[,，、和及]\s*(?=\D)|(?=[^\d\s,，、]))")
_DAY = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号]?$")
_SIZE_NUMBERS = frozenset({"employees", "revenue_10k_yuan", "scale", "above_designated_size"})
_ASKED_BACK = 0.8  # below SURE: confirmed before it is stored
# A ground said of the past is asked as it is now (a clause of a sentence that said 去年被罚过).
# Where a contact who does not know a ground can find it out (said once, when the checklist gets 不清楚)
_FIND_OUT = {
    "exceeds_emission_standard": N_("the monitoring data and execution reports of the pollutant discharge permit, or "
                                    "ask the local ecology and environment bureau"),
    "exceeds_total_quota": N_("compare the actual emissions with the amounts the pollutant discharge permit allows, "
                              "or ask the local ecology and environment bureau"),
    "exceeds_energy_limit": N_("the energy audit or energy-saving inspection result, against the energy consumption "
                               "limit standard of the product, or ask the local energy-saving authority"),
    "toxic_classes": N_("the environmental impact assessment, the hazardous-waste management plan and ledger, and "
                        "the safety data sheets of the raw materials"),
    "missed_energy_target": N_("the energy-saving authority's yearly assessment of the enterprise's target"),
}
_STILL = {
    "exceeds_emission_standard": N_("Do the emissions still exceed the standard now?"),
    "exceeds_total_quota": N_("Do the emissions still exceed the total quota now?"),
    "exceeds_energy_limit": N_("Does the energy use still exceed the limit now?"),
}
_YEAR_END = re.compile(r"年底|年末|年初|end of (?:the )?year")
_NAMES_YEAR = re.compile(r"\d{4}|\d{2}\s*年|[前去今明]年")
# "不对，是去年四月十五": the message takes back the answer before it (a day given one question too early or wrong)
_CORRECTION = re.compile(r"^(?:不对|不是的?|错了|说错了|搞错了|写错了|打错了|记错了|更正|纠正|刚才说错了|刚才那个不对"
                         r"|no\b|wrong|sorry|correction|i mean)")
AGREE = ("同意", "agree", "i agree", "好", "好的", "可以", "ok", "行")
DISAGREE = ("不同意", "disagree", "i do not agree", "拒绝", "不", "no")


@dataclass
class Effects:
    consent: bool = False            # record consent now
    forget: bool = False             # delete everything stored about this contact
    bind_credit_code: str | None = None
    assessment: Assessment | None = None  # store it (and the audit cycle it starts)
    status: bool = False             # the dispatcher appends the contact's deadlines
    locale: str | None = None


@dataclass
class Step:
    state: ConversationState
    replies: list[Outbound] = field(default_factory=list)
    effects: Effects = field(default_factory=Effects)

    @property
    def iv(self) -> InterviewState:
        return self.state.interview

    @property
    def tr(self) -> Gettext:
        return gettext_for(self.state.locale)


def _names_us(text: str) -> bool:
    """你们是谁 / 你是机器人吗 / 你们是政府的吗: the message asks who or what answers (the text normalized once)."""
    plain = parse.normalize(text)
    return any(w in plain for w in _WHO_WORDS) or _asks_authority(text)


def _asks_authority(text: str) -> bool:
    plain = parse.normalize(text)
    return any(w in plain for w in _AUTHORITY_WORDS)


class Interview:
    def __init__(self, engine: Engine, today: Callable[[], date], *, decisive_first: bool = True,
                 policy: ReminderPolicy | None = None, scores: Scores | None = None) -> None:
        self.engine = engine
        self.today = today
        self.policy = policy  # what reminders a bound contact gets (the verdict promises only those)
        self.decisive_first = decisive_first  # False: the engine's own order (kept for the bench's "before")
        self.scores = Scores() if scores is None else scores  # decisiveness by (facts, day, fact), reused

    # -- stages before the interview -----------------------------------------------------------

    def welcome(self, step: Step) -> Step:
        step.state.stage = Stage.CONSENT
        tr = step.tr
        intro = _intro(tr)
        consent = tr(N_("To do this I store your answers about the enterprise and your chat id (个人信息保护法). "
                        "You can delete them at any time by typing 删除我的数据. Do you agree? If you do not, I "
                        "can still give you the verdict without storing anything."))
        return self._say(step, f"{intro}\n\n{consent}", (("consent:yes", N_("I agree")),
                                                         ("consent:no", N_("I do not agree"))))

    def consent(self, step: Step, text: str) -> Step:
        agreed = read_consent(text)
        if agreed is None:  # "你们是谁？" and the like: the introduction answers it, then the question again
            step.replies.append(Outbound(step.tr(N_("Please answer 同意 (I agree) or 不同意 (I do not agree)."))))
            return self.welcome(step)
        if not agreed:
            step.effects.forget = True
            step.state = ConversationState(locale=step.state.locale, stage=Stage.INTERVIEW, anonymous=True)
            step.replies.append(Outbound(step.tr(N_(
                "Understood: nothing has been stored. I can still tell you whether the audit is mandatory: "
                "nothing you type is kept (only for this conversation, in memory), and I send no reminders. "
                "Send 同意 at any time to have your deadlines kept and reminded."))))
            return self.advance(step)
        step.effects.consent = True
        step.state.anonymous = False
        if step.state.facts:  # agreed after an anonymous start: carry on with what was said
            step.state.stage = Stage.INTERVIEW
            step.replies.append(Outbound(step.tr(N_("Thank you. I keep your answers from now on."))))
            return self.advance(step)
        step.state.stage = Stage.CREDIT_CODE
        return self.ask_credit_code(step)

    def ask_credit_code(self, step: Step, error: str | None = None) -> Step:
        tr = step.tr
        text = tr(N_("What is the enterprise's unified social credit code (统一社会信用代码, 18 characters)? "
                     "Colleagues who give the same code share the enterprise's answers and reminders. You can "
                     "also skip it and simply describe the enterprise in a sentence (province, trade, size, "
                     "emissions)."))
        if error:
            text = f"{error}\n\n{text}"
        step.state.stage = Stage.CREDIT_CODE
        return self._say(step, text, (("skip", N_("Skip")),))

    def credit_code(self, step: Step, text: str, reading: Reading) -> Step:
        # "不清楚" skips the code; a description with a doubt in it (…具体日期记不清了) is read for its facts
        if text in ("skip", "跳过") or (reading.unknown and not _facts_in(reading)):
            step.state.stage = Stage.INTERVIEW
            return self.advance(step)
        if reading.get(CREDIT_CODE) is None and not _facts_in(reading):
            compact = re.sub(r"[\s-]", "", text)
            if _CODE_LIKE.match(compact):
                try:
                    code = uscc.validate(compact.upper())
                except StdnumError:
                    return self.ask_credit_code(step, step.tr(N_(
                        "That is not a valid unified social credit code: it must have 18 characters and a "
                        "correct check character.")))
                return self._bind(step, code)
            if _names_us(text):
                return self.ask_credit_code(step, _intro(step.tr))
            return self.ask_credit_code(step, step.tr(N_(
                "I could not find a credit code or a description of the enterprise in that.")))
        step.state.stage = Stage.INTERVIEW
        return self.answer(step, text, reading)

    def _bind(self, step: Step, code: str) -> Step:
        step.state.stage = Stage.INTERVIEW
        step.state.credit_code = code
        step.effects.bind_credit_code = code  # the dispatcher binds it (or says a colleague must invite)
        return self.advance(step)

    def resume(self, state: ConversationState, extra_facts: dict[str, Any]) -> Step:
        """Continue after the dispatcher merged facts known for a bound enterprise."""
        iv = state.interview
        inherited = [k for k in extra_facts if k not in iv.facts]
        iv.facts = {**extra_facts, **iv.facts}
        # each inherited answer can be undone with 返回, like one given here
        iv.history = [*iv.history, *(Undo(fact=k, set=[k]) for k in inherited if k in QUESTIONS)]
        return self.advance(Step(state))

    # -- answers -------------------------------------------------------------------------------

    def answer(self, step: Step, text: str, reading: Reading) -> Step:
        """A message during the interview: a picked choice, or text read for every fact it carries."""
        iv = step.iv
        asking = iv.asking
        requeued = iv.pending
        if iv.pending is not None:
            handled = self._settle_pending(step, text, reading)
            if handled is not None:
                return handled
            iv.unsure, iv.pending = [iv.pending, *iv.unsure], None  # about something else: asked again later
        if _names_us(text) \
                and not any(c.confidence >= SURE for c in reading.candidates):  # 你是机器人吗: no robot maker
            return self._reask(step, asking, text, requeued)
        if asked_something(text) and not any(c.confidence >= SURE for c in reading.candidates):
            # 申请什么时候截止, 你们收费吗: a question stating no fact; its words are no trade to search
            reading = dataclasses.replace(reading, candidates=tuple(
                c for c in reading.candidates if c.fact != "industry_code" or c.confidence >= SURE))
        if text in ("unknown", "skip") and asking == CHECKLIST:
            return self._checklist_unknown(step)
        if text in ("unknown", "skip") and asking is not None and asking not in FOLLOW_UPS:
            return self._skip(step, asking)
        if asking == CHECKLIST:
            handled = self._checklist_answer(step, text, reading)
            if handled is not None:
                return handled
            if not reading.candidates:  # neither a pick nor a fact: "不清楚" says what it depends on, else re-asked
                return self._checklist_unknown(step) if reading.unknown else self._reask(step, CHECKLIST, text)
            # facts typed instead: kept; the grounds still open are asked together again (if two or more are)
        if asking == "scale":
            reading = self._size_reading(step, text, reading)
        if asking is not None and (_is_choice(text, step.state.offered)
                                   or (asking == "toxic_classes" and _NUMBERS.match(text))):
            answer = QUESTIONS[asking].read(text, iv.model_dump())
            return self._take_answer(step, asking, answer)
        corrected = self._corrected_day(step, text, reading)
        if corrected is not None:
            self._ask_back(step, corrected)
            iv.asking = asking  # declined, the open question is asked again, not the earlier one
            return step
        new, unsure = self._collect(step, reading)
        if asking is not None and asking not in new:
            # a message that says something else ("不对，没超标" at the list-date question) is not a bare yes/no
            direct = self._direct_answer(step, asking, text, reading, bool(new) or any(
                asking not in _asks(u.fact) for u in unsure))
            if direct is not None:
                if isinstance(direct, Step):
                    return direct
                new.update(direct)
        if not new and not unsure:
            if asking is not None and reading.unknown:
                return self._skip(step, asking)
            if reading.get(CREDIT_CODE) is not None:
                return self.advance(step)
            # nothing read at an ask-back ("2026年1月30日" at "是水泥制造吗？", 30号 for February): it is asked again,
            # not the question behind it (whose pick-list search made trades of the digits)
            return self._reask(step, asking, text, requeued)
        before = dict(iv.facts)
        set_keys = self._store(step, asking, new)
        iv.unsure = [*(u for u in iv.unsure if u.fact not in {p.fact for p in unsure}), *unsure]
        ranges = [c for c in reading.candidates if c.note == RANGE and len(c.options) == 2]
        shown = [k for k in set_keys if not any(c.fact == k for c in ranges)]  # a range is said back as one
        if shown and (len(set_keys) > 1 or set_keys[0] != asking):
            step.replies.append(Outbound(understood(step.iv.facts, shown, step.tr, step.state.locale)))
        for c in ranges:  # 两三百人: said back as the range, and whether the class depends on it
            step.replies.append(Outbound(_range_said_back(c, c.fact in set_keys, step.tr)))
        if any(k in before and before[k] != iv.facts.get(k) for k in set_keys):
            self._restate_verdict(step, before)
        if not set_keys and not unsure:  # nothing it said could be kept (a day after today): asked again
            return self.advance(step)
        replacing = [u for u in unsure if any(f in iv.facts for f in _asks(u.fact))]
        if set_keys and replacing:  # "不是超标，是超总量": the correction of an earlier answer is asked back now
            return self._ask_back(step, replacing[0])
        if not set_keys:  # only unsure readings: ask back now what the message meant (the open question's first)
            unsure.sort(key=lambda u: asking not in _asks(u.fact))
            return self._ask_back(step, unsure[0])
        return self.advance(step)

    def _corrected_day(self, step: Step, text: str, reading: Reading) -> Pending | None:
        """"不对，是去年四月十五" at the question after a day was given: the day corrects that answer, not the open
        question's (a later audit completion would mark this round's start and report done). It is asked
        back as the earlier day ("名单公布于 2025-04-15？"); words naming the step ("审核是去年四月完成的")
        bind it as usual."""
        iv = step.iv
        asking = iv.asking
        if asking not in DATE_FACTS or not iv.history or not _CORRECTION.match(parse.normalize(text)):
            return None
        last = iv.history[-1]  # the answer before: its question's, or a day it set in passing (one breath)
        days = [f for f in dict.fromkeys([last.fact, *last.set]) if f in DATE_FACTS and f != asking and f in iv.facts]
        if len(days) != 1:
            return None
        previous = days[0]
        said = reading.get(asking)
        if said is None or (said.value is None and said.partial is None):
            return None
        again = extract.read(text, today=self.today(), asking=previous).get(previous)
        if again is None or (again.value, again.partial) != (said.value, said.partial):
            return None  # the words bind the day to the open question's step
        return Pending(fact=previous, value=said.value, partial=said.partial, span=said.span)

    def _size_reading(self, step: Step, text: str, reading: Reading) -> Reading:
        """The size question's answer read in the light of what its prompt asked: the headcount or the
        revenue still missing ("200" after "how many employees?", "8000万" after "and its revenue?"); at
        the first size question, which asks for both, a bare number is 200 people asked back."""
        facts = step.iv.facts
        focus = "employees" if "revenue_10k_yuan" in facts and "employees" not in facts else \
            "revenue_10k_yuan" if "employees" in facts and "revenue_10k_yuan" not in facts else None
        if focus is not None:
            return extract.read(text, today=self.today(), asking=focus)
        if any(c.fact in _SIZE_NUMBERS for c in reading.candidates):
            return reading
        c = extract.read(text, today=self.today(), asking="employees").get("employees")
        if c is None:
            return reading
        c = Candidate(c.fact, c.value, min(c.confidence, _ASKED_BACK), c.span)
        return dataclasses.replace(reading, candidates=(*reading.candidates, c), rest=False)

    def _collect(self, step: Step, reading: Reading) -> tuple[dict[str, Any], list[Pending]]:
        """The sure facts of a reading, and the unsure ones, to be asked back when their question comes."""
        new: dict[str, Any] = {}
        unsure: list[Pending] = []
        for c in reading.candidates:
            if c.fact == CREDIT_CODE:
                if c.confidence >= SURE and step.state.credit_code is None and not step.state.anonymous:
                    step.state.credit_code = c.value
                    step.effects.bind_credit_code = c.value
                continue
            if c.fact in new:
                continue
            if c.value is None and c.options and step.iv.facts.get(c.fact) in c.options:
                continue  # "只洗煤" after 0610 was picked: the options fit what is known, nothing to ask
            if c.fact == STANDARD_OR_QUOTA or c.value is None or c.partial is not None or c.confidence < SURE \
                    or self._side_reading(step, c):
                if c.fact == STANDARD_OR_QUOTA or c.options or c.partial is not None or c.value is not None:
                    unsure.append(Pending(fact=c.fact, value=c.value, options=list(c.options), partial=c.partial,
                                          span=c.span, note=c.note))
                continue
            new[c.fact] = c.value
        new = _valid_only(step.iv.facts, new)
        return new, [u for u in unsure if not (set(_asks(u.fact)) & set(new))]

    def _side_reading(self, step: Step, c: Candidate) -> bool:
        """A sure reading that is still confirmed before it is stored, because it was not the answer asked
        for: a trade named in passing ("卖水泥的贸易公司", "给焦化厂做维修", "用的水性涂料" name a product, a
        customer, a material, not the enterprise's own class, and a class can decide the verdict alone),
        and any value that would replace a different one already given."""
        known = step.iv.facts
        if c.fact == step.iv.asking:
            return False
        if c.fact in known and known[c.fact] != c.value:
            return True
        return c.fact == "industry_code"

    def _direct_answer(self, step: Step, asking: str, text: str, reading: Reading,
                       other: bool) -> dict[str, Any] | Step | None:
        """What the message says about the open question when it names no fact itself: 是/没有 for a
        yes/no question, 没有 for the toxic classes or a date, a pick-list search for the industry."""
        if asking in BOOL_FACTS:
            if reading.polarity is not None and not other:
                return {asking: reading.polarity}
            return None
        if asking == "toxic_classes":
            if (reading.polarity is False or reading.none) and not other:
                return {"toxic_classes": []}
            listed = None if other else QUESTIONS["toxic_classes"].read(text, step.iv.model_dump())
            if listed is not None and not listed.candidates:  # 都没有, none of them, 1,3
                return dict(listed.facts)
            if reading.polarity is True and not other:
                step.iv.candidates = list(TOXIC_ORDER)
                return self.ask(step, asking, TOXIC_LEAD)
            return None
        if asking == "above_designated_size":
            if reading.polarity is not None and not other:
                return {asking: reading.polarity}
            return None
        if asking in FOLLOW_UPS:
            if (reading.none or reading.polarity is False) and not other \
                    and not any(c.fact == asking for c in reading.candidates):  # "不对是6月" gives another month
                return self._no_such_day(step, asking)
            return None
        if asking == "industry_code" and not other and not _names_us(text) and not asked_something(text):
            # a question of the contact's own (申请什么时候截止, 你们收费吗) is no trade: never searched as one
            answer = QUESTIONS["industry_code"].read(text, step.iv.model_dump())  # 你是机器人吗 names no trade
            if answer is not None:
                return self._take_answer(step, asking, answer)
        return None

    def _take_answer(self, step: Step, fact: str, answer: Answer | None) -> Step:
        iv = step.iv
        if answer is None:
            return self._reask(step, fact)
        if answer.candidates:
            iv.candidates = list(answer.candidates)
            lead = N_("Which of these is closest? Pick one, or type other words.") if fact == "industry_code" \
                else TOXIC_LEAD
            return self.ask(step, fact, lead)
        if answer.note == "none":
            if fact == "industry_code":
                iv.candidates = []
                return self.ask(step, fact, N_("Then please describe the trade in other words, or type the "
                                               "four-digit class code."))
            return self._no_such_day(step, fact)
        facts = _valid_only(iv.facts, dict(answer.facts))
        if not facts:
            return self._reask(step, fact)
        self._store(step, fact, facts)
        return self.advance(step)

    def _store(self, step: Step, asking: str | None, new: dict[str, Any]) -> list[str]:
        iv = step.iv
        new = self._past_only(step, new)
        if not new:
            return []
        iv.facts = {**iv.facts, **new}
        iv.unsure = [u for u in iv.unsure if not set(_asks(u.fact)) & set(new)]
        iv.history = [*iv.history, Undo(fact=asking or next(iter(new)), set=sorted(new))]
        iv.candidates = []
        iv.skipped = [f for f in iv.skipped if f not in new]
        if asking in FOLLOW_UPS and asking in new:
            iv.asked_follow = [*iv.asked_follow, asking]
        return [k for k in new]

    def _past_only(self, step: Step, new: dict[str, Any]) -> dict[str, Any]:
        """A list's publication and a completed step are days that have happened: one after today is said
        back and not stored (the question is asked again)."""
        today = self.today()
        later = {k: v for k, v in new.items() if k in DATE_FACTS and str(v) > today.isoformat()}
        for k, v in later.items():
            step.replies.append(Outbound(step.tr(N_("{day} is after today ({today}): {what} must be a day that has "
                                                    "already come. Please give the day it happened.")).format(
                day=str(v), today=today.isoformat(), what=fact_label(k, step.tr))))
        return {k: v for k, v in new.items() if k not in later}

    def _no_such_day(self, step: Step, fact: str) -> Step:
        """Not listed / never audited / not evaluated: asked once, undone with 返回 like an answer."""
        iv = step.iv
        iv.asked_follow = [*iv.asked_follow, fact]
        iv.history = [*iv.history, Undo(fact=fact)]
        return self.advance(step)

    def _skip(self, step: Step, fact: str) -> Step:
        iv = step.iv
        if fact == "toxic_classes" and iv.candidates == list(TOXIC_ORDER):  # said yes, then 不清楚 for the class
            return self._toxic_class_unknown(step)
        iv.skipped = [*iv.skipped, fact]
        iv.history = [*iv.history, Undo(fact=fact)]
        iv.pending = None
        return self.advance(step)

    def _checklist_unknown(self, step: Step) -> Step:
        """不清楚 for the grounds asked together: they stay unknown (never 没有) and are not asked one by one.
        One reply says which grounds the verdict still depends on and where each can be found out; what the
        verdict is meanwhile comes with it (or with the verdict, when nothing else is asked first)."""
        iv, tr, st = step.iv, step.tr, step.state
        grounds = [g for g in (list(iv.candidates) or self.checklist(st, self.assessment(st))) if g in GROUND_FACTS]
        iv.skipped = [*iv.skipped, *(g for g in grounds if g not in iv.skipped)]
        iv.asked_follow = [*iv.asked_follow, CHECKLIST]
        iv.history = [*iv.history, Undo(fact=CHECKLIST, skipped=grounds)]
        iv.candidates = []
        iv.pending = None
        lines = [tr(N_("Understood: you do not know these yet. I keep them as unknown, not as “no”, and do not ask "
                       "them one by one. The verdict still depends on them; this is where each can be found out:"))]
        lines += [tr(N_("{number}. {ground}: {how}")).format(
            number=i, ground=tr(GROUND_LABELS[g]), how=tr(_FIND_OUT[g])) for i, g in enumerate(grounds, 1)]
        lines.append(tr(N_("Also: the provincial ecology and environment department and the energy-saving "
                           "authority publish the lists of enterprises that must audit (《清洁生产审核办法》); if the "
                           "enterprise is named on one, the audit is mandatory. Type back to answer the list of "
                           "grounds once you know.")))
        a = self.assessment(st)
        if self.next_fact(st, a) is not None:  # another question first: the verdict meanwhile is said now
            meanwhile = self._meanwhile(st, a, tr)
            if meanwhile:
                lines.append(meanwhile)
        step.replies.append(Outbound("\n".join(lines)))
        return self.advance(step)

    def _meanwhile(self, st: ConversationState, a: Assessment, tr: Gettext) -> str | None:
        """While grounds are unknown: the verdict if any one of them applies, and if none does (each worked
        out by the engine, the other facts as they are)."""
        unknown = [g for g in a.missing if g in GROUND_FACTS and g in st.interview.skipped]
        if not unknown:
            return None
        if_yes: dict[str, tuple[str, str]] = {}
        for g in unknown:
            b = self.engine.assess(derive(parse_facts({**st.facts, g: ["other_toxic"] if g == "toxic_classes"
                                                                        else True})), self.today())
            if b.obligation == "mandatory" and b.grounds:
                hit = b.grounds[0]
                if_yes[g] = (hit.pack.title, hit.citation)
        none = self.engine.assess(derive(parse_facts({**st.facts, **{
            g: ([] if g == "toxic_classes" else False) for g in unknown}})), self.today())
        outcome = {"mandatory": N_("the audit is mandatory all the same, on the other facts"),
                   "voluntary": N_("the audit is voluntary (not mandatory)")}.get(none.obligation,
                                                                                N_("more answers are needed"))
        if not if_yes:
            return tr(N_("Meanwhile: whatever these grounds are, {outcome}.")).format(outcome=tr(outcome))
        by_document: dict[str, list[str]] = {}
        for title, citation in if_yes.values():
            by_document.setdefault(title, [])
            if citation not in by_document[title]:
                by_document[title].append(citation)
        sources = original(tr(N_("; ")).join(title + tr(N_(", ")).join(c) for title, c in by_document.items()), tr)
        if len(if_yes) == len(unknown):
            return tr(N_("Meanwhile, the verdict is conditional: if any one of them applies, the audit is MANDATORY "
                         "({sources}); if none of them does, {outcome}.")).format(sources=sources, outcome=tr(outcome))
        labels = tr(N_(", ")).join(tr(GROUND_LABELS[g]) for g in unknown if g in if_yes)
        return tr(N_("Meanwhile, the verdict is conditional: if any one of these applies ({grounds}), the audit is "
                     "MANDATORY ({sources}); if none of them does, {outcome}.")).format(
            grounds=labels, sources=sources, outcome=tr(outcome))

    def _toxic_class_unknown(self, step: Step) -> Step:
        """Toxic substances are used or discharged, which class is not known: every pack decides on "some
        class" (toxic_classes non-empty), so the verdict does not wait for it. Recorded as the law's fifth
        class, 其他具有毒性、可能污染环境的物质, and said so; a named class can replace it at any time."""
        step.replies.append(Outbound(step.tr(N_(
            "The class does not change the verdict: using or discharging toxic or hazardous substances is a ground "
            "in itself. I have recorded it as \"other toxic substances\" (the fifth class of the 办法); tell me the "
            "class when you know it."))))
        self._store(step, "toxic_classes", {"toxic_classes": ["other_toxic"]})
        return self.advance(step)

    # -- unsure readings are asked back --------------------------------------------------------

    def _ask_back(self, step: Step, p: Pending) -> Step:
        """Ask about an unsure reading: confirm a value, pick one of its options, or complete a date."""
        iv = step.iv
        tr = step.tr
        iv.unsure = [u for u in iv.unsure if u.fact != p.fact]
        iv.pending = p
        if p.fact in QUESTIONS:
            iv.asking = p.fact
        if p.fact == STANDARD_OR_QUOTA:
            return self._say(step, tr(N_("“{span}”: do the emissions exceed a standard, the total quota, or "
                                         "both?")).format(span=p.span),
                             (("sq:standard", N_("Over a standard")), ("sq:quota", N_("Over the total quota")),
                              ("sq:both", N_("Both")), ("unknown", N_("Not sure"))))
        if p.note == ROUND_DAY:  # 19年做过一次审核，21年验收的: which day completed the round is asked, and why
            step.replies.append(Outbound(tr(N_(
                "You named the audit (“{span}”) and its acceptance: two different days. The next round must be "
                "completed within five years of the day the last round was completed, which is the day its audit "
                "report was submitted (the acceptance is recorded apart), so the next round's deadline counts from "
                "that day. If the report was submitted in another year, type that day.")).format(span=p.span)))
        if p.note == OUTPUT_VALUE:  # 年产值三个多亿: output value is not the revenue the size class counts
            return self._say(step, tr(N_(
                "“{span}” is an output value, but the enterprise's size class is counted by its operating revenue "
                "(《统计上大中小微型企业划分办法》), and the two differ. Do you mean, as an approximate figure: "
                "{fact}? If not, type the annual operating revenue.")).format(
                    span=p.span, fact=describe(p.fact, p.value, tr, step.state.locale)),
                (("ok:yes", N_("Yes")), ("ok:no", N_("No"))))
        if p.note == HW_OPERATOR:  # 危废经营单位: operating is no ground; discharging hazardous waste is
            return self._say(step, tr(N_(
                "I understood: “{span}”, an enterprise that collects, stores, uses or disposes of hazardous waste. "
                "That is not a ground of its own: the audit is mandatory when an enterprise uses toxic or hazardous "
                "raw materials in production or discharges toxic or hazardous substances "
                "(《中华人民共和国清洁生产促进法》 article 27, paragraph 2, item 3), and hazardous waste is one of "
                "them. Does the enterprise use or discharge hazardous waste (for example the waste it treats, or "
                "residues, fly ash or waste liquids of its treatment)?")).format(span=p.span),
                (("ok:yes", N_("Yes")), ("ok:no", N_("No")), ("unknown", N_("Not sure"))))
        if p.note == RANGE and len(p.options) == 2:  # 两三百人 across a size bound: the number is asked
            low, high = p.options
            bound = next((b for b in EMPLOYEE_BOUNDS if low < b <= high), None) \
                or min(EMPLOYEE_BOUNDS, key=lambda b: abs(b - low))  # 大概三五百人: "about", from 300
            return self._say(step, tr(N_(
                "“{span}”: between {low} and {high} employees, and {bound} employees is where a {size} begins, so "
                "the size class depends on the number. About how many employees are there (for example {example})?"
            )).format(span=p.span, low=low, high=high, bound=bound, size=tr(_BAND_AT[bound]),
                      example=(low + high) // 2), (("unknown", N_("Not sure")),))
        if p.note == LISTED:  # 上了省里的审核名单，十四五的: the Shanxi master list, asked in plain words
            return self._say(step, tr(N_(
                "I understood: “{span}”, a list of the province without its day. Under Shanxi's 14th Five-Year plan "
                "(《山西省“十四五”重点行业清洁生产审核实施方案》, section III (1)) the cities draw each year's list of "
                "enterprises that must audit from the province's master list of mandatory-audit enterprises, so an "
                "enterprise on such a list is in the master list. Is the enterprise in that master list?")).format(
                    span=p.span),
                (("ok:yes", N_("Yes")), ("ok:no", N_("No")), ("unknown", N_("Not sure"))))
        if p.note == PAST and p.value is True:  # 去年被罚过，因为超标: a ground counts as it is now
            still = _STILL.get(p.fact)
            question = tr(still) if still else tr(N_("Is it still so now: {fact}?")).format(
                fact=describe(p.fact, p.value, tr, step.state.locale))
            return self._say(step, tr(N_("“{span}” is about the past, and the verdict goes by the enterprise as it "
                                         "is now. {question}")).format(span=p.span, question=question),
                             (("ok:yes", N_("Yes")), ("ok:no", N_("No"))))
        if p.partial is not None and len(p.partial) > 4 and p.value is not None and not _YEAR_END.search(p.span):
            # 上个月底 / 3月底: the month's last day, a guess confirmed (去年底 asks December's day instead)
            return self._say(step, tr(N_("Do you mean: {fact}?")).format(
                fact=describe(p.fact, p.value, tr, step.state.locale)), (("ok:yes", N_("Yes")), ("ok:no", N_("No"))))
        if p.partial is not None and len(p.partial) == 4:  # 21年, 去年: the month and the day
            return self._say(step, tr(N_("In which month and on which day of {year} ({what})? The deadlines count "
                                         "from the day. Type it, for example {year}-03-31.")).format(
                                             year=p.partial, what=fact_label(p.fact, tr)),
                             (("unknown", N_("Not sure")),))
        if p.partial is not None:
            year, month = (int(x) for x in p.partial.split("-"))
            return self._say(step, tr(N_("On which day of {year}-{month} ({what})? Type the day, for "
                                         "example 31.")).format(year=year, month=f"{month:02d}",
                                                                what=fact_label(p.fact, tr)),
                             (("unknown", N_("Not sure")),))
        if p.value is None and p.options:
            if p.fact == "industry_code":
                iv.pending = None
                iv.candidates = [str(o) for o in p.options]
                return self.ask(step, "industry_code", N_("“{span}”: which of these is closest? Pick one, or type "
                                                          "other words."), span=p.span)
            if p.fact == "toxic_classes":
                iv.pending = None
                iv.candidates = list(TOXIC_ORDER)
                return self.ask(step, "toxic_classes", N_("“{span}”: which of these substances? Pick the class "
                                                          "that applies (type several numbers, e.g. 1,3, if more "
                                                          "than one does)."), span=p.span)
            if p.fact == "province":
                names = [province_label(str(o), step.state.locale) for o in p.options[:4]]
                choices = tuple(Choice(f"opt:{o}", name) for o, name in zip(p.options[:4], names, strict=True))
                step.state.offered = [ch.id for ch in choices]
                step.replies.append(Outbound(tr(N_("Which province do you mean by “{span}”: {names}?")).format(
                    span=p.span, names=tr(N_(" or ")).join(names)), choices))
                return step
        shown = describe(p.fact, p.value, tr, step.state.locale)
        if p.fact == "industry_code":
            return self._say(step, tr(N_("Is the enterprise's own trade (what it produces or does itself) {fact}?"))
                             .format(fact=shown), (("ok:yes", N_("Yes")), ("ok:no", N_("No"))))
        return self._say(step, tr(N_("Do you mean: {fact}?")).format(fact=shown),
                         (("ok:yes", N_("Yes")), ("ok:no", N_("No"))))

    def _queued(self, st: ConversationState, wanted: set[str]) -> Pending | None:
        """A queued unsure reading about one of the facts wanted next (it is asked back before them)."""
        return next((u for u in st.interview.unsure if set(_asks(u.fact)) & wanted), None)

    def _settle_pending(self, step: Step, text: str, reading: Reading) -> Step | None:
        """The reply to an ask-back; None when the message is about something else (it is read anew)."""
        iv = step.iv
        p = iv.pending
        assert p is not None
        if p.fact == "last_audit_completed_on" and p.partial is not None and p.note != ROUND_DAY \
                and reading.get(p.fact) is None and any(c.fact in ("accepted_on", "evaluated_on")
                                                        for c in reading.candidates):
            # "19年做过一次审核", then "21年验收的": the acceptance's year is not the round's completion, which is
            # asked again saying why, as when both come in one message; the acceptance is kept or queued apart
            new, unsure = self._collect(step, reading)
            if new:
                self._store(step, iv.asking, new)
            iv.unsure = [*(u for u in iv.unsure if u.fact not in {x.fact for x in unsure}), *unsure]
            return self._ask_back(step, Pending(fact=p.fact, value=p.value, partial=p.partial, span=p.span,
                                                note=ROUND_DAY))
        if p.partial is not None and len(p.partial) == 4 and text != "unknown":
            within = self._within_year(p, text)  # "3月31日" / "3月" of the year said before
            if within is not None:
                iv.pending = None
                if within.partial is not None:  # the month only: its day is asked next
                    return self._ask_back(step, Pending(fact=p.fact, partial=within.partial, span=p.span))
                self._store(step, iv.asking, {p.fact: within.value})
                return self.advance(step)
        if p.partial is not None and len(p.partial) > 4 and p.value is not None and not _YEAR_END.search(p.span):
            said = {"ok:yes": True, "ok:no": False}.get(text, reading.polarity if not _facts_in(reading) else None)
            if said is not None:  # the answer to "名单公布于 2026-11-30？"
                iv.pending = None
                if not said:  # not the last day: which day of that month
                    return self._ask_back(step, Pending(fact=p.fact, partial=p.partial, span=p.span))
                self._store(step, iv.asking, {p.fact: p.value})
                return self.advance(step)
        if p.partial is not None and len(p.partial) > 4 and text != "unknown":
            day = self._day_of(p.partial, text, reading)  # "不记得了，月底吧" still says the month's end
            if day is not None:
                iv.pending = None
                self._store(step, iv.asking, {p.fact: day})
                return self.advance(step)
        if p.note == RANGE and text != "unknown" and not reading.unknown:  # "280" for "about how many?"
            number = extract.read(text, today=self.today(), asking="employees").get("employees")
            if number is not None and number.value is not None and number.confidence >= _ASKED_BACK:
                iv.pending = None
                self._store(step, iv.asking, _valid_only(iv.facts, {"employees": number.value}))
                return self.advance(step)
        if text == "unknown" or reading.unknown:
            iv.pending = None
            if p.fact == "toxic_classes" and p.value is None and p.options:  # 双有, and the class is not known
                return self._toxic_class_unknown(step)
            if p.partial is not None and p.fact in FOLLOW_UPS:  # the day is not known: no deadline from it
                iv.asked_follow = [*iv.asked_follow, p.fact]
            return self.advance(step)
        if p.fact == STANDARD_OR_QUOTA:
            picked: dict[str, bool] | None = {"sq:standard": {"exceeds_emission_standard": True},
                      "sq:quota": {"exceeds_total_quota": True},
                      "sq:both": {"exceeds_emission_standard": True, "exceeds_total_quota": True}}.get(text)
            if picked is None:
                found: dict[str, bool] = {c.fact: True for c in reading.candidates
                         if c.fact in ("exceeds_emission_standard", "exceeds_total_quota") and c.value is True}
                picked = found or None
            if picked is None:
                return None
            iv.pending = None
            self._store(step, iv.asking, picked)
            return self.advance(step)
        if p.partial is not None:
            return None  # no day in it (the first check above settles every day it can read)
        if p.fact == "province" and text.startswith("opt:"):
            if text[4:] not in [str(o) for o in p.options]:  # a choice id it never offered (a forged API call)
                return self._ask_back(step, p)
            iv.pending = None
            self._store(step, iv.asking, {"province": text[4:]})
            return self.advance(step)
        verdict = {"ok:yes": True, "ok:no": False}.get(text)
        if verdict is None and not _facts_in(reading):
            verdict = reading.polarity
        if verdict is None:
            return None
        iv.pending = None
        if not verdict and p.note == LISTED:  # "is it in the master list?" 否: the question answered
            self._store(step, iv.asking, _valid_only(iv.facts, {p.fact: False}))
            return self.advance(step)
        if not verdict and p.note == PAST and p.value is True:  # "现在还超标吗？" 否: not now
            self._store(step, iv.asking, _valid_only(iv.facts, {p.fact: False}))
            return self.advance(step)
        if verdict:
            facts = _valid_only(iv.facts, {p.fact: p.value})
            before = dict(iv.facts)
            set_keys = self._store(step, iv.asking, facts)
            if any(k in before and before[k] != iv.facts.get(k) for k in set_keys):  # a correction: say it back
                step.replies.append(Outbound(understood(iv.facts, set_keys, step.tr, step.state.locale)))
                self._restate_verdict(step, before)
            return self.advance(step)
        if p.fact == "province" or iv.asking == p.fact:
            return self.ask(step, p.fact)
        return self.advance(step)

    def _within_year(self, p: Pending, text: str) -> Candidate | None:
        """The reply to "which month and day of 2021?": a whole date, or a month (its day is asked next).
        Read with the year in front unless the reply names a year of its own."""
        assert p.partial is not None
        own_year = _NAMES_YEAR.search(parse.normalize(text)) is not None
        typed = text if own_year else f"{p.partial}年{text}"
        c = extract.read(typed, today=self.today(), asking=p.fact).get(p.fact)
        if c is None or c.partial == p.partial or (c.value is None and c.partial is None):
            return None
        if c.value is not None and c.confidence < SURE:  # 年底: December, the day is asked
            return Candidate(p.fact, None, c.confidence, c.span, (), c.partial) if c.partial else None
        return c

    def _day_of(self, partial: str, text: str, reading: Reading) -> str | None:
        year, month = (int(x) for x in partial.split("-"))
        for c in reading.candidates:
            if c.fact in DATE_FACTS and c.value is not None and c.confidence >= SURE:
                return str(c.value)
        t = parse.normalize(text)
        if any(w in t for w in ("月底", "月末", "最后一天", "end of month", "end of the month", "the last day")) \
                or t == "底":
            return date(year, month, calendar.monthrange(year, month)[1]).isoformat()
        if _NAMES_YEAR.search(t) is None:  # "3月15日" at "which day of 2025-03?": in 2025, not this year
            hits = [h for h in find_dates(t, self.today()) if h.value is not None and h.partial is None]
            if len(hits) == 1:
                try:
                    return hits[0].value.replace(year=year).isoformat()  # type: ignore[union-attr]
                except ValueError:  # 2月29日 of a year without one
                    return None
        m = _DAY.match(t.rstrip("。.!！吧啊呀"))
        if m is None:
            return None
        number = parse.chinese_to_number(m.group(1)) if not m.group(1).isdigit() else int(m.group(1))  # 十五号
        if number is None or number != int(number):
            return None
        try:
            return date(year, month, int(number)).isoformat()
        except ValueError:
            return None

    # -- the engine decides what comes next ----------------------------------------------------

    def assessment(self, st: ConversationState) -> Assessment:
        return self.engine.assess(derive(parse_facts(st.facts)), self.today())

    def advance(self, step: Step) -> Step:
        st = step.state
        a = self.assessment(st)
        st.interview.pending = None
        nxt = self.next_fact(st, a)
        if nxt is not None:
            queued = self._queued(st, self._askable(st, a))
            if queued is not None:
                st.stage = Stage.INTERVIEW
                return self._ask_back(step, queued)
            if st.stage not in (Stage.FOLLOW_UP, Stage.DONE) or a.obligation == "undetermined":
                st.stage = Stage.INTERVIEW
            if nxt == CHECKLIST:
                return self._ask_checklist(step, self.checklist(st, a))
            return self.ask(step, nxt)
        if st.stage != Stage.FOLLOW_UP:
            step.replies.append(Outbound(self.verdict_text(st, a, step.tr)))
        elif st.interview.history and st.interview.history[-1].fact in DUTY_FACTS and a.report_to \
                and st.facts.get(st.interview.history[-1].fact) is True:  # the duty applies: where to report changed
            step.replies.append(Outbound(render_offices(list(a.report_to), step.tr, province=st.facts.get("province"))))
        follow = self._next_follow_up(st, a)
        if follow is not None:
            st.stage = Stage.FOLLOW_UP
            step.effects.assessment = a  # stored now: a contact who stops here keeps the verdict and any clock
            queued = self._queued(st, {follow})
            return self._ask_back(step, queued) if queued is not None else self.ask(step, follow)
        if st.stage == Stage.FOLLOW_UP:
            step.replies.append(Outbound(render_deadlines(a, step.tr, st.locale, today=self.today(),
                                                          policy=self._reminded(st))))
        st.stage = Stage.DONE
        st.interview.asking = None
        st.offered = []
        step.effects.assessment = a
        if st.anonymous:
            return self._reply(step, N_("That is all I need. Nothing of this was stored and no reminders will "
                                        "come; send 同意 if you want me to keep your deadlines and remind you."),
                               keep=True)
        return self._reply(step, N_("That is all I need. Type 我的期限 for your deadlines, 返回 to change the last "
                                    "answer, or 重新开始 to start again."), keep=True)

    def _restate_verdict(self, step: Step, before: dict[str, Any]) -> None:
        """A verdict already given is given again when a correction changes it or the facts it names
        (the "判定依据的情况" line would otherwise still show the old answer)."""
        st = step.state
        if st.stage not in (Stage.FOLLOW_UP, Stage.DONE):
            return
        a = self.assessment(st)
        if self.next_fact(st, a) is not None:
            return  # the correction reopened a question: the verdict comes when it is answered
        lead = step.tr(N_("With the corrected answer:"))
        step.replies.append(Outbound(f"{lead}\n{self.verdict_text(st, a, step.tr)}"))

    def verdict_text(self, st: ConversationState, a: Assessment, tr: Gettext) -> str:
        basis = tr(N_("Based on: {facts}.")).format(facts=_summary_all(st, tr))
        verdict = render_verdict(a, tr, st.locale, today=self.today(), policy=self._reminded(st))
        why_not = ineligible_reasons(a, st.facts, tr, st.locale)  # Henan: which condition the facts fail
        meanwhile = self._meanwhile(st, a, tr) if a.obligation == "undetermined" else None
        if meanwhile:  # grounds answered 不清楚: what each outcome would give, under the headline
            head, _, rest = verdict.partition("\n\n")
            verdict = f"{head}\n{meanwhile}\n\n{rest}" if rest else f"{head}\n{meanwhile}"
        listed = st.facts.get("list_published_on")
        if listed and a.obligation != "mandatory":
            # On the authorities' list, yet no ground in the answers: the two disagree, and the list is the
            # legal finding. The conflict leads; what the answers alone give follows, plainly as that.
            conflict = tr(N_(
                "You said the enterprise is on the list of mandatory-audit enterprises published on {day}, but by "
                "your answers none of the mandatory grounds applies. The list is the authorities' finding (the "
                "《清洁生产审核办法》: they list enterprises on the grounds of its article 8): while it names the "
                "enterprise, the audit and the list's deadlines apply. Please check your answers (listed at the end) "
                "against the list notice (type back to change one), or ask the department that sent the notice."
            )).format(day=listed)
            head = tr(N_("Verdict: to be checked: your answers and the list disagree."))
            alone = tr(N_("By your answers alone (without the list):"))
            verdict = f"{head}\n{conflict}\n\n{alone}\n{verdict}"
        return f"{verdict}\n\n{why_not}\n\n{basis}" if why_not else f"{verdict}\n\n{basis}"

    def _reminded(self, st: ConversationState) -> ReminderPolicy | None:
        """The reminder policy when this contact gets reminders (bound to an enterprise, consent given)."""
        return self.policy if st.credit_code and not st.anonymous else None

    def _pending_facts(self, st: ConversationState, a: Assessment) -> list[str]:
        iv = st.interview
        if "province" not in iv.facts and "province" not in iv.skipped:
            return ["province"]
        pending = list(a.missing)
        if a.obligation == "voluntary":
            pending += [f for f in a.voluntary.missing if f not in pending]
        return [f for f in pending if f not in iv.skipped and f not in iv.facts and f in QUESTIONS]

    def _askable(self, st: ConversationState, a: Assessment) -> set[str]:
        return set(self._pending_facts(st, a))

    def next_fact(self, st: ConversationState, a: Assessment) -> str | None:
        facts = st.interview.facts
        pending = self._pending_facts(st, a)
        if pending == ["province"] or len(pending) < 2:
            return pending[0] if pending else None
        askable = set(pending)
        if not self.decisive_first:
            return pending[0]
        ordered = order_missing(self.engine, facts, pending, self.today(), askable, self.scores)
        if ordered and ordered[0] in GROUND_FACTS and self.checklist(st, a):
            return CHECKLIST
        return ordered[0] if ordered else None

    def checklist(self, st: ConversationState, a: Assessment) -> list[str]:
        """The grounds still open, asked together once ("which of these apply? none of them") when two or
        more are: one answer instead of one per ground."""
        iv = st.interview
        if CHECKLIST in iv.asked_follow or CHECKLIST in iv.skipped:
            return []
        open_grounds = [f for f in self._pending_facts(st, a) if f in GROUND_FACTS]
        return open_grounds if len(open_grounds) >= 2 else []

    def _next_follow_up(self, st: ConversationState, a: Assessment) -> str | None:
        """The next date a deadline counts from, asked only if a document binding this enterprise
        counts one of its deadlines (for this verdict) from it: the list's publication for every
        mandatory audit, the last audit for a five-year round, evaluation (Shanxi), acceptance (Henan)."""
        if a.obligation == "undetermined":
            return None
        iv = st.interview
        kinds = frozenset(g.kind for g in a.grounds)
        if a.obligation == "mandatory":
            for fact in self.engine.duty_facts(derive(parse_facts(iv.facts)), self.today(), kinds):
                if fact in QUESTIONS and fact not in iv.facts and fact not in iv.skipped \
                        and fact not in iv.asked_follow:
                    return fact
        counted = self.engine.clock_facts(iv.facts.get("province"), a.obligation, kinds)
        for fact in FOLLOW_UPS:
            if fact in counted and fact not in iv.facts and fact not in iv.asked_follow \
                    and fact not in iv.skipped and _can_have_happened(fact, iv.facts, a):
                return fact
        return None

    # -- commands (the router calls these, then the open question is asked again) -------------

    def restart(self, step: Step) -> Step:
        old = step.state
        step.state = ConversationState(locale=old.locale, credit_code=old.credit_code, stage=Stage.INTERVIEW,
                                       anonymous=old.anonymous)
        step.replies.append(Outbound(step.tr(N_("Starting again."))))
        if old.credit_code:  # its region digits still say the province
            registered = extract.read(old.credit_code, today=self.today()).get("province")
            if registered is not None and registered.confidence >= SURE:
                self._store(step, None, {"province": registered.value})
        return self.advance(step)

    def back(self, step: Step) -> Step:
        iv = step.iv
        iv.pending = None
        if not iv.history:
            step.replies.append(Outbound(step.tr(N_("There is no earlier answer to undo."))))
            return self.advance(step) if step.state.stage in (Stage.INTERVIEW, Stage.FOLLOW_UP, Stage.DONE) \
                else step
        last = iv.history[-1]
        iv.history = iv.history[:-1]
        iv.facts = {k: v for k, v in iv.facts.items() if k not in last.set}
        iv.skipped = [f for f in iv.skipped if f != last.fact and f not in last.skipped]
        iv.asked_follow = [f for f in iv.asked_follow if f != last.fact]
        step.state.stage = Stage.FOLLOW_UP if last.fact in FOLLOW_UPS else Stage.INTERVIEW
        tr = step.tr
        undone = [fact_label(f, tr) for f in (last.set or [last.fact])]
        step.replies.append(Outbound(tr(N_("Undone: {fact}.")).format(fact=tr(N_(", ")).join(undone))))
        if last.fact in QUESTIONS or last.fact == CHECKLIST:
            return self.ask(step, last.fact)
        return self.advance(step)

    def help_text(self, tr: Gettext) -> str:
        return tr(N_(
            "What you can do:\n"
            "• Describe the enterprise in a sentence, e.g. 山东的化工厂，300人，营收2亿，用到铬: I read every fact "
            "in it.\n"
            "• 返回 (back): undo the last answer · 重新开始 (restart) · 我的期限 (my deadlines)\n"
            "• 语言 (language): 中文 / English · 删除我的数据 (forget): delete everything stored about you\n"
            "• 邀请同事 (invite): a code for a colleague · 绑定 <code> (bind): join your enterprise with a code\n"
            "• 申请表: the Henan voluntary-audit application form · 退订 / 恢复提醒: stop or resume reminders\n"
            "• Ask about a document, e.g. 山东的细则还有效吗？"))

    def switch_language(self, step: Step, text: str) -> Step:
        st = step.state
        target = "en" if text in ("english", "en") else "zh_CN" if text in ("中文", "zh") else (
            "en" if st.locale == "zh_CN" else "zh_CN")
        st.locale = target
        step.effects.locale = target
        step.replies.append(Outbound(step.tr(N_("Language: English."))))
        return self.repeat(step)

    def ask_forget(self, step: Step) -> Step:
        st = step.state
        if st.stage != Stage.CONFIRM_FORGET:
            st.before_forget = st.stage
        st.stage = Stage.CONFIRM_FORGET
        return self._say(step, step.tr(N_("Delete everything stored about you (your answers, your binding to the "
                                          "enterprise and your reminders)?")),
                         (("forget:yes", N_("Delete")), ("forget:no", N_("Keep"))))

    def confirm_forget(self, step: Step, text: str, reading: Reading) -> Step:
        yes = text in ("forget:yes", "删除", "delete") or (text != "forget:no" and reading.polarity is True)
        if yes:
            step.effects.forget = True
            step.state = ConversationState(locale=step.state.locale)
            return self._reply(step, N_("Done: everything stored about you has been deleted."))
        step.state.stage = step.state.before_forget or Stage.INTERVIEW
        step.state.before_forget = None
        step.replies.append(Outbound(step.tr(N_("Nothing was deleted."))))
        return self.repeat(step)

    def repeat(self, step: Step) -> Step:
        """Ask the open question again (after a command answered in the middle of it)."""
        st = step.state
        if st.stage in (Stage.INTERVIEW, Stage.FOLLOW_UP) and st.interview.pending is not None:
            return self._ask_back(step, st.interview.pending)
        if st.stage in (Stage.INTERVIEW, Stage.FOLLOW_UP) and st.interview.asking:
            return self.ask(step, st.interview.asking)
        if st.stage == Stage.CONSENT:
            return self.welcome(step)
        if st.stage == Stage.CREDIT_CODE:
            return self.ask_credit_code(step)
        return step

    # -- output helpers ------------------------------------------------------------------------

    def ask(self, step: Step, fact: str, lead: str | None = None, **args: str) -> Step:
        st = step.state
        if fact == CHECKLIST:
            return self._ask_checklist(step)
        st.interview.asking = fact
        tr = step.tr
        question = QUESTIONS[fact]
        choices = question.choices(tr, {**st.interview.model_dump(), "locale": st.locale})
        if fact not in FOLLOW_UPS and not any(c.id == "unknown" for c in choices):
            choices = (*choices, Choice("unknown", tr(N_("Not sure"))))
        text = tr(lead).format(**args) if lead and args else tr(lead) if lead else tr(question.prompt)
        if fact == "scale" and lead is None:
            text = self._scale_prompt(st, tr) or text
        st.offered = [c.id for c in choices]
        step.replies.append(Outbound(text, choices))
        return step

    def _ask_checklist(self, step: Step, grounds: list[str] | None = None) -> Step:
        """The open grounds as one numbered question (again after 返回 or a command: the grounds it listed)."""
        st, tr = step.state, step.tr
        grounds = grounds or list(st.interview.candidates) or self.checklist(st, self.assessment(st))
        st.interview.asking = CHECKLIST
        st.interview.candidates = grounds
        lines = [tr(N_("Do any of these apply to the enterprise? Type the numbers of all that do (e.g. 1,3), or "
                       "“none of them”."))]
        lines += [f"{i}. {tr(GROUND_LABELS[g])}" for i, g in enumerate(grounds, 1)]
        choices = (*(Choice(f"ck:{g}", tr(GROUND_LABELS[g])) for g in grounds),
                   Choice("ck:none", tr(N_("None of them"))), Choice("unknown", tr(N_("Not sure"))))
        st.offered = [c.id for c in choices]
        step.replies.append(Outbound("\n".join(lines), choices))
        return step

    def _checklist_answer(self, step: Step, text: str, reading: Reading) -> Step | None:
        """"ck:none" / 都没有 / "1,3" / a picked ground; None when the message says something else (read anew)."""
        iv = step.iv
        grounds = list(iv.candidates)
        picked = _all_but_or_only(text, grounds)  # "除了4都没有", "只有3", "除了第二个都有"
        if picked is not None:
            pass
        elif text == "ck:none" or parse.normalize(text).strip("。.!！ ") in NONE_OF_THEM or (
                not _facts_in(reading) and (reading.polarity is False or reading.none)
                and not reading.rest and not asked_something(text)):  # "不是，你先告诉我要不要做" is no answer
            picked = []
        elif text.startswith("ck:") and text[3:] in grounds:
            picked = [text[3:]]
        elif (lead := _LEADING_NUMBERS.match(text)) is not None:  # "1,3", or "1，4，危废": numbers, then words
            numbers = [int(n) for n in re.findall(r"\d+", lead.group(1))]
            if numbers and all(1 <= n <= len(grounds) + 1 for n in numbers):
                picked = [] if numbers == [len(grounds) + 1] else [grounds[n - 1] for n in numbers
                                                                   if n <= len(grounds)]
        if picked is None:
            return None
        answer: dict[str, Any] = {g: ([] if g == "toxic_classes" else False) for g in grounds if g not in picked}
        answer.update({g: True for g in picked if g != "toxic_classes"})
        said = {c.fact: c.value for c in reading.candidates if c.confidence >= SURE and c.fact == "toxic_classes"}
        if "toxic_classes" in picked and said.get("toxic_classes"):  # "4，危废": the class is given with the pick
            answer["toxic_classes"] = said["toxic_classes"]
            picked = [g for g in picked if g != "toxic_classes"]
        iv.asked_follow = [*iv.asked_follow, CHECKLIST]
        self._store(step, CHECKLIST, answer)
        if "toxic_classes" in picked:  # which substances: the next question
            iv.candidates = list(TOXIC_ORDER)
            return self.ask(step, "toxic_classes", TOXIC_LEAD)
        return self.advance(step)

    def _scale_prompt(self, st: ConversationState, tr: Gettext) -> str | None:
        facts = st.facts
        if "employees" in facts and "revenue_10k_yuan" not in facts:
            return tr(N_("And its annual revenue (营业收入)? For example 8000万 or 2亿."))
        if "revenue_10k_yuan" in facts and "employees" not in facts:
            return tr(N_("And how many employees does it have? For example 350人."))
        return None

    def _reask(self, step: Step, fact: str | None, text: str = "", pending: Pending | None = None) -> Step:
        tr = step.tr
        if fact is None and pending is None:
            return self._reply(step, N_("Type 我的期限 to see your deadlines, 重新开始 to start again, or 帮助 for "
                                        "help."))
        if text and _asks_authority(text):
            step.replies.append(Outbound(tr(N_(
                "No, I am not a government office: I am 清审, an assistant that applies the published rules (the "
                "law, the national 办法 and your province's documents) to your answers. The list, the notices and "
                "the decisions come from the authorities; where they say otherwise, they decide."))))
        elif text and _names_us(text):
            step.replies.append(Outbound(_intro(tr)))
        elif text and any(w in parse.normalize(text) for w in _WHETHER_WORDS):
            step.replies.append(Outbound(tr(N_("That is what I am finding out: whether the audit is mandatory depends "
                                               "on your answers. Please answer this question first:"))))
        elif text and asked_something(text):
            step.replies.append(Outbound(tr(N_("I cannot answer that here: I tell you whether the audit is mandatory "
                                               "for your enterprise, on which grounds and by when. Type 帮助 for what "
                                               "I can do. To go on, please answer this question:"))))
        elif fact in DATE_FACTS and text and (_said_done_without_day(text, fact, self.today())
                                              or parse.parse_yes_no(text) is True):  # 对 / 是的 at "which day?"
            step.replies.append(Outbound(tr(N_("Good. On which day was it? Type the date, for example 2026-08-20: "
                                               "the deadlines count from that day."))))
        elif fact == "industry_code" and pending is None:
            step.replies.append(Outbound(tr(N_("I found no industry of GB/T 4754-2017 for that. Please name the main "
                                               "product or process in other words (e.g. 轮胎, 电镀, 水泥), or type the "
                                               "four-digit class code; if you are not sure, answer 不清楚."))))
        else:
            step.replies.append(Outbound(tr(N_("Sorry, I could not read that as an answer to this question. Please "
                                               "pick one of the choices, or describe it in other words."))))
        if pending is not None:
            return self._ask_back(step, pending)
        assert fact is not None
        return self.ask(step, fact)

    def _say(self, step: Step, text: str, choices: tuple[tuple[str, str], ...]) -> Step:
        tr = step.tr
        built = tuple(Choice(cid, tr(label)) for cid, label in choices)
        step.state.offered = [c.id for c in built]
        step.replies.append(Outbound(text, built))
        return step

    def _reply(self, step: Step, msgid: str, keep: bool = False) -> Step:
        if not keep:
            step.state.offered = []
        step.replies.append(Outbound(step.tr(msgid)))
        return step


_QUESTION_WORDS = ("吗", "么", "多少", "怎么", "为什么", "什么", "谁", "哪", "几", "要不要", "需不需要", "用不用",
                   "是不是", "会不会", "能不能", "可不可以", "行不行", "告诉我", "how ", "what ", "who ", "why ")


# "你们是谁？" in the middle of a question: the introduction answers it, then the question again
_WHO_WORDS = ("你们是谁", "你是谁", "你们是什么", "你是什么", "你是机器人", "你们是机器人", "是机器人吗",
              "你们是哪里的", "你们是哪个单位", "who are you", "what are you", "are you a bot", "are you a robot")
# "你们是政府的吗？": whether the bot speaks for an authority (not a trade to search: 政府 offered 公共自行车服务)
_AUTHORITY_WORDS = ("是政府", "政府的吗", "是不是政府", "政府部门吗", "是官方", "官方的吗", "是环保局", "环保局的吗",
                    "是生态环境局", "是发改委", "是工信局", "是主管部门", "是不是官方", "are you the government",
                    "are you from the government", "are you a government", "are you official",
                    "are you the authorities")
# "do we have to audit?" asked back during the interview: the interview is the answer
_WHETHER_WORDS = ("要不要做", "要不要审核", "需不需要做", "需不需要审核", "用不用做", "是不是要做", "是否需要审核",
                  "是否要审核", "必须审核吗", "要审核吗", "要做吗", "do we have to", "do i have to", "is it mandatory")


_N = r"(?:\d+|[一二三四五六七八九])"
_NS = rf"第?\s*{_N}\s*(?:个|项|条|种|点)?(?:\s*(?:[,，、和及]|and)\s*第?\s*{_N}\s*(?:个|项|条|种|点)?)*"
_EXCEPT = re.compile(rf"^(?:除了|除去|除开|除)\s*(?P<n>{_NS})\s*(?:以外|之外|外)?\s*[,，]?\s*"
                     r"(?:其他|其余|别的|其它)?的?\s*"
                     r"(?P<rest>都有|都是|全有|全都有|全是|都符合|全符合|都存在|都没有|都没|都不是|全没有|全都没有|都不符合|都不存在)"
                     r"\s*[。.!！]?$")
_ONLY = re.compile(rf"^(?:只有|仅有|只是|只|仅|就|就是|only)\s*(?P<n>{_NS})\s*(?:有|是|符合|存在|这个|这项|一项|一个)?"
                   r"\s*[。.!！]?$")
_EN_EXCEPT = re.compile(rf"^(?P<all>all|everything|none|nothing)\s+(?:but|except(?:\s+for)?)\s+(?P<n>{_NS})\s*[.!]?$")
_NEGATIVE_REST = ("没", "不")


def _all_but_or_only(text: str, grounds: list[str]) -> list[str] | None:
    """"除了4都没有" / "只有3" / "none but 4": only those; "除了第二个都有" / "all but 2": all the others.
    None when the message is not such an answer or names a number not listed."""
    t = parse.normalize(text).strip()
    m = _EXCEPT.match(t)
    only: bool | None = None
    if m is not None:
        only = any(w in m.group("rest") for w in _NEGATIVE_REST)
    elif (m := _ONLY.match(t)) is not None:
        only = True
    elif (m := _EN_EXCEPT.match(t)) is not None:
        only = m.group("all") in ("none", "nothing")
    if m is None or only is None:
        return None
    numbers = [int(n) if n.isdigit() else int(parse.chinese_to_number(n) or 0)
               for n in re.findall(_N, m.group("n"))]
    if not numbers or not all(1 <= n <= len(grounds) for n in numbers):
        return None
    named = [grounds[n - 1] for n in dict.fromkeys(numbers)]
    return named if only else [g for g in grounds if g not in named]


_STEP_OF_FACT = {"evaluated_on": ("evaluation",), "accepted_on": ("acceptance",),
                 "last_audit_completed_on": ("report", "reaudit")}


def _said_done_without_day(text: str, fact: str, today: date) -> bool:
    """评估通过了 / 验收过了 at the question of that step's day: the step said done (handlers.steps) with no time
    (我们已经公示了 at the acceptance question is another step: not read as a yes)."""
    said = read_step(text, today)
    return said is not None and said.kind in _STEP_OF_FACT.get(fact, ()) and said.done and said.day is None \
        and said.guess is None and said.month is None


def asked_something(text: str) -> bool:
    """The message is a question of the contact's own ("要花多少钱？"), not an answer."""
    t = parse.normalize(text)
    return t.endswith(("?", "？")) or any(w in t for w in _QUESTION_WORDS)


def read_consent(text: str) -> bool | None:
    t = parse.normalize(text).strip("。.!！ ")
    if t == "consent:yes" or t in AGREE:
        return True
    if t == "consent:no" or t in DISAGREE or t.startswith("不同意"):
        return False
    reading = extract.read(t, today=date.today())
    if reading.polarity is not None and not _facts_in(reading):
        return reading.polarity
    return None


def _can_have_happened(fact: str, facts: dict[str, Any], a: Assessment) -> bool:
    """Whether asking the day of `fact` makes sense: an audit report is evaluated only after a list or an
    audit round; a voluntary audit passed acceptance only for an enterprise the programme admits."""
    if fact == "evaluated_on":
        return bool(facts.get("list_published_on") or facts.get("last_audit_completed_on"))
    if fact == "accepted_on":
        return a.voluntary.eligible is not False
    return True


def _is_choice(text: str, offered: list[str]) -> bool:
    return text in ("yes", "no", "none") or text.startswith(("ind:", "tox:")) or text in offered


def _asks(fact: str) -> tuple[str, ...]:
    """The facts an unsure reading would settle (双超: the standard or the quota)."""
    if fact == STANDARD_OR_QUOTA:
        return ("exceeds_emission_standard", "exceeds_total_quota")
    if fact in ("employees", "revenue_10k_yuan"):
        return (fact, "scale", "above_designated_size")
    return (fact,)


def _facts_in(reading: Reading) -> bool:
    return any(c.fact != CREDIT_CODE for c in reading.candidates)


def _valid_only(known: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The new facts that make valid facts together with the known ones (one at a time, so one bad
    value does not drop the others)."""
    try:
        parse_facts({**known, **new})
        return new
    except FactError:
        pass
    kept: dict[str, Any] = {}
    for k, v in new.items():
        try:
            parse_facts({**known, **kept, k: v})
        except FactError:
            continue
        kept[k] = v
    return kept


_BAND_AT: dict[float, str] = {20: N_("small enterprise"), 300: N_("medium-sized enterprise"),
                              1000: N_("large enterprise")}


def _range_said_back(c: Candidate, taken: bool, tr: Gettext) -> str:
    """"一两百人" said back as the range: the class it gives when the whole range is in one size band (taken at
    its lower end), or that the number is asked when the range straddles a bound (两三百人: 300 is medium)."""
    low, high = c.options
    if taken:
        return tr(N_("I read “{span}” as {low} to {high} employees. The whole range is in the same size band, so "
                     "the exact number does not change the size class; I have noted {low}.")).format(
            span=c.span, low=low, high=high)
    bound = next((b for b in EMPLOYEE_BOUNDS if low < b <= high), None)
    if bound is None:  # 大概三五百人: "about" near a bound, asked back as any vague number
        return tr(N_("I read “{span}” as {low} to {high} employees; I will ask for the number when the size "
                     "matters.")).format(span=c.span, low=low, high=high)
    return tr(N_("I read “{span}” as {low} to {high} employees. That range straddles {bound} employees, where a "
                 "{size} begins, so I will ask for the number when the size matters.")).format(
        span=c.span, low=low, high=high, bound=bound, size=tr(_BAND_AT[bound]))


def _summary_all(st: ConversationState, tr: Gettext) -> str:
    return summary(st.facts, tr, st.locale)


def _intro(tr: Gettext) -> str:
    return tr(N_("Hello! I am 清审, the cleaner-production audit assistant. I tell you whether your "
                 "enterprise must carry out a cleaner-production audit (清洁生产审核) under your province's "
                 "rules, cite the article that decides, and keep your deadlines."))

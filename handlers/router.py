"""The conversation router: registered handlers over one typed state, each with a `match`/`handle` split
(python-telegram-bot's `BaseHandler.check_update` / `handle_update`, aiogram's routers).

The dispatcher loads what every handler needs once per message into a `Turn` (the contact, its
consent and locale, the typed state, the message read once for every fact it carries), then offers
the turn to the handlers in order; the first whose `match` accepts it handles it. A handler never
re-reads the message text for facts (`turn.reading` is the one reading) and never reads another
handler's sub-state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Protocol

from handlers import asked, extract, parse
from handlers.commands import read_command
from handlers.documents import answer_document_question
from handlers.extract import Reading
from handlers.interview import Effects, Interview, Step
from handlers.kept import Kept
from handlers.language import written_in
from handlers.messages import Inbound, Outbound
from handlers.offices import is_legal_wording_request, render_offices_legal
from handlers.penalty_answers import answer_penalty_question, is_penalty_question, penalty_text
from handlers.state import ConversationState, Stage
from rules.i18n import N_, Gettext, gettext_for
from storage import Contact, Repositories


@dataclass
class Turn:
    """One message and everything loaded for it. `repos`/`contact` are None for an anonymous contact
    (consent declined): nothing of theirs touches the database."""

    inbound: Inbound
    state: ConversationState
    today: date
    repos: Repositories | None = None
    contact: Contact | None = None
    effects: Effects = field(default_factory=Effects)
    saved: bool = False  # a handler wrote the conversation row itself (the Henan form)
    found: dict[str, str | None] = field(default_factory=dict)  # what a handler's `match` computed for `handle`

    @cached_property
    def text(self) -> str:
        """The choice id picked, or the normalised text (a number picks the numbered choice offered)."""
        if self.inbound.choice is not None:
            return self.inbound.choice
        text = parse.normalize(self.inbound.text or "")
        offered = self.state.offered
        if text.isdigit() and 1 <= int(text) <= len(offered):
            picked = offered[int(text) - 1]
            # the toxic classes take several numbers ("1,3"): one number is a choice only when it is not a class
            if self.state.interview.asking != "toxic_classes" or picked in ("tox:none", "unknown"):
                return picked
        return text

    @cached_property
    def command(self) -> str | None:
        if self.inbound.choice is not None:
            return self.inbound.choice[4:] if self.inbound.choice.startswith("cmd:") else None
        return read_command(self.inbound.text or "")

    @cached_property
    def reading(self) -> Reading:
        """The message read once for every fact it carries (choices carry none)."""
        if self.inbound.choice is not None or not self.inbound.text or self.text in self.state.offered:
            return Reading()  # a choice picked (by its button or its number) carries no other fact
        return read_kept(self.inbound.text, today=self.today, asking=self.state.interview.asking)

    @property
    def tr(self) -> Gettext:
        return gettext_for(self.state.locale)

    @property
    def consented(self) -> bool:
        return self.contact is not None and self.contact.consented_at is not None

    def step(self) -> Step:
        return Step(self.state, effects=self.effects)


READINGS_KEPT = 4096
_readings: Kept[Reading] = Kept(READINGS_KEPT)


def read_kept(text: str, *, today: date, asking: str | None) -> Reading:
    """`extract.read`, kept for the last few thousand (text, day, open question): the reading is a function
    of those three alone, and contacts answer with the same few words (是, 没有, 跳过, 山东). Only a reading
    made of immutable values is kept (a list value, e.g. toxic classes, is read afresh every time)."""
    key = (text, today, asking)
    found = _readings.get(key)
    if found is not None:
        return found
    reading = extract.read(text, today=today, asking=asking)
    try:
        hash(tuple((c.value, c.options) for c in reading.candidates))
    except TypeError:
        return reading
    _readings.put(key, reading)
    return reading


class Handler(Protocol):
    name: str

    def match(self, turn: Turn) -> bool: ...

    def handle(self, turn: Turn) -> list[Outbound]: ...


@dataclass
class FuncHandler:
    """A handler from two functions (most handlers are a test and an action)."""

    name: str
    matches: Callable[[Turn], bool]
    handles: Callable[[Turn], list[Outbound]]

    def match(self, turn: Turn) -> bool:
        return self.matches(turn)

    def handle(self, turn: Turn) -> list[Outbound]:
        return self.handles(turn)


class Router:
    def __init__(self, handlers: Sequence[Handler]) -> None:
        self.handlers = list(handlers)

    def route(self, turn: Turn, *, after: str | None = None) -> list[Outbound]:
        """The replies of the first handler that matches (after the one named `after`, if given)."""
        handlers = self.handlers
        switched = None
        if after is not None:
            handlers = handlers[[h.name for h in handlers].index(after) + 1:]
        else:
            switched = follow_writing(turn)
        for handler in handlers:
            if handler.match(turn):
                replies = handler.handle(turn)
                return [switched, *replies] if switched is not None else replies
        return [switched] if switched is not None else []


def follow_writing(turn: Turn) -> Outbound | None:
    """A contact who writes whole sentences in the session's other language is answered in that language from
    this message on (its replies, buttons, verdict, and the reminders, which follow the contact's stored
    language); the reply says so. One word (ok, yes, 好) or pinyin never switches (`handlers.language`)."""
    text = turn.inbound.text
    if turn.state.stage == Stage.NEW or turn.inbound.choice is not None or not text or turn.command is not None:
        return None  # the first message chooses the language itself (consent_handler)
    target = written_in(text)
    if target is None or target == turn.state.locale:
        return None
    turn.state.locale = turn.effects.locale = target
    if target == "en":
        return Outbound(turn.tr(N_("You are writing in English, so I answer in English from now on (type language to "
                                   "switch back to Chinese).")))
    return Outbound(turn.tr(N_("You are writing in Chinese, so I answer in Chinese from now on (type language to "
                               "switch back to English).")))


# -- the handlers every conversation has -------------------------------------------------------

def run(turn: Turn, fn: Callable[[Step], Step]) -> list[Outbound]:
    """Run an interview function on the turn's state; the step's state and effects become the turn's."""
    step = fn(turn.step())
    turn.state = step.state
    turn.effects = step.effects
    return step.replies


def consent_handler(interview: Interview) -> Handler:
    def matches(turn: Turn) -> bool:
        if turn.state.stage == Stage.NEW:
            return True
        if turn.state.stage == Stage.CONSENT:
            return turn.command not in ("language", "help")  # those are answered, then consent is asked again
        return turn.state.anonymous and turn.command is None and turn.text in ("consent:yes", "同意", "agree")

    def handles(turn: Turn) -> list[Outbound]:
        if turn.state.stage == Stage.NEW:
            if turn.command == "language":  # "English" as the very first message: greet in English
                turn.state.locale = "en" if turn.text != "中文" else "zh_CN"
                turn.effects.locale = turn.state.locale
            elif turn.inbound.locale is None and _written_in_english(turn.inbound.text or ""):
                turn.state.locale = turn.effects.locale = "en"  # "we are a coking plant in Shanxi": answer in English
            return run(turn, interview.welcome)
        return run(turn, lambda s: interview.consent(s, turn.text))

    return FuncHandler("consent", matches, handles)


def command_handler(interview: Interview) -> Handler:
    """帮助, 语言, 删除我的数据, 重新开始, 返回, 我的期限: answered, then the open question is asked again."""
    actions: dict[str, Callable[[Turn, Step], Step]] = {
        "help": lambda t, s: interview.repeat(_with(s, Outbound(interview.help_text(s.tr)))),
        "language": lambda t, s: interview.switch_language(s, t.text),
        "forget": lambda t, s: interview.ask_forget(s),
        "restart": lambda t, s: interview.restart(s),
        "back": lambda t, s: interview.back(s),
        "status": lambda t, s: _status(s),
    }

    def matches(turn: Turn) -> bool:
        if turn.state.stage == Stage.CONFIRM_FORGET:
            return True
        return turn.command in actions

    def handles(turn: Turn) -> list[Outbound]:
        if turn.state.stage == Stage.CONFIRM_FORGET and turn.command != "forget":
            return run(turn, lambda s: interview.confirm_forget(s, turn.text, turn.reading))
        command = turn.command
        assert command is not None
        return run(turn, lambda s: actions[command](turn, s))

    return FuncHandler("commands", matches, handles)


def _with(step: Step, reply: Outbound) -> Step:
    step.replies.append(reply)
    return step


def _status(step: Step) -> Step:
    step.effects.status = True  # the dispatcher adds the deadlines (they are in the database), then repeats
    return step


def documents_handler(interview: Interview) -> Handler:
    """Questions about the documents (山东的细则还有效吗？) and the offices' legal wording (法律原文): answered,
    then the open question is asked again."""

    def answer(turn: Turn) -> str | None:
        text = turn.inbound.text
        if not text or turn.inbound.choice is not None or turn.state.stage in (Stage.NEW, Stage.CONSENT):
            return None
        if is_legal_wording_request(text):
            return render_offices_legal(interview.assessment(turn.state), turn.tr)
        province = turn.state.facts.get("province")
        found = answer_document_question(text, province, turn.today, turn.tr)
        if found is None and is_penalty_question(text):
            found = answer_penalty_question(text, interview.assessment(turn.state), province, turn.today, turn.tr)
        return found

    def matches(turn: Turn) -> bool:
        turn.found["documents"] = answer(turn)
        return turn.found["documents"] is not None

    def handles(turn: Turn) -> list[Outbound]:
        reply = turn.found["documents"]
        assert reply is not None
        return run(turn, lambda s: interview.repeat(_with(s, Outbound(reply))))

    return FuncHandler("documents", matches, handles)


def duties_question_handler(interview: Interview) -> Handler:
    """After the verdict, questions about the contact's own duties in its words (handlers.asked): deadline
    questions (什么时候要交报告, 还来得及吗, 下一轮什么时候) get 我的期限; where to report, what to publish and
    the yearly disclosure get that part of the verdict; then the open question, if any, again."""

    def matches(turn: Turn) -> bool:
        if turn.inbound.choice is not None or not turn.inbound.text:
            return False
        if turn.state.stage not in (Stage.DONE, Stage.FOLLOW_UP) or turn.state.anonymous:
            return False
        turn.found["asked"] = asked.topic(turn.inbound.text)
        return turn.found["asked"] is not None

    def handles(turn: Turn) -> list[Outbound]:
        name = turn.found["asked"]
        assert name is not None
        if name == "deadline":
            a = interview.assessment(turn.state)
            reaudit = any(d.kind == "reaudit" for d in a.deadlines)
            if asked.about_next_round(turn.inbound.text or "") and not reaudit and a.obligation == "mandatory":
                probe = turn.state.model_copy(deep=True)  # this round completed today: is a next one counted?
                probe.facts["last_audit_completed_on"] = turn.today.isoformat()
                line = asked.next_round_line(interview.assessment(probe), turn.tr, turn.state.locale)
                return run(turn, lambda s: _status(_with(s, Outbound(line))))
            return run(turn, _status)
        if name == "optional":
            a = interview.assessment(turn.state)
            penalties = penalty_text(a, turn.state.facts.get("province"), turn.today, turn.tr) \
                if a.obligation == "mandatory" else None
            line = asked.optional_answer(a, turn.state.facts.get("list_published_on"), penalties, turn.tr,
                                         turn.state.locale)
            return run(turn, lambda s: interview.repeat(_with(s, Outbound(line))))
        reply = asked.answer(name, interview.assessment(turn.state), turn.tr, turn.state.locale)
        if reply is None:
            return run(turn, _status)
        return run(turn, lambda s: interview.repeat(_with(s, Outbound(reply))))

    return FuncHandler("duties_question", matches, handles)


def interview_handler(interview: Interview) -> Handler:
    def handles(turn: Turn) -> list[Outbound]:
        stage = turn.state.stage
        if stage == Stage.CREDIT_CODE:
            return run(turn, lambda s: interview.credit_code(s, turn.text, turn.reading))
        if stage in (Stage.INTERVIEW, Stage.FOLLOW_UP) or turn.reading.candidates:
            if stage == Stage.DONE:
                turn.state.stage = Stage.INTERVIEW  # a new or corrected fact after the verdict
            return run(turn, lambda s: interview.answer(s, turn.text, turn.reading))
        return run(turn, lambda s: _done_reply(interview, s))

    return FuncHandler("interview", lambda turn: True, handles)


def _done_reply(interview: Interview, step: Step) -> Step:
    step.replies.append(Outbound(step.tr(N_(
        "Type 我的期限 to see your deadlines, 重新开始 to start again, or 帮助 for help."))))
    return step


def _written_in_english(text: str) -> bool:
    """A first message in English words and no Chinese ("hello", "we are a cement plant"); a credit code or
    a number is not a language."""
    if any("\u3400" <= ch <= "\u9fff" for ch in text):
        return False
    return any(w.isascii() and w.isalpha() and len(w) >= 2 for w in re.split(r"[\s,.!?;:]+", text))

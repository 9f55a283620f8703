"""The interview as a pure state machine: (state, message) -> (state, replies, effects).

It asks exactly what the engine reports `missing`, in its order (the province first, since the
answer's offices and deadlines depend on it), stops as soon as the verdict is decided, then offers
the follow-ups that give deadlines. The dispatcher persists the state and carries out the effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from handlers import parse
from handlers.messages import Choice, Inbound, Outbound
from handlers.questions import QUESTIONS, Answer
from handlers.render import fact_label, render_deadlines, render_verdict
from rules import Engine, FactError, derive, parse_facts
from rules.engine import Assessment
from rules.i18n import DEFAULT_LOCALE, LOCALES, N_, Gettext, gettext_for

COMMANDS: dict[str, tuple[str, ...]] = {
    "help": ("帮助", "help", "/help", "菜单", "menu"),
    "restart": ("重新开始", "重来", "restart", "/restart", "/start", "开始"),
    "back": ("返回", "上一步", "后退", "back", "/back", "undo", "撤销"),
    "status": ("我的期限", "期限", "状态", "status", "/status", "deadlines"),
    "language": ("语言", "language", "/language", "english", "中文", "切换语言"),
    "forget": ("删除我的数据", "忘记我", "forget", "/forget", "删除数据"),
}
FOLLOW_UPS = ("list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on")


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
    state: dict[str, Any]
    replies: list[Outbound] = field(default_factory=list)
    effects: Effects = field(default_factory=Effects)


def new_state(locale: str | None = None) -> dict[str, Any]:
    return {"stage": "new", "locale": locale if locale in LOCALES else DEFAULT_LOCALE, "facts": {},
            "history": [], "skipped": [], "asking": None, "candidates": [], "offered": [], "asked_follow": []}


class Interview:
    def __init__(self, engine: Engine, today: Callable[[], date]) -> None:
        self.engine = engine
        self.today = today

    # -- entry ---------------------------------------------------------------------------------

    def step(self, state: dict[str, Any] | None, inbound: Inbound) -> Step:
        st = dict(state) if state else new_state(inbound.locale)
        step = Step(st)
        text = self._incoming(st, inbound)
        command = _command(text) if inbound.choice is None or inbound.choice.startswith("cmd:") else None
        if inbound.choice and inbound.choice.startswith("cmd:"):
            command = inbound.choice[4:]
        if st["stage"] == "new":
            return self._welcome(step)
        if command == "language":
            return self._switch_language(step, text)
        if command == "help":
            return self._help(step)
        if command == "forget":
            return self._ask_forget(step)
        if st["stage"] == "confirm_forget":
            return self._confirm_forget(step, text)
        if st["stage"] == "consent":
            return self._consent(step, text)
        if command == "restart":
            return self._restart(step)
        if command == "back":
            return self._back(step)
        if command == "status":
            step.effects.status = True
            return step
        if st["stage"] == "credit_code":
            return self._credit_code(step, text)
        if st["stage"] in ("interview", "follow_up"):
            return self._answer(step, text)
        return self._reply(step, N_("Type 我的期限 to see your deadlines, 重新开始 to start again, or 帮助 for help."))

    def resume(self, state: dict[str, Any], extra_facts: dict[str, Any]) -> Step:
        """Continue after the dispatcher merged facts known for a bound enterprise."""
        st = dict(state)
        inherited = [k for k in extra_facts if k not in st["facts"]]
        st["facts"] = {**extra_facts, **st["facts"]}
        # each inherited answer can be undone with 返回, like one given here
        st["history"] = [*st["history"], *({"fact": k, "set": [k]} for k in inherited if k in QUESTIONS)]
        return self._advance(Step(st))

    # -- stages --------------------------------------------------------------------------------

    def _incoming(self, st: dict[str, Any], inbound: Inbound) -> str:
        if inbound.choice is not None:
            return inbound.choice
        text = parse.normalize(inbound.text or "")
        offered = st.get("offered") or []
        if text.isdigit() and 1 <= int(text) <= len(offered) and st.get("asking") != "toxic_classes":
            return str(offered[int(text) - 1])
        return text

    def _welcome(self, step: Step) -> Step:
        step.state["stage"] = "consent"
        tr = self._tr(step)
        intro = tr(N_("Hello! I am 清审, the cleaner-production audit assistant. I tell you whether your "
                      "enterprise must carry out a cleaner-production audit (清洁生产审核) under your province's "
                      "rules, cite the article that decides, and keep your deadlines."))
        consent = tr(N_("To do this I store your answers about the enterprise and your chat id (个人信息保护法). "
                        "You can delete them at any time by typing 删除我的数据. Do you agree?"))
        return self._say(step, f"{intro}\n\n{consent}", (("consent:yes", N_("I agree")),
                                                         ("consent:no", N_("I do not agree"))))

    def _consent(self, step: Step, text: str) -> Step:
        agreed = {"consent:yes": True, "consent:no": False}.get(text)
        if agreed is None:
            agreed = parse.parse_yes_no(text) if text not in ("同意", "agree") else True
        if agreed is None and "不同意" in text:
            agreed = False
        if agreed is None:
            return self._say(step, self._tr(step)(N_("Please answer 同意 (I agree) or 不同意 (I do not agree).")),
                             (("consent:yes", N_("I agree")), ("consent:no", N_("I do not agree"))))
        if not agreed:
            step.effects.forget = True
            step.state = new_state(step.state["locale"])
            return self._reply(step, N_("Understood: nothing has been stored. Send any message if you change "
                                        "your mind."))
        step.effects.consent = True
        step.state["stage"] = "credit_code"
        return self._ask_credit_code(step)

    def _ask_credit_code(self, step: Step, error: str | None = None) -> Step:
        tr = self._tr(step)
        text = tr(N_("What is the enterprise's unified social credit code (统一社会信用代码, 18 characters)? "
                     "Colleagues who give the same code share the enterprise's answers and reminders."))
        if error:
            text = f"{error}\n\n{text}"
        return self._say(step, text, (("skip", N_("Skip")),))

    def _credit_code(self, step: Step, text: str) -> Step:
        if text in ("skip", "跳过") or parse.parse_unknown(text):
            step.state["stage"] = "interview"
            return self._advance(step)
        code = text.upper().replace(" ", "")
        try:
            code = uscc.validate(code)
        except StdnumError:
            tr = self._tr(step)
            return self._ask_credit_code(step, tr(N_("That is not a valid unified social credit code: it must have "
                                                     "18 characters and a correct check character.")))
        step.state["stage"] = "interview"
        step.state["credit_code"] = code
        step.effects.bind_credit_code = code
        return step  # the dispatcher binds, merges known facts, then calls resume()

    def _answer(self, step: Step, text: str) -> Step:
        st = step.state
        fact = st.get("asking")
        if fact is None:
            return self._advance(step)
        question = QUESTIONS[fact]
        if (text in ("unknown", "none") and fact not in FOLLOW_UPS) or (text != "none" and parse.parse_unknown(text)):
            st["skipped"] = [*st["skipped"], fact]
            st["history"] = [*st["history"], {"fact": fact, "set": []}]
            return self._advance(step)
        answer: Answer | None = question.read(text, st)
        if answer is None:
            return self._reask(step, fact)
        if answer.candidates:
            st["candidates"] = list(answer.candidates)
            return self._ask(step, fact, N_("Which of these is closest? Pick one, or type other words."))
        if answer.note == "none":
            if fact == "industry_code":
                st["candidates"] = []
                return self._ask(step, fact, N_("Then please describe the trade in other words, or type the "
                                                "four-digit class code."))
            st["asked_follow"] = [*st["asked_follow"], fact]
            st["history"] = [*st["history"], {"fact": fact, "set": []}]
            return self._advance(step)
        if not self._valid(st, answer.facts):
            return self._reask(step, fact)
        st["facts"] = {**st["facts"], **answer.facts}
        st["history"] = [*st["history"], {"fact": fact, "set": sorted(answer.facts)}]
        st["candidates"] = []
        if fact in FOLLOW_UPS:
            st["asked_follow"] = [*st["asked_follow"], fact]
        return self._advance(step)

    def _valid(self, st: dict[str, Any], new: dict[str, Any]) -> bool:
        """Whether the answer makes valid facts (the engine's own English message is for the API, not chat)."""
        try:
            parse_facts({**st["facts"], **new})
        except FactError:
            return False
        return True

    # -- the engine decides what comes next ----------------------------------------------------

    def assessment(self, st: dict[str, Any]) -> Assessment:
        return self.engine.assess(derive(parse_facts(st["facts"])), self.today())

    def _advance(self, step: Step) -> Step:
        st = step.state
        a = self.assessment(st)
        skipped = set(st["skipped"])
        nxt = self._next_fact(st, a, skipped)
        if nxt is not None:
            st["stage"] = "interview"
            return self._ask(step, nxt)
        if st["stage"] != "follow_up":
            step.replies.append(Outbound(render_verdict(a, self._tr(step), st["locale"])))
        follow = self._next_follow_up(st, a)
        if follow is not None:
            st["stage"] = "follow_up"
            step.effects.assessment = a  # stored now: a contact who stops here keeps the verdict and any clock
            return self._ask(step, follow)
        if st["stage"] == "follow_up":
            step.replies.append(Outbound(render_deadlines(a, self._tr(step), st["locale"])))
        st["stage"] = "done"
        st["asking"] = None
        st["offered"] = []
        step.effects.assessment = a
        return self._reply(step, N_("That is all I need. Type 我的期限 for your deadlines, 返回 to change the last "
                                    "answer, or 重新开始 to start again."), keep=True)

    def _next_fact(self, st: dict[str, Any], a: Assessment, skipped: set[str]) -> str | None:
        facts = st["facts"]
        if "province" not in facts and "province" not in skipped:
            return "province"
        pending = list(a.missing)
        if a.obligation == "voluntary":
            pending += list(a.voluntary.missing)
        for fact in pending:
            if fact not in skipped and fact not in facts and fact in QUESTIONS:
                return fact
        return None

    def _next_follow_up(self, st: dict[str, Any], a: Assessment) -> str | None:
        """The next date a deadline counts from, asked only if a document binding this enterprise
        counts one of its deadlines (for this verdict) from it: the list's publication for every
        mandatory audit, the last audit for a five-year round, evaluation (Shanxi), acceptance (Henan)."""
        if a.obligation == "undetermined":
            return None
        kinds = frozenset(g.kind for g in a.grounds)
        counted = self.engine.clock_facts(st["facts"].get("province"), a.obligation, kinds)
        for fact in FOLLOW_UPS:
            if fact in counted and fact not in st["facts"] and fact not in st["asked_follow"] \
                    and fact not in st["skipped"]:
                return fact
        return None

    # -- commands ------------------------------------------------------------------------------

    def _restart(self, step: Step) -> Step:
        keep = {k: step.state.get(k) for k in ("locale", "credit_code")}
        step.state = {**new_state(keep["locale"]), "stage": "interview", "credit_code": keep["credit_code"]}
        step.replies.append(Outbound(self._tr(step)(N_("Starting again."))))
        return self._advance(step)

    def _back(self, step: Step) -> Step:
        st = step.state
        if not st["history"]:
            step.replies.append(Outbound(self._tr(step)(N_("There is no earlier answer to undo."))))
            return self._advance(step) if st["stage"] in ("interview", "follow_up", "done") else step
        last = st["history"][-1]
        st["history"] = st["history"][:-1]
        st["facts"] = {k: v for k, v in st["facts"].items() if k not in last["set"]}
        st["skipped"] = [f for f in st["skipped"] if f != last["fact"]]
        st["asked_follow"] = [f for f in st["asked_follow"] if f != last["fact"]]
        st["stage"] = "follow_up" if last["fact"] in FOLLOW_UPS else "interview"
        tr = self._tr(step)
        step.replies.append(Outbound(tr(N_("Undone: {fact}.")).format(fact=fact_label(last["fact"], tr))))
        return self._ask(step, last["fact"])

    def _help(self, step: Step) -> Step:
        step.replies.append(Outbound(self._tr(step)(N_(
            "Commands: 帮助 (help) · 重新开始 (restart) · 返回 (undo the last answer) · 我的期限 (my deadlines) · "
            "语言 (language) · 删除我的数据 (delete my data)."))))
        return self._repeat(step)

    def _switch_language(self, step: Step, text: str) -> Step:
        st = step.state
        target = "en" if text in ("english", "en") else "zh_CN" if text in ("中文", "zh") else (
            "en" if st["locale"] == "zh_CN" else "zh_CN")
        st["locale"] = target
        step.effects.locale = target
        step.replies.append(Outbound(self._tr(step)(N_("Language: English."))))
        return self._repeat(step)

    def _ask_forget(self, step: Step) -> Step:
        st = step.state
        st["before_forget"] = st["stage"]
        st["stage"] = "confirm_forget"
        return self._say(step, self._tr(step)(N_("Delete everything stored about you (your answers, your "
                                                 "binding to the enterprise and your reminders)?")),
                         (("forget:yes", N_("Delete")), ("forget:no", N_("Keep"))))

    def _confirm_forget(self, step: Step, text: str) -> Step:
        yes = text == "forget:yes" or (text != "forget:no" and parse.parse_yes_no(text) is True) or text == "删除"
        if yes:
            step.effects.forget = True
            step.state = new_state(step.state["locale"])
            return self._reply(step, N_("Done: everything stored about you has been deleted."))
        step.state["stage"] = step.state.pop("before_forget", "interview")
        step.replies.append(Outbound(self._tr(step)(N_("Nothing was deleted."))))
        return self._repeat(step)

    def _repeat(self, step: Step) -> Step:
        st = step.state
        if st["stage"] in ("interview", "follow_up") and st.get("asking"):
            return self._ask(step, st["asking"])
        if st["stage"] == "consent":
            return self._welcome(step)
        if st["stage"] == "credit_code":
            return self._ask_credit_code(step)
        return step

    # -- output helpers ------------------------------------------------------------------------

    def _tr(self, step: Step) -> Gettext:
        return gettext_for(step.state.get("locale") or DEFAULT_LOCALE)

    def _ask(self, step: Step, fact: str, lead: str | None = None) -> Step:
        st = step.state
        st["asking"] = fact
        tr = self._tr(step)
        question = QUESTIONS[fact]
        choices = question.choices(tr, st)
        if fact not in FOLLOW_UPS and not any(
            c.id == "unknown" for c in choices
        ):
            choices = (*choices, Choice("unknown", tr(N_("Not sure"))))
        text = tr(lead) if lead else tr(question.prompt)
        st["offered"] = [c.id for c in choices]
        step.replies.append(Outbound(text, choices))
        return step

    def _reask(self, step: Step, fact: str) -> Step:
        step.replies.append(Outbound(self._tr(step)(N_("Sorry, I could not read that answer."))))
        return self._ask(step, fact)

    def _say(self, step: Step, text: str, choices: tuple[tuple[str, str], ...]) -> Step:
        tr = self._tr(step)
        built = tuple(Choice(cid, tr(label)) for cid, label in choices)
        step.state["offered"] = [c.id for c in built]
        step.replies.append(Outbound(text, built))
        return step

    def _reply(self, step: Step, msgid: str, keep: bool = False) -> Step:
        if not keep:
            step.state["offered"] = []
        step.replies.append(Outbound(self._tr(step)(msgid)))
        return step


def _command(text: str) -> str | None:
    t = text.strip().lower()
    for name, words in COMMANDS.items():
        if t in words:
            return name
    return None

"""Inbound -> list[Outbound]: load the contact and its conversation once, route the message, persist.

One message is one unit of work: the conversation state, the consent, the enterprise binding, the
stored assessment and the audit cycle it starts commit together or not at all. The handlers are
registered in `handlers.router` order: consent, colleague invitation, bind code, Henan form, reminder
replies, commands, interview. A chat id that has not consented is served from memory only
(`Ephemeral`), before it answers and after it declines: the verdict without a single row written.
The contact row is written by the message that consents; erasure is storage.erasure.erase_contact.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy import Engine as Database
from sqlalchemy.orm import Session, sessionmaker

from handlers import confirm as confirm_mod
from handlers import henan_form, parse
from handlers.cycles import open_cycle, plan_milestones
from handlers.interview import Interview, Step
from handlers.messages import Inbound, Outbound
from handlers.officers import read_code, redeem
from handlers.reminders import DONE_LABELS, ReminderPolicy
from handlers.router import (
    FuncHandler,
    Handler,
    Router,
    Turn,
    command_handler,
    consent_handler,
    documents_handler,
    duties_question_handler,
    interview_handler,
)
from handlers.state import ConversationState, Stage, StepWait
from handlers.status import (
    KIND_LABELS,
    StatusItem,
    in_documents_language,
    item_lines,
    no_deadlines_text,
    original,
    render_status,
)
from handlers.steps import When, about_list, read_when
from rules import Engine, default_engine
from rules.engine import Assessment
from rules.i18n import N_, Gettext, gettext_for
from storage import DEFAULT_LOCALE, Contact, Milestone, Repositories, TurnRepositories, utcnow
from storage.assessments import latest_result_by_contact, record_assessment
from storage.contacts import insert_contact, load_with_state
from storage.conversations import save_state
from storage.cycles import current_milestones
from storage.enterprises import bind_new_enterprise, calendar_token, update_known
from storage.erasure import erase_contact
from storage.kv import COLLEAGUE_PREFIX
from storage.officers import new_code
from storage.outbox import reminder_since_last_turn

log = logging.getLogger(__name__)
INVITE_WORDS = ("邀请同事", "invite colleague", "/invite", "invite", "邀请")
COLLEAGUE_TTL = timedelta(days=7)
CHINA = ZoneInfo("Asia/Shanghai")
ANONYMOUS_TTL_S = 2 * 3600
ANONYMOUS_MAX = 10_000


def china_today() -> date:
    return datetime.now(CHINA).date()


def _is_bind(text: str) -> bool:
    """绑定 <code> / bind <code> (prefixed, whatever the code): an invitation to redeem once consent is given."""
    return read_code(text)[1]


class Ephemeral:
    """What a process keeps in memory only, per (channel, user): the conversations of contacts who declined
    consent, and a first message waiting for the consent answer. Forgotten after two idle hours (or when
    the oldest of 10,000 must make room); nothing of it is ever written."""

    def __init__(self, ttl_s: float = ANONYMOUS_TTL_S, limit: int = ANONYMOUS_MAX) -> None:
        self.ttl_s = ttl_s
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> Any:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return item[1]

    def put(self, key: tuple[str, str], value: Any) -> None:
        self._items[key] = (time.monotonic() + self.ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def pop(self, key: tuple[str, str]) -> Any:
        item = self._items.pop(key, None)
        return None if item is None or item[0] < time.monotonic() else item[1]


class Dispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        engine: Engine | None = None,
        today: Callable[[], date] | None = None,
        policy: ReminderPolicy | None = None,
        calendar_url: Callable[[str], str] | None = None,
    ) -> None:
        self.sessions = session_factory
        self.today = today or china_today
        self.policy = policy or ReminderPolicy.from_env()
        self.interview = Interview(engine or default_engine(), self.today, policy=self.policy)
        self.calendar_url = calendar_url
        self.anonymous = Ephemeral()  # declined consent: the conversation (state.dump()), in memory only
        self._held = Ephemeral()  # a first message with facts, read again once consent is answered
        iv = self.interview
        self.router = Router(self._handlers(iv))

    def _handlers(self, iv: Interview) -> list[Handler]:
        return [
            consent_handler(iv),
            FuncHandler("colleague", self._is_colleague, self._colleague),
            FuncHandler("bind_code", lambda t: t.consented and t.inbound.text is not None and t.command is None,
                        self._redeem),
            FuncHandler("henan_form", lambda t: t.repos is not None and t.state.stage != Stage.NEW, self._henan),
            FuncHandler("reminder_reply", lambda t: t.consented, self._reminder_reply),
            command_handler(iv),
            documents_handler(iv),
            duties_question_handler(iv),
            interview_handler(iv),
        ]

    def locale_of(self, channel: str, user_id: str) -> str | None:
        """The contact's language: from memory before consent (or after declining), else the stored one;
        None for a chat id never seen (or forgotten)."""
        remembered = self.anonymous.get((channel, user_id))
        if remembered is not None:
            return str(remembered.get("locale") or DEFAULT_LOCALE)
        with self.sessions() as session:
            contact = Repositories(session).contacts.get_by_address(channel, user_id)
            return contact.locale if contact is not None else None

    # -- one message ---------------------------------------------------------------------------

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        return self.dispatch_with_locale(inbound)[0]

    def dispatch_with_locale(self, inbound: Inbound) -> tuple[list[Outbound], str | None]:
        """The replies, and the contact's language after the message (`locale_of`), known without another
        query: the chat's hot path is one read and one write.

        A turn is one Core transaction (`engine.begin()`): the contact and its state are read and the state
        written by Core statements on it, and an ORM Session is made on the same connection only when a
        handler uses a repository (storage.TurnRepositories)."""
        key = (inbound.channel, inbound.user_id)
        remembered = self.anonymous.get(key)
        if remembered is not None:
            return self._dispatch_in_memory(key, inbound, ConversationState.model_validate(remembered))
        with self._engine.begin() as connection:
            found = load_with_state(connection, inbound.channel, inbound.user_id)  # one query for both
            if found is None:  # a chat id never seen (or forgotten): nothing is written until it consents
                state = ConversationState.new(inbound.locale or DEFAULT_LOCALE)
                return self._dispatch_in_memory(key, inbound, state, connection)
            repos = TurnRepositories(connection, found[0])
            try:
                return self._dispatch_stored(repos, found[0], found[1], inbound)
            finally:
                repos.close()

    @property
    def _engine(self) -> Database:
        bind = self.sessions.kw.get("bind")
        if not isinstance(bind, Database):
            raise TypeError("the Dispatcher needs a sessionmaker bound to an Engine")
        return bind

    def _dispatch_stored(self, repos: TurnRepositories, contact: Contact, document: dict[str, Any] | None,
                         inbound: Inbound) -> tuple[list[Outbound], str | None]:
        key = (inbound.channel, inbound.user_id)
        if document is None:
            state = ConversationState.new(inbound.locale or contact.locale)
        else:
            state = ConversationState.model_validate({"locale": contact.locale, **document})
        turn = Turn(inbound, state, self.today(), repos, contact)
        first = turn.state.stage == Stage.NEW
        replies = self._after(turn, first, self._apply(turn, self.router.route(turn)))
        repos.finish()  # what a handler changed through the ORM is written before the state
        if turn.saved:
            return replies, contact.locale
        if turn.effects.forget:  # forgetting deleted the contact and, with it, the conversation
            if turn.state.anonymous:
                self.anonymous.put(key, turn.state.dump())
                return replies, turn.state.locale
            return replies, None
        save_state(repos.connection(), contact.id, turn.state.dump())  # one upsert, no re-read
        return replies, contact.locale

    def _after(self, turn: Turn, first: bool, replies: list[Outbound]) -> list[Outbound]:
        """A first message with facts is held (in memory) until consent is answered, then read again."""
        key = (turn.inbound.channel, turn.inbound.user_id)
        if first and turn.inbound.text and _is_bind(turn.inbound.text):
            self._held.put(key, turn.inbound.text)  # 绑定 <code>: used once consent is given, never stored before
            replies.insert(0, Outbound(turn.tr(N_("Thank you: I will use your invitation code as soon as you have "
                                                  "answered this question."))))
        elif first and turn.inbound.text and turn.reading.candidates:
            self._held.put(key, turn.inbound.text)  # in memory, not stored: read again once consent is answered
            replies.insert(0, Outbound(turn.tr(N_("Thank you, I will read your description once you have "
                                                  "answered this question."))))
        held = self._held.pop(key) if turn.effects.consent or turn.effects.forget else None
        if held is not None and _is_bind(held):
            return self._held_bind(turn, held, replies)
        if held is not None:
            again = Turn(Inbound(key[0], key[1], text=held), turn.state, turn.today)
            if not turn.state.anonymous:
                again.repos, again.contact = turn.repos, turn.contact
            if again.state.stage in (Stage.CREDIT_CODE, Stage.INTERVIEW):
                replies = replies[:-1]  # the description answers the question just asked, whatever it was
                again.state.interview.asking = None  # ... and is said back as a description
            replies += self._apply(again, self.router.route(again))
            turn.state = again.state
        return replies

    def _held_bind(self, turn: Turn, held: str, replies: list[Outbound]) -> list[Outbound]:
        """A 绑定 <code> sent before consent: redeemed now that the contact agreed, as if sent right after; on
        refusal it is dropped unused (nothing about the contact may be stored)."""
        if not turn.effects.consent or turn.repos is None or turn.contact is None:
            unused = Outbound(turn.tr(N_("Without your consent I cannot bind you to an enterprise, so your invitation "
                                         "code was not used. To bind later, send 同意, then the code again.")))
            return [*replies[:-1], unused, *replies[-1:]]  # before the question that stays open
        again = Turn(Inbound(turn.inbound.channel, turn.inbound.user_id, text=held), turn.state, turn.today,
                     turn.repos, turn.contact)
        question = replies[-1:]  # consent is answered with the next question (the credit code)
        bound = self._apply(again, self.router.route(again))
        turn.state = again.state
        if turn.contact.enterprise_id is None and again.state.stage in (Stage.CREDIT_CODE, Stage.INTERVIEW):
            return [*replies[:-1], *bound, *question]  # the code did not bind: the question still stands
        return [*replies[:-1], *bound]

    def _dispatch_in_memory(self, key: tuple[str, str], inbound: Inbound, state: ConversationState,
                            connection: Connection | None = None) -> tuple[list[Outbound], str | None]:
        """A chat id without a row: before consent is answered, or after declining it (`state.anonymous`).
        Nothing is written unless this message consents; then the contact (consent included) and the
        conversation are, in the turn's transaction (`connection`, the one that looked for the contact) or
        in one of their own."""
        declined = state.anonymous
        first = state.stage == Stage.NEW
        turn = Turn(inbound, state, self.today())
        replies = self.router.route(turn)
        if turn.effects.consent:  # from now on the conversation is stored
            self.anonymous.pop(key)
            with contextlib.ExitStack() as stack:
                if connection is None:
                    connection = stack.enter_context(self._engine.begin())
                contact = insert_contact(connection, inbound.channel, inbound.user_id, locale=turn.state.locale,
                                         consented_at=utcnow())
                repos = TurnRepositories(connection, contact)
                stack.callback(repos.close)
                turn.repos, turn.contact = repos, contact
                replies = self._after(turn, first, self._apply(turn, replies))
                repos.finish()  # what a handler changed through the ORM is written before the state
                if not turn.saved:
                    save_state(connection, contact.id, turn.state.dump())
                return replies, contact.locale
        replies = self._after(turn, first, replies)
        if turn.effects.forget and (declined or not turn.state.anonymous):  # 删除我的数据 with nothing stored
            self.anonymous.pop(key)
            return replies, None
        if turn.effects.status:
            replies.append(Outbound(turn.tr(N_("Nothing is stored for you, so I keep no deadlines: send 同意 to "
                                               "have them kept and reminded."))))
            replies += self.interview.repeat(Step(turn.state)).replies
        self.anonymous.put(key, turn.state.dump())
        return replies, str(turn.state.locale or DEFAULT_LOCALE)

    # -- colleagues of one enterprise -----------------------------------------------------------

    def _is_colleague(self, turn: Turn) -> bool:
        if turn.repos is None or turn.inbound.text is None:
            return False
        text = turn.inbound.text.strip().lower()
        if text in INVITE_WORDS:
            return True
        code, _explicit = read_code(text)
        return code is not None and turn.repos.kv.get_by_key(COLLEAGUE_PREFIX + code, now=utcnow()) is not None

    def _colleague(self, turn: Turn) -> list[Outbound]:
        """邀请同事 gives a bound contact a one-time code; 绑定 <code> lets a colleague join the enterprise
        (its answers, deadlines and reminders)."""
        repos, contact, tr = turn.repos, turn.contact, turn.tr
        assert repos is not None and contact is not None and turn.inbound.text is not None
        text = turn.inbound.text.strip().lower()
        if text in INVITE_WORDS:
            if contact.consented_at is None or contact.enterprise_id is None:
                return [Outbound(tr(N_("Only a contact who has joined an enterprise can invite colleagues: give the "
                                       "enterprise's unified social credit code first.")))]
            invite = new_code()  # who made it is kept with it, so that erasing them revokes it
            repos.kv.put(COLLEAGUE_PREFIX + invite, f"{contact.enterprise_id}:{contact.id}",
                         expires_at=utcnow() + COLLEAGUE_TTL)
            return [Outbound(tr(N_("Ask your colleague to send, within 7 days: 绑定 {code} (the code works once)."))
                             .format(code=invite))]
        code, _explicit = read_code(text)
        value = repos.kv.get_by_key(COLLEAGUE_PREFIX + str(code), now=utcnow())
        assert value is not None
        if contact.consented_at is None:
            return [Outbound(tr(N_("Please agree to the privacy notice first (send 开始), then send the code again.")))]
        repos.kv.delete(COLLEAGUE_PREFIX + str(code))
        enterprise_id = int(value.split(":")[0])  # "<enterprise>:<maker>" (older codes: "<enterprise>")
        if repos.enterprises.get_by_id(enterprise_id) is None:
            return self._next(turn, "colleague")  # its enterprise was erased: an unknown code
        repos.contacts.bind_enterprise(contact, enterprise_id)
        latest = repos.assessments.list_by_enterprise(enterprise_id, limit=1)
        known = dict(latest[0].facts) if latest else {}
        turn.state.stage = Stage.INTERVIEW
        step = self.interview.resume(turn.state, known)
        step.replies.insert(0, Outbound(tr(N_("You have joined your colleague's enterprise; I use the answers "
                                              "given so far (type 返回 to change one)."))))
        turn.state, turn.effects = step.state, step.effects
        return step.replies

    def _redeem(self, turn: Turn) -> list[Outbound]:
        assert turn.repos is not None and turn.contact is not None
        return redeem(turn.repos, turn.contact, turn.inbound.text, today=turn.today, policy=self.policy) \
            or self._next(turn, "bind_code")

    def _henan(self, turn: Turn) -> list[Outbound]:
        """The Henan voluntary-audit application form (申请表): it keeps its own sub-state in the row."""
        assert turn.repos is not None and turn.contact is not None
        if turn.state.henan_form is None and not henan_form.is_trigger(turn.inbound, {"offered": turn.state.offered}):
            return self._next(turn, "henan_form")  # no form open, none asked for: not the form's (no dump needed)
        raw = turn.state.dump()
        interviewing = turn.state.stage in (Stage.INTERVIEW, Stage.FOLLOW_UP) and raw.get("henan_form") is None
        replies = henan_form.handle(turn.repos, turn.contact, raw, turn.inbound, today=turn.today,
                                    file_url=henan_form.form_url_from(self.calendar_url),
                                    resume=(lambda: self.interview.repeat(Step(turn.state)).replies)
                                    if interviewing else None)
        if replies is None:
            if raw.get("henan_form") is None:
                turn.state.henan_form = None  # the form left on 重新开始 / 删除我的数据: the interview goes on
                return self._next(turn, "henan_form")
            # 我的期限 / 语言 (or a reminder's button) answered by the rest: then the form's open question again
            answered = self._next(turn, "henan_form")
            if turn.effects.status:
                return answered  # the deadlines are appended after this turn, and the form's question with them
            return [*answered, *henan_form.waiting_question(raw, turn.state.locale)]
        turn.saved = True
        return replies

    def _next(self, turn: Turn, after: str) -> list[Outbound]:
        """Hand the turn on to the handlers after `after` (which matched loosely, then declined)."""
        return self.router.route(turn, after=after)

    # -- replies to reminders ------------------------------------------------------------------

    def _reminder_reply(self, turn: Turn) -> list[Outbound]:
        """Confirm, snooze or unsubscribe; a step said done or not yet in the contact's words after the verdict,
        the day it was done (asked when not said with its year), a correction of that day right after; otherwise
        the turn goes on to the commands and the interview."""
        repos, contact, tr, state = turn.repos, turn.contact, turn.tr, turn.state
        assert repos is not None and contact is not None
        inbound = turn.inbound
        today = self.today()
        last_done, state.last_done = state.last_done, None
        wait, state.step_wait = state.step_wait, None
        if wait is not None and wait.ask in ("day", "guess"):
            replies = self._step_day(turn, wait, today)
            if replies is not None:
                return replies
        waiting = state.awaiting_evidence
        if waiting is not None and inbound.text is not None:
            understood, link = confirm_mod.read_evidence(inbound.text)
            milestone = repos.milestones.get_by_id(int(waiting))
            when = read_when(inbound.text, today)
            if not understood and milestone is not None and when.said and not about_list(inbound.text):
                state.awaiting_evidence = None  # "不是今天，是11月28日" while the link is asked: the day, then the link
                return self._step_when(turn, milestone, None, when, today)
            if understood and milestone is not None:
                state.awaiting_evidence = None
                mine = wait if wait is not None and wait.milestone == milestone.id else None
                day = date.fromisoformat(mine.day) if mine is not None and mine.day else None
                return self._done(turn, milestone, link, day, today, day_unknown=mine is not None and mine.unknown,
                                  link_asked=True)
        after_verdict = state.stage == Stage.DONE and inbound.choice is None
        req = confirm_mod.read_request(inbound, today, said=after_verdict)
        if req is None and after_verdict and last_done is not None and inbound.text:
            when = read_when(inbound.text, today)  # "不对，是11月20日" right after a step was recorded: its day
            if when.said and not about_list(inbound.text):
                milestone = repos.milestones.get_by_id(last_done)
                if milestone is not None:
                    return self._step_when(turn, milestone, None, when, today)
        if req is None and inbound.text and confirm_mod.is_acknowledgement(inbound.text):
            acknowledged = self._acknowledged(turn)  # 好的 / 收到 right after a reminder
            if acknowledged is not None:
                return [Outbound(acknowledged)]
        if req is None:
            state.awaiting_evidence = None
            return self._next(turn, "reminder_reply")
        if req.action == "unsubscribe":
            repos.contacts.unsubscribe(contact, utcnow())
            return [Outbound(tr(N_("Reminders stopped. Reply 恢复提醒 to receive them again.")))]
        if req.action == "resubscribe":
            repos.contacts.resubscribe(contact)
            return [Outbound(tr(N_("Reminders are on again.")))]
        if contact.enterprise_id is None:
            return [Outbound(tr(N_("To record your steps and remind you of the rest, I need your enterprise: send its "
                                   "unified social credit code (18 characters).")))]
        milestone = confirm_mod.find_milestone(repos, contact, req)
        if milestone is None and req.kind is not None and turn.reading.candidates:
            return self._next(turn, "reminder_reply")  # 评估2025年8月20日通过, no such milestone: the interview's fact
        if milestone is None:
            if req.kind is not None and req.kind in KIND_LABELS:
                return [Outbound(tr(N_("Your enterprise's deadlines have no step “{what}”: type 我的期限 to see the "
                                       "steps that are counted for it.")).format(what=tr(KIND_LABELS[req.kind])))]
            return [Outbound(tr(N_("I found no open step of that kind for your enterprise. Type 我的期限 to see "
                                   "your deadlines.")))]
        if req.action == "snooze":
            return [Outbound(confirm_mod.snooze(repos, milestone, today, tr))]
        if not req.done or (milestone.done_at is not None and not req.when.said and req.evidence is None):
            return [Outbound(self._not_done(turn, milestone, today))]  # or what is recorded for a step done
        if req.kind in ("start", "report") and _before_list(req.when, state.facts.get("list_published_on")):
            return self._next(turn, "reminder_reply")  # a round before this list: the last audit, the interview's
        return self._step_when(turn, milestone, req.evidence, req.when, today, said=req.kind is not None)

    def _acknowledged(self, turn: Turn) -> str | None:
        """What a bare 好的 / 收到 answers when a reminder came since the contact last wrote: the reminder stays
        until its step is confirmed, and how to confirm it; None when no such reminder (or its step is done)."""
        repos, contact = turn.repos, turn.contact
        assert repos is not None and contact is not None
        milestone_id = reminder_since_last_turn(repos.connection(), contact.channel, contact.user_id, contact.id)
        milestone = repos.milestones.get_by_id(milestone_id) if milestone_id is not None else None
        if milestone is None or milestone.done_at is not None:
            return None
        tr = turn.tr
        return tr(N_("Noted. The reminders of “{step}” go on until it is confirmed done: when it is, press “{button}” "
                     "under the reminder or tell me the day it was done (for example “已于11月28日完成”).")).format(
            step=tr(KIND_LABELS.get(milestone.kind, milestone.kind)),
            button=tr(DONE_LABELS.get(milestone.kind, N_("Done"))))

    def _not_done(self, turn: Turn, milestone: Milestone, today: date) -> str:
        """还没开始 / 还没公示: where that step stands today and what to do, or what is recorded for it."""
        tr = turn.tr
        item = StatusItem.from_milestone(milestone)
        what = tr(KIND_LABELS.get(milestone.kind, milestone.kind))
        if item.done_on is not None:
            turn.state.last_done = milestone.id  # a day in the next message corrects it
            return tr(N_("My record says {what} was done on {day}. If that is wrong, reply with the right day; type "
                         "我的期限 to see every step.")).format(
                what=what, day=item.done_on.isoformat())
        lines = [tr(N_("Noted: {what} is not done yet.")).format(what=what)]
        lines += item_lines(item, today, tr, province=turn.state.facts.get("province"))
        return "\n".join(lines)

    def _step_when(self, turn: Turn, milestone: Milestone, evidence: str | None, when: When,
                   today: date, *, said: bool = False) -> list[Outbound]:
        """A step said done: recorded on the day said, or its day asked when the message gives it without its year
        (11月20日), only a month (上个月) or a vague time (上周)."""
        if when.day is not None:
            return self._done(turn, milestone, evidence, when.day, today)
        if when.guess is not None:
            guess = when.guess
            if guess > today:  # 12月15号 said on 12-01: a step done is past, so last year's (asked back)
                guess = _year_before(guess)
            turn.state.step_wait = StepWait(milestone=milestone.id, ask="guess", guess=guess.isoformat(),
                                            evidence=evidence)
            return [confirm_mod.ask_day(milestone, turn.tr, guess=guess)]
        if when.month is not None or when.vague or (said and milestone.due < today):
            # a passed legal last day: whether it was done in time depends on the day, so the day is asked
            turn.state.step_wait = StepWait(milestone=milestone.id, ask="day", month=when.month, evidence=evidence)
            return [confirm_mod.ask_day(milestone, turn.tr, month=when.month, today=today)]
        return self._done(turn, milestone, evidence, None, today)

    def _step_day(self, turn: Turn, wait: StepWait, today: date) -> list[Outbound] | None:
        """The reply to "which day was it done?": the day, a yes/no to a day asked back, or 不记得 (recorded today,
        saying so); None when the message is something else (it goes on, and the question is dropped)."""
        repos = turn.repos
        assert repos is not None
        milestone = repos.milestones.get_by_id(wait.milestone)
        if milestone is None:
            return None
        inbound = turn.inbound
        text = turn.text
        if text == "stepday:unknown" or (inbound.text and parse.parse_unknown(inbound.text)):
            return self._done(turn, milestone, wait.evidence, None, today, day_unknown=True)
        if text == "stepday:today":
            return self._done(turn, milestone, wait.evidence, today, today)
        dated = inbound.text is not None and read_when(inbound.text, today).said  # "否，是11月25日": the day wins
        if wait.ask == "guess" and wait.guess is not None and not dated:
            yes = text == "stepday:yes" or (inbound.text is not None and parse.parse_yes_no(inbound.text) is True)
            no = text == "stepday:no" or (inbound.text is not None and parse.parse_yes_no(inbound.text) is False)
            if yes:
                return self._done(turn, milestone, wait.evidence, date.fromisoformat(wait.guess), today)
            if no:
                turn.state.step_wait = StepWait(milestone=milestone.id, ask="day", evidence=wait.evidence)
                return [confirm_mod.ask_day(milestone, turn.tr)]
        if not inbound.text:
            return None
        day = confirm_mod.day_in_month(inbound.text, wait.month) if wait.month else None
        if day is None and not wait.month:
            guess = confirm_mod.day_in_month(inbound.text, today.strftime("%Y-%m"))  # "20号": this month's, or
            if guess is not None and guess > today:                                 # the last one's, asked back
                guess = confirm_mod.day_in_month(inbound.text, (today.replace(day=1) - timedelta(days=1)).strftime(
                    "%Y-%m"))
            if guess is not None:
                turn.state.step_wait = StepWait(milestone=milestone.id, ask="guess", guess=guess.isoformat(),
                                                evidence=wait.evidence)
                return [confirm_mod.ask_day(milestone, turn.tr, guess=guess)]
        when = read_when(inbound.text, today)
        if day is None and when.day is not None:
            day = when.day
        if day is None and when.guess is not None:  # at "which day?", 11月20日 is the last one before today
            day = when.guess if when.guess <= today else _year_before(when.guess)
        if day is None and when.month is not None:
            turn.state.step_wait = StepWait(milestone=milestone.id, ask="day", month=when.month, evidence=wait.evidence)
            return [confirm_mod.ask_day(milestone, turn.tr, month=when.month)]
        if day is None:
            return None
        return self._done(turn, milestone, wait.evidence, day, today)

    def _done(self, turn: Turn, milestone: Milestone, evidence: str | None, day: date | None,
              today: date, *, day_unknown: bool = False, link_asked: bool = False) -> list[Outbound]:
        """Record the step (a disclosure's link is asked first); a day after today is asked again."""
        repos, contact, tr = turn.repos, turn.contact, turn.tr
        assert repos is not None and contact is not None
        if day is not None and day > today:
            turn.state.step_wait = StepWait(milestone=milestone.id, ask="day", evidence=evidence)
            return [Outbound(tr(N_("{day} is after today ({today}).")).format(
                day=day.isoformat(), today=today.isoformat())), confirm_mod.ask_day(milestone, tr)]
        if milestone.kind == "disclosure" and evidence is None and milestone.evidence is None and not link_asked:
            turn.state.awaiting_evidence = milestone.id
            turn.state.step_wait = StepWait(milestone=milestone.id, ask="link", unknown=day_unknown,
                                            day=day.isoformat() if day is not None else None)
            return [confirm_mod.ask_evidence(milestone, tr)]
        turn.state.last_done = milestone.id
        replies = [Outbound(confirm_mod.confirm(repos, contact, milestone, evidence, tr, today=today, day=day,
                                                day_unknown=day_unknown))]
        if milestone.kind == "report" and not day_unknown and turn.state.stage == Stage.DONE:
            # the report submitted completes the round (rules/READINGS.md): the day is the last audit's, from which
            # the next round counts; the verdict stored again adds that milestone
            completed = (day or today).isoformat()
            if turn.state.facts.get("last_audit_completed_on") != completed:
                turn.state.facts["last_audit_completed_on"] = completed
                turn.state.kept = None
                a = self.interview.assessment(turn.state)
                turn.effects.assessment = a
                nxt = next((d for d in a.deadlines if d.kind == "reaudit"), None)
                if nxt is not None:
                    replies.append(Outbound(tr(N_("The next round must be completed by {nominal} (legal last day "
                                                  "{due}): five years from this round's completion ({citation}).")
                                               ).format(nominal=nxt.nominal.isoformat(), due=nxt.due.isoformat(),
                                                        citation=nxt.citation if in_documents_language(tr)
                                                        else original(nxt.citation, tr))))
        return replies

    # -- effects -------------------------------------------------------------------------------

    def _apply(self, turn: Turn, replies: list[Outbound]) -> list[Outbound]:
        fx = turn.effects
        repos, contact = turn.repos, turn.contact
        if repos is None or contact is None:
            return replies  # anonymous: nothing is written
        now = utcnow()
        if fx.locale is not None:
            repos.contacts.update_settings(contact, locale=fx.locale)
        if fx.forget:
            self._forget(repos, contact)
            return replies
        if fx.consent and contact.consented_at is None:  # a contact added by this message has it already
            repos.contacts.record_consent(contact, now)
        code = fx.bind_credit_code
        if code is not None:
            fx.bind_credit_code = None
            replies = self._bind(turn, code, replies)
        if turn.effects.assessment is not None:
            a = turn.effects.assessment
            result = self._store(repos, contact, turn.state, a)
            turn.effects.assessment = None
            if turn.state.stage == Stage.DONE and a.deadlines:
                replies.append(Outbound(self._calendar_line(repos, contact, turn.tr)))
            if turn.state.stage == Stage.DONE and henan_form.is_offered(
                    turn.state.facts.get("province"), a.obligation, result):
                offer = henan_form.offer_choice(turn.tr)
                turn.state.offered = [offer.id]
                replies.append(Outbound(turn.tr(N_("Your enterprise may apply for Henan's voluntary audit: I can "
                                                   "fill in the application form (申请表) with you.")), (offer,)))
        if fx.status:
            fx.status = False
            replies.append(Outbound(self._status(repos, contact, turn.state)))
            replies += self.interview.repeat(Step(turn.state)).replies
            replies += henan_form.waiting_question(turn.state.dump(), turn.state.locale)  # 我的期限 in the form
        return replies

    def _forget(self, repos: Repositories, contact: Contact) -> None:
        """Refused or withdrawn consent, or 删除我的数据: nothing about this person stays, not even the chat id
        (storage.erasure: forms, form links, invitation codes, calendar link, outbox and kv rows)."""
        erase_contact(repos.session, contact)

    def _bind(self, turn: Turn, code: str, replies: list[Outbound]) -> list[Outbound]:
        repos, contact = turn.repos, turn.contact
        assert repos is not None and contact is not None
        facts = turn.state.facts  # two colleagues at once: one adds it; a new one gets the facts known
        # a new enterprise: the contact is bound to it at once; its calendar link is shown with the deadlines
        known = {"province": facts.get("province"), "industry_code": facts.get("industry_code"),
                 "scale": facts.get("scale")}
        if repos.opened:
            repos.session.flush()  # the contact's pending changes first: the statement writes its row
        enterprise_id, added = bind_new_enterprise(repos.connection(), code, contact, **known,
                                                   calendar_token=self.calendar_url is not None)
        if enterprise_id is not None:  # added with the facts known: `_store` need not write them again
            turn.state.kept_enterprise = _kept(enterprise_id, None, known, None, None)
        if not added:
            # A credit code is public (it is on the business licence): knowing it proves nothing. A known
            # enterprise's answers, deadlines and confirmations need an invitation code.
            turn.state.credit_code = None
            return [Outbound(turn.tr(N_(
                "This enterprise already uses 清审. To protect its information you join it with an invitation "
                "code: ask a colleague who already joined to send 邀请同事, or use the code in the authorities' "
                "written notice, then send 绑定 followed by the code. Until then I answer for you alone."))),
                *replies]
        return replies

    def _store(self, repos: Repositories, contact: Contact, state: ConversationState,
               a: Assessment) -> dict[str, Any]:
        """Record the assessment (and the cycle it starts); returns its JSON (`Assessment.to_dict`)."""
        enterprise_id = contact.enterprise_id
        result = a.to_dict()
        record_assessment(  # Core, on the turn's connection: no Session for a verdict without an enterprise
            repos.connection(), facts=state.facts, as_of=a.as_of, obligation=a.obligation, result=result,
            pack_versions=a.pack_versions, enterprise_id=enterprise_id, contact_id=contact.id,
        )
        if enterprise_id is None:
            return result
        facts = state.facts
        known = {"province": facts.get("province"), "industry_code": facts.get("industry_code"),
                 "scale": facts.get("scale")}
        kept = _kept(enterprise_id, self.today(), known, a, facts.get("list_published_on"))
        if state.kept == kept:
            return result  # this conversation wrote exactly this, today, in an earlier turn: nothing changes
        state.kept = kept
        kept_enterprise = _kept(enterprise_id, None, known, None, None)
        if state.kept_enterprise != kept_enterprise:  # one UPDATE, which writes nothing when they are the same
            if update_known(repos.connection(), enterprise_id, known) and repos.opened:
                repos.enterprises.forget(enterprise_id)  # an ORM copy read earlier in this turn is stale now
            state.kept_enterprise = kept_enterprise
        listed = state.facts.get("list_published_on")
        locale = state.locale
        if a.obligation == "mandatory" and listed:
            published = date.fromisoformat(listed)
            # the enterprise's other cycles are read only if it has any (open_cycle); one of the chat's with
            # another list date is superseded: the last answer decides
            open_cycle(repos, enterprise_id, a, list_published_on=published, source="chat",
                       today=self.today(), policy=self.policy, locale=locale, replaces_source=True)
            return result
        if a.deadlines and a.obligation != "undetermined":
            self._undated_cycle(repos, enterprise_id, a, locale)
        return result

    def _undated_cycle(self, repos: Repositories, enterprise_id: int, a: Assessment, locale: str) -> None:
        """Deadlines not counted from a list (a five-year round from the last audit, acceptance from the
        evaluation, a voluntary re-review): kept in the enterprise's current cycle, or a new one."""
        cycle = repos.cycles.get_by_enterprise(enterprise_id)
        if cycle is None:
            cycle = repos.cycles.add(enterprise_id, source="chat", grounds=[g.id for g in a.grounds])
        for plan in plan_milestones(a, today=self.today(), policy=self.policy, locale=locale):
            milestone = repos.milestones.get_by_kind(cycle.id, plan.kind)
            if milestone is None:
                milestone = repos.milestones.add(cycle.id, kind=plan.kind, nominal=plan.nominal, due=plan.due,
                                                 citation=plan.citation, note=plan.note)
                repos.reminders.add_for_milestone(milestone.id, plan.reminders)
            elif milestone.done_at is None and (milestone.nominal, milestone.due) != (plan.nominal, plan.due):
                repos.reminders.cancel_for_milestone(milestone.id)  # its start date was corrected
                repos.milestones.reschedule(milestone, nominal=plan.nominal, due=plan.due, citation=plan.citation,
                                            note=plan.note)
                # the cancelled rows keep their kinds (unique per milestone): the new schedule is told apart
                repos.reminders.add_for_milestone(milestone.id, [
                    (f"{kind}@{plan.nominal.isoformat()}", day) for kind, day in plan.reminders])

    def _status(self, repos: Repositories, contact: Contact, state: ConversationState) -> str:
        """我的期限: every milestone as of today (done, due in N days, overdue by N days and what to do), the
        reminders still planned, and the calendar."""
        tr = gettext_for(state.locale)
        items: list[StatusItem] = []
        province = state.facts.get("province")
        reminded = contact.enterprise_id is not None and contact.unsubscribed_at is None
        if contact.enterprise_id is not None:
            if repos.opened:
                repos.session.flush()  # a milestone recorded done by this turn through the ORM is in the table
            current = current_milestones(repos.connection(), contact.enterprise_id)
            items = [StatusItem.from_milestone(m) for m in current]
        if not items:
            latest = latest_result_by_contact(repos.connection(), contact.id)  # a plain value, no Session
            items = [StatusItem.from_dict(d) for d in (latest or {}).get("deadlines", [])]
            reminded = False
        if not items:
            obligation = latest.get("obligation") if latest else None
            return no_deadlines_text(obligation, province, self.today(), tr,
                                     listed_on=state.facts.get("list_published_on"))
        text = render_status(items, self.today(), tr, province=province, policy=self.policy if reminded else None)
        return text + "\n\n" + self._calendar_line(repos, contact, tr)

    def _calendar_line(self, repos: Repositories, contact: Contact, tr: Gettext) -> str:
        """The calendar link of the contact's enterprise, or why there is none yet."""
        token = None
        if contact.enterprise_id is not None and self.calendar_url is not None:
            if repos.opened:
                repos.session.flush()  # an enterprise added by this turn through the ORM is in the table
            token = calendar_token(repos.connection(), contact.enterprise_id)  # Core: no Session needed
        if contact.enterprise_id is None or (self.calendar_url is not None and token is None):
            return tr(N_("For a calendar of these deadlines (and reminders for your colleagues), send the "
                         "enterprise's unified social credit code: the calendar belongs to the enterprise."))
        if self.calendar_url is None or token is None:
            return tr(N_("Reminders come here in the chat before each deadline that is still ahead."))
        return tr(N_("Add them to your calendar: {link}")).format(link=self.calendar_url(token))


def _before_list(when: When, listed: str | None) -> bool:
    """The time said is before the list's publication (审核2021年完成 for a list of 2023): an earlier round."""
    if not listed:
        return False
    day = when.day or when.guess
    if day is not None:
        return day.isoformat() < listed
    return when.month is not None and when.month < listed[:len(when.month)]


def _year_before(day: date) -> date:
    """The same day a year earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _kept(enterprise_id: int, today: date | None, known: dict[str, Any], a: Assessment | None,
          listed: str | None) -> str:
    """What `Dispatcher._store` writes to the enterprise and its cycle for this verdict, as a short key:
    the enterprise's fields, the obligation, the grounds, the list date and every deadline (kind, days,
    citation, what shows it done), and the day (reminders are planned from it). Without `a`, the key of the
    enterprise's fields alone."""
    deadlines = () if a is None else \
        tuple((d.kind, d.start, d.nominal, d.due, d.citation, d.met_on, d.met_by) for d in a.deadlines)
    verdict = () if a is None else (a.obligation, tuple(g.id for g in a.grounds))
    key = (enterprise_id, today, tuple(sorted(known.items())), verdict, listed, deadlines)
    return hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()

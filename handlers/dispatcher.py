"""Inbound -> list[Outbound]: load the contact and its conversation, run the interview, persist.

One message is one unit of work: the conversation state, the consent, the enterprise binding, the
stored assessment and the audit cycle it starts commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from handlers import confirm as confirm_mod
from handlers import henan_form
from handlers.cycles import open_cycle, plan_milestones
from handlers.interview import Interview, Step
from handlers.messages import Choice, Inbound, Outbound
from handlers.officers import read_code, redeem
from handlers.reminders import ReminderPolicy
from handlers.render import KIND_LABELS
from rules import Engine, default_engine
from rules.engine import Assessment
from rules.i18n import DEFAULT_LOCALE, N_, Gettext, gettext_for
from storage import Contact, Repositories, utcnow
from storage.officers import new_code

log = logging.getLogger(__name__)
INVITE_WORDS = ("邀请同事", "invite colleague", "/invite")
COLLEAGUE_TTL = timedelta(days=7)
CHINA = ZoneInfo("Asia/Shanghai")


def china_today() -> date:
    return datetime.now(CHINA).date()


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
        self.interview = Interview(engine or default_engine(), self.today)
        self.policy = policy or ReminderPolicy.from_env()
        self.calendar_url = calendar_url

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        with self.sessions.begin() as session:
            repos = Repositories(session)
            contact = repos.contacts.add_if_absent(inbound.channel, inbound.user_id)
            conversation = repos.conversations.get_by_contact_id(contact.id)
            state = dict(conversation.state) if conversation is not None else None
            if state is not None and "locale" not in state:
                state["locale"] = contact.locale
            colleague = self._colleague(repos, contact, state, inbound)
            if colleague is not None:
                return colleague
            if inbound.text is not None and state is not None:
                redeemed = redeem(repos, contact, inbound.text)  # an invitation code from a written notice
                if redeemed is not None:
                    return redeemed
            form = henan_form.handle(repos, contact, state, inbound, today=self.today(),
                                     file_url=henan_form.form_url_from(self.calendar_url))
            if form is not None:  # the Henan voluntary-audit application form (申请表)
                return form
            handled = self._reminder_reply(repos, contact, state, inbound)
            if handled is not None:
                return handled
            step = self.interview.step(state, inbound)
            step = self._apply(repos, contact, step)
            if not step.effects.forget:  # forgetting deleted the contact and, with it, the conversation
                repos.conversations.save(contact.id, step.state)
            return step.replies

    def inbox(self, channel: str, user_id: str) -> list[Outbound]:
        """Pending pushes for a generic-API user; they count as delivered once fetched."""
        with self.sessions.begin() as session:
            repos = Repositories(session)
            now = utcnow()
            rows = [r for r in repos.outbox.list_by_address(channel, user_id) if r.next_attempt_at <= now]
            out = []
            for row in rows:  # a reminder waiting for the contact's 09:30 is not shown before it
                payload = row.payload or {}
                choices = tuple(Choice(str(c["id"]), str(c["label"])) for c in payload.get("choices", []))
                out.append(Outbound(str(payload.get("text", "")), choices))
                repos.outbox.mark_sent(row.id, now=now)
            return out

    # -- colleagues of one enterprise -----------------------------------------------------------

    def _colleague(
        self, repos: Repositories, contact: Contact, state: dict[str, Any] | None, inbound: Inbound
    ) -> list[Outbound] | None:
        """邀请同事 gives a bound contact a one-time code; 绑定 <code> lets a colleague join the enterprise
        (its answers, deadlines and reminders). None when the message is neither."""
        if state is None or inbound.text is None:
            return None
        tr = gettext_for(state.get("locale") or DEFAULT_LOCALE)
        text = inbound.text.strip()
        if text in INVITE_WORDS:
            if contact.consented_at is None or contact.enterprise_id is None:
                return [Outbound(tr(N_("Only a contact who has joined an enterprise can invite colleagues: give the "
                                       "enterprise's unified social credit code first.")))]
            invite = new_code()
            repos.kv.put(f"colleague:{invite}", str(contact.enterprise_id), expires_at=utcnow() + COLLEAGUE_TTL)
            return [Outbound(tr(N_("Ask your colleague to send, within 7 days: 绑定 {code} (the code works once)."))
                             .format(code=invite))]
        code, _explicit = read_code(text)
        if code is None:
            return None
        enterprise_id = repos.kv.get_by_key(f"colleague:{code}", now=utcnow())
        if enterprise_id is None:
            return None  # perhaps an officer's or a written notice's code: redeem() decides
        if contact.consented_at is None:
            return [Outbound(tr(N_("Please agree to the privacy notice first (send 开始), then send the code again.")))]
        repos.kv.delete(f"colleague:{code}")
        repos.contacts.bind_enterprise(contact, int(enterprise_id))
        latest = repos.assessments.list_by_enterprise(int(enterprise_id), limit=1)
        known = dict(latest[0].facts) if latest else {}
        step = self.interview.resume({**state, "stage": "interview"}, known)
        step.replies.insert(0, Outbound(tr(N_("You have joined your colleague's enterprise; I use the answers "
                                              "given so far (type 返回 to change one)."))))
        step = self._apply(repos, contact, step)
        repos.conversations.save(contact.id, step.state)
        return step.replies

    # -- replies to reminders ------------------------------------------------------------------

    def _reminder_reply(
        self, repos: Repositories, contact: Contact, state: dict[str, Any] | None, inbound: Inbound
    ) -> list[Outbound] | None:
        """Confirm, snooze or unsubscribe; None when the message is for the interview instead."""
        if state is None or contact.consented_at is None:
            return None
        tr = gettext_for(state.get("locale") or DEFAULT_LOCALE)
        waiting = state.get("awaiting_evidence")
        if waiting is not None and inbound.text is not None:
            understood, link = confirm_mod.read_evidence(inbound.text)
            milestone = repos.milestones.get_by_id(int(waiting))
            if understood and milestone is not None:
                repos.conversations.save(contact.id, {**state, "awaiting_evidence": None})
                return [Outbound(confirm_mod.confirm(repos, contact, milestone, link, tr))]
        req = confirm_mod.read_request(inbound)
        if req is None:
            if waiting is not None:
                repos.conversations.save(contact.id, {**state, "awaiting_evidence": None})
            return None
        if req.action == "unsubscribe":
            repos.contacts.unsubscribe(contact, utcnow())
            return [Outbound(tr(N_("Reminders stopped. Reply 恢复提醒 to receive them again.")))]
        if req.action == "resubscribe":
            repos.contacts.resubscribe(contact)
            return [Outbound(tr(N_("Reminders are on again.")))]
        milestone = confirm_mod.find_milestone(repos, contact, req)
        if milestone is None:
            return [Outbound(tr(N_("I found no open step of that kind for your enterprise. Type 我的期限 to see "
                                   "your deadlines.")))]
        if req.action == "snooze":
            return [Outbound(confirm_mod.snooze(repos, milestone, self.today(), tr))]
        if milestone.kind == "disclosure" and req.evidence is None:
            repos.conversations.save(contact.id, {**state, "awaiting_evidence": milestone.id})
            return [confirm_mod.ask_evidence(milestone, tr)]
        return [Outbound(confirm_mod.confirm(repos, contact, milestone, req.evidence, tr))]

    # -- effects -------------------------------------------------------------------------------

    def _apply(self, repos: Repositories, contact: Contact, step: Step) -> Step:
        fx = step.effects
        now = utcnow()
        if fx.locale is not None:
            repos.contacts.update_settings(contact, locale=fx.locale)
        if fx.forget:
            self._forget(repos, contact)
            return step
        if fx.consent:
            repos.contacts.record_consent(contact, now)
        if fx.bind_credit_code is not None:
            step = self._bind(repos, contact, step, fx.bind_credit_code)
        if step.effects.assessment is not None:
            self._store(repos, contact, step.state, step.effects.assessment)
        if fx.status:
            step.replies.append(Outbound(self._status(repos, contact, step.state)))
        return step

    def _forget(self, repos: Repositories, contact: Contact) -> None:
        """Refused or withdrawn consent: nothing about this person stays, not even the chat id."""
        repos.assessments.delete_by_contact(contact.id)
        repos.contacts.delete(contact)

    def _bind(self, repos: Repositories, contact: Contact, step: Step, code: str) -> Step:
        enterprise = repos.enterprises.get_by_credit_code(code)
        known: dict[str, Any] = {}
        tr = gettext_for(step.state.get("locale") or DEFAULT_LOCALE)
        if enterprise is not None:
            # A credit code is public (it is on the business licence): knowing it proves nothing. A known
            # enterprise's answers, deadlines and confirmations need an invitation code.
            step.replies.append(Outbound(tr(N_(
                "This enterprise already uses 清审. To protect its information you join it with an invitation "
                "code: ask a colleague who already joined to send 邀请同事, or use the code in the authorities' "
                "written notice, then send 绑定 followed by the code. Until then I answer for you alone."))))
            step.state = {**step.state, "credit_code": None}
            resumed = self.interview.resume(step.state, {})
            resumed.replies[:0] = step.replies
            return resumed
        enterprise = repos.enterprises.add(credit_code=code)
        repos.contacts.bind_enterprise(contact, enterprise.id)
        resumed = self.interview.resume(step.state, known)
        resumed.replies[:0] = step.replies
        return resumed

    def _store(self, repos: Repositories, contact: Contact, state: dict[str, Any], a: Assessment) -> None:
        enterprise_id = contact.enterprise_id
        result = a.to_dict()
        repos.assessments.add(
            facts=state["facts"], as_of=a.as_of, obligation=a.obligation, result=result,
            pack_versions=a.pack_versions, enterprise_id=enterprise_id, contact_id=contact.id,
        )
        if enterprise_id is None:
            return
        enterprise = repos.enterprises.get_by_id(enterprise_id)
        if enterprise is not None:
            facts = state["facts"]
            repos.enterprises.update(
                enterprise, province=facts.get("province"), industry_code=facts.get("industry_code"),
                scale=facts.get("scale"),
            )
        listed = state["facts"].get("list_published_on")
        locale = state.get("locale") or DEFAULT_LOCALE
        if a.obligation == "mandatory" and listed:
            published = date.fromisoformat(listed)
            for other in repos.cycles.list_by_enterprise(enterprise_id, include_superseded=False):
                if other.source == "chat" and other.list_published_on != published:
                    repos.cycles.supersede(other, utcnow())  # corrected in chat: the last answer decides
            open_cycle(repos, enterprise_id, a, list_published_on=published, source="chat",
                       today=self.today(), policy=self.policy, locale=locale)
            return
        if a.deadlines and a.obligation != "undetermined":
            self._undated_cycle(repos, enterprise_id, a, locale)

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

    def _status(self, repos: Repositories, contact: Contact, state: dict[str, Any]) -> str:
        tr = gettext_for(state.get("locale") or DEFAULT_LOCALE)
        lines: list[str] = []
        if contact.enterprise_id is not None:
            cycle = repos.cycles.get_by_enterprise(contact.enterprise_id)
            if cycle is not None:
                for m in repos.milestones.list_by_cycle(cycle.id):
                    lines.append(_milestone_line(tr, m.kind, m.nominal, m.due, m.done_at is not None))
        if not lines:
            latest = repos.assessments.list_by_contact(contact.id, limit=1)
            for d in (latest[0].result.get("deadlines", []) if latest else []):
                lines.append(_milestone_line(tr, d["kind"], date.fromisoformat(d["nominal"]),
                                             date.fromisoformat(d["due"]), False))
        if not lines:
            return tr(N_("No deadlines yet: they start when your enterprise's mandatory-audit list is "
                         "published. Tell me its date when I ask, or type 重新开始."))
        text = tr(N_("Your deadlines:")) + "\n" + "\n".join(lines)
        if contact.enterprise_id is not None and self.calendar_url is not None:
            enterprise = repos.enterprises.get_by_id(contact.enterprise_id)
            if enterprise is not None:
                link = self.calendar_url(repos.enterprises.ensure_calendar_token(enterprise))
                text += "\n\n" + tr(N_("Add them to your calendar: {link}")).format(link=link)
        return text


def _milestone_line(tr: Gettext, kind: str, nominal: date, due: date, done: bool) -> str:
    text = tr(N_("• {what}: by {nominal} (legal last day {due})")).format(
        what=tr(KIND_LABELS.get(kind, kind)), nominal=nominal.isoformat(), due=due.isoformat())
    done_mark = tr(N_("(done)"))
    return f"{text} {done_mark}" if done else text

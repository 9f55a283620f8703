"""The reminder sweep: due reminders become outbox rows, in one transaction per batch.

When it claims. A day's reminders are claimed once that day's sending window has opened (a working
day, between the policy's send time and its quiet hour) in at least one time zone the reminders go to:
the policy's zone and those of reachable contacts, the furthest east first. So nothing is queued at
night, on a holiday or a weekend; a reminder is queued at most hours before it is sent (a contact far
west of Beijing waits in the outbox for its own 09:30); and a milestone confirmed before the window
opens is never reminded.

What it does with a claimed milestone (all in the batch's transaction):
- Of its due reminders only the latest is sent; the older ones become `superseded`. After downtime,
  the missed reminders of a milestone are thus sent once, as one up-to-date message.
- The kept reminder becomes `cancelled`, with no message, when the milestone is done, its cycle was
  superseded, it is snoozed until the reminder's day or later, or none of the enterprise's contacts is
  reachable (consented and subscribed). A later reminder of the milestone is still considered.
- Otherwise every reachable person gets one outbox row, key `rem:<reminder id>:<contact id>`, not to
  be sent before `next_send_slot` in the contact's time zone, and the reminder becomes `queued`. A
  person with contacts on several channels (same enterprise and display name) gets it once, on the
  preferred one (bot.channels.registry.one_per_person); if that fails for good, the sender offers it
  to the other (requeue_fallback).

Exactly once: the reminder's status change and its outbox rows commit together; a crash before the
commit leaves the reminder pending for the next sweep, after it nothing is left to do. Two sweepers
on PostgreSQL lock disjoint milestones (storage.ReminderRepository.claim_due_as_queued), and the outbox key is
unique, so no key is ever written twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.registry import one_per_person
from handlers.messages import Choice
from handlers.reminders import ReminderPolicy, next_send_slot, next_weekly, reminder_message
from rules.periods import is_working_day
from storage import DueReminder, Message, Milestone, MilestoneFacts, Recipient, Repositories, reminder_key

log = logging.getLogger(__name__)
DEFAULT_BATCH = 1000
DEFAULT_WORKERS = 3  # transactions at once on PostgreSQL (see _overlapped; 2 and 4 were slower in the bench)


@dataclass(frozen=True)
class SweepResult:
    claimed: int = 0  # due reminders taken in hand
    queued: int = 0  # reminders turned into messages
    messages: int = 0  # outbox rows written
    superseded: int = 0  # older due reminders of a milestone whose latest was handled
    cancelled: int = 0  # not sent: done, snoozed, cycle superseded, nobody reachable

    def __add__(self, other: SweepResult) -> SweepResult:
        return SweepResult(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def zone(name: str, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; using %s", name, fallback)
        return ZoneInfo(fallback)


def due_cutoff(now: datetime, policy: ReminderPolicy, zones: Iterable[str]) -> date | None:
    """The last day whose reminders may be queued at `now`: the latest local date among the zones whose
    sending window is open (a working day, send_time <= local time < quiet_after); None if none is."""
    open_days = []
    for name in {policy.timezone, *zones}:
        local = now.astimezone(zone(name, policy.timezone))
        if is_working_day(local.date()) and policy.send_time <= local.time() < policy.quiet_after:
            open_days.append(local.date())
    return max(open_days, default=None)


def sweep(
    sessions: sessionmaker[Session], *, now: datetime, policy: ReminderPolicy, batch: int = DEFAULT_BATCH,
    workers: int = DEFAULT_WORKERS,
) -> SweepResult:
    """Queue every reminder due at `now`, batch by batch (one transaction each), until none is left.

    On PostgreSQL `workers` transactions run at once (see _overlapped), so that one batch's wording (this
    process's CPU) overlaps another's statements (the server's); then, as on SQLite (one writer at a time),
    batches one after the other from the first due reminder until a claim finds nothing."""
    with sessions() as session:
        zones = Repositories(session).reminders.list_contact_timezones()
        postgresql = session.get_bind().dialect.name == "postgresql"
    cutoff = due_cutoff(now, policy, zones)
    if cutoff is None:
        return SweepResult()
    total = SweepResult()
    if postgresql and workers > 1:
        total += _overlapped(sessions, cutoff=cutoff, now=now, policy=policy, batch=batch, workers=workers)
    while True:
        with sessions.begin() as session:
            result = sweep_batch(Repositories(session), cutoff=cutoff, now=now, policy=policy, limit=batch)
        total += result
        if result.claimed == 0:
            break
    if total.claimed:
        log.info("sweep up to %s: %s", cutoff, total)
    return total


class _Cursor:
    """Where the overlapped batches are in claim order: the last claimed key, and whether a claim found nothing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.after: tuple[date, int] | None = None
        self.done = False


def _overlapped(
    sessions: sessionmaker[Session], *, cutoff: date, now: datetime, policy: ReminderPolicy, batch: int,
    workers: int,
) -> SweepResult:
    """Batches in `workers` threads, each its own transaction on its own connection, the claims taken in
    turn: each claims the `batch` due reminders after the last candidate of the claim before it
    (ReminderRepository.claim_due_after), then loads, words and queues them while the next thread claims.
    A claim that finds nothing ends it; what a keyset pass can leave behind (a reminder of a milestone
    another sweeper's transaction held) is for the caller's pass from the first due key. An error stops
    the other threads' next claims and is raised."""
    cursor = _Cursor()

    def work() -> SweepResult:
        total = SweepResult()
        try:
            while True:
                with sessions.begin() as session:
                    repos = Repositories(session)
                    with cursor.lock:
                        if cursor.done:
                            return total
                        claimed, last = repos.reminders.claim_due_after(cutoff, batch, at=now, after=cursor.after)
                        if last is None:
                            cursor.done = True
                            return total
                        cursor.after = last
                    total += queue_claimed(repos, claimed, now=now, policy=policy)
        except BaseException:
            cursor.done = True
            raise

    with ThreadPoolExecutor(workers, thread_name_prefix="sweep") as pool:
        futures = [pool.submit(work) for _ in range(workers)]
    total = SweepResult()
    for future in futures:
        total += future.result()
    return total


def sweep_batch(
    repos: Repositories, *, cutoff: date, now: datetime, policy: ReminderPolicy, limit: int
) -> SweepResult:
    """One batch in the caller's transaction: claim, then queue, supersede or cancel each reminder.

    A fixed number of statements whatever the batch's size, all Core (plain rows, no ORM objects): claim,
    which marks the claimed reminders queued (one UPDATE ... RETURNING), load the milestones with their
    cycle, enterprise and reachable contacts (one), plan the next weekly reminders of overdue ones (one
    executemany), write the outbox rows (one), and set the claimed reminders that were not sent to
    superseded or cancelled (one UPDATE per status, none when all were sent)."""
    claimed = repos.reminders.claim_due_as_queued(cutoff, limit, at=now)
    return queue_claimed(repos, claimed, now=now, policy=policy) if claimed else SweepResult()


def queue_claimed(
    repos: Repositories, claimed: list[DueReminder], *, now: datetime, policy: ReminderPolicy
) -> SweepResult:
    """What sweep_batch does with the reminders it claimed, in the caller's transaction."""
    reminders = repos.reminders
    if not claimed:
        return SweepResult()
    by_milestone: dict[int, list[DueReminder]] = {}
    for reminder in claimed:
        by_milestone.setdefault(reminder.milestone_id, []).append(reminder)
    targets = reminders.load_due(by_milestone)
    queued: list[int] = []
    superseded: list[int] = []
    cancelled: list[int] = []
    messages: list[Message] = []
    today = now.astimezone(zone(policy.timezone, "Asia/Shanghai")).date()
    chained: list[tuple[int, str, date]] = []
    wording = Wording()
    for milestone_id, due in by_milestone.items():
        latest = due[-1] if len(due) == 1 else max(due, key=lambda r: (r.send_on, r.id))
        superseded.extend(r.id for r in due if r is not latest)
        target = targets.get(milestone_id)
        if target is not None and latest.kind.startswith("overdue_") and target.done_at is None \
                and target.cycle_superseded_at is None:
            following = next_weekly(target.nominal, policy, max(latest.send_on, today))
            if following is not None:  # while it stays overdue, the next weekly reminder
                chained.append((milestone_id, *following))
        reason = skip_reason(target, latest)
        if target is None or reason is not None:
            log.debug("reminder %s (%s) not sent: %s", latest.id, latest.kind, reason)
            cancelled.append(latest.id)
            continue
        messages.extend(_messages(target, latest, now, policy, wording))
        queued.append(latest.id)
    reminders.add_for_milestones(chained)
    written = reminders.add_messages(messages)
    reminders.settle(superseded=superseded, cancelled=cancelled)
    return SweepResult(len(claimed), len(queued), written, len(superseded), len(cancelled))


def skip_reason(target: MilestoneFacts | None, reminder: DueReminder) -> str | None:
    """Why this reminder is not to be sent, or None to send it."""
    if target is None:
        return "the milestone is gone"
    if target.done_at is not None:
        return "the milestone is done"
    if target.cycle_superseded_at is not None:
        return "its audit cycle was superseded"
    if target.snoozed_until is not None and reminder.send_on <= target.snoozed_until:
        return f"snoozed until {target.snoozed_until}"
    if not target.contacts:
        return "no reachable contact"
    return None


def _messages(
    target: MilestoneFacts, reminder: DueReminder, now: datetime, policy: ReminderPolicy, wording: Wording
) -> list[Message]:
    """One outbox row per reachable contact, worded in its locale, due at its own send slot."""
    out = []
    for contact in wording.people(target):
        slot, today = wording.slot(reminder.send_on, now, contact.timezone, policy)
        payload = wording.payload(target, reminder.kind, locale=contact.locale, today=today)
        out.append(Message(reminder_key(reminder.id, contact.id), contact.channel, contact.user_id, payload, slot))
    return out


class Wording:
    """handlers.reminders.reminder_message, worded once per batch for each set of what the words depend on
    (the milestone's kind, dates, note, citation and done day, the reminder's kind, the locale, the day,
    whether the enterprise has a name). The enterprise's name and the milestone's id (in the buttons) are
    then put in: a list's enterprises share their dates, so 10,000 reminders are a few dozen wordings.
    Send slots are computed once per (day, zone), and one_per_person once per enterprise."""

    NAME = "\x00enterprise\x00"

    def __init__(self) -> None:
        self._worded: dict[tuple[object, ...], tuple[bytes, list[bytes], bytes]] = {}
        self._names: dict[str, bytes] = {}
        self._slots: dict[tuple[date, str], tuple[datetime, date]] = {}
        self._people: dict[int, list[Recipient]] = {}

    def people(self, target: MilestoneFacts) -> list[Recipient]:
        """The enterprise's reachable contacts, one per person (bot.channels.registry.one_per_person)."""
        found = self._people.get(target.enterprise_id)
        if found is None:
            contacts = target.contacts
            found = self._people[target.enterprise_id] = list(contacts) if len(contacts) == 1 \
                else one_per_person(contacts)
        return found

    def slot(self, send_on: date, now: datetime, timezone: str, policy: ReminderPolicy) -> tuple[datetime, date]:
        """next_send_slot in the contact's zone and the local day of it, once per (day, zone) in a batch."""
        found = self._slots.get((send_on, timezone))
        if found is None:
            tz = zone(timezone, policy.timezone)
            moment = next_send_slot(send_on, now, tz, policy)
            found = self._slots[(send_on, timezone)] = (moment, moment.astimezone(tz).date())
        return found

    def payload(self, target: MilestoneFacts, reminder_kind: str, *, locale: str, today: date) -> orjson.Fragment:
        """The outbox payload {"text", "choices", "milestone_id", "reminder_kind"} as JSON, encoded already
        (an orjson.Fragment the outbox insert embeds as it is): per wording the JSON is encoded once, cut
        where the enterprise's name and the milestone's id go, and each row is its pieces joined, without
        a dict or list a row to build and encode again."""
        name = target.enterprise_name
        key = (target.kind, target.nominal, target.due, target.note, target.citation, target.done_at,
               reminder_kind, locale, today, bool(name))
        worded = self._worded.get(key)
        if worded is None:
            milestone = Milestone(id=target.id, cycle_id=target.cycle_id, kind=target.kind, nominal=target.nominal,
                                  due=target.due, note=target.note, citation=target.citation,
                                  done_at=target.done_at)  # transient, never added to a session
            message = reminder_message(milestone, reminder_kind, enterprise_name=self.NAME if name else None,
                                       locale=locale, today=today)
            worded = self._worded[key] = _encoded(message.text, message.choices, target.id, reminder_kind)
        text, choices, tail = worded
        if name:
            escaped = self._names.get(name)
            if escaped is None:
                escaped = self._names[name] = orjson.dumps(name)[1:-1]  # its JSON string, quotes cut
            text = escaped.join(text.split(_ENCODED_NAME))
        own = str(target.id).encode()
        return orjson.Fragment(b"".join((b'{"text":', text, b',"choices":', own.join(choices),
                                         b',"milestone_id":', own, tail)))


_ENCODED_NAME = orjson.dumps(Wording.NAME)[1:-1]  # how the placeholder reads inside a JSON string


def _encoded(text: str, choices: Iterable[Choice], milestone_id: int, reminder_kind: str) -> tuple[
        bytes, list[bytes], bytes]:
    """One wording's JSON pieces: the text (the enterprise's name still a placeholder), the choices cut
    where the milestone's id goes (a button whose id ends in `:<milestone id>` names the milestone, and
    each row puts its own), and what follows the milestone id."""
    suffix = f":{milestone_id}"
    pieces: list[bytes] = []
    current = b"["
    for n, choice in enumerate(choices):
        if n:
            current += b","
        if choice.id.endswith(suffix):
            base = choice.id[: -len(suffix) + 1]
            pieces.append(current + b'{"id":' + orjson.dumps(base)[:-1])
            current = b'","label":' + orjson.dumps(choice.label) + b"}"
        else:
            current += b'{"id":' + orjson.dumps(choice.id) + b',"label":' + orjson.dumps(choice.label) + b"}"
    pieces.append(current + b"]")
    return orjson.dumps(text), pieces, b',"reminder_kind":' + orjson.dumps(reminder_kind) + b"}"

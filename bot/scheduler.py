"""APScheduler wiring: exactly two interval jobs, the reminder sweep and the outbox sender.

Nothing about a reminder lives in APScheduler: the jobs are plain module-level functions in a memory
job store, and every reminder and message is a row (storage's `reminders` and `outbox`). A restart,
or a second process on the same PostgreSQL database, simply runs the same two jobs again.

    scheduler = start_from_env(sessions)      # what `qingshen run` does
    ...
    stop_scheduler(scheduler)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import PushChannel
from bot.channels.registry import requeue_fallback
from bot.officer_calendar import officer_sweep
from bot.push_settings import PushSettings
from bot.sender import DEFAULT_RATE, DeadHook, Sender
from bot.sweep import sweep
from handlers.reminders import ReminderPolicy
from storage import DEFAULT_LEASE, Repositories, utcnow
from storage.erasure import purge_before_consent

log = logging.getLogger(__name__)

SWEEP_JOB = "reminder-sweep"
SEND_JOB = "outbox-sender"

_senders: dict[int, Sender] = {}  # id(scheduler) -> its sender, to stop it with the scheduler


def sweep_job(sessions: sessionmaker[Session], policy: ReminderPolicy) -> None:
    now = utcnow()
    sweep(sessions, now=now, policy=policy)
    officer_sweep(sessions, now=now, policy=policy)  # officers' yearly dates ride on the same job
    with sessions.begin() as session:  # expired shared values (MsgId dedupe, last-seen, tokens)
        Repositories(session).kv.delete_expired(now)
        purge_before_consent(session, now)  # chat ids that did not consent within the hour


def send_job(sender: Sender) -> None:
    sender.pump()


def start_scheduler(
    sessions: sessionmaker[Session],
    *,
    channels: Mapping[str, PushChannel],
    policy: ReminderPolicy,
    rates: Mapping[str, float],
    sweep_seconds: float = 60,
    send_seconds: float = 1,
    worker_id: str,
    lease: timedelta = DEFAULT_LEASE,
    default_rate: float | None = None,
    on_dead: DeadHook | None = requeue_fallback,
) -> BackgroundScheduler:
    """Start the sweep and the sender in a background scheduler (both run at once, then every N s).

    A message that fails for good is offered to the same person's contact on another channel
    (`on_dead`, bot.channels.registry.requeue_fallback).
    """
    sender = Sender(
        sessions, channels, rates=rates, worker=worker_id, lease=lease, default_rate=default_rate or DEFAULT_RATE,
        on_dead=on_dead,
    )
    scheduler = BackgroundScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None, "replace_existing": True}
    now = datetime.now(scheduler.timezone)
    scheduler.add_job(
        sweep_job, "interval", seconds=sweep_seconds, args=(sessions, policy), id=SWEEP_JOB, next_run_time=now,
        **common,
    )
    scheduler.add_job(
        send_job, "interval", seconds=send_seconds, args=(sender,), id=SEND_JOB, next_run_time=now, **common
    )
    scheduler.start()
    _senders[id(scheduler)] = sender
    log.info(
        "scheduler started as %s: sweep every %ss, sender every %ss on %s",
        worker_id, sweep_seconds, send_seconds, ", ".join(sorted(channels)) or "no push channel",
    )
    return scheduler


def start_from_env(
    sessions: sessionmaker[Session],
    *,
    settings: PushSettings | None = None,
    policy: ReminderPolicy | None = None,
    channels: Mapping[str, PushChannel] | None = None,
) -> BackgroundScheduler:
    """start_scheduler with PushSettings.from_env() and ReminderPolicy.from_env() (ConfigError/PolicyError)."""
    settings = settings or PushSettings.from_env()
    return start_scheduler(
        sessions,
        channels=settings.channels() if channels is None else channels,
        policy=policy or ReminderPolicy.from_env(),
        rates=settings.rates,
        default_rate=settings.default_rate,
        sweep_seconds=settings.sweep_seconds,
        send_seconds=settings.send_seconds,
        worker_id=settings.worker_id,
        lease=settings.lease,
    )


def stop_scheduler(scheduler: BackgroundScheduler, *, timeout: float | None = 30.0) -> None:
    """Stop both jobs: no new runs, claimed-but-unsent messages released, sends in flight finished."""
    sender = _senders.pop(id(scheduler), None)
    if sender is not None:
        sender.stop(timeout)
    if scheduler.running:
        scheduler.shutdown(wait=True)  # lets a sweep in progress commit its batch
    for channel in sender.channels.values() if sender is not None else ():
        close = getattr(channel, "close", None)
        if callable(close):
            close()

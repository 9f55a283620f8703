"""`python -m bot.worker`: only the scheduler (reminder sweep + outbox sender), until SIGTERM or SIGINT.

What `qingshen run` does besides serving HTTP; useful on its own for extra sending processes on one
PostgreSQL database. Settings: bot.config (QINGSHEN_DATABASE_URL, QINGSHEN_WEBHOOK_URL),
bot.push_settings (rates, intervals, lease, worker id), handlers.reminders.ReminderPolicy.from_env.
Exits 2 if the database is not at the newest migration (`qingshen migrate` first).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.push_settings import PushSettings
from bot.scheduler import start_from_env, stop_scheduler
from handlers.reminders import ReminderPolicy
from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, gettext_for
from storage import current_revision, head_revision, make_engine, session_factory

log = logging.getLogger("qingshen.worker")
EXIT_NOT_READY = 2


def _(msgid: str) -> str:
    return gettext_for(DEFAULT_LOCALE)(msgid)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx"):  # not a line per job run or per push
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
        push = PushSettings.from_env()
        policy = ReminderPolicy.from_env()
    except QingshenError as e:
        print(f"qingshen worker: {e}", file=sys.stderr)
        return EXIT_NOT_READY
    current, head = current_revision(settings.database_url), head_revision()
    if current != head:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        print("qingshen worker: " + _(
            "The database {url} is not migrated (it is at revision {current}, the newest is {head}): "
            "run `qingshen migrate` first."
        ).format(url=url, current=current or "none", head=head), file=sys.stderr)
        return EXIT_NOT_READY
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    engine = make_engine(settings.database_url)
    scheduler = start_from_env(session_factory(engine), settings=push, policy=policy)
    try:
        while not stop.wait(3600):
            pass
    finally:
        log.info("stopping")
        stop_scheduler(scheduler)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

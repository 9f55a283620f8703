"""Run `python -m bot.worker` on a moved clock: `python worker_at.py FAKE_ISO REAL_EPOCH`.

The clock reads FAKE_ISO + (now - REAL_EPOCH) and ticks, so processes started at different moments
share one timeline (a restarted worker does not go back in time). Used by the crash tests, which
need a working day at 10:00 in Beijing whatever day the tests run on.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import time_machine

if __name__ == "__main__":
    fake, real = datetime.fromisoformat(sys.argv[1]), float(sys.argv[2])
    with time_machine.travel(fake + timedelta(seconds=time.time() - real), tick=True):
        from bot.worker import main

        sys.exit(main([]))

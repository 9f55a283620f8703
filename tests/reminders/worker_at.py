"""Run the program on a moved clock: `python worker_at.py FAKE_ISO REAL_EPOCH run --port 0`.

The clock reads FAKE_ISO + (now - REAL_EPOCH) and ticks, so processes started at different moments
share one timeline (a restarted process does not go back in time). The remaining arguments go to
`qingshen` (bot.cli.main), or to `python -m bot.worker` when they are just `worker`. Used by the crash
tests, which need a working day at 10:00 in Beijing whatever day the tests run on.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import time_machine

if __name__ == "__main__":
    fake, real, command = datetime.fromisoformat(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
    with time_machine.travel(fake + timedelta(seconds=time.time() - real), tick=True):
        if command == ["worker"]:
            from bot.worker import main
        else:
            from bot.cli import main
        sys.exit(main(command if command != ["worker"] else []))

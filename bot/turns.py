"""Chat turns run on a small pool of threads of their own, not on Starlette's (anyio's) shared one.

Every channel answers a message by running the conversation, a blocking database transaction, off the
event loop. On anyio's pool (up to 40 threads) sixteen contacts typing at once are sixteen threads taking
turns at the GIL and, on SQLite, at the one write lock (storage.db._OneWriter), which is held from BEGIN to
COMMIT: handing the GIL and the lock from thread to thread cost about a fifth of a message's server CPU
(`make bench`, http section). SQLite runs one transaction at a time however many threads wait, so its turns
run on one thread, in the order they arrive. PostgreSQL's transactions overlap, so its turns get a few
threads (QINGSHEN_TURN_THREADS).

The pool is the process's: `configure` sets its size (`qingshen run` does, from the settings), and a turn
run before that gets one thread. Context variables are carried into the turn as `run_in_threadpool` does.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

SQLITE_THREADS = 1     # one writer at a time: more threads only wait for each other
POSTGRES_THREADS = 4   # a turn waits on round trips to the server: a few overlap
MAX_THREADS = 64
THREAD_NAME = "qingshen-turn"

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_size = SQLITE_THREADS
_here = threading.local()  # `turn` is set on the pool's threads


def threads_for(database_url: str, configured: int | None = None) -> int:
    """The configured number, else one thread for SQLite and a few for a server database."""
    if configured is not None:
        return configured
    return SQLITE_THREADS if database_url.startswith("sqlite") else POSTGRES_THREADS


def configure(threads: int) -> None:
    """Run turns on `threads` threads from now on (the turns running go on where they are)."""
    global _pool, _size
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads: expected 1 to {MAX_THREADS}, got {threads}")
    with _lock:
        old, _pool, _size = _pool, None, threads
    if old is not None:
        old.shutdown(wait=False)


def size() -> int:
    return _size


def _executor() -> ThreadPoolExecutor:
    global _pool
    pool = _pool
    if pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_size, thread_name_prefix=THREAD_NAME, initializer=_mark)
            pool = _pool
    return pool


def _mark() -> None:
    _here.turn = True


def on_turn_thread() -> bool:
    return getattr(_here, "turn", False)


def call(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` on a turn thread, from a thread that can wait for it (a channel's worker or poller); on
    a turn thread already, simply called (a pool of one thread waiting for itself would never return)."""
    if on_turn_thread():
        return fn(*args)
    return _executor().submit(contextvars.copy_context().run, fn, *args).result()


async def run_turn(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` on a turn thread, awaited from the event loop."""
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)

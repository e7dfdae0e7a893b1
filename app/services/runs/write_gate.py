"""Let one writer at a time write its rows to a SQLite database, across processes.

Why: SQLite takes one writer per database. When several request threads write at once, the
losers wait in SQLite's busy handler, which sleeps 1, 2, 5, ... up to 100 ms between tries, and
a sleeping waiter keeps losing to writers that are awake; under load a write of a fraction of a
millisecond waited tens or hundreds of them (the REST trigger's p99 was about a second at 16
concurrent callers). Queueing instead on a lock that wakes the next writer the moment the
current one commits removes those sleeps: a thread lock orders the threads of one process, and
an advisory `flock` on a file beside the database orders the processes (the kernel drops it
if a process dies).

Who takes it: every start of a run (`app.services.runs.run_start.start`: REST hooks, the invoke API,
the OpenAI endpoint, Run now, replay and schedule fires) around its session, run and companion
rows, once per group when runs accepted together commit together (`group_commit`); and the
worker's journal (`app.worker.execution`) around its step and status writes. Writes
outside it (API key last-use stamps, schedule bookkeeping that starts no run, the sweeper, the
management pages) still meet the busy handler. PostgreSQL takes concurrent writers itself, so
there the gate is open.

Hold the gate only around writes that end in a commit (it rolls back on failure), and never
enter it with a write transaction already open: that writer could wait on one waiting for it.

Every wait is bounded by SQLITE_BUSY_TIMEOUT_MS: when another process holds the database (a
backup, a stray `BEGIN EXCLUSIVE`), the gate's holder fails after that long in SQLite's busy
handler, and a thread queued behind it gives up after the same time (`DatabaseBusy`, a 503 with
Retry-After) instead of each thread waiting out the holder's wait and then its own.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from app.config import settings

from app.extensions import db

_lock = threading.Lock()
BLOCKING_WAIT_SECONDS = 10  # a writer allowed to wait this long waits in the kernel, not by polling
# (process id, database path) -> lock file descriptor. Keyed by process: a descriptor inherited
# through fork shares its lock with the parent, so each process opens its own.
_files: dict[tuple[int, str], int] = {}


class DatabaseBusy(Exception):
    """The write gate stayed taken for the whole busy timeout: the database is locked elsewhere."""


@contextmanager
def one_writer() -> Iterator[None]:
    """Serialise the enclosed writes with the other gated writers of this SQLite database."""
    url = db.session.get_bind().url
    if url.get_backend_name() != "sqlite":
        yield
        return
    deadline = time.monotonic() + settings().sqlite_busy_timeout_ms / 1000
    if not _lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise DatabaseBusy("The database stayed locked by another writer for the whole busy timeout.")
    try:
        fd = _lock_file(url.database)
        if fd is not None and not _flock(fd, deadline):
            raise DatabaseBusy("The database stayed locked by another process for the whole busy timeout.")
        try:
            yield
        except BaseException:
            db.session.rollback()  # never hand the next writer a database still locked by this one
            raise
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _lock.release()


def _flock(fd: int, deadline: float) -> bool:
    """Take the file lock by `deadline`; False when another process held it all along.

    Two ways to wait, by who is waiting. A writer nobody waits on (a worker: its busy timeout is
    long, see worker.py) blocks in `flock` and wakes the instant the lock is released; on a
    2-worker backlog that drained 394-444 runs/s where polling drained 310-391. A writer someone
    waits on (a web request, 2 s) cannot block without a timeout, so it polls every half
    millisecond and gives up at its deadline (a 503), instead of hanging behind a worker that
    itself waits on a database locked by another program.
    """
    if deadline - time.monotonic() >= BLOCKING_WAIT_SECONDS:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.0005)


def _lock_file(database: str | None) -> int | None:
    """The lock file's descriptor for a database file; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = (os.getpid(), database)
    fd = _files.get(key)
    if fd is None:
        fd = os.open(database + ".write-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        _files[key] = fd
    return fd

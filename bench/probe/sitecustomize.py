"""Count SQL statements, commits and Redis round trips of the stack's processes, from outside the app.

Why a sitecustomize: `bench/compare.py` must count what a run costs in both commits it compares, and
it cannot change either commit's code. Python imports this module at start-up when its folder is on
PYTHONPATH and BENCH_COUNT_DIR is set (compare mode sets both for the processes it starts), and it
hooks the libraries, not the app: SQLAlchemy's engine events (every engine, any database) and
redis-py's `send_packed_command` (one call per round trip; a pipeline is one). Each process counts in
memory (an increment per event: no system call on the hot path) and a daemon thread writes its totals
every 0.2 s, and at exit, to `<BENCH_COUNT_DIR>/<role>.<pid>.<start>.count` as "statements commits
round-trips"; a forked child starts from zero with its own file and thread. The reader sums the files
of a role (bench/compare_measures.py). The role is "workers" for worker.py and its forks, "other" for
`flask db upgrade`, "web" for anything else (the WSGI server).
"""

import atexit
import os
import sys
import threading
import time

_DIR = os.environ.get("BENCH_COUNT_DIR")
FLUSH_SECONDS = 0.2
_counts = [0, 0, 0]  # SQL statements, commits, Redis round trips
_state = {"path": None, "written": None}


def _role() -> str:
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if program == "worker.py":
        return "workers"
    if "upgrade" in sys.argv[1:]:  # flask db upgrade
        return "other"
    return "web"


def _flush() -> None:
    totals = tuple(_counts)
    if totals == _state["written"]:
        return
    if _state["path"] is None:  # named once sys.argv is known (it is not yet while this module loads)
        _state["path"] = os.path.join(_DIR, f"{_role()}.{os.getpid()}.{time.monotonic_ns()}.count")
    with open(_state["path"], "w") as handle:
        handle.write(" ".join(map(str, totals)) + "\n")
    _state["written"] = totals


def _flusher() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            _flush()
        except OSError:
            pass


def _start() -> None:
    """In this process (and again in each forked child): zero the counts, start the flushing thread."""
    _counts[:] = [0, 0, 0]
    _state.update(path=None, written=None)
    threading.Thread(target=_flusher, name="bench-probe", daemon=True).start()


def _install() -> None:
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        def statement(*args, **kwargs):
            _counts[0] += 1

        def commit(*args, **kwargs):
            _counts[1] += 1

        event.listen(Engine, "before_cursor_execute", statement)
        event.listen(Engine, "commit", commit)
    except ImportError:
        pass
    try:
        from redis.connection import AbstractConnection
    except ImportError:
        return
    send = AbstractConnection.send_packed_command

    def counted(self, command, *args, **kwargs):
        _counts[2] += 1
        return send(self, command, *args, **kwargs)

    AbstractConnection.send_packed_command = counted


if _DIR:
    _install()
    _start()
    os.register_at_fork(after_in_child=_start)
    atexit.register(_flush)

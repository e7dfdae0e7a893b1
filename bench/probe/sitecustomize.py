"""Count SQL statements, commits and Redis round trips of the stack's processes, from outside the app.

Why a sitecustomize: `bench/compare.py` must count what a run costs in both commits it compares, and
it cannot change either commit's code. Python imports this module at start-up when its folder is on
PYTHONPATH and BENCH_COUNT_DIR is set (compare mode sets both for the processes it starts), and it
hooks the libraries, not the app: SQLAlchemy's engine events (every engine, any database) and
redis-py's `send_packed_command` (one call per round trip; a pipeline is one). Each event appends
one byte to `<BENCH_COUNT_DIR>/<role>.count` with O_APPEND (s = statement, c = commit, r = Redis
round trip), so forked children and threads share it safely and the counts are the bytes; one small
write per event costs microseconds against milliseconds of CPU per run. The role is "workers" for
worker.py and its forks, "other" for `flask db upgrade`, "web" for anything else (the WSGI server).
"""

import os
import sys

_DIR = os.environ.get("BENCH_COUNT_DIR")
_fds: dict[int, int] = {}


def _role() -> str:
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if program == "worker.py":
        return "workers"
    if "upgrade" in sys.argv[1:]:  # flask db upgrade
        return "other"
    return "web"


def _mark(byte: bytes) -> None:
    fd = _fds.get(os.getpid())  # a forked child opens its own, after sys.argv is set
    if fd is None:
        fd = _fds[os.getpid()] = os.open(os.path.join(_DIR, f"{_role()}.count"),
                                         os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, byte)


def _install() -> None:
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", lambda *args, **kw: _mark(b"s"))
        event.listen(Engine, "commit", lambda *args, **kw: _mark(b"c"))
    except ImportError:
        pass
    try:
        from redis.connection import AbstractConnection
    except ImportError:
        return
    send = AbstractConnection.send_packed_command

    def counted(self, command, *args, **kwargs):
        _mark(b"r")
        return send(self, command, *args, **kwargs)

    AbstractConnection.send_packed_command = counted


if _DIR:
    _install()

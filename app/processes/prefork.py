"""Share one imported app between processes: fork them after the imports, not before.

Why: each process that imports the app holds ~60 MB of Python objects (modules, classes, code)
that never change after start. Forked from a parent that imported them once, the children
share those pages copy-on-write instead of building their own copies, which is most of the
stack's memory. Gunicorn's `--preload` does this for web workers (see `app.processes.gunicorn_conf`);
`run_family` does it for the RQ workers and the clock (`python worker.py --workers N
--with-scheduler`).

Why not RQ's WorkerPool: it runs RQ's own worker function in its children, outside our app
context, with RQ's scheduler, and cannot hold the clock; our children run the same code a single
`worker.py` process runs. Like WorkerPool, the parent replaces a child that dies (kill -9, a
crash) a second later and forwards SIGTERM/SIGINT so every child stops the way it would alone.

Fork safety: the parent opens no database or Redis connection (creating the app opens none), and
`after_fork` drops whatever pool or client a child inherited anyway, so no socket is ever shared.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import time
import traceback
from typing import Callable

from flask import Flask

log = logging.getLogger("switchboard.prefork")
RESPAWN_DELAY_SECONDS = 1.0
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def before_fork() -> None:
    """Finish, in the parent, the set-up every child would otherwise repeat in its own memory."""
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # ~1 MB the first query of each process would build; no I/O
    gc.freeze()  # keep the collector from writing to (and so copying) every inherited object's header


def after_fork(app: Flask) -> None:
    """Forget connections inherited from the parent; each child opens its own on first use."""
    from app.extensions import db
    from app.queueing.connection import forget_redis

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # close=False: the parent's connections stay the parent's
    forget_redis(app)


def _die_with_parent(parent: int) -> None:
    """SIGTERM this child if the parent dies (even by kill -9), so no worker outlives its family."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: stopping the parent normally still stops the children
        pass
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(0)


def _fork(app: Flask, name: str, target: Callable[[], int]) -> int:
    """Fork a child that runs `target`; call it with STOP_SIGNALS blocked (the child unblocks them
    once its own handlers are in place, so a stop signal never runs the parent's handler in it)."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        log.info("started %s (pid %d)", name, pid)
        return pid
    code = 1
    try:  # the child: never returns into the parent's loop
        for signum in STOP_SIGNALS:  # until the child installs its own: just end
            signal.signal(signum, lambda *_: sys.exit(0))
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        _die_with_parent(parent)
        after_fork(app)
        code = target() or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001  (report it; the parent starts another)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_family(app: Flask, children: dict[str, Callable[[], int]], respawn: bool = True) -> int:
    """Fork one child per entry and watch them until SIGTERM/SIGINT (or, without respawn, all exit).

    A stop signal is passed on to every child (a second one too: RQ's cold shutdown), and the
    parent exits once they all have. Returns 0, or 1 when a child failed and was not replaced.
    """
    stopping = False
    live: dict[int, str] = {}
    failed = False

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True
        for pid in list(live):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def start(name: str) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # held until the child is in `live`
        try:
            live[_fork(app, name, children[name])] = name
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a held signal lands now, for it too

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    before_fork()
    for name in children:
        if not stopping:
            start(name)
    due: dict[str, float] = {}  # children to start again, and when
    while live or (due and not stopping):
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid, status = 0, 0
        if pid in live:
            name = live.pop(pid)
            code = os.waitstatus_to_exitcode(status)
            if not stopping and respawn:
                log.warning("%s (pid %d) exited with %s; starting another in %.0f s", name, pid, code,
                            RESPAWN_DELAY_SECONDS)
                due[name] = time.monotonic() + RESPAWN_DELAY_SECONDS
            else:
                failed = failed or code != 0
            continue
        for name, when in list(due.items()):
            if not stopping and time.monotonic() >= when:
                del due[name]
                start(name)
        time.sleep(0.1)
    return 1 if failed else 0

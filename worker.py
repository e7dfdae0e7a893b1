"""Start an RQ worker, or with --scheduler the scheduler process, inside an app context.

Usage: `python worker.py` (one worker on the runs queue), `python worker.py --burst` (drain and
exit), `python worker.py --scheduler` (rq-scheduler's clock, polling every second instead of
its 60-second default). Run as many workers as the load needs, on any machines that share
`DATABASE_URL` and `REDIS_URL`.

`python worker.py --workers N [--with-scheduler]` runs N workers (and the clock) as children of
one parent that imports the app once and forks them: they share its ~60 MB of loaded code
copy-on-write instead of each holding its own (see `app.processes.prefork`). The parent replaces a child
that dies and passes SIGTERM/SIGINT on; each child behaves exactly like a lone `worker.py`.

Why no fork per job by default: RQ's forking worker spends ~40 ms forking and reconnecting for
every job, which would be most of a trigger's answer time. Our jobs are engine runs that keep
no state between runs, so the worker runs them in-process and keeps its database connections;
`--fork` restores RQ's work-horse isolation for deployments that want it. SIGTERM (or Ctrl-C)
lets the current run finish, then exits; a run whose worker is killed outright is picked up
by another worker once its lease expires (see `app.worker.lease`, `app.clock.sweeper`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from functools import partial

from redis.exceptions import RedisError

from app import create_app

from app.queueing import rq_setup
from app.config import ConfigError
from app.queueing.connection import get_redis

log = logging.getLogger("switchboard.worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", action="store_true", help="run the scheduler process instead of a worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", help="worker name (default: a random id)")
    parser.add_argument("--fork", action="store_true", help="fork a work horse per job (RQ's default)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="run N workers forked from this process, sharing its memory (default 1: in this process)")
    parser.add_argument("--with-scheduler", action="store_true",
                        help="fork the scheduler too, as one more child of this process")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.scheduler and (args.workers > 1 or args.with_scheduler):
        parser.error("--scheduler runs the scheduler alone; use --with-scheduler to add it to --workers")
    if args.burst and args.with_scheduler:
        parser.error("--burst ends when the queue is empty; the scheduler never does")
    # Until RQ installs its own handlers (warm shutdown), a stop request simply ends the process:
    # nothing has been taken from the queue yet.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    try:
        app = create_app(settings_overrides={"sqlite_busy_timeout_ms": 30_000})  # nobody waits on a worker: let it wait out a lock
    except ConfigError as exc:  # a bad setting: say which, without a traceback
        print(f"worker.py: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1 or args.with_scheduler:
        from app.processes.prefork import run_family

        children = {f"worker {n}": partial(run_forked_worker, app, args.name, args.burst, args.fork)
                    for n in range(1, args.workers + 1)}
        if args.with_scheduler:
            from app.clock import loop  # noqa: F401  (imported before the fork, so its modules are shared too)

            children["scheduler"] = partial(run_scheduler, app)
        return run_family(app, children, respawn=not args.burst)
    if args.scheduler:
        return run_scheduler(app)
    return run_worker(app, args.name, args.burst, args.fork)


def run_scheduler(app) -> int:
    from app.clock.loop import run_clock

    with app.app_context():
        run_clock(app)
    return 0


def run_forked_worker(app, base_name: str | None, burst: bool, fork: bool) -> int:
    """A child of --workers: named after its pid, because RQ refuses a name whose last owner was
    killed outright until that record expires (minutes), and the parent replaces such a child at once."""
    return run_worker(app, f"{base_name}-{os.getpid()}" if base_name else None, burst, fork)


def run_worker(app, name: str | None, burst: bool, fork: bool) -> int:
    with app.app_context():
        connection = get_redis()
        while True:
            worker = rq_setup.make_worker(connection, name, fork)
            log.info("worker starting name=%s queue=%s", worker.name, rq_setup.run_queue_name())
            try:
                worker.work(burst=burst, logging_level="INFO", with_scheduler=False)
            except RedisError as exc:
                log.warning("worker lost Redis while starting (%s); retrying", exc)
            if burst or rq_setup.stop_requested(worker):  # SIGTERM/SIGINT, idle or busy
                return 0
            # RQ leaves its loop on errors it does not retry itself (e.g. Redis restarting mid-job);
            # a worker that stops for that would strand the queue, so start a fresh one.
            log.warning("worker %s stopped unexpectedly; starting again in 1 s", worker.name)
            time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main())

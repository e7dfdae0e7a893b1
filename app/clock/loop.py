"""The clock process: rq-scheduler's timers four times a second, and the periodic jobs of `app.clock.periodic`.

Why our own loop around rq-scheduler: its `run()` owns the process and its 60-second default
poll is far too slow; here it polls every tick, and the same loop keeps runs from being
stranded (see `app.clock.sweeper`) and schedules armed (see `app.clock.schedule_reconciler`, run at start and
every SCHEDULE_RECONCILE_SECONDS). Redis or database outages are logged and retried, never fatal.
Any number of these processes may run: rq-scheduler's lock lets one move timers at a time, and
a timer that two of them move (its lock can expire mid-loop) fires nothing twice, because every
fire is claimed in the database.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from app.clock.periodic import PERIODIC_JOBS, PeriodicJob
from app.config import settings
from app.extensions import db
from app.queueing.connection import get_redis
from app.queueing.locks import held_alone
from app.queueing.resume_timers import move_due
from app.queueing.rq_setup import run_queue, scheduler as make_scheduler

log = logging.getLogger("switchboard.clock")
TICK_SECONDS = 0.25  # a delay node's run resumes within a tick of its time (app.queueing.resume_timers)


def run_clock(app: Flask, stop: threading.Event | None = None) -> None:
    """Tick until `stop` is set (SIGTERM and SIGINT set it when run as a process)."""
    stop = stop or _stop_on_signals()
    timers = Timers(app)
    due_at = {job.name: 0.0 for job in PERIODIC_JOBS}
    config = settings(app)
    log.info("clock starting queue=%s tick=%ss %s", config.queue_name, TICK_SECONDS,
             " ".join(f"{job.name.replace(' ', '_')}={job.interval(config)}s" for job in PERIODIC_JOBS))
    while not stop.is_set():
        try:
            timers.tick()
            for job in PERIODIC_JOBS:
                if time.monotonic() >= due_at[job.name]:
                    interval = job.interval(settings(app))
                    due_at[job.name] = time.monotonic() + interval
                    _run(app, job, lock_seconds=max(10, int(interval * 4)))
        except (RedisError, OperationalError) as exc:
            log.warning("clock tick failed, retrying: %s", exc)
            if isinstance(exc, RedisError):
                timers.registered = False
        stop.wait(_until_next_tick())
    timers.stop()
    log.info("clock stopped")


class Timers:
    """rq-scheduler's timers (delay resumes, schedule fires), moved at their exact time under its lock."""

    def __init__(self, app: Flask):
        self.scheduler = make_scheduler(run_queue(get_redis(app), app), interval=TICK_SECONDS)
        self.registered = False  # rq-scheduler's birth record; written again after Redis comes back

    def tick(self) -> None:
        if not self.registered:
            self.scheduler.register_birth()
            self.registered = True
        self.scheduler.heartbeat()
        if self.scheduler.acquire_lock():
            try:
                move_due(self.scheduler)
            finally:
                self.scheduler.remove_lock()

    def stop(self) -> None:
        try:
            self.scheduler.register_death()
        except RedisError:
            pass


def _run(app: Flask, job: PeriodicJob, lock_seconds: int) -> None:
    """Run one periodic job; an outage propagates (the tick is retried), a bug is logged and contained."""
    with app.app_context():
        try:
            if job.lock is None:
                job.run()
            else:
                with held_alone(job.lock, lock_seconds) as alone:
                    if alone:
                        job.run()
        except (RedisError, OperationalError):
            raise
        except Exception:  # a bug in one job must not stop the timers and the other jobs
            log.exception("clock job failed: %s", job.name)
        finally:
            db.session.remove()


def _until_next_tick() -> float:
    """Sleep until just after the next tick boundary (whole seconds are boundaries too).

    Schedule timers are scored in whole seconds, so a tick just after each second boundary moves
    a due timer at once instead of up to a tick later.
    """
    return max(0.02, TICK_SECONDS - (time.time() % TICK_SECONDS) + 0.005)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop

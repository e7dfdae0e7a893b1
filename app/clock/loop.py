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
    """Tick until `stop` is set (SIGTERM and SIGINT set it when run as a process).

    The timers have a thread of their own: a sweep or a schedule reconcile that takes a while
    (a large backlog, a slow database) must not make a delay's resume late.
    """
    stop = stop or _stop_on_signals()
    timers = Timers(app)
    config = settings(app)
    log.info("clock starting queue=%s tick=%ss %s", config.queue_name, TICK_SECONDS,
             " ".join(f"{job.name.replace(' ', '_')}={job.interval(config)}s" for job in PERIODIC_JOBS))
    failed: list[BaseException] = []
    timer_thread = threading.Thread(target=_move_timers, args=(app, timers, stop, failed), name="clock-timers",
                                    daemon=True)
    timer_thread.start()
    try:
        _run_periodic(app, stop)
    finally:
        stop.set()  # whichever half ends, the other ends too: a clock without timers must not live on
        timer_thread.join()
    if failed:
        raise failed[0]  # as before the split: a bug in the timers ends the process, its supervisor restarts it
    timers.stop()
    log.info("clock stopped")


def _move_timers(app: Flask, timers: Timers, stop: threading.Event, failed: list[BaseException]) -> None:
    """Move due timers every tick, and at the exact time of one due before the next tick."""
    try:
        with app.app_context():  # an app context is per thread
            _tick_until(timers, stop)
    except BaseException as exc:  # noqa: BLE001  (handed to the main thread, which raises it)
        failed.append(exc)
        stop.set()


def _tick_until(timers: Timers, stop: threading.Event) -> None:
    while not stop.is_set():
        next_due = None
        try:
            next_due = timers.tick()
        except RedisError as exc:
            log.warning("clock tick failed, retrying: %s", exc)
            timers.registered = False
        stop.wait(_until_next_tick(next_due))


def _run_periodic(app: Flask, stop: threading.Event) -> None:
    """Run each periodic job when its interval has passed; an outage is logged and retried."""
    due_at = {job.name: 0.0 for job in PERIODIC_JOBS}
    while not stop.is_set():
        try:
            for job in PERIODIC_JOBS:
                if time.monotonic() >= due_at[job.name]:
                    interval = job.interval(settings(app))
                    due_at[job.name] = time.monotonic() + interval
                    _run(app, job, lock_seconds=max(10, int(interval * 4)))
        except (RedisError, OperationalError) as exc:
            log.warning("clock job failed, retrying: %s", exc)
        stop.wait(max(0.02, min(due_at.values()) - time.monotonic()))


class Timers:
    """rq-scheduler's timers (delay resumes, schedule fires), moved at their exact time under its lock."""

    def __init__(self, app: Flask):
        self.scheduler = make_scheduler(run_queue(get_redis(app), app), interval=TICK_SECONDS)
        self.registered = False  # rq-scheduler's birth record; written again after Redis comes back

    def tick(self) -> float | None:
        """Move the due timers; return when the next one is due (epoch seconds), if any is known."""
        if not self.registered:
            self.scheduler.register_birth()
            self.registered = True
        self.scheduler.heartbeat()
        if not self.scheduler.acquire_lock():
            return None  # another clock process moves them this tick
        try:
            return move_due(self.scheduler)
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


def _until_next_tick(next_due: float | None = None) -> float:
    """Sleep until just after the next tick boundary (whole seconds are boundaries too), or until
    `next_due` if a timer is due before that.

    Schedule timers are scored in whole seconds, so a tick just after each second boundary moves
    a due timer at once instead of up to a tick later; a delay's resume timer is scored to the
    fraction of a second, so the clock wakes at that time instead of at the tick after it.
    """
    now = time.time()
    boundary = TICK_SECONDS - (now % TICK_SECONDS) + 0.005
    if next_due is not None and next_due > now:  # one still due (a timer that cannot move) waits for the tick
        boundary = min(boundary, next_due - now + 0.001)
    return max(0.005, boundary)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop

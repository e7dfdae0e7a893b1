"""The scheduler process: rq-scheduler's clock four times a second, the sweeper and the schedule reconciler.

Why our own loop around rq-scheduler: its `run()` owns the process and its 60-second default
poll is far too slow; here it polls every tick, and the same loop keeps runs from being
stranded (see `app.sweeper`) and schedules armed (see `app.schedule_clock`, run at start and
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

from app.config import settings
from app.extensions import db
from app.redis_conn import get_redis
from app.resume_timers import move_due
from app.rq_setup import run_queue, scheduler as make_scheduler
from app.services import retention
from app.schedule_clock import reconcile
from app.sweeper import sweep

log = logging.getLogger("switchboard.clock")
TICK_SECONDS = 0.25  # a delay node's run resumes within a tick of its time (app.resume_timers)


def run_clock(app: Flask, stop: threading.Event | None = None) -> None:
    """Tick until `stop` is set (SIGTERM and SIGINT set it when run as a process)."""
    stop = stop or _stop_on_signals()
    connection = get_redis(app)
    scheduler, config = make_scheduler(run_queue(connection, app), interval=TICK_SECONDS), settings(app)
    next_sweep = next_reconcile = 0.0
    registered = False
    log.info("clock starting queue=%s tick=%ss sweep=%ss reconcile=%ss", config.queue_name, TICK_SECONDS,
             config.sweep_interval_seconds, config.schedule_reconcile_seconds)
    while not stop.is_set():
        try:
            if not registered:
                scheduler.register_birth()
                registered = True
            scheduler.heartbeat()
            if scheduler.acquire_lock():
                try:
                    move_due(scheduler)
                finally:
                    scheduler.remove_lock()
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + settings(app).sweep_interval_seconds
                with app.app_context():
                    try:
                        sweep()
                    finally:
                        db.session.remove()
            retention.maybe_purge(app)
            if time.monotonic() >= next_reconcile:
                next_reconcile = time.monotonic() + settings(app).schedule_reconcile_seconds
                with app.app_context():
                    try:
                        reconcile()
                    except (RedisError, OperationalError):
                        raise
                    except Exception:  # a schedule bug must not stop the sweeper and the timers
                        log.exception("schedule reconcile failed")
                    finally:
                        db.session.remove()
        except (RedisError, OperationalError) as exc:
            log.warning("clock tick failed, retrying: %s", exc)
            registered = registered and not isinstance(exc, RedisError)
        stop.wait(_until_next_tick())
    try:
        scheduler.register_death()
    except RedisError:
        pass
    log.info("clock stopped")


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

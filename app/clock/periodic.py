"""What the clock process does besides moving timers, and how often: one list to read and extend.

Why a list: the clock used to grow one "next time" variable and one branch per job; adding a job
now means one line here, with its interval named by the setting that controls it. Each job runs
inside an app context. A job with a `lock` runs in one clock process at a time (the lock expires
after four intervals, in case its holder died); every job is also safe to run twice at once (a
lock that expired mid-job), since each change it makes is conditional or idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from app.clock.schedule_reconciler import reconcile
from app.clock.sweeper import sweep
from app.config import Settings
from app.queueing import redis_keys
from app.services.runs import retention


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: Callable[[Settings], float]  # seconds between two runs, read from the settings each time
    run: Callable[[], object]
    lock: str | None = None  # a Redis key: one clock process at a time runs the job


PERIODIC_JOBS = (
    PeriodicJob("sweep stranded runs", lambda config: config.sweep_interval_seconds, sweep,
                lock=redis_keys.SWEEPER_LOCK),
    PeriodicJob("purge old runs", lambda config: config.retention_interval_seconds, retention.purge),
    PeriodicJob("reconcile schedules", lambda config: config.schedule_reconcile_seconds, reconcile,
                lock=redis_keys.SCHEDULE_RECONCILER_LOCK),
)

"""Wake a run parked by a delay node on time: resume timers with sub-second precision.

Why not rq-scheduler's timers as they are: it scores them in whole seconds, truncating, and its
clock moves a timer once the current whole second reaches that score. A run due at 12:00:02.7
was queued at 12:00:02.0, found not due by the worker, and its job dropped; the sweeper then
resumed it a sweep interval and more later (11-14 s late, every time). Here the timer is still
rq-scheduler's (its job, its registry, its lock), but scored with the exact time, and the clock
process moves due timers by the exact time every tick and wakes at the time of the next one due
(`move_due` returns it): a delay resumes within milliseconds of its time (at worst a clock tick
on a busy machine) and never before it. A job that still comes early (another
machine's clock) is waited for by the worker, briefly (`app.worker.execution`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from app.config import settings
from app.queueing.jobs import JOB_FUNCTION, get_queue
from app.queueing.connection import get_redis
from app.queueing.rq_setup import scheduler as make_scheduler

if TYPE_CHECKING:
    from rq_scheduler import Scheduler

log = logging.getLogger(__name__)


def schedule_resume(run_id: str, job_id: str, resume_at: datetime) -> None:
    """Queue the run's job `job_id` at `resume_at` exactly; if Redis fails, the sweeper resumes the run."""
    try:
        connection = get_redis()
        scheduler = make_scheduler(get_queue())
        # Created a second late (rq-scheduler truncates), so it is never due early, then moved
        # to its exact time: between the two writes it can only be late, never early.
        scheduler.enqueue_at((resume_at + timedelta(seconds=1)).astimezone(timezone.utc).replace(tzinfo=None),
                             JOB_FUNCTION, run_id, job_id=job_id, timeout=settings().job_timeout + 30,
                             job_result_ttl=0, job_description=f"resume run {run_id}")
        connection.zadd(scheduler.scheduled_jobs_key, {job_id: resume_at.timestamp()}, xx=True)
    except RedisError as exc:  # the sweeper resumes waiting runs whose time has passed
        log.warning("run_id=%s could not schedule its resume: %s", run_id, exc)


def move_due(scheduler: Scheduler) -> float | None:
    """Move every timer due by now (to the fraction of a second) to its queue; the caller holds the lock.

    Returns when the earliest timer left is due (epoch seconds), or None if there is none, so the
    clock can wake at that time rather than at the next tick after it.
    """
    for job in scheduler.get_jobs(until=time.time()):
        scheduler.enqueue_job(job)
    earliest = scheduler.connection.zrange(scheduler.scheduled_jobs_key, 0, 0, withscores=True)
    return float(earliest[0][1]) if earliest else None

"""Hand run ids to RQ, and let a waiting web request hear when a run ends.

Why a Redis list per finished run: a REST trigger that waits for the answer blocks on BLPOP
instead of polling the database, so it wakes the moment the worker commits the final status.
The database stays the truth; the list only says "look now".
"""

from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError

from app.queueing import outbox, redis_keys
from app.config import settings
from app.queueing.connection import get_redis
from app.queueing.rq_setup import add_job, cached_run_queue
from app.queueing.run_events import add_events

log = logging.getLogger(__name__)

JOB_FUNCTION = "app.worker.execution.execute_run"
DONE_TTL_SECONDS = 600
FAILED_JOB_TTL_SECONDS = 24 * 3600  # a job that raised stays in RQ's failed registry this long


def new_job_id(run_id: str) -> str:
    """Name each enqueue of a run uniquely, so RQ's clean-up of an abandoned job never touches a new one."""
    return f"run-{run_id}-{uuid.uuid4().hex[:8]}"


def get_queue():
    """The current app's run queue (one object per Redis client)."""
    return cached_run_queue()


def enqueue_run(run_id: str, job_id: str, timeout_seconds: int | None = None) -> None:
    """Put the run's id on the queue; the job reloads everything else from the database.

    One round trip of three commands (see `rq_setup.add_job`); RQ's `Queue.enqueue` sent two
    round trips for the same. No result is kept (`result_ttl=0`): the run's row is its result.
    """
    queue = get_queue()
    pipe = queue.connection.pipeline(transaction=False)
    add_job(pipe, queue, JOB_FUNCTION, (run_id,), job_id=job_id,
            timeout=(timeout_seconds or settings().job_timeout) + 30, result_ttl=0,
            failure_ttl=FAILED_JOB_TTL_SECONDS, description=f"run {run_id}")
    pipe.execute()
    log.info("run_id=%s state=enqueued", run_id)


def announce_finished(run_id: str, status: str, events: list[dict] = ()) -> None:
    """Tell everyone the run ended (after its final status is committed), in one round trip.

    Wakes any request waiting for the run, and ends its live event stream with `events` (the
    ones the worker held back) and `{"type": "end", "status"}`, so followers (e.g. a streaming
    chat answer) get everything and stop.
    """
    key = redis_keys.run_done(run_id)
    try:
        pipe, send_now = outbox.pipeline(get_redis())  # inside a worker: with its next round trip
        pipe.rpush(key, status)
        pipe.expire(key, DONE_TTL_SECONDS)
        add_events(pipe, run_id, [*events, {"type": "end", "status": status}])
        if send_now:
            pipe.execute()
    except RedisError as exc:  # the status is committed; a waiting request falls back to 408 + status URL
        log.warning("run_id=%s could not announce status=%s: %s", run_id, status, exc)


def wait_finished(run_id: str, timeout: float) -> bool:
    """Block up to `timeout` seconds for the run to end; True when it did.

    The announcement is rotated (moved from the list's head to its tail), not popped, so every
    request waiting for the same run wakes, e.g. a retry with the same idempotency key, and one
    that starts waiting after the run ended returns at once.
    """
    if timeout <= 0:
        return False
    key = redis_keys.run_done(run_id)
    return get_redis().blmove(key, key, timeout, "LEFT", "RIGHT") is not None

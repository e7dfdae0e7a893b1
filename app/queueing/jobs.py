"""Hand run ids to RQ, and let a waiting web request hear when a run ends.

Why a Redis list per finished run: a REST trigger that waits for the answer blocks on BLPOP
instead of polling the database, so it wakes the moment the worker commits the final status.
The database stays the truth; the list only says "look now".
"""

from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError

from app.queueing import redis_keys
from app.config import settings
from app.queueing.connection import get_redis
from app.queueing.rq_setup import run_queue as get_queue
from app.queueing.run_events import add_event

log = logging.getLogger(__name__)

JOB_FUNCTION = "app.worker.execution.execute_run"
DONE_TTL_SECONDS = 600


def new_job_id(run_id: str) -> str:
    """Name each enqueue of a run uniquely, so RQ's clean-up of an abandoned job never touches a new one."""
    return f"run-{run_id}-{uuid.uuid4().hex[:8]}"


def enqueue_run(run_id: str, job_id: str, timeout_seconds: int | None = None) -> None:
    """Put the run's id on the queue; the job reloads everything else from the database."""
    get_queue().enqueue(
        JOB_FUNCTION, run_id,
        job_id=job_id,
        job_timeout=(timeout_seconds or settings().job_timeout) + 30,
        result_ttl=60,
        failure_ttl=24 * 3600,
        description=f"run {run_id}",
    )
    log.info("run_id=%s state=enqueued", run_id)


def announce_finished(run_id: str, status: str, events: list[dict] = ()) -> None:
    """Tell everyone the run ended (after its final status is committed), in one round trip.

    Wakes any request waiting for the run, and ends its live event stream with `events` (the
    ones the worker held back) and `{"type": "end", "status"}`, so followers (e.g. a streaming
    chat answer) get everything and stop.
    """
    key = redis_keys.run_done(run_id)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.rpush(key, status)
        pipe.expire(key, DONE_TTL_SECONDS)
        for event in (*events, {"type": "end", "status": status}):
            add_event(pipe, run_id, event)
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

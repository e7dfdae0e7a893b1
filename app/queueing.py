"""Hand run ids to RQ, and let a waiting web request hear when a run ends.

Why a Redis list per finished run: a REST trigger that waits for the answer blocks on BLPOP
instead of polling the database, so it wakes the moment the worker commits the final status.
The database stays the truth; the list only says "look now".
"""

from __future__ import annotations

import logging

from flask import current_app
from rq import Queue

from app.redis_conn import get_redis

log = logging.getLogger(__name__)

JOB_FUNCTION = "app.execution.execute_run"
DONE_KEY = "switchboard:run-done:{}"
DONE_TTL_SECONDS = 600


def get_queue() -> Queue:
    return Queue(current_app.config["QUEUE_NAME"], connection=get_redis())


def enqueue_run(run_id: str) -> None:
    """Put the run's id on the queue; the job reloads everything else from the database."""
    get_queue().enqueue(
        JOB_FUNCTION, run_id,
        job_id=f"run-{run_id}",
        job_timeout=current_app.config["JOB_TIMEOUT"],
        result_ttl=60,
        failure_ttl=24 * 3600,
        description=f"run {run_id}",
    )
    log.info("run_id=%s state=enqueued", run_id)


def announce_finished(run_id: str, status: str) -> None:
    """Wake any request waiting for this run (after its final status is committed)."""
    key = DONE_KEY.format(run_id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.rpush(key, status)
    pipe.expire(key, DONE_TTL_SECONDS)
    pipe.execute()


def wait_finished(run_id: str, timeout: float) -> bool:
    """Block up to `timeout` seconds for the run to end; True when it did."""
    if timeout <= 0:
        return False
    return get_redis().blpop([DONE_KEY.format(run_id)], timeout=timeout) is not None
